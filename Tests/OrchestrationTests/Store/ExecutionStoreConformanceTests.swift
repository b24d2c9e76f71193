import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Execution store conformance")
struct ExecutionStoreConformanceTests {
    @Test("an execution, its attempts, results and logs read back as written", arguments: StoreKind.allCases)
    func executionLifecycle(kind: StoreKind) async throws {
        let store = try await kind.make()
        var record = sampleRecord("e1")
        try await store.createExecution(record)
        let t = Date(timeIntervalSince1970: 1_800_000_001)
        try await store.attemptStarted(AttemptRecord(executionID: "e1", stepID: "build", attempt: 1, status: .running, startedAt: t))
        try await store.attemptFinished(
            AttemptRecord(
                executionID: "e1", stepID: "build", attempt: 1, status: .failed, startedAt: t, finishedAt: t, error: "exit code 1", exitCode: 1))
        try await store.attemptStarted(AttemptRecord(executionID: "e1", stepID: "build", attempt: 2, status: .running, startedAt: t))
        let result = StepResult(
            stepID: "build", status: .success, outputs: ["image": "app:1", "n": 3], exitCode: 0, attempts: 2, startedAt: t, finishedAt: t,
            duration: .milliseconds(1500))
        try await store.stepFinished(
            executionID: "e1", result: result,
            attempt: AttemptRecord(executionID: "e1", stepID: "build", attempt: 2, status: .succeeded, startedAt: t, finishedAt: t, exitCode: 0),
            log: "built\n")
        record.execution.status = .completed
        record.execution.error = nil
        record.execution.finishedAt = t
        record.execution.metrics = ExecutionMetrics(stepCount: 1, successfulSteps: 1, retryCount: 1, optimizationGains: 1)
        try await store.updateExecution(record)

        let back = try #require(try await store.execution(id: "e1"))
        #expect(back.execution.status == .completed)
        #expect(back.execution.stepResults["build"] == result)
        #expect(back.execution.metrics == record.execution.metrics)
        #expect(back.options == record.options)
        #expect(back.workflowHash == "abc")
        #expect(try await store.log(executionID: "e1", stepID: "build") == "built\n")
        let attempts = try await store.attempts(executionID: "e1", stepID: "build")
        #expect(attempts.map(\.status) == [.failed, .succeeded])
        #expect(attempts.first?.error == "exit code 1")
        #expect(try await store.execution(id: "missing") == nil)
        await #expect(throws: (any Error).self) { try await store.createExecution(sampleRecord("e1")) }
    }

    @Test("lists are newest first, filter by workflow and status, and omit step results", arguments: StoreKind.allCases)
    func listing(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createExecution(sampleRecord("a", workflow: "w1", status: .completed, at: 1))
        try await store.createExecution(sampleRecord("b", workflow: "w2", status: .failed, at: 2))
        var c = sampleRecord("c", workflow: "w1", status: .running, at: 3)
        c.execution.stepResults["x"] = StepResult(stepID: "x", status: .success)
        try await store.createExecution(c)
        try await store.createExecution(sampleRecord("d", workflow: "w1", status: .paused, at: 4))
        #expect(try await store.executions(workflowID: nil, status: nil, limit: 10).map(\.execution.id) == ["d", "c", "b", "a"])
        #expect(try await store.executions(workflowID: "w1", status: nil, limit: 2).map(\.execution.id) == ["d", "c"])
        #expect(try await store.executions(workflowID: nil, status: .failed, limit: 10).map(\.execution.id) == ["b"])
        #expect(try await store.executions(workflowID: "w1", status: .running, limit: 10).first?.execution.stepResults.isEmpty == true)
        let unfinished = try await store.unfinishedExecutions()
        #expect(unfinished.map(\.execution.id) == ["c", "d"])
        #expect(unfinished.first?.execution.stepResults["x"]?.status == .success)
    }

    @Test("attempts still running are marked interrupted, once", arguments: StoreKind.allCases)
    func interrupt(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createExecution(sampleRecord("e"))
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.attemptStarted(AttemptRecord(executionID: "e", stepID: "a", attempt: 1, status: .running, startedAt: t))
        try await store.attemptStarted(AttemptRecord(executionID: "e", stepID: "b", attempt: 1, status: .running, startedAt: t))
        try await store.attemptFinished(AttemptRecord(executionID: "e", stepID: "b", attempt: 1, status: .succeeded, startedAt: t, finishedAt: t))
        let later = t.addingTimeInterval(5)
        let interrupted = try await store.interruptAttempts(executionID: "e", at: later)
        #expect(interrupted.map(\.stepID) == ["a"])
        #expect(interrupted.first?.status == .interrupted)
        #expect(try await store.interruptAttempts(executionID: "e", at: later).isEmpty)
        #expect(try await store.attempts(executionID: "e", stepID: "a").first?.finishedAt == later)
    }
}

extension ExecutionStoreConformanceTests {
    @Test("prune deletes executions that ended before the cutoff, keeps the rest and unfinished ones", arguments: StoreKind.allCases)
    func prune(kind: StoreKind) async throws {
        let store = try await kind.make()
        var old = sampleRecord("old", status: .completed, at: 0)
        old.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_010)
        var recent = sampleRecord("recent", status: .failed, at: 100)
        recent.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_200)
        try await store.createExecution(old)
        try await store.createExecution(recent)
        try await store.createExecution(sampleRecord("running", status: .running, at: 0))
        // Started long before the cutoff, ended after it: kept.
        var late = sampleRecord("late", status: .completed, at: 0)
        late.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_150)
        try await store.createExecution(late)
        try await store.stepFinished(
            executionID: "old", result: StepResult(stepID: "a", status: .success),
            attempt: AttemptRecord(executionID: "old", stepID: "a", attempt: 1, status: .succeeded, startedAt: Date()), log: "x")
        #expect(try await store.prune(endedBefore: Date(timeIntervalSince1970: 1_800_000_100)) == 1)
        #expect(try await store.execution(id: "old") == nil)
        #expect(try await store.attempts(executionID: "old", stepID: nil).isEmpty)
        #expect(try await store.log(executionID: "old", stepID: "a") == nil)
        #expect(try await store.execution(id: "recent") != nil)
        #expect(try await store.execution(id: "running") != nil)
        #expect(try await store.execution(id: "late") != nil)
    }

    @Test("prune deletes every old execution however many there are (SQLite deletes them a chunk at a time)", arguments: StoreKind.allCases)
    func pruneMany(kind: StoreKind) async throws {
        let store = try await kind.make()
        let count = 1_203
        let writes = (0..<count).map { i -> StoreWrite in
            var record = sampleRecord("old-\(i)", status: .completed, at: Double(i % 50))
            record.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_060)
            return .createExecution(record)
        }
        try await store.apply(writes)
        try await store.createExecution(sampleRecord("running", status: .running, at: 0))
        #expect(try await store.prune(endedBefore: Date(timeIntervalSince1970: 1_800_000_100)) == count)
        #expect(try await store.prune(endedBefore: Date(timeIntervalSince1970: 1_800_000_100)) == 0)
        #expect(try await store.execution(id: "old-0") == nil)
        #expect(try await store.execution(id: "old-\(count - 1)") == nil)
        #expect(try await store.execution(id: "running") != nil)
    }
}

extension ExecutionStoreConformanceTests {
    @Test("a batch is applied whole or not at all, its learning observation with it", arguments: StoreKind.allCases)
    func batchAtomicity(kind: StoreKind) async throws {
        let store = try await kind.make()
        let observation = ExecutionObservation(
            executionID: "e", workflowID: "w", version: "abc", status: .completed, startedAt: Date(timeIntervalSince1970: 1_800_000_000), seconds: 2,
            steps: [])
        // The last write names an execution that does not exist: nothing of the batch is kept.
        await #expect(throws: (any Error).self) {
            try await store.apply([.createExecution(sampleRecord("e")), .observation(observation), .updateExecution(sampleRecord("ghost"))])
        }
        #expect(try await store.execution(id: "e") == nil)
        #expect(try await store.observations(workflowID: "w", after: 0, limit: 10).isEmpty)

        var ended = sampleRecord("e", status: .completed)
        ended.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_002)
        try await store.apply([.createExecution(sampleRecord("e")), .updateExecution(ended), .observation(observation)])
        #expect(try await store.execution(id: "e")?.execution.status == .completed)
        #expect(try await store.observations(workflowID: "w", after: 0, limit: 10).map(\.observation) == [observation])
    }

    @Test("an attempt's process group is recorded on its attempt", arguments: StoreKind.allCases)
    func attemptProcess(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createExecution(sampleRecord("e"))
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.attemptStarted(AttemptRecord(executionID: "e", stepID: "a", attempt: 1, status: .running, startedAt: t))
        let process = ProcessHandle(host: "h", bootID: "b", processGroup: 4242, startTicks: 99, session: 7)
        try await store.apply([.attemptProcess(executionID: "e", stepID: "a", attempt: 1, process: process)])
        #expect(try await store.attempts(executionID: "e", stepID: "a").first?.process == process)
    }
}
