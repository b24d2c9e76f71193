import Foundation
import Orchestration
import OrchestrationPostgres
import OrchestrationSQLite
import Testing

/// The stores every conformance test runs against.
package enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite, postgres

    package var testDescription: String { rawValue }

    /// A new, empty store of this kind (PostgreSQL: a new database on the tests' server).
    package func make() async throws -> any Store {
        switch self {
        case .memory: return InMemoryStore()
        case .sqlite: return try SQLiteStore(path: temporaryDatabasePath())
        // A long lease: on a loaded machine a 5 s one can run out between renewals, and a node
        // that cannot renew in time stops its executions (self-fencing), which these tests are not about.
        case .postgres:
            return try await PostgresStore(url: try await TestPostgres.shared.database(), maximumConnections: 4, leaseDuration: .seconds(60))
        }
    }
}

package func temporaryDatabasePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("novacron-\(UUID().uuidString)/novacron.db").path
}

package func sampleRecord(_ id: String, workflow: String = "w", status: ExecutionStatus = .running, at seconds: Double = 0) -> ExecutionRecord {
    let created = Date(timeIntervalSince1970: 1_800_000_000 + seconds)
    return ExecutionRecord(
        execution: WorkflowExecution(id: id, workflowID: workflow, workflowVersion: "3", status: status, inputs: ["env": "prod"], startedAt: created),
        workflowHash: "abc", options: StoredOptions(maxParallelism: 4, debug: true, trigger: ["branch": "main"]), createdAt: created)
}

/// A SQLite store on `path` (another "process" opening the same file).
package func openSQLiteStore(path: String) throws -> any Store {
    try SQLiteStore(path: path)
}
