import Foundation
import GRDB
import Orchestration

/// The ``ConcurrencyStore`` concern: `concurrency_slot` rows, decided inside one write
/// transaction, so processes sharing the file take a key's slots in turn.
extension SQLiteStore: ConcurrencyStore {
    public func acquireSlot(_ request: SlotRequest, now: Date) async throws -> [ConcurrencySlot] {
        try await writeWaiting("take a concurrency slot") { db -> [ConcurrencySlot] in
            // Slots of executions that ended (or are gone) some other way are free.
            try db.execute(
                sql: """
                    DELETE FROM concurrency_slot WHERE key = ? AND NOT EXISTS (
                        SELECT 1 FROM execution WHERE execution.id = concurrency_slot.execution_id
                        AND execution.status IN ('pending', 'running', 'paused'))
                    """, arguments: [request.key])
            let (mine, rows) = ConcurrencySlot.decide(try Self.slots(key: request.key, db), request, now: now)
            guard var mine else { return rows }
            if mine.seq == .max {
                try db.execute(
                    sql: "INSERT INTO concurrency_slot (key, execution_id, step_id, holding, since, seen_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [
                        mine.key, mine.executionID, mine.stepID, mine.holding, mine.since.timeIntervalSince1970, mine.seenAt.timeIntervalSince1970,
                    ])
                mine.seq = db.lastInsertedRowID
                return ConcurrencySlot.order(rows.filter { $0.seq != .max } + [mine])
            }
            try db.execute(
                sql: "UPDATE concurrency_slot SET holding = ?, seen_at = ? WHERE seq = ?",
                arguments: [mine.holding, mine.seenAt.timeIntervalSince1970, mine.seq])
            return rows
        }
    }

    public func concurrencySlots(key: String) async throws -> [ConcurrencySlot] {
        // Without the slots of executions that ended some other way (freed at the next request).
        try await read("read a concurrency key") { db in
            ConcurrencySlot.order(try Self.slots(key: key, db, live: true))
        }
    }

    static func slots(key: String, _ db: Database, live: Bool = false) throws -> [ConcurrencySlot] {
        let unfinished = """
             AND EXISTS (SELECT 1 FROM execution WHERE execution.id = concurrency_slot.execution_id
                AND execution.status IN ('pending', 'running', 'paused'))
            """
        return try Row.fetchAll(
            db,
            sql:
                "SELECT seq, execution_id, step_id, holding, since, seen_at FROM concurrency_slot WHERE key = ?\(live ? unfinished : "") ORDER BY seq",
            arguments: [key]
        ).map { row in
            ConcurrencySlot(
                key: key, executionID: row[1], stepID: row[2], holding: row[3], seq: row[0], since: Date(timeIntervalSince1970: row[4]),
                seenAt: Date(timeIntervalSince1970: row[5]))
        }
    }

    static func releaseSlots(executionID: String, stepID: String?, _ db: Database) throws {
        if let stepID {
            try db.cachedStatement(sql: "DELETE FROM concurrency_slot WHERE execution_id = ? AND step_id = ?").execute(arguments: [
                executionID, stepID,
            ])
        } else {
            try db.cachedStatement(sql: "DELETE FROM concurrency_slot WHERE execution_id = ?").execute(arguments: [executionID])
        }
    }
}
