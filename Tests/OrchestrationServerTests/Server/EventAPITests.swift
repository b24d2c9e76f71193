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

@Suite("Events API")
struct EventAPITests {
    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    static let admin: HTTPFields = [.authorization: "Bearer a", .contentType: "application/json"]
    static let viewer: HTTPFields = [.authorization: "Bearer v"]

    func withServer(_ test: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        let app = try await buildApplication(
            engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: try APITokens(environment: "viewer:v,admin:a")))
        try await app.test(.router, test)
    }

    @Test("publish, then replay by sequence number and type; bad events get problem documents")
    func publishAndList() async throws {
        try await withServer { client in
            for (type, service) in [("deployment.started", "api"), ("build.done", "web"), ("deployment.finished", "api")] {
                try await client.execute(
                    uri: "/api/v1/events", method: .post, headers: Self.admin,
                    body: ByteBuffer(string: #"{"type": "\#(type)", "data": {"service": "\#(service)"}}"#)
                ) { response in
                    #expect(response.status == .created)
                    let event = try self.json(response.body)
                    #expect(event["type"] as? String == type)
                    #expect(event["source"] as? String == "api")
                }
            }
            try await client.execute(uri: "/api/v1/events?after=0&type=deployment.*", method: .get, headers: Self.viewer) { response in
                let page = try self.json(response.body)
                let events = try #require(page["events"] as? [[String: Any]])
                #expect(events.map { $0["type"] as? String } == ["deployment.started", "deployment.finished"])
                #expect(events.map { $0["seq"] as? Int } == [1, 3])
                #expect(page["lastSeq"] as? Int == 3)
            }
            try await client.execute(uri: "/api/v1/events?after=2", method: .get, headers: Self.viewer) { response in
                let events = try #require(try self.json(response.body)["events"] as? [[String: Any]])
                #expect(events.map { $0["seq"] as? Int } == [3])
            }
            for (body, message) in [
                (#"{"type": "no spaces allowed"}"#, "must be dot-separated words"), (#"{"data": {}}"#, "type is required"),
                (#"{"type": "a.b", "data": [1]}"#, "data must be a JSON object"), (#"{"type": "a.b", "source": "engine"}"#, "the engine's own"),
                ("nope", "JSON object"),
            ] {
                try await client.execute(uri: "/api/v1/events", method: .post, headers: Self.admin, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest)
                    #expect(String(buffer: response.body).contains(message), "\(body)")
                }
            }
            try await client.execute(
                uri: "/api/v1/events", method: .post, headers: [.authorization: "Bearer v"], body: ByteBuffer(string: #"{"type": "a.b"}"#)
            ) { #expect($0.status == .forbidden) }
        }
    }

    @Test("subscriptions: admins create them, the secret is never shown, viewers read them; bad ones are refused")
    func subscriptions() async throws {
        try await withServer { client in
            let id = try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: Self.admin,
                body: ByteBuffer(string: #"{"url": "http://127.0.0.1:9/hook", "events": "deployment.*", "secret": "hunter2"}"#)
            ) { response in
                #expect(response.status == .created)
                #expect(!String(buffer: response.body).contains("hunter2"))
                let s = try self.json(response.body)
                #expect(s["signed"] as? Bool == true)
                return try #require(s["id"] as? String)
            }
            try await client.execute(uri: "/api/v1/subscriptions", method: .get, headers: Self.viewer) { response in
                #expect(!String(buffer: response.body).contains("hunter2"))
                let list = try #require(try self.json(response.body)["subscriptions"] as? [[String: Any]])
                #expect(list.map { $0["id"] as? String } == [id])
            }
            try await client.execute(uri: "/api/v1/subscriptions/\(id)/dead-letters", method: .get, headers: Self.viewer) { response in
                let letters = try self.json(response.body)["deadLetters"] as? [Any]
                #expect(letters?.isEmpty == true)
            }
            try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: [.authorization: "Bearer v"], body: ByteBuffer(string: #"{"url": "http://x/"}"#)
            ) { #expect($0.status == .forbidden) }
            try await client.execute(
                uri: "/api/v1/subscriptions", method: .post, headers: Self.admin, body: ByteBuffer(string: #"{"url": "file:///etc/passwd"}"#)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("http or https"))
            }
            try await client.execute(uri: "/api/v1/subscriptions/\(id)", method: .delete, headers: Self.admin) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/api/v1/subscriptions/\(id)", method: .get, headers: Self.viewer) { #expect($0.status == .notFound) }
        }
    }
}
