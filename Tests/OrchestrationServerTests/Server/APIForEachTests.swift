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

@Suite("REST API: forEach items")
struct APIForEachTests {
    @Test(
        "an execution's forEach step carries its item counts; …/steps/{step}/items lists its items in order, filtered by status; other steps are 404")
    func items() async throws {
        let executor = ScriptedExecutor()
        executor.script("fan[1]", [.failure("exit code 1", exitCode: 1)])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0))
        try await app.test(.router) { client in
            let yaml = """
                name: fanned
                steps:
                  - {id: fan, forEach: [a, b, c], toleratedFailurePercentage: 50, inputs: {v: "${item}"}}
                  - {id: after, dependencies: [fan]}
                """
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: yaml)) { _ in }
            let started = try await engine.executeWorkflow("fanned")
            #expect(try await engine.waitForExecution(started.id).status == .completed)
            func get(_ path: String) async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(uri: "/api/v1/executions/\(started.id)" + path, method: .get) {
                    ($0.status, (try? JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as? [String: Any]) ?? [:])
                }
            }
            let (_, execution) = try await get("")
            let steps = try #require(execution["steps"] as? [[String: Any]])
            #expect(steps.map { $0["id"] as? String } == ["fan", "after"])
            #expect(steps[0]["itemCount"] as? Int == 3)
            #expect(steps[0]["items"] as? [String: Int] == ["total": 3, "pending": 0, "running": 0, "succeeded": 2, "failed": 1, "cancelled": 0])
            #expect((steps[0]["outputs"] as? [String: Any])?["failedItems"] as? Int == 1)

            let (status, list) = try await get("/steps/fan/items")
            #expect(status == .ok)
            let items = try #require(list["items"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == ["fan[0]", "fan[1]", "fan[2]"])
            #expect(items.map { $0["status"] as? String } == ["success", "failed", "success"])
            let (_, failed) = try await get("/steps/fan/items?status=failed")
            #expect((failed["items"] as? [[String: Any]])?.map { $0["id"] as? String } == ["fan[1]"])
            let (bogus, problem) = try await get("/steps/fan/items?status=broken")
            #expect(bogus == .badRequest && (problem["detail"] as? String)?.contains("not a step status") == true, "\(problem)")
            #expect(try await get("/steps/after/items").0 == .notFound)
            #expect(try await get("/steps/nothing/items").0 == .notFound)
            #expect(try await get("/steps/fan[1]/items").0 == .notFound)
            let (_, logs) = try await get("/logs?step=fan%5B1%5D")
            #expect((logs["steps"] as? [[String: Any]])?.first?["id"] as? String == "fan[1]")
        }
    }
}
