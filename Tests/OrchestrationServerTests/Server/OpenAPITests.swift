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

@Suite("OpenAPI document")
struct OpenAPITests {
    /// A live server on 127.0.0.1 with tokens, the durable store, and scripted steps (schemathesis
    /// registers and starts whatever it generates; nothing it sends may reach a shell).
    func withLiveServer(_ test: @Sendable (Int) async throws -> Void) async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(
            executors: executors, secrets: SecretProvider(environment: [:]), store: store, learning: LearningEngine(store: store))
        try await engine.registerWorkflow(try workflowDocument(APITests.hello))
        let tokens = try APITokens(environment: "admin:schemathesis-admin,viewer:schemathesis-viewer")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.live) { client in try await test(try #require(client.port)) }
    }

    @Test("schemathesis finds no 5xx and no response that breaks the document, on every operation")
    func schemathesis() async throws {
        try await withLiveServer { port in
            let result = try await ExternalTool.run(
                [
                    "python3", "-m", "schemathesis.cli", "--config-file", Repository.path("Tests/Fixtures/api/schemathesis.toml"),
                    // The document from the repository (the server serves the same, as another test
                    // checks): loading it over HTTP from a server busy beside a build timed out.
                    "run", Repository.path("Sources/OrchestrationAPI/openapi.yaml"), "--url", "http://127.0.0.1:\(port)",
                    "--header", "Authorization: Bearer schemathesis-admin",
                    // A fixed seed keeps CI repeatable; NOVACRON_SCHEMATHESIS_SEED explores others.
                    "--max-examples", "25", "--seed", ProcessInfo.processInfo.environment["NOVACRON_SCHEMATHESIS_SEED"] ?? "20261126", "--no-color",
                ], in: FileManager.default.temporaryDirectory.path)  // its cache folder stays out of the repository
            #expect(result.status == 0, "schemathesis reported failures:\n\(result.output.suffix(6000))")
            // Every operation of the document was tested.
            let selected = result.output.firstMatch(of: /Selected: (\d+)\/(\d+)/)
            #expect(selected != nil && selected?.1 == selected?.2 && Int(selected?.1 ?? "") ?? 0 >= 26, "\(result.output.suffix(2000))")
        }
    }

    @Test("the document is served without a token; a documented path with another method is 405 with Allow")
    func documentAndMethods() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]))
        let tokens = try APITokens(environment: "viewer:v")
        let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/openapi.json", method: .get) { response in
                #expect(response.status == .ok)
                let doc = try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any])
                #expect(doc["openapi"] as? String == "3.1.0")
                let paths = try #require(doc["paths"] as? [String: Any])
                #expect(paths["/api/v1/workflows/executions/{executionID}"] != nil)
                #expect(paths["/api/v1/executions/{executionID}/events"] != nil)
            }
            try await client.execute(uri: "/api/v1/executions/x/cancel", method: .get, headers: [.authorization: "Bearer v"]) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(uri: "/api/v1/nothing-here", method: .get, headers: [.authorization: "Bearer v"]) {
                #expect($0.status == .notFound)
            }
            try await client.execute(uri: "/api/v1/whoami", method: .get, headers: [.authorization: "Bearer v"]) { response in
                #expect(String(buffer: response.body) == #"{"authenticated":true,"role":"viewer"}"#)
            }
        }
    }
}
