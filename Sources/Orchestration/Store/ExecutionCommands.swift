/// What an operator asks of a running execution from any node: the node that holds it carries it
/// out (``WorkflowEngine/send(_:to:)``).
public enum ExecutionCommand: Sendable, Hashable, Codable {
    case cancel(reason: String)
    case pause
    case resume
    case debug(Bool)
}

/// A store several nodes share, through which a command reaches the node holding the execution:
/// kept in the store until that node takes it (so a node that was briefly away still gets it),
/// with a wake-up to it (PostgreSQL's `LISTEN/NOTIFY`) and polling as the fallback.
///
/// ```swift
/// try await commands.sendCommand(.cancel(reason: "by alice"), to: id)   // on any node
/// for (id, command) in try await commands.takeCommands() { … }        // on the holder
/// ```
public protocol ExecutionCommands: Sendable {
    /// Keeps `command` for the node holding `executionID` and wakes that node.
    func sendCommand(_ command: ExecutionCommand, to executionID: String) async throws
    /// Takes (removes and returns, oldest first) the commands for the executions this node holds.
    func takeCommands() async throws -> [(executionID: String, command: ExecutionCommand)]
    /// Returns when a command may have come for this node, after `limit` at the latest, or when
    /// the calling task is cancelled.
    func waitForCommands(upTo limit: Duration) async
}
