import Foundation
import Logging

/// Callbacks: a single-use URL for one waiting step, for an outside system that has no API token.
/// An operator asks for it (``mintCallback(executionID:stepID:)``); whoever holds it decides the
/// approval or sends the signal once (``redeemCallback(_:payload:)``), as `callback`.
extension WorkflowEngine {
    /// Where callbacks are kept: the store when it keeps signals, else this process's memory.
    var callbackKeeper: any SignalStore { store as? any SignalStore ?? memoryStore }

    /// A new callback token for waiting step `stepID` of execution `executionID`, asked for by
    /// `minter` (shown once; the store keeps its digest), and when it expires.
    public func mintCallback(executionID: String, stepID: String, by minter: String) async throws -> (token: String, expiresAt: Date) {
        let execution = try await currentExecution(executionID)
        let (token, record) = try CallbackToken.mint(for: execution, stepID: stepID, by: minter, now: Date())
        do { try await callbackKeeper.addCallback(record) } catch {
            throw EngineError(.unavailable, "cannot save the callback: \(error)")
        }
        logger.info(
            "callback minted",
            metadata: ["execution": "\(executionID)", "step": "\(stepID)", "by": "\(minter)", "digest": "\(record.digest.prefix(12))"])
        return (token, record.expiresAt)
    }

    /// Uses callback `token` with `payload`: for an approval, `{"decision": "approve"|"reject",
    /// "comment", "data"}`; for a signal wait, any JSON, read as `${step.payload}`. A token that is
    /// unknown, used or expired is not found (one answer for all three, so none can be told apart).
    /// A payload that does not fit, or a step that no longer waits, leaves the token unused. The
    /// token's use and its decision or signal are saved in one transaction.
    @discardableResult
    public func redeemCallback(_ token: String, payload: JSONValue) async throws -> (executionID: String, stepID: String) {
        let now = Date()
        let gone = EngineError(.notFound, "no such callback, or it was used or has expired")
        // The caller has no account here: store failures are logged, and answered in general terms.
        let unavailable = EngineError(.unavailable, "the store is unavailable; try again")
        guard let digest = CallbackToken.digestOfGiven(token) else { throw gone }
        let found: CallbackToken?
        do { found = try await callbackKeeper.callback(digest: digest) } catch {
            logger.warning("cannot read a callback", metadata: ["digest": "\(digest.prefix(12))", "error": "\(error)"])
            throw unavailable
        }
        guard let callback = found, callback.usedAt == nil, callback.expiresAt > now else { throw gone }
        let signal = try Self.callbackSignal(callback, payload: payload, now: now)
        // Only while the step waits for it: a late decision would otherwise be kept for a wait to come.
        let execution: WorkflowExecution
        do { execution = try await currentExecution(callback.executionID) } catch let error as EngineError where error.code == .notFound {
            throw gone
        } catch {
            throw unavailable
        }
        guard !execution.status.isTerminal else { throw EngineError(.conflict, "execution \(execution.id) already \(execution.status.rawValue)") }
        let expected: WaitReason = callback.signal.map { .signal($0) } ?? .approval
        guard execution.stepResults[callback.stepID]?.waitReason == expected else {
            throw EngineError(.conflict, "step \(callback.stepID) of execution \(execution.id) no longer waits for \(expected.words)")
        }
        let keeps = store is any SignalStore
        let used: Bool
        do { used = try await callbackKeeper.useCallback(digest: digest, now: now, sending: keeps ? signal : nil) } catch {
            logger.warning("cannot use a callback", metadata: ["digest": "\(digest.prefix(12))", "error": "\(error)"])
            throw unavailable
        }
        guard used else { throw gone }
        logger.info(
            "callback used",
            metadata: ["execution": "\(callback.executionID)", "step": "\(callback.stepID)", "digest": "\(digest.prefix(12))"])
        if keeps {
            if runs[callback.executionID] != nil { await deliverSignals(callback.executionID) }
        } else if let run = runs[callback.executionID], !run.machine.status.isTerminal {
            await apply(run.machine.receive(signal, now: self.now()), to: run)
        }
        return (callback.executionID, callback.stepID)
    }

    /// What a callback sends with `payload`, or an error that leaves it unused.
    static func callbackSignal(_ callback: CallbackToken, payload: JSONValue, now: Date) throws -> ExecutionSignal {
        if let name = callback.signal {
            return ExecutionSignal(
                executionID: callback.executionID, kind: .signal, name: name, payload: payload, sender: callback.sender, sentAt: now)
        }
        let shape = #"an approval's callback takes {"decision": "approve" or "reject", "comment": "…", "data": {…}}"#
        guard case .object(let body) = payload, case .string(let decision)? = body["decision"], decision == "approve" || decision == "reject",
            Set(body.keys).isSubset(of: ["decision", "comment", "data"])
        else { throw EngineError(.invalidInput, shape) }
        if let comment = body["comment"], comment != .null {
            guard case .string(let text) = comment, text.count <= 2000 else {
                throw EngineError(.invalidInput, "comment is text of at most 2000 characters")
            }
        }
        if let data = body["data"], data != .null, data.kindName != "object" { throw EngineError(.invalidInput, "data is an object") }
        var kept: [String: JSONValue] = [:]
        if let comment = body["comment"], comment != .null { kept["comment"] = comment }
        if let data = body["data"], data != .null { kept["data"] = data }
        return ExecutionSignal(
            executionID: callback.executionID, kind: decision == "approve" ? .approve : .reject, name: callback.stepID, payload: .object(kept),
            sender: callback.sender, sentAt: now)
    }

    /// The execution as this engine knows it: running here, else as saved (another process or
    /// node runs it, or it ended long ago).
    public func currentExecution(_ id: String) async throws -> WorkflowExecution {
        if let live = try? getExecution(id) { return live }
        if let record = try await store?.execution(id: id) { return record.execution }
        throw EngineError(.notFound, "no execution '\(id)'")
    }
}
