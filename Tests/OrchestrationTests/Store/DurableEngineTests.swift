import Foundation
import Orchestration
import OrchestrationSQLite
import OrchestrationTesting
import Synchronization
import Testing

/// A store that stops saving anything once `crash()` is called — as if the process died there.
final class CrashableStore: Store {
    let base: any Store
    private let crashed = Mutex(false)

    init(_ base: any Store) { self.base = base }

    func crash() { crashed.withLock { $0 = true } }

    func apply(_ writes: [StoreWrite]) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await base.apply(writes)
    }

    func saveWorkflow(_ workflow: Workflow) async throws -> String { try await base.saveWorkflow(workflow) }
    func workflow(id: String, version: String) async throws -> Workflow? { try await base.workflow(id: id, version: version) }
    func registeredWorkflows() async throws -> [Workflow] { try await base.registeredWorkflows() }
    func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)] { try await base.workflowVersions(id: id) }
    func unregisterWorkflow(id: String) async throws -> Bool { try await base.unregisterWorkflow(id: id) }
    func execution(id: String) async throws -> ExecutionRecord? { try await base.execution(id: id) }
    func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) async throws -> [ExecutionRecord] {
        try await base.executions(workflowID: workflowID, status: status, limit: limit)
    }
    func unfinishedExecutions() async throws -> [ExecutionRecord] { try await base.unfinishedExecutions() }
    func attempts(executionID: String, stepID: String?) async throws -> [AttemptRecord] {
        try await base.attempts(executionID: executionID, stepID: stepID)
    }
    func log(executionID: String, stepID: String) async throws -> String? { try await base.log(executionID: executionID, stepID: stepID) }
    func interruptAttempts(executionID: String, at: Date) async throws -> [AttemptRecord] {
        try await base.interruptAttempts(executionID: executionID, at: at)
    }
    func prune(endedBefore cutoff: Date) async throws -> Int { try await base.prune(endedBefore: cutoff) }
    func triggerStates(workflowID: String?) async throws -> [TriggerState] { try await base.triggerStates(workflowID: workflowID) }
    func recordDelivery(source: String, id: String, at: Date) async throws -> Bool { try await base.recordDelivery(source: source, id: id, at: at) }
    func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent] {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await base.appendEvents(events)
    }
    func events(after seq: Int64, limit: Int) async throws -> [BusEvent] { try await base.events(after: seq, limit: limit) }
    func lastEventSeq() async throws -> Int64 { try await base.lastEventSeq() }
    func cursor(_ name: String) async throws -> Int64? { try await base.cursor(name) }
    func saveCursor(_ name: String, _ seq: Int64) async throws { try await base.saveCursor(name, seq) }
    func subscriptions() async throws -> [EventSubscription] { try await base.subscriptions() }
    func saveSubscription(_ subscription: EventSubscription) async throws { try await base.saveSubscription(subscription) }
    func deleteSubscription(id: String) async throws -> Bool { try await base.deleteSubscription(id: id) }
    func addDeadLetter(_ letter: DeadLetter) async throws { try await base.addDeadLetter(letter) }
    func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter] {
        try await base.deadLetters(subscriptionID: subscriptionID, limit: limit)
    }
    func observations(workflowID: String, after seq: Int64, limit: Int) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        try await base.observations(workflowID: workflowID, after: seq, limit: limit)
    }
    func learningSnapshot(workflowID: String) async throws -> Data? { try await base.learningSnapshot(workflowID: workflowID) }
    func observationIDs(workflowID: String, after seq: Int64) async throws -> [(seq: Int64, executionID: String)] {
        try await base.observationIDs(workflowID: workflowID, after: seq)
    }
    func observations(seqs: [Int64]) async throws -> [(seq: Int64, observation: ExecutionObservation)] { try await base.observations(seqs: seqs) }
    func saveLearningSnapshot(workflowID: String, _ data: Data) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await base.saveLearningSnapshot(workflowID: workflowID, data)
    }
    func appendOptimizationRecord(_ record: OptimizationRecord) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await base.appendOptimizationRecord(record)
    }
    func optimizationRecords(workflowID: String) async throws -> [OptimizationRecord] { try await base.optimizationRecords(workflowID: workflowID) }
    func saveTriggerState(_ state: TriggerState) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await base.saveTriggerState(state)
    }
}

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
