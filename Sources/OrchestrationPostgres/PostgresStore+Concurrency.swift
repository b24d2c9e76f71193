import Foundation
import Orchestration
import PostgresNIO

/// The ``ConcurrencyStore`` concern: `concurrency_slot` rows, decided under a transaction-scoped
/// advisory lock on the key, so nodes take a key's slots in turn.
extension PostgresStore: ConcurrencyStore {
    /// The first half of the advisory lock on a key ("NCcc").
    static let slotLockSpace: Int32 = 0x4E43_6363

    public func acquireSlot(_ request: SlotRequest, now: Date) async throws -> [ConcurrencySlot] {
        let logger = self.logger
        return try await transaction("take a concurrency slot") { connection -> [ConcurrencySlot] in
            // Each statement sees what committed before it (whatever the server's default), so the
            // rows read after the lock include the holder that released it.
            try await connection.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", logger: logger)
            try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.slotLockSpace), hashtext(\(request.key)))", logger: logger)
            // The database's clock, not this node's: waiters' liveness is compared across nodes.
            let seconds = try await connection.rows("SELECT \(unescaped: Self.databaseNow)", logger: logger, as: Double.self).first
            let now = seconds.map { Date(timeIntervalSince1970: $0) } ?? now
            // Slots of executions that ended some other way are free (gone ones went with them).
            try await connection.execute(
                """
                DELETE FROM concurrency_slot s USING execution e
                WHERE s.key = \(request.key) AND e.id = s.execution_id AND e.status NOT IN ('pending', 'running', 'paused')
                """, logger: logger)
            let (mine, rows) = ConcurrencySlot.decide(try await Self.slots(key: request.key, connection, logger: logger), request, now: now)
            guard var mine else { return rows }
            let seen = mine.seenAt.timeIntervalSince1970
            if mine.seq == .max {
                mine.seq =
                    try await connection.rows(
                        """
                        INSERT INTO concurrency_slot (key, execution_id, step_id, holding, since, seen_at)
                        VALUES (\(mine.key), \(mine.executionID), \(mine.stepID), \(mine.holding), \(mine.since.timeIntervalSince1970), \(seen))
                        RETURNING seq
                        """, logger: logger, as: Int64.self
                    ).first ?? 0
                return ConcurrencySlot.order(rows.filter { $0.seq != .max } + [mine])
            }
            try await connection.execute(
                "UPDATE concurrency_slot SET holding = \(mine.holding), seen_at = \(seen) WHERE seq = \(mine.seq)", logger: logger)
            return rows
        }
    }

    public func concurrencySlots(key: String) async throws -> [ConcurrencySlot] {
        let rows = try await rows(
            "read a concurrency key",
            """
            SELECT s.seq, s.execution_id, s.step_id, s.holding, s.since, s.seen_at FROM concurrency_slot s JOIN execution e ON e.id = s.execution_id
            WHERE s.key = \(key) AND e.status IN ('pending', 'running', 'paused') ORDER BY s.seq
            """,
            as: (Int64, String, String, Bool, Double, Double).self)
        return ConcurrencySlot.order(rows.map { Self.slot(key, $0) })
    }

    static func slots(key: String, _ connection: PostgresConnection, logger: Logger) async throws -> [ConcurrencySlot] {
        try await connection.rows(
            "SELECT seq, execution_id, step_id, holding, since, seen_at FROM concurrency_slot WHERE key = \(key) ORDER BY seq",
            logger: logger, as: (Int64, String, String, Bool, Double, Double).self
        ).map { slot(key, $0) }
    }

    static func slot(_ key: String, _ row: (Int64, String, String, Bool, Double, Double)) -> ConcurrencySlot {
        ConcurrencySlot(
            key: key, executionID: row.1, stepID: row.2, holding: row.3, seq: row.0, since: Date(timeIntervalSince1970: row.4),
            seenAt: Date(timeIntervalSince1970: row.5))
    }
}
