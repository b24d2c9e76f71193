import Foundation
import GRDB
import Orchestration

extension SQLiteStore: RetentionStore {
    public func pruneEvents(before cutoff: Date) async throws -> Int {
        try await writeWaiting("delete old events") { db in
            try db.execute(
                // The newest event stays, so the last sequence number is never lost.
                sql: """
                    DELETE FROM event WHERE created_at < ? AND seq < (SELECT MAX(seq) FROM event)
                    AND seq <= COALESCE((SELECT MIN(seq) FROM consumer_cursor), 9223372036854775807)
                    """,
                arguments: [cutoff.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func pruneObservations() async throws -> Int {
        try await writeWaiting("delete learned observations") { db in
            try db.execute(
                sql: """
                    DELETE FROM learning_observation
                    WHERE seq <= COALESCE(
                        (SELECT json_extract(s.statistics, '$.appliedSeq') FROM learning_snapshot s WHERE s.workflow_id = learning_observation.workflow_id), 0)
                    AND NOT EXISTS (SELECT 1 FROM execution e WHERE e.id = learning_observation.execution_id)
                    """)
            return db.changesCount
        }
    }
}
