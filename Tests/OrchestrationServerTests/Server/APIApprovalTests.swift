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

@Suite("REST API: approvals and signals")
struct APIApprovalTests {
    @Test("approve records the caller, comment and data; a step not waiting is 409; a viewer is 403; a signal's body is the payload")
    func approveAndSignal() async throws {
        let executor = ScriptedExecutor()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        let tokens = try APITokens(environment: "operator:alice,viewer:val")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.router) { client in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: gated
                    steps:
                      - {id: gate, type: approval}
                      - {id: ci, type: wait, dependencies: [gate], inputs: {signal: done}}
                    """))
            let run = try await engine.executeWorkflow("gated")
            func post(_ path: String, _ body: String?, token: String = "alice") async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/api/v1/executions/\(run.id)" + path, method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: body.map { ByteBuffer(string: $0) }
                ) { ($0.status, (try? JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as? [String: Any]) ?? [:]) }
            }
            #expect(try await post("/steps/gate/approve", "{}", token: "val").0 == .forbidden)
            #expect(try await post("/steps/ci/approve", "{}").0 == .conflict)
            #expect(try await post("/steps/nothing/approve", "{}").0 == .notFound)
            #expect(try await post("/steps/gate/approve", #"{"comment": 3}"#).0 == .badRequest)
            let (status, _) = try await post("/steps/gate/approve", #"{"comment": "ok", "data": {"ticket": "CHG-1"}}"#)
            #expect(status == .accepted)
            #expect(try await post("/signals/bad%20name", "{}").0 == .badRequest)
            let (signalled, _) = try await post("/signals/done", #"[1, 2]"#)
            #expect(signalled == .accepted)
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .completed)
            // Tokens from NOVACRON_API_TOKENS are named by their position; a tokens file names them.
            #expect(final.stepResults["gate"]?.outputs == ["approved": true, "approvedBy": "env-1", "comment": "ok", "data": ["ticket": "CHG-1"]])
            #expect(final.stepResults["ci"]?.outputs["payload"] == [1, 2])
            #expect(try await post("/signals/done", "{}").0 == .conflict, "the execution has ended")
            #expect(try await post("/steps/gate/approve", "{}").0 == .conflict, "the execution has ended")
        }
    }

    @Test("an operator gets a single-use callback for a waiting step; anyone holding it decides once without an API token; a viewer gets none")
    func callback() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        let tokens = try APITokens(environment: "operator:alice,viewer:val")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.router) { client in
            try await engine.registerWorkflow(try workflowDocument("name: gated\nsteps:\n  - {id: gate, type: approval}\n"))
            let run = try await engine.executeWorkflow("gated")
            func post(_ path: String, _ body: String? = nil, token: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
                var headers: HTTPFields = [.contentType: "application/json"]
                if let token { headers[.authorization] = "Bearer \(token)" }
                return try await client.execute(uri: "/api/v1" + path, method: .post, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
                    ($0.status, (try? JSONSerialization.jsonObject(with: Data(String(buffer: $0.body).utf8)) as? [String: Any]) ?? [:])
                }
            }
            #expect(try await post("/executions/\(run.id)/steps/gate/callback", token: "val").0 == .forbidden)
            #expect(try await post("/executions/\(run.id)/steps/gate/callback").0 == .unauthorized)
            let (created, grant) = try await post("/executions/\(run.id)/steps/gate/callback", token: "alice")
            #expect(created == .created)
            #expect(try await post("/callbacks/not-a-token", "{}").0 == .notFound)
            let path = try #require(grant["path"] as? String)
            #expect(path == "/api/v1/callbacks/\(grant["token"] as? String ?? "")")
            #expect(try await post(String(path.dropFirst(7)), #"{"decision": "perhaps"}"#).0 == .badRequest)
            let (used, receipt) = try await post(String(path.dropFirst(7)), #"{"decision": "reject", "comment": "freeze week"}"#)
            #expect(used == .accepted && receipt["stepID"] as? String == "gate", "\(receipt)")
            #expect(try await post(String(path.dropFirst(7)), #"{"decision": "approve"}"#).0 == .notFound, "once only")
            let final = try await engine.waitForExecution(run.id)
            #expect(final.status == .failed)
            #expect(final.stepResults["gate"]?.error == "rejected by callback (minted by env-1): freeze week")
        }
    }
}
