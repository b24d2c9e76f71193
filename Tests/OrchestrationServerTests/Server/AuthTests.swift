import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import TestSupport
import Testing

@Suite("API tokens")
struct AuthTests {
    static let tokens = try! APITokens(environment: "viewer:v-token,operator:o-token,admin:a-token")

    func withServer(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]))
        try await engine.registerWorkflow(try workflowDocument(APITests.hello))
        let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0, tokens: Self.tokens))
        try await app.test(.router, test)
    }

    /// The status each token gets on a route of each class: read (a list, /metrics), run (start),
    /// operate (cancel an unknown execution: 404 once allowed), register, delete (an unknown workflow).
    @Test(
        "each role on each route class: reads need viewer, running and operating need operator, registering and deleting need admin",
        arguments: [
            (nil as String?, [HTTPResponse.Status.unauthorized, .unauthorized, .unauthorized, .unauthorized, .unauthorized, .unauthorized]),
            ("wrong", [.unauthorized, .unauthorized, .unauthorized, .unauthorized, .unauthorized, .unauthorized]),
            ("v-token", [.ok, .ok, .forbidden, .forbidden, .forbidden, .forbidden]),
            ("o-token", [.ok, .ok, .created, .notFound, .forbidden, .forbidden]),
            ("a-token", [.ok, .ok, .created, .notFound, .created, .notFound]),
        ])
    func roles(token: String?, expected: [HTTPResponse.Status]) async throws {
        try await withServer { client in
            var headers: HTTPFields = [:]
            if let token { headers[.authorization] = "Bearer \(token)" }
            let read = try await client.execute(uri: "/api/v1/workflows", method: .get, headers: headers) { $0.status }
            let metrics = try await client.execute(uri: "/metrics", method: .get, headers: headers) { $0.status }
            let run = try await client.execute(uri: "/api/v1/workflows/hello/executions", method: .post, headers: headers) { $0.status }
            let operate = try await client.execute(uri: "/api/v1/executions/none/cancel", method: .post, headers: headers) { $0.status }
            let register = try await client.execute(
                uri: "/api/v1/workflows", method: .post, headers: headers, body: ByteBuffer(string: APITests.hello)
            ) { $0.status }
            let delete = try await client.execute(uri: "/api/v1/workflows/nope", method: .delete, headers: headers) { $0.status }
            #expect([read, metrics, run, operate, register, delete] == expected)
        }
    }

    @Test("401 says how to authenticate, 403 names the role; health checks need no token")
    func problems() async throws {
        try await withServer { client in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            try await client.execute(uri: "/api/v1/executions", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            try await client.execute(
                uri: "/api/v1/workflows", method: .post, headers: [.authorization: "Bearer o-token"], body: ByteBuffer(string: APITests.hello)
            ) { response in
                #expect(response.status == .forbidden)
                #expect(String(buffer: response.body).contains("this needs the admin role; the token has operator"))
            }
        }
    }

    @Test("a tokens file holds hashes only; with tokens the server may listen beyond loopback")
    func file() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tokens-\(UUID().uuidString).yaml").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let hash = Hex.encode(APITokens.hash("s3cret"))
        try "- {name: ci, role: operator, sha256: \(hash)}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let tokens = try APITokens(file: path)
        #expect(tokens.role(of: "s3cret") == .operator)
        #expect(tokens.role(of: "s3cre") == nil)
        #expect(!(try String(contentsOfFile: path, encoding: .utf8)).contains("s3cret"))
        try "- {name: ci, role: root, sha256: \(hash)}\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: EngineError.self) { try APITokens(file: path) }
        let engine = WorkflowEngine(executors: ExecutorRegistry())
        _ = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(host: "0.0.0.0", tokens: tokens))
    }
}
