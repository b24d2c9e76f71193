import Foundation
import OrchestrationTesting
import PostgresNIO
import Synchronization
import TestSupport
import Testing

@testable import Orchestration
@testable import OrchestrationPostgres

/// A node that loses an execution and later claims it back runs it as a new run: nothing the
/// earlier run started — an attempt still ending, a write still queued — may pass as the new
/// run's. Found by the cluster chaos test: a step that had succeeded ran again, and both of its
/// attempts were saved as succeeded.
@Suite("An execution taken back by the node that lost it")
struct TakenBackTests {
    static let workflow = """
        name: taken-back
        steps:
          - {id: work, inputs: {command: "true"}}
          - {id: after, dependencies: [work], inputs: {command: "true"}}
        """

    @Test("an attempt of the earlier run that ends after the execution was taken back does not end the new run's attempt")
    func lateAttempt() async throws {
        try await Self.onNodeA { url, a, storeA, storeB, gates in
            let id = try await Self.start(a, gates)

            // Another node takes it over, and A hears so: its run of the execution ends here.
            try await Self.otherNodeTakes(id, url, storeB)
            #expect(try await storeA.renewLeases() == [id])
            await a.leaseLost(id)
            // That node dies too; A takes the execution back, as a new run.
            try await Self.expireLease(url, id)
            #expect(try await a.recover(only: [id]).map(\.id) == [id])
            await gates.started("\(id)/work#2")

            // The first attempt ends now (a process that outlived its run): the new run's attempt
            // of the step is still the one that counts.
            gates.release("\(id)/work#1")
            for _ in 0..<50 { _ = try? await a.getExecution(id) }
            let meanwhile = try await a.getExecution(id)
            #expect(meanwhile.stepResults["work"]?.status == .running, "\(meanwhile.stepResults["work"].map { "\($0)" } ?? "no result")")

            gates.release("\(id)/work#2")
            let final = try await a.waitForExecution(id)
            #expect(final.status == .completed)
            #expect(final.stepResults["work"]?.outputs["attempt"] == 2)
            #expect(try await storeA.attempts(executionID: id, stepID: "work").map(\.status) == [.interrupted, .succeeded])
        }
    }

    @Test("a write of the earlier run still queued when the execution is taken back is refused: the step's first attempt stays interrupted")
    func queuedWrite() async throws {
        try await Self.onNodeA { url, a, storeA, storeB, gates in
            let locker = try await PostgresStore(url: url, maximumConnections: 2, leaseDuration: .seconds(60), role: "test")
            let first = try await a.executeWorkflow("taken-back").id
            let other = try await a.executeWorkflow("taken-back").id
            await gates.started("\(first)/work#1")
            await gates.started("\(other)/work#1")

            // A's writes queue up: the batch in flight (the other execution's) waits for a lock.
            let unlock = Doorbell(), locked = Doorbell()
            let holding = Task {
                try await locker.transaction("hold step_result") { connection in
                    try await connection.execute("LOCK TABLE step_result IN SHARE MODE", logger: locker.logger)
                    locked.ring()
                    await unlock.wait()
                }
            }
            await locked.wait()
            gates.release("\(other)/work#1")
            try await Self.waitForLockWait(url)
            // The first execution's result is queued behind it, written while A holds it.
            let queued = Doorbell()
            a.observe { event in
                if case .attemptFinished(first, "work", 1, _, _, _, _) = event { queued.ring() }
            }
            gates.release("\(first)/work#1")
            await queued.wait()

            // Another node takes the first execution over, A hears so, that node dies, A takes it back.
            try await Self.otherNodeTakes(first, url, storeB)
            storeA.forget(first)
            await a.leaseLost(first)
            try await Self.expireLease(url, first)
            let recovering = Task { try await a.recover(only: [first]) }
            // Before the fix the claim came at once, ahead of the queued write; now it waits for it.
            for _ in 0..<20 where try await Self.epoch(url, first) < 3 { try await Task.sleep(for: .milliseconds(50)) }
            unlock.ring()
            try await holding.value

            #expect(try await recovering.value.map(\.id) == [first])
            await gates.started("\(first)/work#2")
            gates.release("\(first)/work#2")
            let final = try await a.waitForExecution(first)
            #expect(final.status == .completed)
            #expect(final.stepResults["work"]?.outputs["attempt"] == 2)
            #expect(try await storeA.attempts(executionID: first, stepID: "work").map(\.status) == [.interrupted, .succeeded])
            #expect(try await a.waitForExecution(other).status == .completed)
        }
    }

    @Test("a write refused after this node gave the execution up (a self-fence) stops the run: the step it would start does not start")
    func refusedAfterGivingUp() async throws {
        try await Self.onNodeA { url, a, storeA, storeB, gates in
            let id = try await Self.start(a, gates)
            try await Self.otherNodeTakes(id, url, storeB)
            // A self-fence gives the hold up before it stops the run: a write in between is refused
            // while this node no longer holds the execution at the epoch it was written under.
            storeA.forget(id)
            gates.release("\(id)/work#1")
            let heard = await #expect(throws: EngineError.self) { try await a.waitForExecution(id) }
            #expect(heard?.code == .conflict, "\(String(describing: heard))")
            #expect(!gates.hasStarted("\(id)/after#1"), "the step after started although its start was not saved")
            #expect(try await storeB.attempts(executionID: id, stepID: nil).map(\.stepID) == ["work"])
        }
    }

    @Test("an execution claimed again while its earlier run here has not stopped yet goes on from what was saved, and its waiter hears the end")
    func claimedWhileStillRun() async throws {
        try await Self.onNodeA { url, a, storeA, storeB, gates in
            let id = try await Self.start(a, gates)
            let waiting = Task { try await a.waitForExecution(id) }
            // Another node takes it over; A's renewal finds so (the engine is told a moment later).
            try await Self.otherNodeTakes(id, url, storeB)
            #expect(try await storeA.renewLeases() == [id])
            // Before the engine hears, that node dies and A claims the execution again.
            try await Self.expireLease(url, id)
            #expect(try await a.recover(only: [id]).map(\.id) == [id], "claimed, and carried on as a new run")
            await gates.started("\(id)/work#2")
            gates.release("\(id)/work#1")
            gates.release("\(id)/work#2")
            let final = try await waiting.value
            #expect(final.status == .completed)
            #expect(final.stepResults["work"]?.outputs["attempt"] == 2)
            #expect(try await storeA.attempts(executionID: id, stepID: "work").map(\.status) == [.interrupted, .succeeded])
        }
    }

    @Test("a command taken for an execution that was handed over before it was carried out goes on to the node that holds it now")
    func commandHandedOn() async throws {
        try await Self.onNodeA { url, a, storeA, storeB, gates in
            let id = try await Self.start(a, gates)
            // A took a cancel for it; before A carries it out, the execution goes to another node.
            try await Self.otherNodeTakes(id, url, storeB)
            #expect(try await storeA.renewLeases() == [id])
            await a.leaseLost(id)
            await a.carryOut([(id, .cancel(reason: "stop it"))], from: storeA)
            // The node holding it now gets the command.
            let taken = try await storeB.takeCommands()
            #expect(taken.map(\.executionID) == [id], "the cancel was lost: \(taken)")
            #expect(taken.first.map { "\($0.command)" }?.contains("stop it") == true, "\(taken)")
            gates.release("\(id)/work#1")
        }
    }

    /// The lease of `id` runs out and `other` (a second node's store) claims the execution.
    static func otherNodeTakes(_ id: String, _ url: String, _ other: PostgresStore) async throws {
        try await expireLease(url, id)
        // Required: the rest of a test waits for what follows from the claim.
        try #require(try await other.claimExecutions(only: [id]) == [id])
    }

    static func expireLease(_ url: String, _ id: String) async throws {
        _ = try await TestPostgres.psql(url, "UPDATE execution SET lease_expires_at = 0 WHERE id = '\(id)'")
    }

    static func epoch(_ url: String, _ id: String) async throws -> Int {
        Int(try await TestPostgres.psql(url, "SELECT lease_epoch FROM execution WHERE id = '\(id)'").trimmingCharacters(in: .whitespacesAndNewlines))
            ?? 0
    }

    /// Returns once a session of the database waits for a lock (bounded: fails after 10 s).
    static func waitForLockWait(_ url: String) async throws {
        for _ in 0..<200 {
            let waiting = try await TestPostgres.psql(url, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            if (Int(waiting.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0) > 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("no write waited for the lock within 10 s")
    }

    /// Node A (an engine on `storeA`, its attempts behind `gates`, the workflow registered) and
    /// the store of another node B, on a new database at `url`. Leases last ten minutes: nothing
    /// runs out unless the test says so, and A's engine does not renew them on its own during a
    /// test (a renewal between a test's expiring a lease and B's claim would win the lease back).
    static func onNodeA(
        _ body: (_ url: String, _ a: WorkflowEngine, _ storeA: PostgresStore, _ storeB: PostgresStore, _ gates: AttemptGates) async throws -> Void
    ) async throws {
        let url = try await TestPostgres.shared.database()
        let storeA = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(600), role: "serve")
        let storeB = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(600), role: "serve")
        let gates = AttemptGates(held: ["work"])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(gates, for: type) }
        try await WorkflowEngine.withEngine(executors: executors, store: storeA) { a in
            try await a.registerWorkflow(try workflowDocument(Self.workflow))
            try await body(url, a, storeA, storeB, gates)
        }
    }

    /// Starts an execution on A; returns its id once its first attempt of `work` runs.
    static func start(_ a: WorkflowEngine, _ gates: AttemptGates) async throws -> String {
        let id = try await a.executeWorkflow("taken-back").id
        await gates.started("\(id)/work#1")
        return id
    }
}

/// Attempts of the held steps end only when the test lets them ("execution/step#attempt"),
/// cancelled or not — a process that finishes after its node stopped caring. Each succeeds with
/// its attempt number as the output `attempt`; other steps succeed at once.
final class AttemptGates: StepExecutor {
    private struct State {
        var started: Set<String> = []
        var open: Set<String> = []
        var waiting: [String: CheckedContinuation<Void, Never>] = [:]
        var watchers: [(key: String, continuation: CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())
    private let held: Set<String>

    init(held: Set<String>) { self.held = held }

    func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let key = "\(request.executionID)/\(request.stepID)#\(request.attempt)"
        let watching = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.started.insert(key)
            defer { s.watchers.removeAll { $0.key == key } }
            return s.watchers.filter { $0.key == key }.map(\.continuation)
        }
        for w in watching { w.resume() }
        if held.contains(request.stepID) {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.open.contains(key) { return true }
                    s.waiting[key] = c
                    return false
                }
                if now { c.resume() }
            }
        }
        return .success(outputs: ["attempt": .number(Double(request.attempt))])
    }

    func release(_ key: String) {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.open.insert(key)
            return s.waiting.removeValue(forKey: key)
        }?.resume()
    }

    func hasStarted(_ key: String) -> Bool { state.withLock { $0.started.contains(key) } }

    /// Returns once the attempt `key` has started.
    func started(_ key: String) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.started.contains(key) { return true }
                s.watchers.append((key, c))
                return false
            }
            if now { c.resume() }
        }
    }
}
