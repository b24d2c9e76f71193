import Foundation

/// Callbacks: a single-use URL for one waiting step, for an outside system that has no API token.
/// An operator asks for it (``mintCallback(executionID:stepID:)``); whoever holds it decides the
/// approval or sends the signal once (``redeemCallback(_:payload:)``), as `callback`.
extension WorkflowEngine {
    /// Where callbacks are kept: the store when it keeps signals, else this process's memory.
    var callbackKeeper: any SignalStore { store as? any SignalStore ?? memoryStore }

    /// A new callback token for waiting step `stepID` of execution `executionID` (shown once; the
    /// store keeps its digest), and when it expires.
    public func mintCallback(executionID: String, stepID: String) async throws -> (token: String, expiresAt: Date) {
        let execution: WorkflowExecution
        if let live = try? getExecution(executionID) {
            execution = live
        } else if let record = try await store?.execution(id: executionID) {
            execution = record.execution
        } else {
            throw EngineError(.notFound, "no execution '\(executionID)'")
        }
        let (token, record) = try CallbackToken.mint(for: execution, stepID: stepID, now: Date())
        do { try await callbackKeeper.addCallback(record) } catch {
            throw EngineError(.unavailable, "cannot save the callback: \(error)")
        }
        return (token, record.expiresAt)
    }

    /// Uses callback `token` with `payload`: for an approval, `{"decision": "approve"|"reject",
    /// "comment", "data"}`; for a signal wait, any JSON, read as `${step.payload}`. A token that is
    /// unknown, used or expired is not found (one answer for all three, so none can be told apart);
    /// a payload that does not fit leaves the token unused.
    @discardableResult
    public func redeemCallback(_ token: String, payload: JSONValue) async throws -> (executionID: String, stepID: String) {
        let now = Date()
        let gone = EngineError(.notFound, "no such callback, or it was used or has expired")
        guard let digest = CallbackToken.digestOfGiven(token) else { throw gone }
        let found: CallbackToken?
        do { found = try await callbackKeeper.callback(digest: digest) } catch {
            throw EngineError(.unavailable, "cannot read the callback: \(error)")
        }
        guard let callback = found, callback.usedAt == nil, callback.expiresAt > now else { throw gone }
        let signal: ExecutionSignal
        if let name = callback.signal {
            signal = ExecutionSignal(executionID: callback.executionID, kind: .signal, name: name, payload: payload, sender: "callback", sentAt: now)
        } else {
            guard case .object(let body) = payload, case .string(let decision)? = body["decision"], decision == "approve" || decision == "reject"
            else {
                throw EngineError(.invalidInput, #"an approval's callback takes {"decision": "approve" or "reject", "comment": "…", "data": {…}}"#)
            }
            if let comment = body["comment"], comment.kindName != "string" { throw EngineError(.invalidInput, "comment is text") }
            if let data = body["data"], data.kindName != "object" { throw EngineError(.invalidInput, "data is an object") }
            var kept: [String: JSONValue] = [:]
            kept["comment"] = body["comment"]
            kept["data"] = body["data"]
            signal = ExecutionSignal(
                executionID: callback.executionID, kind: decision == "approve" ? .approve : .reject, name: callback.stepID,
                payload: .object(kept), sender: "callback", sentAt: now)
        }
        // Ended meanwhile: said, and the token is left as it is (it cannot do anything any more).
        var status = (try? getExecution(callback.executionID))?.status
        if status == nil, let store { status = try? await store.execution(id: callback.executionID)?.execution.status }
        if let status, status.isTerminal { throw EngineError(.conflict, "execution \(callback.executionID) already \(status.rawValue)") }
        let used: Bool
        do { used = try await callbackKeeper.useCallback(digest: digest, now: now) } catch {
            throw EngineError(.unavailable, "cannot use the callback: \(error)")
        }
        guard used else { throw gone }
        try await send(signal)
        return (callback.executionID, callback.stepID)
    }
}
