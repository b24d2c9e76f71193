import Foundation
import GRDB
import Orchestration

/// The ``WorkflowStore`` concern: definitions by content hash, and which version is registered.
extension SQLiteStore: WorkflowStore {
    public func saveWorkflow(_ workflow: Workflow) async throws -> String {
        let definition = String(decoding: try workflow.canonicalJSON(), as: UTF8.self)
        let hash = try workflow.contentHash()
        let id = workflow.id
        try await writeWaiting("save a workflow") { db in
            let now = Date().timeIntervalSince1970
            try db.execute(
                sql: "INSERT OR IGNORE INTO workflow_version (workflow_id, version, definition, created_at) VALUES (?, ?, ?, ?)",
                arguments: [id, hash, definition, now])
            try db.execute(
                sql: """
                    INSERT INTO registered_workflow (workflow_id, version, registered_at) VALUES (?, ?, ?)
                    ON CONFLICT (workflow_id) DO UPDATE SET version = excluded.version, registered_at = excluded.registered_at
                    """,
                arguments: [id, hash, now])
        }
        return hash
    }

    public func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)] {
        let rows = try await read("list workflow versions") { db in
            try Row.fetchAll(
                db, sql: "SELECT version, created_at FROM workflow_version WHERE workflow_id = ? ORDER BY created_at, rowid", arguments: [id]
            )
            .map { (($0["version"] as String), ($0["created_at"] as Double)) }
        }
        return rows.map { ($0.0, Date(timeIntervalSince1970: $0.1)) }
    }

    public func unregisterWorkflow(id: String) async throws -> Bool {
        try await writeWaiting("unregister a workflow") { db in
            try db.execute(sql: "DELETE FROM registered_workflow WHERE workflow_id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func registeredVersions() async throws -> [String: String] {
        try await read("list registered versions") { db in
            Dictionary(
                try Row.fetchAll(db, sql: "SELECT workflow_id, version FROM registered_workflow").map {
                    (($0["workflow_id"] as String), ($0["version"] as String))
                },
                uniquingKeysWith: { a, _ in a })
        }
    }

    public func registeredWorkflows() async throws -> [Workflow] {
        let texts = try await read("list workflows") { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT v.definition FROM registered_workflow r
                    JOIN workflow_version v ON v.workflow_id = r.workflow_id AND v.version = r.version
                    ORDER BY r.workflow_id
                    """)
        }
        return try texts.map { try Self.decode(Workflow.self, $0) }
    }

    public func workflow(id: String, version: String) async throws -> Workflow? {
        let text = try await read("read a workflow") { db in
            try String.fetchOne(db, sql: "SELECT definition FROM workflow_version WHERE workflow_id = ? AND version = ?", arguments: [id, version])
        }
        guard let text else { return nil }
        return try Self.decode(Workflow.self, text)
    }
}
