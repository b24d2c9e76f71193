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

@Suite("Webhook triggers")
struct WebhookTests {
    @Test("GitHub's documented test vector: HMAC-SHA256 of 'Hello, World!' with 'It's a Secret to Everybody'")
    func githubVector() {
        let body = Array("Hello, World!".utf8)
        #expect(
            Hex.encode(Webhook.signature(body, secret: "It's a Secret to Everybody"))
                == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")
        let delivery = Webhook.Delivery(
            source: "github", headers: ["X-Hub-Signature-256": "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"], body: body)
        #expect(Webhook.verify(delivery, secret: "It's a Secret to Everybody"))
        #expect(!Webhook.verify(delivery, secret: "It's a Secret to Everybody!"))
        let tampered = Webhook.Delivery(source: "github", headers: delivery.headers, body: Array("Hello, World?".utf8))
        #expect(!Webhook.verify(tampered, secret: "It's a Secret to Everybody"))
        #expect(!Webhook.verify(Webhook.Delivery(source: "github", headers: ["x-hub-signature-256": "sha256=zz"], body: body), secret: "x"))
    }

    @Test("conditions match payload paths, by value or one of a list")
    func conditions() {
        let payload: JSONValue = ["branch": "main", "event": "push", "repository": ["name": "api"], "size": 3]
        #expect(Webhook.matches(["branch": "main", "event": "push"], payload: payload))
        #expect(Webhook.matches(["repository.name": ["web", "api"]], payload: payload))
        #expect(Webhook.matches(["size": 3], payload: payload))
        #expect(!Webhook.matches(["branch": "develop"], payload: payload))
        #expect(!Webhook.matches(["missing.field": "x"], payload: payload))
        #expect(Webhook.branch(of: "refs/heads/feature/x") == "feature/x")
    }

    static let workflow = """
        name: deploy
        triggers:
          - id: main-push
            type: webhook
            source: github
            secret: ${secrets.GH_HOOK}
            conditions: {branch: main, event: push}
          - id: lab
            type: webhook
            source: gitlab
            secret: ${secrets.GL_HOOK}
          - id: tool
            type: webhook
            source: generic
            secret: ${secrets.GENERIC_HOOK}
            inputs: {build: "${trigger.build.number}"}
        steps:
          - {id: ship, timeout: 1m}
        """

    func withServer(_ test: @Sendable (any TestClientProtocol, WorkflowEngine) async throws -> Void) async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let secrets = SecretProvider(environment: [:], values: ["GH_HOOK": "gh-secret", "GL_HOOK": "gl-secret", "GENERIC_HOOK": "generic-secret"])
        let engine = WorkflowEngine(executors: executors, secrets: secrets, store: store)
        try await engine.registerWorkflow(try workflowDocument(Self.workflow))
        let tokens = try APITokens(environment: "viewer:v")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.router) { client in try await test(client, engine) }
    }

    static func push(branch: String, delivery: String) -> String {
        #"{"ref": "refs/heads/\#(branch)", "after": "abc123", "sender": {"login": "octocat"}, "repository": {"full_name": "acme/api"}, "delivery_id": "\#(delivery)"}"#
    }

    static func github(_ body: String, secret: String = "gh-secret", delivery: String, event: String = "push") -> HTTPFields {
        let signature = Hex.encode(Webhook.signature(Array(body.utf8), secret: secret))
        return [
            HTTPField.Name("X-Hub-Signature-256")!: "sha256=\(signature)", HTTPField.Name("X-GitHub-Event")!: event,
            HTTPField.Name("X-GitHub-Delivery")!: delivery, .contentType: "application/json",
        ]
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    @Test("a signed GitHub push to main starts the workflow with branch, commit_hash and triggered_by; a redelivery starts nothing")
    func githubPush() async throws {
        try await withServer { client, engine in
            let body = Self.push(branch: "main", delivery: "d-1")
            let id = try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: Self.github(body, delivery: "d-1"), body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .accepted)
                let answer = try self.json(response.body)
                let started = try #require(answer["executions"] as? [[String: Any]])
                #expect(started.count == 1)
                return try #require(started.first?["execution"] as? String)
            }
            let execution = try await engine.waitForExecution(id)
            #expect(execution.inputs["branch"] == "main")
            #expect(execution.inputs["commit_hash"] == "abc123")
            #expect(execution.inputs["triggered_by"] == "github-webhook")
            // GitHub redelivers with the same id: nothing new starts.
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: Self.github(body, delivery: "d-1"), body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .ok)
                let answer = try self.json(response.body)
                #expect(answer["duplicate"] as? Bool == true)
            }
            // Another branch verifies but does not match the conditions.
            let feature = Self.push(branch: "feature", delivery: "d-2")
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: Self.github(feature, delivery: "d-2"), body: ByteBuffer(string: feature)
            ) { response in
                #expect(response.status == .accepted)
                let answer = try self.json(response.body)
                #expect((answer["executions"] as? [Any])?.isEmpty == true)
                #expect(((answer["skipped"] as? [[String: Any]])?.first?["reason"] as? String) == "the conditions do not match")
            }
            #expect(await engine.listExecutions(workflowID: "deploy", limit: 10).count == 1)
            // The trigger's status says it fired.
            try await client.execute(uri: "/api/v1/workflows/deploy/triggers", method: .get, headers: [.authorization: "Bearer v"]) { response in
                let triggers = try #require(try self.json(response.body)["triggers"] as? [[String: Any]])
                #expect(triggers.first?["fireCount"] as? Int == 1)
                #expect(triggers.first?["lastFiredAt"] is String)
            }
        }
    }

    @Test("bad signatures, unknown sources, malformed and oversized bodies get problem documents and start nothing")
    func refused() async throws {
        try await withServer { client, engine in
            let body = Self.push(branch: "main", delivery: "d-9")
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: Self.github(body, secret: "wrong", delivery: "d-9"),
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("does not verify"))
            }
            var unsigned = Self.github(body, delivery: "d-10")
            unsigned[HTTPField.Name("X-Hub-Signature-256")!] = nil
            try await client.execute(uri: "/api/v1/webhooks/github", method: .post, headers: unsigned, body: ByteBuffer(string: body)) {
                #expect($0.status == .unauthorized)
            }
            try await client.execute(uri: "/api/v1/webhooks/bitbucket", method: .post, body: ByteBuffer(string: "{}")) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no enabled webhook trigger has source 'bitbucket'"))
            }
            let notJSON = "ref=main"
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: Self.github(notJSON, delivery: "d-11"), body: ByteBuffer(string: notJSON)
            ) { response in
                #expect(response.status == .badRequest)
                #expect(String(buffer: response.body).contains("not JSON"))
            }
            let huge = String(repeating: "x", count: Webhook.bodyLimit + 1)
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post, headers: Self.github(huge, delivery: "d-12"), body: ByteBuffer(string: huge)
            ) { #expect($0.status == .contentTooLarge) }
            #expect(await engine.listExecutions(workflowID: "deploy", limit: 10).isEmpty)
            try await client.execute(uri: "/api/v1/workflows/deploy/triggers", method: .get, headers: [.authorization: "Bearer v"]) { response in
                let triggers = try #require(try self.json(response.body)["triggers"] as? [[String: Any]])
                #expect((triggers.first?["lastError"] as? String)?.contains("does not verify") == true)
            }
        }
    }

    @Test("GitLab checks X-Gitlab-Token; a generic sender signs with X-Signature-256 and its fields map through inputs")
    func gitlabAndGeneric() async throws {
        try await withServer { client, engine in
            let push = #"{"ref": "refs/heads/main", "checkout_sha": "def456", "user_username": "dev"}"#
            try await client.execute(
                uri: "/api/v1/webhooks/gitlab", method: .post, headers: [HTTPField.Name("X-Gitlab-Token")!: "nope"], body: ByteBuffer(string: push)
            ) { #expect($0.status == .unauthorized) }
            let gitlab = try await client.execute(
                uri: "/api/v1/webhooks/gitlab", method: .post,
                headers: [
                    HTTPField.Name("X-Gitlab-Token")!: "gl-secret", HTTPField.Name("X-Gitlab-Event")!: "Push Hook",
                    HTTPField.Name("X-Gitlab-Event-UUID")!: "gl-1",
                ], body: ByteBuffer(string: push)
            ) { response in
                #expect(response.status == .accepted)
                return try #require(((try self.json(response.body)["executions"] as? [[String: Any]])?.first?["execution"]) as? String)
            }
            let glExecution = try await engine.waitForExecution(gitlab)
            #expect(glExecution.inputs["commit_hash"] == "def456")
            #expect(glExecution.inputs["triggered_by"] == "gitlab-webhook")

            let body = #"{"build": {"number": 42}}"#
            let signature = "sha256=" + Hex.encode(Webhook.signature(Array(body.utf8), secret: "generic-secret"))
            let generic = try await client.execute(
                uri: "/api/v1/webhooks/generic", method: .post,
                headers: [HTTPField.Name("X-Signature-256")!: signature, HTTPField.Name("X-Delivery-ID")!: "j-1"], body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status == .accepted)
                return try #require(((try self.json(response.body)["executions"] as? [[String: Any]])?.first?["execution"]) as? String)
            }
            let built = try await engine.waitForExecution(generic)
            #expect(built.inputs["build"] == .number(42))
        }
    }
}
