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

@Suite("REST API")
struct APITests {
    static let hello = """
        name: hello
        steps:
          - {id: greet, inputs: {command: x}}
          - {id: show, inputs: {command: "echo ${greet.greeting}"}}
        """

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    func withAPI(_ test: @Sendable (any TestClientProtocol, WorkflowEngine, ScriptedExecutor) async throws -> Void) async throws {
        let executor = ScriptedExecutor()
        executor.script("greet", [.success(outputs: ["greeting": "hi"])])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]), store: store)
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0))
        try await app.test(.router) { client in try await test(client, engine, executor) }
    }

    /// Registers hello and starts it with its first step held running; returns the execution id.
    func startHeld(_ client: any TestClientProtocol, _ executor: ScriptedExecutor) async throws -> String {
        executor.hold("greet")
        _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) { _ in }
        let id = try await client.execute(uri: "/api/v1/workflows/hello/executions", method: .post) { response in
            try #require(try self.json(response.body)["id"] as? String)
        }
        await executor.waitForStarts(1)
        return id
    }

    @Test("debug mode: started with debug: true, the execution is paused before each step, and each resume runs exactly that one")
    func debugMode() async throws {
        try await withAPI { client, engine, executor in
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) {
                #expect($0.status == .created)
            }
            let id = try await client.execute(
                uri: "/api/v1/workflows/hello/executions", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"inputs": {}, "debug": true}"#)
            ) { response in
                #expect(response.status == .created)
                return try #require(try self.json(response.body)["id"] as? String)
            }
            // Paused before greet; nothing ran.
            let paused = { (expected: String) async throws in
                while try await engine.getExecution(id).pausedBefore != expected { await Task.yield() }
                try await client.execute(uri: "/api/v1/executions/\(id)", method: .get) { response in
                    let e = try self.json(response.body)
                    #expect(e["status"] as? String == "paused")
                    #expect(e["debug"] as? Bool == true)
                    #expect(e["pausedBefore"] as? String == expected)
                }
            }
            try await paused("greet")
            #expect(executor.started.isEmpty)
            try await client.execute(uri: "/api/v1/executions/\(id)/resume", method: .post) { #expect($0.status == .ok) }
            try await paused("show")
            #expect(executor.started == ["greet"])
            try await client.execute(uri: "/api/v1/executions/\(id)/resume", method: .post) { #expect($0.status == .ok) }
            #expect(try await engine.waitForExecution(id).status == .completed)
            #expect(executor.started == ["greet", "show"])
            // A bad flag is a 400, not ignored.
            try await client.execute(
                uri: "/api/v1/workflows/hello/executions", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"debug": "yes"}"#)
            ) { #expect($0.status == .badRequest) }
        }
    }

    @Test("triggers list with their state; disable and enable switch a schedule without editing the workflow")
    func triggers() async throws {
        try await withAPI { client, _, _ in
            let scheduled = Self.hello.replacingOccurrences(
                of: "name: hello\n",
                with: """
                    name: hello
                    triggers:
                      - {id: nightly, type: schedule, schedule: "0 2 * * *", timezone: Europe/Berlin}
                      - {id: push, type: webhook, source: github}

                    """)
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: scheduled)) {
                #expect($0.status == .created)
            }
            try await client.execute(uri: "/api/v1/triggers", method: .get) { response in
                let triggers = try #require(try self.json(response.body)["triggers"] as? [[String: Any]])
                #expect(triggers.map { $0["id"] as? String } == ["nightly", "push"])
                #expect(triggers[0]["enabled"] as? Bool == true)
                #expect(triggers[0]["timezone"] as? String == "Europe/Berlin")
                #expect(triggers[0]["nextFireAt"] is String)
                #expect(triggers[1]["nextFireAt"] == nil)
            }
            try await client.execute(uri: "/api/v1/workflows/hello/triggers/nightly/disable", method: .post) { response in
                let trigger = try self.json(response.body)
                #expect(trigger["enabled"] as? Bool == false)
                #expect(trigger["nextFireAt"] == nil)
            }
            try await client.execute(uri: "/api/v1/workflows/hello/triggers", method: .get) { response in
                let triggers = try #require(try self.json(response.body)["triggers"] as? [[String: Any]])
                #expect(triggers.first?["enabled"] as? Bool == false)
            }
            try await client.execute(uri: "/api/v1/workflows/hello/triggers/nightly/enable", method: .post) { response in
                let trigger = try self.json(response.body)
                #expect(trigger["enabled"] as? Bool == true)
            }
            try await client.execute(uri: "/api/v1/workflows/hello/triggers/nigthly/enable", method: .post) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("did you mean 'nightly'?"))
            }
        }
    }

    @Test("register a workflow, start it, read it back under both paths; health answers")
    func lifecycle() async throws {
        try await withAPI { client, engine, _ in
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
            let id = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) { response in
                #expect(response.status == .created)
                return try self.json(response.body)["id"] as? String
            }
            #expect(id == "hello")
            try await client.execute(uri: "/api/v1/workflows", method: .get) { response in
                let page = try self.json(response.body)
                #expect((page["items"] as? [[String: Any]])?.map { $0["id"] as? String } == ["hello"])
                #expect(page["total"] as? Int == 1)
            }
            let executionID = try await client.execute(
                uri: "/api/v1/workflows/hello/executions", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"inputs": {"env": "prod"}}"#)
            ) { response in
                #expect(response.status == .created)
                return try #require(try self.json(response.body)["id"] as? String)
            }
            _ = try await engine.waitForExecution(executionID)
            for path in ["/api/v1/executions/\(executionID)", "/api/v1/workflows/executions/\(executionID)"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .ok)
                    let e = try self.json(response.body)
                    #expect(e["status"] as? String == "completed")
                    #expect((e["steps"] as? [[String: Any]])?.map { $0["id"] as? String } == ["greet", "show"])
                    #expect((e["inputs"] as? [String: Any])?["env"] as? String == "prod")
                }
            }
            try await client.execute(uri: "/metrics", method: .get) { response in
                let text = String(buffer: response.body)
                #expect(text.contains(#"novacron_executions_started_total{workflow="hello"} 1"#))
                #expect(text.contains(#"novacron_step_duration_seconds_count{status="success"} 2"#))
                #expect(text.contains("novacron_scheduling_latency_seconds_count 2"))
                #expect(text.contains("novacron_ready_queue_depth 0.0"))
                // Per workflow: successes and failures, and how long executions took.
                #expect(text.contains(#"novacron_executions_finished_total{workflow="hello",status="completed"} 1"#))
                #expect(text.contains(#"novacron_execution_duration_seconds_count{workflow="hello",status="completed"} 1"#))
            }
            // This workflow's executions, at the guide's path; an unknown workflow is a 404.
            try await client.execute(uri: "/api/v1/workflows/hello/executions?status=completed", method: .get) { response in
                #expect(response.status == .ok)
                let page = try self.json(response.body)
                #expect((page["items"] as? [[String: Any]])?.map { $0["id"] as? String } == [executionID])
            }
            try await client.execute(uri: "/api/v1/workflows/nope/executions", method: .get) { response in
                #expect(response.status == .notFound)
            }
            // The optimization score, set at registration, is in the workflow's summary.
            try await client.execute(uri: "/api/v1/workflows/hello", method: .get) { response in
                let score = try #require(try self.json(response.body)["optimizationScore"] as? Double)
                #expect(score >= 1)
            }
            try await client.execute(uri: "/api/v1/workflows/hello/plan", method: .get) { response in
                let plan = try self.json(response.body)
                #expect((plan["stages"] as? [[String: Any]])?.count == 2)
            }
            try await client.execute(uri: "/api/v1/workflows/hello/versions", method: .get) { response in
                #expect(String(buffer: response.body).contains(#""version":""#))
            }
            try await client.execute(uri: "/api/v1/executions?workflow=hello&status=completed&limit=10", method: .get) { response in
                let page = try self.json(response.body)
                #expect((page["items"] as? [[String: Any]])?.count == 1)
            }
        }
    }

    @Test(
        "a start repeated with its Idempotency-Key answers 200 with the first execution and starts nothing; the key with other inputs is 409, a bad key 400"
    )
    func idempotentStart() async throws {
        try await withAPI { client, engine, executor in
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) { _ in }
            func start(_ key: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any], String?) {
                try await client.execute(
                    uri: "/api/v1/workflows/hello/executions", method: .post,
                    headers: [.contentType: "application/json", HTTPField.Name("Idempotency-Key")!: key], body: ByteBuffer(string: body)
                ) { response in
                    (response.status, try self.json(response.body), response.headers[HTTPField.Name("Idempotent-Replayed")!])
                }
            }
            let (status, first, replayed) = try await start("deploy-7", #"{"inputs": {"env": "prod"}}"#)
            #expect(status == .created && replayed == nil)
            let id = try #require(first["id"] as? String)
            _ = try await engine.waitForExecution(id)
            // The client timed out and tries again: the same execution, finished now; nothing ran twice.
            let (again, second, replayedAgain) = try await start("deploy-7", #"{"inputs": {"env": "prod"}}"#)
            #expect(again == .ok && replayedAgain == "true")
            #expect(second["id"] as? String == id)
            #expect(second["status"] as? String == "completed")
            #expect(executor.started == ["greet", "show"])
            // The key with another request is refused, saying which execution holds it.
            let (conflict, problem, _) = try await start("deploy-7", #"{"inputs": {"env": "staging"}}"#)
            #expect(conflict == .conflict)
            #expect((problem["detail"] as? String)?.contains("was used for another request (execution \(id))") == true, "\(problem)")
            let (bad, badProblem, _) = try await start(String(repeating: "k", count: 256), "{}")
            #expect(bad == .badRequest)
            #expect((badProblem["detail"] as? String)?.contains("1 to 255 visible ASCII characters") == true, "\(badProblem)")
            #expect(await engine.listExecutions(workflowID: "hello").count == 1)
            // Another key is another execution.
            let (plain, fresh, _) = try await start("other", "{}")
            #expect(plain == .created && fresh["id"] as? String != id)
        }
    }

    @Test("a backfill starts one execution per past tick with its scheduledTime and skips the ticks done; a dry run starts none; bad ranges are 400")
    func backfill() async throws {
        try await withAPI { client, engine, executor in
            let yaml = """
                name: report
                triggers:
                  - {id: hourly, type: schedule, schedule: "0 * * * *"}
                steps:
                  - {id: greet, inputs: {command: "echo ${trigger.scheduledTime}"}}
                """
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: yaml)) { _ in }
            func post(_ body: String, workflow: String = "report") async throws -> (HTTPResponse.Status, [String: Any]) {
                try await client.execute(
                    uri: "/api/v1/workflows/\(workflow)/backfill", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: body)
                ) { ($0.status, try self.json($0.body)) }
            }
            let range = #""from": "2026-11-01T00:00:00Z", "to": "2026-11-01T03:00:00Z""#
            let (dryStatus, dry) = try await post("{\(range), \"dryRun\": true}")
            #expect(dryStatus == .ok)
            #expect((dry["toRun"] as? [String])?.count == 4 && (dry["skipped"] as? [String]) == [])
            #expect(await engine.listExecutions(workflowID: "report").isEmpty, "a dry run starts nothing")

            let bell = Doorbell()
            engine.observe { _ in bell.ring() }
            let (status, plan) = try await post("{\(range), \"maxParallel\": 2}")
            #expect(status == .accepted)
            #expect(plan["trigger"] as? String == "hourly" && (plan["toRun"] as? [String])?.first == "2026-11-01T00:00:00Z")
            var ended: [WorkflowExecution] = []
            for _ in 0..<300 where ended.count < 4 {
                await bell.wait(upTo: .milliseconds(100))
                ended = await engine.listExecutions(workflowID: "report").filter { $0.status.isTerminal }
            }
            #expect(ended.count == 4 && ended.allSatisfy { $0.status == .completed }, "\(ended.map(\.status))")
            #expect(executor.started.filter { $0 == "greet" }.count == 4)

            let (againStatus, again) = try await post("{\(range)}")
            #expect(againStatus == .accepted && (again["skipped"] as? [String])?.count == 4 && (again["toRun"] as? [String]) == [])
            let (bad, problem) = try await post(#"{"from": "yesterday", "to": "2026-11-01"}"#)
            #expect(bad == .badRequest && (problem["detail"] as? String)?.contains("from 'yesterday' is not a date") == true)
            #expect(try await post(#"{"from": "2026-11-02", "to": "2026-11-01"}"#).0 == .badRequest)
            #expect(try await post("{\(range)}", workflow: "nope").0 == .notFound)
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) { _ in }
            let (noSchedule, why) = try await post("{\(range)}", workflow: "hello")
            #expect(noSchedule == .badRequest && (why["detail"] as? String)?.contains("no schedule trigger") == true)
        }
    }

    @Test("bad requests get problem documents: invalid workflow (located), unknown ids, bad query, learning switched off")
    func problems() async throws {
        try await withAPI { client, _, _ in
            try await client.execute(
                uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: "name: w\nsteps:\n  - {id: a, dependencies: [b]}\n")
            ) { response in
                #expect(response.status == .unprocessableContent)
                #expect(response.headers[.contentType] == "application/problem+json")
                let p = try self.json(response.body)
                let errors = try #require(p["errors"] as? [[String: Any]])
                #expect(errors.first?["line"] as? Int == 3)
                #expect(errors.first?["path"] as? String == "steps[0].dependencies[0]")
            }
            try await client.execute(uri: "/api/v1/workflows/nope/executions", method: .post) { response in
                #expect(response.status == .notFound)
                let problem = try self.json(response.body)
                #expect(problem["detail"] as? String == "no workflow 'nope'")
            }
            try await client.execute(uri: "/api/v1/executions/nope", method: .get) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/executions?limit=0", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v1/executions?status=done", method: .get) { #expect($0.status == .badRequest) }
            try await client.execute(uri: "/api/v1/learning/patterns/hello", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
            }
            // This server runs without a learning engine: its routes say so.
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) { _ in }
            try await client.execute(uri: "/api/v1/learning/suggestions/hello", method: .get) { response in
                #expect(response.status == .notImplemented)
                #expect(String(buffer: response.body).contains("the learning engine is off"))
            }
        }
    }

    @Test("cancel a running execution through the API; operations on an ended one conflict")
    func cancel() async throws {
        try await withAPI { client, engine, executor in
            let id = try await startHeld(client, executor)
            try await client.execute(uri: "/api/v1/executions/\(id)/cancel", method: .post) { #expect($0.status == .ok) }
            #expect(try await engine.waitForExecution(id).status == .cancelled)
            try await client.execute(uri: "/api/v1/executions/\(id)/pause", method: .post) { #expect($0.status == .conflict) }
        }
    }

    @Test("the events stream sends the state, then live events, and ends when the execution ends")
    func events() async throws {
        try await withAPI { client, engine, executor in
            let id = try await startHeld(client, executor)
            async let body = client.execute(uri: "/api/v1/executions/\(id)/events", method: .get) { response in
                #expect(response.headers[.contentType] == "text/event-stream")
                return String(buffer: response.body)
            }
            executor.release("greet")
            let text = try await body
            #expect(text.hasPrefix("event: execution\ndata: {"))
            #expect(text.hasSuffix("\n\n"))
            // Live or not, the stream ends with the execution completed.
            #expect(text.contains("event: executionFinished") || text.contains(#""status":"completed""#))
            #expect(try await engine.waitForExecution(id).status == .completed)
            // On an ended execution: the state, then the end of the stream.
            try await client.execute(uri: "/api/v1/executions/\(id)/events", method: .get) { response in
                let done = String(buffer: response.body)
                #expect(done.hasPrefix("event: execution\n"))
                #expect(done.contains(#""status":"completed""#))
                #expect(!done.contains("event: stepStarted"))
            }
        }
    }

    @Test("registered workflows survive a restart of the server on the same store")
    func workflowsSurviveRestart() async throws {
        let path = temporaryDatabasePath()
        for round in 0..<2 {
            let store = try SQLiteStore(path: path)
            let engine = WorkflowEngine(executors: ExecutorRegistry(), store: store)
            let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0))
            try await app.test(.router) { client in
                if round == 0 {
                    try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) {
                        #expect($0.status == .created)
                    }
                } else {
                    try await client.execute(uri: "/api/v1/workflows/hello", method: .get) { response in
                        #expect(response.status == .ok)
                        let w = try self.json(response.body)
                        #expect((w["steps"] as? [[String: Any]])?.count == 2)
                    }
                }
            }
        }
    }

    @Test("deleting a workflow stops new executions of it")
    func delete() async throws {
        try await withAPI { client, _, _ in
            _ = try await client.execute(uri: "/api/v1/workflows", method: .post, body: ByteBuffer(string: Self.hello)) { _ in }
            try await client.execute(uri: "/api/v1/workflows/hello", method: .delete) { #expect($0.status == .noContent) }
            try await client.execute(uri: "/api/v1/workflows/hello/executions", method: .post) { #expect($0.status == .notFound) }
            try await client.execute(uri: "/api/v1/workflows/hello", method: .delete) { #expect($0.status == .notFound) }
        }
    }

    @Test("the server refuses to listen beyond loopback without --insecure")
    func loopbackOnly() async throws {
        let engine = WorkflowEngine(executors: ExecutorRegistry())
        await #expect(throws: EngineError.self) {
            _ = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(host: "0.0.0.0"))
        }
        _ = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(host: "0.0.0.0", insecure: true))
    }
}
