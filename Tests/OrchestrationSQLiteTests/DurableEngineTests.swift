import Foundation
import Orchestration
import OrchestrationSQLite
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

func withDurableEngine<R: Sendable>(
    _ executor: ScriptedExecutor, store: any Store, clock: ManualClock = ManualClock(),
    _ body: (WorkflowEngine) async throws -> R
) async throws -> R {
    try await withScriptedEngine(executor, clock: clock, store: store, body)
}

@Suite("Durable executions")
struct DurableEngineTests {
    static let pipeline = """
        name: pipeline
        steps:
          - {id: a, inputs: {command: x}}
          - {id: b, dependencies: [a], inputs: {command: "use ${a.out}"}}
          - {id: c, dependencies: [b], inputs: {command: x}}
        """

    @Test("an execution, its attempts, results and logs are in the SQLite store when it ends")
    func saved() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let executor = ScriptedExecutor()
        executor.script("a", [.success(outputs: ["out": "v1"], log: "a says hi\n")])
        executor.script("b", [.failure("flaky", exitCode: 1), .success()])
        let clock = ManualClock()
        let id = try await withDurableEngine(executor, store: store, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    Self.pipeline.replacingOccurrences(
                        of: "{id: b, dependencies: [a], inputs: {command: \"use ${a.out}\"}}",
                        with:
                            "{id: b, dependencies: [a], inputs: {command: \"use ${a.out}\"}, retryPolicy: {maxAttempts: 2, backoffStrategy: fixed, initialDelay: 1s, jitter: none}}"
                    )))
            let started = try await engine.executeWorkflow("pipeline")
            // Saved before executeWorkflow returned.
            #expect(try await store.execution(id: started.id) != nil)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            return try await engine.waitForExecution(started.id).id
        }
        let record = try #require(try await store.execution(id: id))
        #expect(record.execution.status == .completed)
        #expect(record.execution.metrics.retryCount == 1)
        #expect(record.execution.stepResults["a"]?.outputs["out"] == "v1")
        #expect(record.execution.stepResults.count == 3)
        #expect(try await store.log(executionID: id, stepID: "a") == "a says hi\n")
        let attempts = try await store.attempts(executionID: id, stepID: nil)
        #expect(
            attempts.map { "\($0.stepID)#\($0.attempt) \($0.status.rawValue)" } == ["a#1 succeeded", "b#1 failed", "b#2 succeeded", "c#1 succeeded"])
        #expect(try await store.integrityCheck() == ["ok"])
    }

    @Test("after a crash, recover() carries on: finished steps are not run again, the in-flight attempt is recorded interrupted and run again")
    func recover() async throws {
        let path = temporaryDatabasePath()
        let sqlite = try SQLiteStore(path: path)
        let crashable = CrashableStore(sqlite)
        let first = ScriptedExecutor()
        first.script("a", [.success(outputs: ["out": "v1"])])
        first.hold("b")
        let id = try await withDurableEngine(first, store: crashable) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            let started = try await engine.executeWorkflow("pipeline")
            await first.waitForStarts(2)
            crashable.crash()
            return started.id
        }
        #expect(first.started == ["a", "b"])

        // A new process, the same file.
        let reopened = try SQLiteStore(path: path)
        let second = ScriptedExecutor()
        let final = try await withDurableEngine(second, store: reopened) { engine in
            let carried = try await engine.recover()
            #expect(carried.map(\.id) == [id])
            return try await engine.waitForExecution(id)
        }
        #expect(final.status == .completed)
        #expect(second.started == ["b", "c"])
        #expect(second.requests.first?.attempt == 2)
        #expect(second.requests.first?.environment["NOVACRON_REF_0"] == "v1")
        let attempts = try await reopened.attempts(executionID: id, stepID: "b")
        #expect(attempts.map(\.status) == [.interrupted, .succeeded])
        #expect(try await reopened.execution(id: id)?.execution.status == .completed)
    }

    @Test("a paused execution stays paused across a restart")
    func pausedStaysPaused() async throws {
        let sqlite = try SQLiteStore(path: temporaryDatabasePath())
        let crashable = CrashableStore(sqlite)
        let first = ScriptedExecutor()
        first.hold("a")
        let id = try await withDurableEngine(first, store: crashable) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            let started = try await engine.executeWorkflow("pipeline")
            await first.waitForStarts(1)
            try await engine.pauseExecution(started.id)
            crashable.crash()
            return started.id
        }
        let second = ScriptedExecutor()
        second.script("a", [.success(outputs: ["out": "v"])])
        try await withDurableEngine(second, store: sqlite) { engine in
            let carried = try await engine.recover()
            #expect(carried.first?.status == .paused)
            #expect(second.started.isEmpty)
            let events = engine.events()
            try await engine.resumeExecution(id)
            for await event in events { if case .executionFinished = event { break } }
            #expect(try await engine.getExecution(id).status == .completed)
        }
        #expect(second.started == ["a", "b", "c"])
        #expect(try await sqlite.attempts(executionID: id, stepID: "a").map(\.status) == [.interrupted, .succeeded])
    }
}
