import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Concurrency groups")
struct ConcurrencyGroupTests {
    static func deploy(_ onConflict: String = "queue", limit: Int = 1) -> String {
        """
        name: deploy
        variables: {env: prod}
        concurrency: {key: "deploy-${inputs.env}", limit: \(limit), onConflict: \(onConflict)}
        steps:
          - {id: ship, inputs: {command: "ship ${env}"}}
        """
    }

    /// Each store an engine may keep slots in: none (the engine's memory), memory, SQLite.
    static let stores: [StoreKind?] = [nil] + StoreKind.allCases

    @Test("executions with the same key run one at a time in start order; the others wait as pending and say for what", arguments: stores)
    func queue(kind: StoreKind?) async throws {
        let executor = ScriptedExecutor()
        executor.hold("ship")
        let store = try await kind?.make()
        try await withScriptedEngine(executor, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.deploy()))
            let first = try await engine.executeWorkflow("deploy")
            let second = try await engine.executeWorkflow("deploy")
            let third = try await engine.executeWorkflow("deploy")
            #expect(first.status == .running)
            #expect(second.status == .pending && third.status == .pending)
            #expect(second.concurrencyKey == "deploy-prod")
            await executor.waitForStarts(1)
            if let store {
                let slots = try await store.concurrencySlots(key: "deploy-prod")
                #expect(slots.map(\.executionID) == [first.id, second.id, third.id])
                #expect(slots.map(\.holding) == [true, false, false])
                #expect(try await store.execution(id: second.id)?.execution.status == .pending)
            }
            executor.release("ship")
            for id in [first.id, second.id, third.id] { #expect(try await engine.waitForExecution(id).status == .completed) }
            #expect(executor.requests.map(\.executionID) == [first.id, second.id, third.id])
            if let store { #expect(try await store.concurrencySlots(key: "deploy-prod").isEmpty, "every slot released with its end") }
        }
    }

    @Test("a limit of 2 lets two run; another key does not wait")
    func limitAndKeys() async throws {
        let executor = ScriptedExecutor()
        executor.takes("ship", .seconds(10))
        let clock = ManualClock()
        try await withScriptedEngine(executor, clock: clock, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.deploy(limit: 2)))
            let runs = [
                try await engine.executeWorkflow("deploy"), try await engine.executeWorkflow("deploy"),
                try await engine.executeWorkflow("deploy"), try await engine.executeWorkflow("deploy", inputs: ["env": "staging"]),
            ]
            #expect(runs.map(\.status) == [.running, .running, .pending, .running])
            await clock.waitForSleepers(3)
            clock.advance(by: .seconds(10))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(10))
            for r in runs { #expect(try await engine.waitForExecution(r.id).status == .completed) }
            #expect(executor.requests.last?.executionID == runs[2].id)
        }
    }

    @Test("onConflict: skip ends the newcomer cancelled, naming the holder")
    func skip() async throws {
        let executor = ScriptedExecutor()
        executor.hold("ship")
        let store = InMemoryStore()
        try await withScriptedEngine(executor, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.deploy("skip")))
            let first = try await engine.executeWorkflow("deploy")
            let skipped = try await engine.waitForExecution(try await engine.executeWorkflow("deploy").id)
            #expect(skipped.status == .cancelled)
            #expect(skipped.error == "skipped: concurrency key deploy-prod is held by execution \(first.id)")
            #expect(skipped.stepResults["ship"]?.status == .cancelled)
            executor.release("ship")
            #expect(try await engine.waitForExecution(first.id).status == .completed)
        }
    }

    @Test("cancelling a queued execution takes it out of the queue")
    func cancelWaiter() async throws {
        let store = InMemoryStore()
        let queued = ScriptedExecutor()
        queued.hold("ship")
        try await withScriptedEngine(queued, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.deploy()))
            let first = try await engine.executeWorkflow("deploy")
            let second = try await engine.executeWorkflow("deploy")
            do {
                try await engine.pauseExecution(second.id)
                Issue.record("a queued execution was paused")
            } catch let error as EngineError {
                #expect(error.code == .conflict)
                #expect(error.message == "execution \(second.id) waits for its turn on concurrency key deploy-prod; it can be cancelled, not paused")
            }
            try await engine.cancelExecution(second.id)
            #expect(try await engine.waitForExecution(second.id).status == .cancelled)
            #expect(try await store.concurrencySlots(key: "deploy-prod").map(\.executionID) == [first.id])
            queued.release("ship")
            #expect(try await engine.waitForExecution(first.id).status == .completed)
        }
    }

    @Test("onConflict: cancel-running cancels the holder, which rolls back, and the newcomer runs")
    func cancelRunning() async throws {
        let executor = ScriptedExecutor()
        executor.hold("ship")
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.deploy("cancel-running")))
            let first = try await engine.executeWorkflow("deploy")
            await executor.waitForStarts(1)
            let second = try await engine.executeWorkflow("deploy")
            let superseded = try await engine.waitForExecution(first.id)
            #expect(superseded.status == .cancelled)
            #expect(superseded.error == "superseded by execution \(second.id) (concurrency key deploy-prod)")
            await executor.waitForStarts(2)
            executor.release("ship")
            #expect(try await engine.waitForExecution(second.id).status == .completed)
        }
    }

    static let stepKeyed = """
        name: release
        variables: {env: prod}
        steps:
          - {id: build, inputs: {command: build}}
          - id: migrate
            dependencies: [build]
            concurrency: {key: "db-${inputs.env}-${build.schema}", onConflict: ONCONFLICT}
            retryPolicy: {maxAttempts: 2, initialDelay: 1s, jitter: none}
            inputs: {command: migrate}
          - {id: after, dependencies: [migrate], inputs: {command: done}}
        """

    @Test("a step's key is taken when it would start (after its upstreams, reading their outputs) and kept through retries")
    func stepQueue() async throws {
        let executor = ScriptedExecutor()
        executor.script("build", [.success(outputs: ["schema": "v2"])])
        executor.script("migrate", [.failure("lock timeout"), .success()])
        executor.hold("migrate")
        let clock = ManualClock()
        let store = InMemoryStore()
        try await withScriptedEngine(executor, clock: clock, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.stepKeyed.replacingOccurrences(of: "ONCONFLICT", with: "queue")))
            let first = try await engine.executeWorkflow("release")
            await executor.waitForStarts(2)
            let events = engine.events()
            let second = try await engine.executeWorkflow("release")
            // Its build ended: its migrate would start, and waits for the slot instead.
            for await event in events {
                if case .stepFinished(second.id, let result, _) = event, result.stepID == "build" { break }
            }
            #expect(executor.started == ["build", "migrate", "build"])
            let waiting = try await engine.getExecution(second.id)
            #expect(waiting.status == .running)
            #expect(waiting.stepResults["migrate"]?.waitingFor == "concurrency:db-prod-v2")
            // The holder's first attempt fails; its retry keeps the slot.
            executor.release("migrate")
            await clock.waitForSleepers(1)
            executor.hold("migrate")
            clock.advance(by: .seconds(1))
            await executor.waitForStarts(4)
            #expect(executor.requests[3].executionID == first.id && executor.requests[3].attempt == 2)
            executor.release("migrate")
            #expect(try await engine.waitForExecution(first.id).status == .completed)
            #expect(try await engine.waitForExecution(second.id).status == .completed)
            #expect(executor.requests.filter { $0.stepID == "migrate" }.map(\.executionID) == [first.id, first.id, second.id])
            #expect(try await store.concurrencySlots(key: "db-prod-v2").isEmpty)
        }
    }

    @Test("a step with onConflict: skip is skipped with the holder named, and its downstream skipped")
    func stepSkip() async throws {
        let executor = ScriptedExecutor()
        executor.script("build", [.success(outputs: ["schema": "v2"])])
        executor.hold("migrate")
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.stepKeyed.replacingOccurrences(of: "ONCONFLICT", with: "skip")))
            let first = try await engine.executeWorkflow("release")
            await executor.waitForStarts(2)
            let second = try await engine.waitForExecution(try await engine.executeWorkflow("release").id)
            #expect(second.status == .completed)
            #expect(second.stepResults["migrate"]?.status == .skipped)
            #expect(second.stepResults["migrate"]?.skipReason == "skipped: concurrency key db-prod-v2 is held by step migrate of \(first.id)")
            #expect(second.stepResults["after"]?.status == .skipped)
            executor.release("migrate")
            #expect(try await engine.waitForExecution(first.id).status == .completed)
        }
    }

    @Test("a key that renders empty refuses the start saying so; one over 255 bytes fails the step naming the limit")
    func badKeys() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(
                try workflowDocument("name: k\nvariables: {env: prod}\nconcurrency: \"${inputs.env}\"\nsteps:\n  - {id: a, inputs: {command: x}}\n"))
            do {
                _ = try await engine.executeWorkflow("k", inputs: ["env": ""])
                Issue.record("an empty key started")
            } catch let error as EngineError {
                #expect(error.code == .invalidInput)
                #expect(error.message == "the concurrency key renders empty: ''")
            }
            let long = String(repeating: "x", count: 300)
            try await engine.registerWorkflow(
                try workflowDocument(
                    "name: s\nvariables: {n: \"\(long)\"}\nsteps:\n  - {id: a, concurrency: \"k-${inputs.n}\", inputs: {command: x}}\n"))
            let failed = try await engine.waitForExecution(try await engine.executeWorkflow("s").id)
            #expect(failed.status == .failed)
            #expect(failed.stepResults["a"]?.error?.hasPrefix("the concurrency key is 302 bytes; the limit is 255") == true)
        }
    }

    @Test("a step or a child asking for the key its own execution or parent holds runs at once instead of waiting for itself")
    func reentrant() async throws {
        let executor = ScriptedExecutor()
        try await withScriptedEngine(executor, store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    "name: child\nvariables: {env: prod}\nconcurrency: deploy-${inputs.env}\nsteps:\n  - {id: inner, inputs: {command: x}}\n"))
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: parent
                    variables: {env: prod}
                    concurrency: deploy-${inputs.env}
                    steps:
                      - {id: ship, concurrency: deploy-prod, inputs: {command: x}}
                      - {id: sub, dependencies: [ship], workflow: child, inputs: {env: prod}}
                    """))
            let final = try await engine.waitForExecution(try await engine.executeWorkflow("parent").id)
            #expect(final.status == .completed)
            #expect(executor.started == ["ship", "inner"])
        }
    }

    @Test("a key starting with a combining character, or holding a bidirectional control, refuses the start")
    func hostileKeys() async throws {
        try await withScriptedEngine(ScriptedExecutor(), store: InMemoryStore()) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(Self.deploy().replacingOccurrences(of: "deploy-${inputs.env}", with: "${inputs.env}")))
            for (env, why) in [("\u{301}prod", "starts with a combining character"), ("a\u{202E}b", "contains a bidirectional control character")] {
                do {
                    _ = try await engine.executeWorkflow("deploy", inputs: ["env": .string(env)])
                    Issue.record("key \(env.unicodeScalars.map(\.value)) started")
                } catch let error as EngineError {
                    #expect(error.message.hasPrefix("the concurrency key \(why)"), "\(error.message)")
                }
            }
        }
    }
}
