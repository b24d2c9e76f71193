import Foundation
import Orchestration
import PostgresNIO
import Synchronization

/// The ``ExecutionCommands`` concern: `execution_command` rows for the holder of an execution,
/// and a `NOTIFY` on ``commandChannel`` that wakes the nodes listening.
extension PostgresStore: ExecutionCommands {
    static let commandChannel = "novacron_commands"

    public func sendCommand(_ command: ExecutionCommand, to executionID: String) async throws {
        let json = try Self.json(command), now = Date().timeIntervalSince1970
        try await transaction("send a command to the node running \(executionID)") { connection in
            try await connection.execute(
                "INSERT INTO execution_command (execution_id, command, created_at) VALUES (\(executionID), \(json), \(now))", logger: logger)
            try await connection.execute("SELECT pg_notify(\(Self.commandChannel), \(executionID))", logger: logger)
        }
    }

    /// Takes the commands for the executions this node holds now (its lease book): one it stopped
    /// holding (another node took it over, or it stopped its executions when it could not renew
    /// their leases in time) still names this node as owner in the table until someone claims it,
    /// and a command taken then would be lost; it waits for the node that carries the execution on.
    public func takeCommands() async throws -> [(executionID: String, command: ExecutionCommand)] {
        let me = node.id
        let held = book.withLock { Array($0.held.keys) }
        guard !held.isEmpty else { return [] }
        let taken = try await transaction("take commands") { connection -> [(Int64, String, String)] in
            // Commands for executions that ended are moot.
            try await connection.execute(
                """
                DELETE FROM execution_command c USING execution e
                WHERE c.execution_id = e.id AND e.status NOT IN \(unescaped: Self.unfinished)
                """, logger: logger)
            return try await connection.rows(
                """
                DELETE FROM execution_command c USING execution e
                WHERE c.execution_id = e.id AND e.owner_node = \(me) AND e.id = ANY(\(held)::text[])
                RETURNING c.seq, c.execution_id, c.command
                """, logger: logger, as: (Int64, String, String).self)
        }
        return try taken.sorted { $0.0 < $1.0 }.map { ($0.1, try Self.decode(ExecutionCommand.self, $0.2)) }
    }

    public func waitForCommands(upTo limit: Duration) async {
        await wait(on: Self.commandChannel, upTo: limit)
    }

    /// Returns when a notification on `channel` came (or may have been missed), after `limit` at
    /// the latest, or when the calling task is cancelled.
    func wait(on channel: String, upTo limit: Duration) async {
        guard let bell = bells[channel] else { return }
        startListening(on: channel, bell: bell)
        await bell.wait(upTo: limit)
    }

    /// Holds one pooled connection on `LISTEN channel` for as long as the store, reconnecting
    /// after a second when it drops (the database restarting); rings on every (re)connection too.
    func startListening(on channel: String, bell: Doorbell) {
        listeners.withLock { tasks in
            guard tasks[channel] == nil else { return }
            let client = self.client, logger = self.logger
            tasks[channel] = Task {
                while !Task.isCancelled {
                    do {
                        try await client.withConnection { connection in
                            try await connection.listen(on: channel) { notifications in
                                bell.ring()
                                for try await _ in notifications { bell.ring() }
                            }
                        }
                    } catch {
                        logger.debug("listener lost its connection", metadata: ["channel": "\(channel)", "error": "\(error)"])
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
    }
}
