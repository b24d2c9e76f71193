import Foundation
import GRDB
import Orchestration

/// The ``TriggerStore`` concern: trigger state and webhook deliveries seen.
extension SQLiteStore: TriggerStore {
    public func triggerStates(workflowID: String?) async throws -> [TriggerState] {
        let rows = try await read("read trigger states") { db in
            try String.fetchAll(
                db, sql: "SELECT state FROM trigger_state WHERE ?1 IS NULL OR workflow_id = ?1 ORDER BY workflow_id, trigger_id",
                arguments: [workflowID])
        }
        return try rows.map { try JSONDecoder().decode(TriggerState.self, from: Data($0.utf8)) }
    }

    public func recordDelivery(source: String, id: String, at: Date) async throws -> Bool {
        try await writeWaiting("record a webhook delivery") { db in
            try db.execute(sql: "DELETE FROM webhook_delivery WHERE received_at < ?", arguments: [at.timeIntervalSince1970 - 30 * 86_400])
            try db.execute(
                sql: "INSERT OR IGNORE INTO webhook_delivery (source, id, received_at) VALUES (?, ?, ?)",
                arguments: [source, id, at.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func saveTriggerState(_ state: TriggerState) async throws {
        let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try await writeWaiting("save a trigger's state") { db in
            try db.execute(
                sql:
                    "INSERT INTO trigger_state (workflow_id, trigger_id, state) VALUES (?, ?, ?) ON CONFLICT(workflow_id, trigger_id) DO UPDATE SET state = excluded.state",
                arguments: [state.workflowID, state.triggerID, json])
        }
    }
}
