import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Workflow engine")
struct WorkflowEngineTests {
    static let pipeline = """
        name: pipeline
        steps:
          - {id: build, inputs: {command: make}}
          - {id: test, dependencies: [build], inputs: {command: "test ${build.image}"}}
          - {id: deploy, dependencies: [test], inputs: {command: deploy}, rollback: {type: task, inputs: {command: undo}}}
        """

    @Test("runs a workflow to completion and streams its lifecycle events")
    func runsAndStreams() async throws {
        let executor = ScriptedExecutor()
        executor.script("build", [.success(outputs: ["image": "app:1"])])
        let (final, events) = try await withScriptedEngine(executor) { engine in
            let stream = engine.events()
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            let started = try await engine.executeWorkflow("pipeline")
            #expect(!started.status.isTerminal)
            var seen: [String] = []
            for await event in stream {
                switch event {
                case .executionStarted: seen.append("start")
                case .stepStarted(_, let step, _, _, _, _): seen.append("run \(step)")
                case .stepFinished(_, let r, _): seen.append("\(r.stepID) \(r.status.rawValue)")
                case .executionFinished(let e): seen.append("end \(e.status.rawValue)")
                default: break
                }
                if case .executionFinished = event { break }
            }
            return (try await engine.waitForExecution(started.id), seen)
        }
        #expect(final.status == .completed)
        #expect(events == ["start", "run build", "build success", "run test", "test success", "run deploy", "deploy success", "end completed"])
        #expect(executor.requests.first { $0.stepID == "test" }?.environment["NOVACRON_REF_0"] == "app:1")
        #expect(final.metrics.successfulSteps == 3)
    }

    @Test("an attempt that outlives its timeout is stopped and fails with timedOut")
    func attemptTimeout() async throws {
        let executor = ScriptedExecutor()
        executor.hold("slow")
        let clock = ManualClock()
        let final = try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: slow, inputs: {command: x}, timeout: 30s}
                    """))
            let started = try await engine.executeWorkflow("w")
            await executor.waitForStarts(1)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30))
            return try await engine.waitForExecution(started.id)
        }
        let slow = try #require(final.stepResults["slow"])
        #expect(slow.status == .failed)
        #expect(slow.timedOut)
        #expect(slow.error == "timed out after 30s")
        #expect(slow.duration == .seconds(30))
    }

    @Test("a failed attempt is retried after the policy's delay, on the engine's clock")
    func retryDelay() async throws {
        let executor = ScriptedExecutor()
        executor.script("flaky", [.failure("exit code 1", exitCode: 1), .success(outputs: ["ok": "yes"])])
        let clock = ManualClock()
        let final = try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - id: flaky
                        inputs: {command: x}
                        retryPolicy: {maxAttempts: 3, backoffStrategy: fixed, initialDelay: 10s, jitter: none}
                    """))
            let started = try await engine.executeWorkflow("w")
            await clock.waitForSleepers(1)
            #expect(executor.started == ["flaky"])
            #expect(clock.nextDeadline == .seconds(10))
            clock.advance(by: .seconds(10))
            return try await engine.waitForExecution(started.id)
        }
        let flaky = try #require(final.stepResults["flaky"])
        #expect(flaky.status == .success)
        #expect(flaky.attempts == 2)
        #expect(final.metrics.retryCount == 1)
        #expect(executor.requests.map(\.idempotencyKey) == Array(repeating: "\(final.id)/flaky", count: 2))
        #expect(executor.requests.map(\.attempt) == [1, 2])
    }

    @Test("the workflow timeout cancels what runs, rolls back, and fails the execution")
    func workflowTimeout() async throws {
        let executor = ScriptedExecutor()
        executor.hold("test")
        let clock = ManualClock()
        let final = try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    timeout: 1m
                    steps:
                      - {id: build, inputs: {command: x}, rollback: {type: task, inputs: {command: undo}}}
                      - {id: test, dependencies: [build], inputs: {command: x}}
                      - {id: ship, dependencies: [test], inputs: {command: x}}
                    """))
            let started = try await engine.executeWorkflow("w")
            await executor.waitForStarts(2)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(60))
            return try await engine.waitForExecution(started.id)
        }
        #expect(final.status == .failed)
        #expect(final.error == "workflow timed out after 1m")
        #expect(final.stepResults["test"]?.status == .cancelled)
        #expect(final.stepResults["ship"]?.status == .cancelled)
        #expect(final.stepResults["build.rollback"]?.status == .success)
        #expect(executor.started == ["build", "test", "build.rollback"])
    }

    @Test("cancel stops the running step and rolls back; pause and resume hold and release new starts")
    func cancelPauseResume() async throws {
        let executor = ScriptedExecutor()
        executor.hold("a")
        executor.hold("c")
        let (paused, final) = try await withScriptedEngine(executor) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: a, inputs: {command: x}}
                      - {id: b, dependencies: [a], inputs: {command: x}, rollback: {type: task, inputs: {command: undo}}}
                      - {id: c, dependencies: [b], inputs: {command: x}}
                    """))
            let started = try await engine.executeWorkflow("w")
            await executor.waitForStarts(1)
            try await engine.pauseExecution(started.id)
            let paused = try await engine.getExecution(started.id)
            executor.release("a")
            // `a` finishes while paused; `b` must not start until resumed.
            let events = engine.events()
            try await engine.resumeExecution(started.id)
            for await event in events {
                if case .stepStarted(_, "c", _, _, _, _) = event { break }
            }
            try await engine.cancelExecution(started.id)
            return (paused, try await engine.waitForExecution(started.id))
        }
        #expect(paused.status == .paused)
        #expect(final.status == .cancelled)
        #expect(final.error == "cancelled by user")
        #expect(final.stepResults["c"]?.status == .cancelled)
        #expect(final.stepResults["b.rollback"]?.status == .success)
        #expect(executor.started == ["a", "b", "c", "b.rollback"])
    }

    @Test("debug mode pauses before each step until resumed")
    func debugMode() async throws {
        let executor = ScriptedExecutor()
        executor.script("build", [.success(outputs: ["image": "app:1"])])
        let final = try await withScriptedEngine(executor) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            let events = engine.events()
            let started = try await engine.executeWorkflow("pipeline", options: ExecutionOptions(debug: true))
            var pausedBefore: [String] = []
            for await event in events {
                if case .executionPaused(_, let step?) = event {
                    pausedBefore.append(step)
                    #expect(executor.started.count == pausedBefore.count - 1)
                    try await engine.resumeExecution(started.id)
                }
                if case .executionFinished = event { break }
            }
            #expect(pausedBefore == ["build", "test", "deploy"])
            return try await engine.waitForExecution(started.id)
        }
        #expect(final.status == .completed)
    }

    @Test("retryExecution reuses what succeeded and runs the rest")
    func retryFromFailure() async throws {
        let executor = ScriptedExecutor()
        executor.script("build", [.success(outputs: ["image": "app:7"])])
        executor.script("test", [.failure("flaky infra"), .success()])
        let (first, second) = try await withScriptedEngine(executor) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            let first = try await engine.waitForExecution(try await engine.executeWorkflow("pipeline").id)
            let retry = try await engine.retryExecution(first.id)
            return (first, try await engine.waitForExecution(retry.id))
        }
        #expect(first.status == .failed)
        #expect(second.status == .completed)
        #expect(second.id != first.id)
        #expect(executor.started == ["build", "test", "test", "deploy"])
        #expect(second.stepResults["build"]?.outputs["image"] == "app:7")
        #expect(executor.requests.last { $0.stepID == "test" }?.environment["NOVACRON_REF_0"] == "app:7")
    }

    @Test("a cached step is not run again within its TTL, and runs again after it")
    func cache() async throws {
        let executor = ScriptedExecutor()
        executor.script("fetch", [.success(outputs: ["rows": "12"])])
        let clock = ManualClock()
        let results = try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: fetch, inputs: {command: "fetch ${day}"}, cache: {enabled: true, ttl: 1h}}
                    """))
            var out: [WorkflowExecution] = []
            for day in ["mon", "mon", "tue"] {
                out.append(try await engine.waitForExecution(try await engine.executeWorkflow("w", inputs: ["day": .string(day)]).id))
            }
            clock.advance(by: .seconds(3601))
            out.append(try await engine.waitForExecution(try await engine.executeWorkflow("w", inputs: ["day": "mon"]).id))
            return out
        }
        #expect(results.map { $0.stepResults["fetch"]?.cached } == [false, true, false, false])
        #expect(results[1].stepResults["fetch"]?.outputs["rows"] == "12")
        #expect(results[1].metrics.cacheHits == 1)
        #expect(executor.started.count == 3)
    }

    @Test("secrets reach the step but are redacted from outputs, errors and logs; a missing one is refused")
    func secrets() async throws {
        let executor = ScriptedExecutor()
        executor.script("login", [.failure("bad token hunter2!", outputs: ["echo": "token=hunter2!"], log: "using hunter2!")])
        let secrets = SecretProvider(environment: ["NOVACRON_SECRET_TOKEN": "hunter2!"])
        let (final, log) = try await withScriptedEngine(executor, secrets: secrets) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: login, inputs: {command: "login --token ${secrets.TOKEN}"}}
                    """))
            let e = try await engine.waitForExecution(try await engine.executeWorkflow("w").id)
            return (e, try await engine.log(executionID: e.id, stepID: "login"))
        }
        #expect(executor.requests.first?.environment["NOVACRON_REF_0"] == "hunter2!")
        #expect(final.stepResults["login"]?.error == "bad token ***")
        #expect(final.stepResults["login"]?.outputs["echo"] == "token=***")
        #expect(log == "using ***")
        #expect(!ExecutionReport.json(final).jsonText.contains("hunter2"))

        await #expect(throws: EngineError.self) {
            try await withScriptedEngine(executor) { engine in
                try await engine.registerWorkflow(
                    try workflowDocument(
                        """
                        name: w
                        steps:
                          - {id: login, inputs: {command: "login --token ${secrets.TOKEN}"}}
                        """))
                _ = try await engine.executeWorkflow("w")
            }
        }
    }

    @Test("unknown workflows and executions are clear errors; list is newest first")
    func lookups() async throws {
        let executor = ScriptedExecutor()
        try await withScriptedEngine(executor) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            do {
                _ = try await engine.executeWorkflow("pipelin")
                Issue.record("expected an error")
            } catch let error as EngineError {
                #expect(error.code == .notFound)
                #expect(error.message == "no workflow 'pipelin'; did you mean 'pipeline'?")
            }
            await #expect(throws: EngineError.self) { try await engine.getExecution("nope") }
            let a = try await engine.waitForExecution(try await engine.executeWorkflow("pipeline").id)
            let b = try await engine.waitForExecution(try await engine.executeWorkflow("pipeline").id)
            #expect(await engine.listExecutions(workflowID: "pipeline", limit: 5).map(\.id) == [b.id, a.id])
            #expect(await engine.listExecutions(limit: 1).map(\.id) == [b.id])
            do {
                try await engine.cancelExecution(a.id)
                Issue.record("expected an error")
            } catch let error as EngineError {
                #expect(error.code == .conflict)
            }
        }
    }

    @Test("drain: nothing new starts, running steps may finish within the grace period, new executions are refused")
    func drain() async throws {
        let executor = ScriptedExecutor()
        executor.hold("a")
        let clock = ManualClock()
        try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    Self.pipeline.replacingOccurrences(
                        of: "{id: build, inputs: {command: make}}",
                        with: "{id: a, inputs: {command: x}}\n  - {id: build, dependencies: [a], inputs: {command: make}}")))
            let started = try await engine.executeWorkflow("pipeline")
            await executor.waitForStarts(1)
            async let drained: Void = engine.drain(grace: .seconds(30))
            // The drain's grace timer is armed; the running step finishes within it.
            await clock.waitForSleepers(1)
            executor.release("a")
            await drained
            #expect(executor.started == ["a"])
            let e = try await engine.getExecution(started.id)
            #expect(e.stepResults["a"]?.status == .success)
            #expect(e.stepResults["build"]?.status == .pending)
            #expect(!e.status.isTerminal)
            do {
                _ = try await engine.executeWorkflow("pipeline")
                Issue.record("expected a refusal")
            } catch let error as EngineError {
                #expect(error.code == .unavailable)
            }
        }
    }

    @Test("drain returns when the grace period ends, with the step still running")
    func drainGrace() async throws {
        let executor = ScriptedExecutor()
        executor.hold("build")
        let clock = ManualClock()
        try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            _ = try await engine.executeWorkflow("pipeline")
            await executor.waitForStarts(1)
            async let drained: Void = engine.drain(grace: .seconds(30))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30))
            await drained
            #expect(await engine.isDraining)
            #expect(executor.started == ["build"])
        }
    }

    @Test("the engine's worker limit bounds how many steps run at once")
    func workerLimit() async throws {
        let executor = ScriptedExecutor()
        for i in 0..<4 { executor.hold("s\(i)") }
        let running = try await withScriptedEngine(executor, workerLimit: 2) { engine in
            try await engine.registerWorkflow(Workflow(name: "w", steps: (0..<4).map { WorkflowStep(id: "s\($0)", inputs: ["command": "x"]) }))
            let started = try await engine.executeWorkflow("w")
            await executor.waitForStarts(2)
            // The engine dispatches everything it may the moment steps become ready: with two
            // held, the other two must still be waiting — not running, not merely not yet called.
            let held = try await engine.getExecution(started.id)
            #expect(held.stepResults.values.filter { $0.status == .running }.count == 2)
            #expect(held.stepResults.values.filter { $0.status == .pending }.count == 2)
            let first = executor.started
            #expect(first.count == 2)
            executor.release(first[0])
            await executor.waitForStarts(3)
            for id in executor.started { executor.release(id) }
            await executor.waitForStarts(4)
            for id in executor.started { executor.release(id) }
            let final = try await engine.waitForExecution(started.id)
            #expect(final.status == .completed)
            return first
        }
        #expect(running.count == 2)
    }
}

@Suite("Secrets file")
struct SecretsFileTests {
    @Test("a secrets file is read when only its owner may read it; the environment wins over it")
    func file() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString).yaml").path
        try "API_TOKEN: from-file\nDB_PASSWORD: s3cret\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        #expect(
            throws: EngineError(
                .invalidInput, "\(path): the secrets file must not be readable or writable by others (mode 644); run chmod 600 \(path)")
        ) {
            try SecretProvider(file: path, environment: [:])
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let secrets = try SecretProvider(file: path, environment: ["NOVACRON_SECRET_API_TOKEN": "from-env"])
        #expect(secrets.value("API_TOKEN") == "from-env")
        #expect(secrets.value("DB_PASSWORD") == "s3cret")
        #expect(secrets.value("MISSING") == nil)
    }
}
