import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

@Suite("REST API: concurrency keys")
struct APIConcurrencyTests {
    @Test(
        "GET /api/v1/concurrency/{key} lists holders and waiters, with the key percent-encoded; a queued execution names its key and refuses a pause")
    func holdersAndWaiters() async throws {
        let executor = ScriptedExecutor()
        executor.hold("ship")
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0))
        try await app.test(.router) { client in
            let yaml = """
                name: deploy
                variables: {env: prod}
                concurrency: "deploy:${inputs.env}/eu west"
                steps:
                  - {id: ship, inputs: {command: ship}}
                """
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: yaml)) { _ in }
            let first = try await engine.executeWorkflow("deploy")
            let second = try await engine.executeWorkflow("deploy")
            func call(_ method: HTTPRequest.Method, _ path: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/api/v1" + path, method: method, headers: [.init("X-NovaCron-Request")!: "1"]) {
                    ($0.status, (try? JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as? [String: Any]) ?? [:])
                }
            }
            let (status, key) = try await call(.get, "/concurrency/deploy%3Aprod%2Feu%20west")
            #expect(status == .ok)
            #expect(key["key"] as? String == "deploy:prod/eu west")
            #expect((key["holders"] as? [[String: Any]])?.map { $0["executionID"] as? String } == [first.id])
            #expect((key["waiting"] as? [[String: Any]])?.map { $0["executionID"] as? String } == [second.id])
            let (_, queued) = try await call(.get, "/executions/\(second.id)")
            #expect(queued["status"] as? String == "pending")
            #expect(queued["concurrencyKey"] as? String == "deploy:prod/eu west")
            #expect(try await call(.post, "/executions/\(second.id)/pause").0 == .conflict)
            let (bad, problem) = try await call(.get, "/concurrency/a%01b")
            #expect(bad == .badRequest && (problem["detail"] as? String) == "the concurrency key contains a control character", "\(problem)")
            let (_, unused) = try await call(.get, "/concurrency/nobody")
            #expect((unused["holders"] as? [Any])?.isEmpty == true && (unused["waiting"] as? [Any])?.isEmpty == true)
            executor.release("ship")
            #expect(try await engine.waitForExecution(first.id).status == .completed)
            #expect(try await engine.waitForExecution(second.id).status == .completed)
            let (_, after) = try await call(.get, "/concurrency/deploy%3Aprod%2Feu%20west")
            #expect((after["holders"] as? [Any])?.isEmpty == true)
        }
    }
}
