import Foundation
import Orchestration
import PostgresNIO

/// The ``TriggerStore`` concern: trigger state and webhook deliveries seen — cluster-wide, so a
/// delivery id is accepted once whichever node receives it.
extension PostgresStore: TriggerStore {
    public func triggerStates(workflowID: String?) async throws -> [TriggerState] {
        try await rows(
            "read trigger states",
            "SELECT state FROM trigger_state WHERE \(workflowID)::text IS NULL OR workflow_id = \(workflowID) ORDER BY workflow_id, trigger_id",
            as: String.self
        ).map { try Self.decode(TriggerState.self, $0) }
    }

    public func recordDelivery(source: String, id: String, at: Date) async throws -> Bool {
        let received = at.timeIntervalSince1970, forgotten = received - 30 * 86_400
        return try await transaction("record a webhook delivery") { connection in
            try await connection.execute("DELETE FROM webhook_delivery WHERE received_at < \(forgotten)", logger: logger)
            return try await !connection.rows(
                "INSERT INTO webhook_delivery (source, id, received_at) VALUES (\(source), \(id), \(received)) ON CONFLICT DO NOTHING RETURNING 1",
                logger: logger, as: Int32.self
            ).isEmpty
        }
    }

    public func saveTriggerState(_ state: TriggerState) async throws {
        let json = try Self.json(state)
        try await query(
            "save a trigger's state",
            """
            INSERT INTO trigger_state (workflow_id, trigger_id, state) VALUES (\(state.workflowID), \(state.triggerID), \(json))
            ON CONFLICT (workflow_id, trigger_id) DO UPDATE SET state = excluded.state
            """)
    }
}
