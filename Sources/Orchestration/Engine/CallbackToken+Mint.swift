import Foundation

extension CallbackToken {
    /// A new token for `stepID` of `execution`, which must be waiting for a decision or a signal
    /// now; returns the token (shown once) and what the store keeps.
    public static func mint(for execution: WorkflowExecution, stepID: String, by minter: String, now: Date) throws -> (
        token: String, record: CallbackToken
    ) {
        guard !execution.status.isTerminal else {
            throw EngineError(.conflict, "execution \(execution.id) already \(execution.status.rawValue)")
        }
        guard let step = execution.stepResults[stepID] else {
            throw EngineError(
                .conflict, "step \(stepID) of execution \(execution.id) is not waiting for a decision or a signal (it has no result yet)")
        }
        let signal: String?
        switch step.waitReason {
        case .approval?: signal = nil
        case .signal(let name)?: signal = name
        default:
            throw EngineError(
                .conflict, "step \(stepID) of execution \(execution.id) is not waiting for a decision or a signal; it is \(step.status.rawValue)")
        }
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        let token =
            prefix
            + Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        let record = CallbackToken(
            digest: digest(of: token), executionID: execution.id, stepID: stepID, signal: signal, createdAt: now,
            expiresAt: now.addingTimeInterval(lifetime), mintedBy: minter)
        return (token, record)
    }

}
