import Foundation
import Hummingbird
import HummingbirdTesting
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

/// A live `novacron serve` application on 127.0.0.1 and a port the system chose, with the durable
/// store and scripted steps unless the test gives executors; the test gets the port it listens on.
package func withLiveServer(
    tokens: APITokens = APITokens(), executors given: ExecutorRegistry? = nil, secrets: [String: String] = [:],
    configure: (inout ServerConfiguration) -> Void = { _ in },
    _ test: @Sendable (_ port: Int, _ engine: WorkflowEngine) async throws -> Void
) async throws {
    PoolWatchdog.start()
    var executors = ExecutorRegistry()
    for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
    let store = try SQLiteStore(path: temporaryDatabasePath())
    let engine = WorkflowEngine(executors: given ?? executors, secrets: SecretProvider(environment: [:], values: secrets), store: store)
    var configuration = ServerConfiguration(port: 0, tokens: tokens)
    configure(&configuration)
    let app = try await buildApplication(engine: engine, store: store, configuration: configuration)
    try await app.test(.live) { client in try await test(try #require(client.port), engine) }
}
