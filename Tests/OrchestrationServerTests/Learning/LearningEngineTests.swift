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

@Suite("Learning engine: recording, persistence, API")
struct LearningEngineTests {
    /// No timeouts: each running step is then the only sleeper on the virtual clock.
    static let workflow = """
        name: nightly
        steps:
          - {id: fetch, estimatedDuration: 10s}
          - {id: flaky, dependencies: [fetch], estimatedDuration: 20s, inputs: {command: "test ${fetch.result}"}}
          - {id: ship, dependencies: [flaky], estimatedDuration: 5s, inputs: {command: "ship ${flaky.result}"}}
        """

    /// Runs `count` executions; `flaky` fails every third one, after its attempts took 10 s, 20 s, 5 s of virtual time.
    func runExecutions(_ engine: WorkflowEngine, _ executor: ScriptedExecutor, _ clock: ManualClock, count: Int) async throws {
        for i in 0..<count {
            executor.script("flaky", [i % 3 == 2 ? .failure("connection reset after \(100 + i) ms") : .success(outputs: ["result": "ok"])])
            let started = try await engine.executeWorkflow("nightly")
            // Each step sleeps on the virtual clock for its duration; ship does not run after a failure.
            for seconds in i % 3 == 2 ? [10, 20] : [10, 20, 5] {
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(seconds))
            }
            _ = try await engine.waitForExecution(started.id)
        }
    }

    func engineParts(store: SQLiteStore) -> (ScriptedExecutor, ManualClock, ExecutorRegistry) {
        let executor = ScriptedExecutor()
        executor.script("fetch", [.success(outputs: ["result": "ref"])])
        executor.script("ship", [.success(outputs: ["result": "shipped"])])
        executor.takes("fetch", .seconds(10))
        executor.takes("flaky", .seconds(20))
        executor.takes("ship", .seconds(5))
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        return (executor, ManualClock(), executors)
    }

    @Test("every finished execution is learned from; no pattern before 10; the statistics survive a restart without relearning")
    func recordingAndRestart() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        let (executor, clock, executors) = engineParts(store: store)
        let learning = LearningEngine(store: store)
        try await WorkflowEngine.withEngine(executors: executors, clock: clock, store: store, learning: learning) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.workflow))
            try await runExecutions(engine, executor, clock, count: 9)
            let early = await learning.pattern(workflowID: "nightly")
            #expect(early.executions == 9)
            #expect(early.executionsNeeded == 1)
            #expect(early.steps.isEmpty && early.successRate == nil)
            try await runExecutions(engine, executor, clock, count: 3)
        }
        let pattern = await learning.pattern(workflowID: "nightly", stepOrder: ["fetch", "flaky", "ship"])
        #expect(pattern.executions == 12)
        #expect(pattern.isReady)
        #expect(pattern.successRate == 8.0 / 12.0)
        #expect(pattern.steps.map(\.stepID) == ["fetch", "flaky", "ship"])
        let flaky = try #require(pattern.steps.first { $0.stepID == "flaky" })
        #expect(flaky.runs == 12)
        #expect(flaky.firstAttemptFailureRate == 4.0 / 12.0)
        #expect(flaky.duration?.p50 == 20)
        #expect(flaky.commonFailures.first?.signature == "connection reset after <n> ms")
        #expect(flaky.commonFailures.first?.count == 4)
        #expect(pattern.steps.first { $0.stepID == "ship" }?.runs == 8)
        #expect(pattern.duration?.p50 == 35)

        // Saved statistics plus the observations after them: a new process sees the same, and
        // learning from one more execution reads only that one.
        await learning.flush()
        let again = LearningEngine(store: store)
        #expect(await again.pattern(workflowID: "nightly", stepOrder: ["fetch", "flaky", "ship"]) == pattern)
        let (executor2, clock2, executors2) = engineParts(store: store)
        try await WorkflowEngine.withEngine(executors: executors2, clock: clock2, store: store, learning: again) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.workflow))
            try await runExecutions(engine, executor2, clock2, count: 1)
        }
        let statistics = try #require(await again.statistics(workflowID: "nightly"))
        #expect(statistics.executions == 13)
        // Saved again, the statistics say they include the 13th observation.
        await again.flush()
        #expect(await again.statistics(workflowID: "nightly")?.appliedSeq == 13)
        let third = LearningEngine(store: store)
        #expect(await third.statistics(workflowID: "nightly")?.executions == 13)
        #expect(try await store.observations(workflowID: "nightly", after: 12, limit: 10).count == 1)
    }

    @Test("executions another process recorded in the same store are taken in before the statistics are saved")
    func twoProcesses() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let first = LearningEngine(store: store), second = LearningEngine(store: store)
        for (learning, count) in [(first, 5), (second, 3), (first, 2)] {
            let (executor, clock, executors) = engineParts(store: store)
            try await WorkflowEngine.withEngine(executors: executors, clock: clock, store: store, learning: learning) { engine in
                try await engine.registerWorkflow(try workflowDocument(Self.workflow))
                try await runExecutions(engine, executor, clock, count: count)
            }
        }
        // The first saw only its own 7 in memory; saving notices the other 3 and reads them.
        #expect(await first.statistics(workflowID: "nightly")?.executions == 7)
        await first.flush()
        #expect(await first.statistics(workflowID: "nightly")?.executions == 10)
        #expect(await LearningEngine(store: store).statistics(workflowID: "nightly")?.executions == 10)
    }

    @Test("a process that loads many unsaved observations saves them, so short-lived processes do not each read the whole history")
    func shortLivedProcesses() async throws {
        let store = InMemoryStore()
        let observation = { (i: Int) in
            ExecutionObservation(
                executionID: "e\(i)", workflowID: "w", version: "v", status: .completed, startedAt: Date(), seconds: 1,
                steps: [StepObservation(stepID: "a", status: .success, attempts: [AttemptObservation(outcome: .succeeded, seconds: 1)])])
        }
        try await store.apply((1...250).map { .observation(observation($0)) })
        #expect(try await store.learningSnapshot(workflowID: "w") == nil)
        #expect(await LearningEngine(store: store).statistics(workflowID: "w")?.executions == 250)
        let saved = try #require(try await store.learningSnapshot(workflowID: "w"))
        #expect(try JSONDecoder().decode(WorkflowStatistics.self, from: saved).appliedSeq == 250)
        try await store.apply([.observation(observation(251))])
        #expect(await LearningEngine(store: store).statistics(workflowID: "w")?.executions == 251)
    }

    func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(String(buffer: buffer).utf8)) as? [String: Any])
    }

    @Test("the API serves patterns and suggestions; an admin applies one as a new version with an audit record; a viewer cannot")
    func api() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let (executor, clock, executors) = engineParts(store: store)
        let engine = WorkflowEngine(
            executors: executors, clock: clock, secrets: SecretProvider(environment: [:]), store: store, learning: LearningEngine(store: store))
        let tokens = try APITokens(environment: "admin:a,viewer:v")
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0, tokens: tokens))
        try await app.test(.router) { client in
            _ = try await client.execute(
                uri: "/api/v1/workflows", method: .post, headers: [.authorization: "Bearer a"], body: ByteBuffer(string: Self.workflow)
            ) { #expect($0.status == .created) }
            try await client.execute(uri: "/api/v1/learning/patterns/nightly", method: .get, headers: [.authorization: "Bearer v"]) { response in
                let pattern = try self.json(response.body)
                #expect(pattern["executionsNeeded"] as? Int == 10)
            }
            try await runExecutions(engine, executor, clock, count: 12)
            try await client.execute(uri: "/api/v1/learning/patterns/nightly", method: .get, headers: [.authorization: "Bearer v"]) { response in
                #expect(response.status == .ok)
                let pattern = try self.json(response.body)
                #expect(pattern["executions"] as? Int == 12)
                #expect((pattern["steps"] as? [[String: Any]])?.count == 3)
            }
            let suggestion = try await client.execute(
                uri: "/api/v1/learning/suggestions/nightly", method: .get, headers: [.authorization: "Bearer v"]
            ) { response in
                let list = try #require(try self.json(response.body)["suggestions"] as? [[String: Any]])
                let retry = try #require(list.first { $0["id"] as? String == "add-retries/flaky" })
                #expect((retry["confidence"] as? Double ?? 0) > 0.1)
                #expect((retry["patch"] as? [[String: Any]])?.last?["path"] as? String == "/steps/1/retryPolicy")
                return try #require(retry["id"] as? String)
            }
            let body = ByteBuffer(string: #"{"id": "\#(suggestion)"}"#)
            try await client.execute(
                uri: "/api/v1/learning/suggestions/nightly/apply", method: .post, headers: [.authorization: "Bearer v"], body: body
            ) {
                #expect($0.status == .forbidden)
            }
            try await client.execute(
                uri: "/api/v1/learning/suggestions/nightly/apply", method: .post, headers: [.authorization: "Bearer a"], body: body
            ) { response in
                #expect(response.status == .created)
                let record = try self.json(response.body)
                #expect(record["action"] as? String == "applied")
                #expect(record["by"] as? String == "env-1")
                #expect(record["beforeVersion"] as? String != record["afterVersion"] as? String)
            }
            #expect(await engine.workflow("nightly")?.step("flaky")?.retryPolicy?.maxAttempts ?? 1 > 1)
            #expect(try await store.workflowVersions(id: "nightly").count == 2)
            // Applied once: it is no longer suggested, and applying it again names what is.
            try await client.execute(
                uri: "/api/v1/learning/suggestions/nightly/apply", method: .post, headers: [.authorization: "Bearer a"], body: body
            ) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body).contains("no suggestion 'add-retries/flaky'"))
            }
            try await client.execute(uri: "/api/v1/learning/audit/nightly", method: .get, headers: [.authorization: "Bearer v"]) { response in
                let records = try #require(try self.json(response.body)["records"] as? [[String: Any]])
                #expect(records.map { $0["suggestionID"] as? String } == ["add-retries/flaky"])
            }
            try await client.execute(uri: "/api/v1/learning/patterns/nope", method: .get, headers: [.authorization: "Bearer v"]) {
                #expect($0.status == .notFound)
            }
        }
    }
}

@Suite("Auto-optimization")
struct AutoOptimizerTests {
    static let workflow = """
        name: svc
        steps:
          - {id: a}
          - {id: b, dependencies: [a]}
          - {id: c, dependencies: [b, a]}
        """

    func run(_ engine: WorkflowEngine, count: Int) async throws {
        for _ in 0..<count {
            let e = try await engine.executeWorkflow("svc")
            _ = try await engine.waitForExecution(e.id)
        }
    }

    @Test("a safe, confident suggestion becomes a new version; when that version fails more, it is reverted and not applied again")
    func applyAndRevert() async throws {
        let executor = ScriptedExecutor()
        let learning = LearningEngine(configuration: OptimizationConfig(enableAutoOptimization: true, minConfidence: 0.8))
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        try await WorkflowEngine.withEngine(executors: executors, clock: ManualClock(), learning: learning) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.workflow))
            let optimizer = AutoOptimizer(engine: engine, judgedAfter: 10)
            try await run(engine, count: 10)
            let applied = try await optimizer.consider("svc")
            #expect(applied.map(\.action) == [.applied])
            #expect(applied.first?.suggestionID == "remove-dependency/c:a")
            #expect(applied.first?.by == "learning-engine")
            #expect(await engine.workflow("svc")?.step("c")?.dependencies == ["b"])
            // Not judged before 10 executions of the new version.
            try await run(engine, count: 9)
            #expect(try await optimizer.consider("svc").isEmpty)
            // The new version fails half the time: reverted.
            executor.script("b", [.failure("boom"), .success()])
            try await run(engine, count: 1)
            executor.script(
                "b",
                [
                    .failure("boom"), .success(), .failure("boom"), .success(), .failure("boom"), .success(), .failure("boom"), .success(),
                    .failure("boom"), .success(),
                ])
            try await run(engine, count: 10)
            let reverted = try await optimizer.consider("svc")
            #expect(reverted.map(\.action) == [.reverted])
            #expect(reverted.first?.reason.contains("the success rate fell from 100%") == true, "\(reverted.first?.reason ?? "")")
            #expect(await engine.workflow("svc")?.step("c")?.dependencies == ["b", "a"])
            // Reverted once: not applied again.
            executor.script("b", [.success()])
            try await run(engine, count: 3)
            #expect(try await optimizer.consider("svc").isEmpty)
            let audit = try await learning.audit(workflowID: "svc")
            #expect(audit.map(\.action) == [.applied, .reverted])
            #expect(audit[1].afterVersion == audit[0].beforeVersion)
        }
    }

    @Test("a change that does no harm is kept after its executions, and the next suggestion may follow")
    func kept() async throws {
        let executor = ScriptedExecutor()
        let learning = LearningEngine(configuration: OptimizationConfig(enableAutoOptimization: true))
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        try await WorkflowEngine.withEngine(executors: executors, clock: ManualClock(), learning: learning) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.workflow))
            let optimizer = AutoOptimizer(engine: engine, judgedAfter: 10)
            try await run(engine, count: 10)
            #expect(try await optimizer.consider("svc").map(\.action) == [.applied])
            try await run(engine, count: 10)
            #expect(try await optimizer.consider("svc").map(\.action) == [.kept])
            #expect(await engine.workflow("svc")?.step("c")?.dependencies == ["b"])
        }
    }

    @Test("auto-optimization off: nothing is applied")
    func off() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        try await WorkflowEngine.withEngine(executors: executors, clock: ManualClock(), learning: LearningEngine()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.workflow))
            try await run(engine, count: 10)
            #expect(try await AutoOptimizer(engine: engine).consider("svc").isEmpty)
            #expect(await engine.workflow("svc")?.step("c")?.dependencies == ["b", "a"])
        }
    }
}
