import Foundation
import Orchestration
import PostgresNIO

/// The ``SignalStore`` concern: signals and approval decisions, per execution, in send order; the
/// node holding the execution reads them (deleted with it).
extension PostgresStore: SignalStore {
    public func addSignal(_ signal: ExecutionSignal) async throws -> ExecutionSignal {
        let payload = try Self.json(signal.payload)
        let logger = self.logger
        let seq = try await transaction("save a signal") { connection -> Int64 in
            try await Self.insert(signal, payload: payload, connection, logger: logger)
        }
        var saved = signal
        saved.seq = seq
        return saved
    }

    public func signals(executionID: String, after seq: Int64) async throws -> [ExecutionSignal] {
        let rows = try await rows(
            "read signals",
            "SELECT seq, kind, name, payload, sender, sent_at FROM signal WHERE execution_id = \(executionID) AND seq > \(seq) ORDER BY seq",
            as: (Int64, String, String, String, String, Double).self)
        return try rows.compactMap { row -> ExecutionSignal? in
            guard let kind = ExecutionSignal.Kind(rawValue: row.1) else { return nil }
            return ExecutionSignal(
                seq: row.0, executionID: executionID, kind: kind, name: row.2, payload: try Self.decode(JSONValue.self, row.3), sender: row.4,
                sentAt: Date(timeIntervalSince1970: row.5))
        }
    }

    public func addCallback(_ callback: CallbackToken) async throws {
        try await query(
            "save a callback",
            """
            INSERT INTO callback (digest, execution_id, step_id, signal, created_at, expires_at, minted_by)
            VALUES (\(callback.digest), \(callback.executionID), \(callback.stepID), \(callback.signal),
                \(callback.createdAt.timeIntervalSince1970), \(callback.expiresAt.timeIntervalSince1970), \(callback.mintedBy))
            """)
    }

    public func callback(digest: String) async throws -> CallbackToken? {
        try await rows(
            "read a callback",
            "SELECT execution_id, step_id, signal, created_at, expires_at, used_at, minted_by FROM callback WHERE digest = \(digest)",
            as: (String, String, String?, Double, Double, Double?, String).self
        ).first.map { row in
            CallbackToken(
                digest: digest, executionID: row.0, stepID: row.1, signal: row.2, createdAt: Date(timeIntervalSince1970: row.3),
                expiresAt: Date(timeIntervalSince1970: row.4), usedAt: row.5.map(Date.init(timeIntervalSince1970:)), mintedBy: row.6)
        }
    }

    public func useCallback(digest: String, now: Date, sending signal: ExecutionSignal?) async throws -> Bool {
        let at = now.timeIntervalSince1970
        let payload = try signal.map { try Self.json($0.payload) }
        let logger = self.logger
        return try await transaction("use a callback") { connection -> Bool in
            let used = try await connection.rows(
                "UPDATE callback SET used_at = \(at) WHERE digest = \(digest) AND used_at IS NULL AND expires_at > \(at) RETURNING digest",
                logger: logger, as: String.self)
            guard !used.isEmpty else { return false }
            if let signal, let payload { _ = try await Self.insert(signal, payload: payload, connection, logger: logger) }
            return true
        }
    }

    /// Saves `signal` (payload encoded) and returns its sequence number. Inserts for one execution
    /// take turns on its row, so they commit in the order of their sequence numbers: a reader that
    /// has seen seq n never misses a smaller one committed later.
    static func insert(_ signal: ExecutionSignal, payload: String, _ connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.execute("SELECT 1 FROM execution WHERE id = \(signal.executionID) FOR UPDATE", logger: logger)
        return try await connection.rows(
            """
            INSERT INTO signal (execution_id, kind, name, payload, sender, sent_at)
            VALUES (\(signal.executionID), \(signal.kind.rawValue), \(signal.name), \(payload), \(signal.sender), \(signal.sentAt.timeIntervalSince1970))
            RETURNING seq
            """, logger: logger, as: Int64.self
        ).first ?? 0
    }
}
