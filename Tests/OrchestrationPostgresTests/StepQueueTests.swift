import Foundation
import Orchestration
import OrchestrationPostgres
import TestSupport
import Testing

/// The queue table through the store's API: three stores on one database are an execution's node
/// and two workers. Claims are run out by the test in the database, not waited for.
@Suite("PostgreSQL step queue")
struct StepQueueTests {
    func nodes(_ count: Int = 3) async throws -> (url: String, stores: [PostgresStore]) {
        let url = try await TestPostgres.shared.database()
        var stores: [PostgresStore] = []
        for _ in 0..<count { stores.append(try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")) }
        return (url, stores)
    }

    func step(_ execution: String, _ id: String, attempt: Int = 1, queue: String = "gpu") -> QueuedStep {
        QueuedStep(
            queue: queue,
            request: StepRequest(
                executionID: execution, workflowID: "w", stepID: id, attempt: attempt, type: .task, action: nil,
                inputs: ["command": "echo \u{1}secret:TOKEN\u{1}"]))
    }

    func outcome(_ worker: String, _ ending: String = "succeeded") -> QueuedOutcome {
        QueuedOutcome(ending: ending, outputs: ["n": 1], error: nil, exitCode: 0, log: "ran", worker: worker)
    }

    func lapse(_ url: String) async throws {
        _ = try await TestPostgres.psql(url, "UPDATE step_task SET claim_expires_at = 0")
    }

    @Test("a queued step goes only to a worker serving its queue, once, in batches oldest first; its outcome goes back to the execution's node once")
    func claimAndFinish() async throws {
        let (_, s) = try await nodes()
        let (owner, gpu, cpu) = (s[0], s[1], s[2])
        try await owner.apply([.createExecution(sampleRecord("e1"))])
        let a = try await owner.enqueue(step("e1", "a")), b = try await owner.enqueue(step("e1", "b")), c = try await owner.enqueue(step("e1", "c"))
        #expect(try await cpu.claimSteps(queues: ["cpu"], limit: 10).isEmpty)
        let first = try await gpu.claimSteps(queues: ["gpu"], limit: 2)
        #expect(first.map(\.id) == [a, b])
        #expect(first[0].step == step("e1", "a"))
        #expect(try await cpu.claimSteps(queues: ["gpu"], limit: 10).map(\.id) == [c])
        #expect(try await gpu.claimSteps(queues: ["gpu"], limit: 10).isEmpty)

        try await gpu.finish([(a, outcome(gpu.nodeID))])
        // A worker cannot write for a claim it does not hold.
        try await cpu.finish([(b, outcome(cpu.nodeID, "failed"))])
        #expect(try await owner.takeOutcomes([a, b, c]) == [a: outcome(gpu.nodeID)])
        #expect(try await owner.takeOutcomes([a]).isEmpty)
    }

    @Test("a claim whose heartbeats stopped goes back to the queue; the worker that lost it learns so and cannot write its outcome")
    func lapsedClaim() async throws {
        let (url, s) = try await nodes()
        let (owner, w1, w2) = (s[0], s[1], s[2])
        try await owner.apply([.createExecution(sampleRecord("e1"))])
        let id = try await owner.enqueue(step("e1", "a"))
        #expect(try await w1.claimSteps(queues: ["gpu"], limit: 1).map(\.id) == [id])
        #expect(try await w1.heartbeat([id]) == (lost: [], stop: []))
        try await lapse(url)
        let again = try await w2.claimSteps(queues: ["gpu"], limit: 1)
        #expect(again.map(\.id) == [id])
        #expect(again.first?.claims == 2)
        #expect(try await w1.heartbeat([id]).lost == [id])
        try await w1.finish([(id, outcome(w1.nodeID))])
        try await w2.finish([(id, outcome(w2.nodeID))])
        #expect(try await owner.takeOutcomes([id])[id]?.worker == w2.nodeID)
    }

    @Test("a newer attempt of a step waits while an older one is still held, whose worker is asked to stop; withdrawing an unclaimed step removes it")
    func oneAttemptAtATime() async throws {
        let (_, s) = try await nodes()
        let (owner, w1, w2) = (s[0], s[1], s[2])
        try await owner.apply([.createExecution(sampleRecord("e1"))])
        let old = try await owner.enqueue(step("e1", "a"))
        #expect(try await w1.claimSteps(queues: ["gpu"], limit: 1).map(\.id) == [old])
        let new = try await owner.enqueue(step("e1", "a", attempt: 2))
        #expect(try await w2.claimSteps(queues: ["gpu"], limit: 5).isEmpty)
        #expect(try await w1.heartbeat([old]).stop == [old])
        try await w1.finish([(old, outcome(w1.nodeID, "cancelled"))])
        #expect(try await w2.claimSteps(queues: ["gpu"], limit: 5).map(\.id) == [new])

        let other = try await owner.enqueue(step("e1", "b"))
        #expect(try await owner.withdraw(other))
        #expect(try await w1.claimSteps(queues: ["gpu"], limit: 5).isEmpty)
        // Held by a worker: not withdrawn, the worker is asked to stop.
        #expect(try await owner.withdraw(new) == false)
        #expect(try await w2.heartbeat([new]).stop == [new])
    }

    @Test("only the node holding the execution may queue its steps; a worker shutting down gives its claims back")
    func fencingAndRelease() async throws {
        let (url, s) = try await nodes()
        let (owner, other, worker) = (s[0], s[1], s[2])
        try await owner.apply([.createExecution(sampleRecord("e1"))])
        await #expect(throws: LeaseLost.self) { _ = try await other.enqueue(step("e1", "a")) }
        _ = try await TestPostgres.psql(url, "UPDATE execution SET lease_expires_at = 0")
        #expect(try await other.claimExecutions(only: nil) == ["e1"])
        await #expect(throws: LeaseLost.self) { _ = try await owner.enqueue(step("e1", "a")) }
        let id = try await other.enqueue(step("e1", "a"))
        #expect(try await worker.claimSteps(queues: ["gpu"], limit: 1).map(\.id) == [id])
        try await worker.release([id])
        #expect(try await owner.claimSteps(queues: ["gpu"], limit: 1).map(\.id) == [id])
    }
}
