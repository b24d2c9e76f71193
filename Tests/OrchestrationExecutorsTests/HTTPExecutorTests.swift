import Foundation
import Orchestration
import OrchestrationExecutors
import OrchestrationTesting
import TestSupport
import Testing

@Suite("HTTP and wait executors against a real server on 127.0.0.1")
struct HTTPExecutorTests {
    func request(_ inputs: [String: JSONValue], type: StepType = .api, action: String? = nil, timeout: Duration? = nil) -> StepRequest {
        StepRequest(executionID: "e1", workflowID: "w", stepID: "call", attempt: 1, type: type, action: action, inputs: inputs, timeout: timeout)
    }

    @Test("sends method, headers, a JSON body and the idempotency key; parses a JSON answer")
    func postJSON() async throws {
        let server = try await TestHTTPServer.start { _, _ in
            .init(status: 201, headers: [("Content-Type", "application/json"), ("X-Request-Id", "r-9")], body: #"{"id": 42, "tags": ["a"]}"#)
        }
        let outcome = await HTTPExecutor().execute(
            request([
                "url": .string(server.url + "/deployments?env=prod"), "method": "post",
                "headers": ["Authorization": "Bearer t0k"], "json": ["image": "app:1", "replicas": 3],
            ]), context: ExecutorContext())
        #expect(outcome.succeeded)
        #expect(outcome.outputs["statusCode"] == 201)
        #expect(outcome.outputs["body"] == ["id": 42, "tags": ["a"]])
        #expect(outcome.outputs["headers"]?.objectValue?["x-request-id"] == "r-9")
        let got = try #require(server.requests.first)
        #expect(got.method == "POST")
        #expect(got.uri == "/deployments?env=prod")
        #expect(got.header("Authorization") == "Bearer t0k")
        #expect(got.header("Idempotency-Key") == "e1/call")
        #expect(got.header("Content-Type") == "application/json")
        #expect(got.body == #"{"image":"app:1","replicas":3}"#)
    }

    @Test("an unexpected status is a failed step that keeps the answer; expectedStatus widens what passes")
    func statuses() async throws {
        try await TestHTTPServer.with({ _, _ in .init(status: 503, body: "down for maintenance") }) { server in
            let failed = await HTTPExecutor().execute(request(["url": .string(server.url)]), context: ExecutorContext())
            #expect(!failed.succeeded)
            #expect(failed.error == "GET \(server.url) answered 503 Service Unavailable")
            #expect(failed.outputs["body"] == "down for maintenance")
            let accepted = await HTTPExecutor().execute(
                request(["url": .string(server.url), "expectedStatus": [200, 503]]), context: ExecutorContext())
            #expect(accepted.succeeded)
        }
    }

    @Test("bad inputs and an unreachable server fail with a clear message")
    func badInputs() async throws {
        let noURL = await HTTPExecutor().execute(request(["url": "ftp://example.com/x"]), context: ExecutorContext())
        #expect(noURL.error == "inputs.url must be an http or https URL, got 'ftp://example.com/x'")
        // A port bound and not listening: connections are refused, and nobody else takes it meanwhile.
        let reserved = try ListeningPort.Reserved()
        defer { withExtendedLifetime(reserved) {} }
        let url = "http://127.0.0.1:\(reserved.port)/"
        let refused = await HTTPExecutor().execute(request(["url": .string(url)]), context: ExecutorContext())
        #expect(!refused.succeeded)
        #expect(refused.error?.hasPrefix("GET \(url) failed:") == true)
    }

    @Test("health-check polls until the service answers the expected status")
    func healthCheck() async throws {
        try await TestHTTPServer.with({ _, n in n < 3 ? .init(status: 503) : .init(status: 200, body: "ok") }) { server in
            let clock = ManualClock()
            let context = ExecutorContext(clock: clock)
            let outcome = try await withThrowingTaskGroup(of: StepOutcome.self) { group in
                group.addTask {
                    await WaitExecutor().execute(
                        self.request(
                            ["url": .string(server.url + "/healthz"), "interval": "5s", "expectedStatus": 200], type: .wait, action: "health-check"),
                        context: context)
                }
                // Each failed check sleeps on the clock; move it on twice.
                for _ in 0..<2 {
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(5))
                }
                return try await group.next()!
            }
            #expect(outcome.succeeded)
            #expect(outcome.outputs["checks"] == 3)
            #expect(server.requests.count == 3)
        }
    }

    @Test("health-check gives up after maxWait with the last answer")
    func healthCheckGivesUp() async throws {
        try await TestHTTPServer.with({ _, _ in .init(status: 500) }) { server in
            let clock = ManualClock()
            let outcome = try await withThrowingTaskGroup(of: StepOutcome.self) { group in
                group.addTask {
                    await WaitExecutor().execute(
                        self.request(["url": .string(server.url), "interval": "10s", "maxWait": "20s"], type: .wait),
                        context: ExecutorContext(clock: clock))
                }
                for _ in 0..<2 {
                    await clock.waitForSleepers(1)
                    clock.advance(by: .seconds(10))
                }
                return try await group.next()!
            }
            #expect(!outcome.succeeded)
            #expect(outcome.error == "not healthy after 3 checks over 20s: GET \(server.url) answered 500 Internal Server Error")
        }
    }

    @Test("sleep waits on the engine's clock")
    func sleep() async throws {
        let clock = ManualClock()
        let outcome = try await withThrowingTaskGroup(of: StepOutcome.self) { group in
            group.addTask {
                await WaitExecutor().execute(self.request(["duration": "90s"], type: .wait, action: "sleep"), context: ExecutorContext(clock: clock))
            }
            await clock.waitForSleepers(1)
            #expect(clock.nextDeadline == .seconds(90))
            clock.advance(by: .seconds(90))
            return try await group.next()!
        }
        #expect(outcome.succeeded)
    }
}
