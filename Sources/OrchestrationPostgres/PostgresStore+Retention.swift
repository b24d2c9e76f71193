import Foundation
import Orchestration
import PostgresNIO

extension PostgresStore: RetentionStore {
    public func pruneEvents(before cutoff: Date) async throws -> Int {
        let before = cutoff.timeIntervalSince1970
        let deleted = try await rows(
            "delete old events",
            """
            WITH gone AS (
                DELETE FROM event WHERE created_at < \(before) AND seq < (SELECT MAX(seq) FROM event)
                AND seq <= COALESCE((SELECT MIN(seq) FROM consumer_cursor), 9223372036854775807)
                RETURNING 1)
            SELECT count(*) FROM gone
            """, as: Int64.self)
        return Int(deleted.first ?? 0)
    }

    public func pruneObservations() async throws -> Int {
        let deleted = try await rows(
            "delete learned observations",
            """
            WITH gone AS (
                DELETE FROM learning_observation o
                WHERE o.seq <= COALESCE(
                    (SELECT (s.statistics::jsonb ->> 'appliedSeq')::bigint FROM learning_snapshot s WHERE s.workflow_id = o.workflow_id), 0)
                AND NOT EXISTS (SELECT 1 FROM execution e WHERE e.id = o.execution_id)
                RETURNING 1)
            SELECT count(*) FROM gone
            """, as: Int64.self)
        return Int(deleted.first ?? 0)
    }
}
