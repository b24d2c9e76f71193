import Foundation
import Orchestration
import PostgresNIO

/// The ``WorkflowStore`` concern: definitions by content hash, and which version is registered.
extension PostgresStore: WorkflowStore {
    public func saveWorkflow(_ workflow: Workflow) async throws -> String {
        let definition = String(decoding: try workflow.canonicalJSON(), as: UTF8.self)
        let hash = try workflow.contentHash()
        let id = workflow.id
        let now = Date().timeIntervalSince1970
        try await transaction("save a workflow") { connection in
            try await connection.execute(
                """
                INSERT INTO workflow_version (workflow_id, version, definition, created_at) VALUES (\(id), \(hash), \(definition), \(now))
                ON CONFLICT DO NOTHING
                """, logger: logger)
            try await connection.execute(
                """
                INSERT INTO registered_workflow (workflow_id, version, registered_at) VALUES (\(id), \(hash), \(now))
                ON CONFLICT (workflow_id) DO UPDATE SET version = excluded.version, registered_at = excluded.registered_at
                """, logger: logger)
        }
        return hash
    }

    public func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)] {
        try await rows(
            "list workflow versions", "SELECT version, created_at FROM workflow_version WHERE workflow_id = \(id) ORDER BY created_at, ord",
            as: (String, Double).self
        ).map { (version: $0.0, savedAt: Date(timeIntervalSince1970: $0.1)) }
    }

    public func unregisterWorkflow(id: String) async throws -> Bool {
        try await !rows("unregister a workflow", "DELETE FROM registered_workflow WHERE workflow_id = \(id) RETURNING 1", as: Int32.self).isEmpty
    }

    public func registeredVersions() async throws -> [String: String] {
        Dictionary(
            try await rows("list registered versions", "SELECT workflow_id, version FROM registered_workflow", as: (String, String).self),
            uniquingKeysWith: { a, _ in a })
    }

    public func registeredWorkflows() async throws -> [Workflow] {
        try await rows(
            "list workflows",
            """
            SELECT v.definition FROM registered_workflow r
            JOIN workflow_version v ON v.workflow_id = r.workflow_id AND v.version = r.version
            ORDER BY r.workflow_id
            """, as: String.self
        ).map { try Self.decode(Workflow.self, $0) }
    }

    public func workflow(id: String, version: String) async throws -> Workflow? {
        try await rows(
            "read a workflow", "SELECT definition FROM workflow_version WHERE workflow_id = \(id) AND version = \(version)", as: String.self
        ).first.map { try Self.decode(Workflow.self, $0) }
    }
}
