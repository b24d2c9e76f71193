import Foundation
import Orchestration
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// The real engine against ``ReferenceModel`` on random workflows (conditions on status,
/// continueOnFailure, failFast, retries, timeouts, rollbacks, exclusive steps, limits) with random
/// attempt outcomes, on virtual time. `NOVACRON_PROPERTY_SEED` replays a run; the seed is in
/// every failure.
@Suite("The engine agrees with a model of the documented semantics")
struct SemanticsModelTests {
    static let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)

    /// Plays each step's scripted attempts on the engine's clock; rollbacks succeed at once and
    /// are logged in the order they run.
    final class Script: StepExecutor, Sendable {
        let attempts: [String: [ModelCase.Attempt]]
        let rollbacks = Mutex<[String]>([])

        init(_ c: ModelCase) {
            attempts = Dictionary(uniqueKeysWithValues: c.steps.map { ($0.id, $0.attempts) })
        }

        func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
            guard let script = attempts[request.stepID] else {
                rollbacks.withLock { $0.append(String(request.stepID.dropLast(".rollback".count))) }
                return .success()
            }
            let attempt = script[request.attempt - 1]
            let ms: Int
            switch attempt {
            case .succeed(let t), .fail(let t): ms = t
            case .hang: ms = 100_000_000
            }
            do { try await context.clock.sleep(for: .milliseconds(ms)) } catch { return .cancelled() }
            if case .succeed = attempt { return .success() }
            return .failure("scripted failure", exitCode: 1)
        }
    }

    /// The engine's execution of `c`, and the rollbacks in the order they ran.
    static func engineRun(_ c: ModelCase) async throws -> (WorkflowExecution, [String]) {
        let document = try workflowDocument(c.yaml)
        let script = Script(c)
        var registry = ExecutorRegistry()
        registry.register(script, for: .task)
        let executors = registry
        let clock = VirtualClock()
        let execution = try await DiscreteEventExecutor(clock: clock).run {
            try await WorkflowEngine.withEngine(executors: executors, clock: clock, secrets: SecretProvider(environment: [:]), seed: 1) { engine in
                try await engine.registerWorkflow(document)
                return try await engine.waitForExecution(try await engine.executeWorkflow(document.workflow.id).id)
            }
        }
        return (execution, script.rollbacks.withLock { $0 })
    }

    /// Compares one case; records what differs and returns whether all agreed. Under `limits`
    /// the rollback order follows the engine's own completion order, which the model does not time.
    static func compare(_ c: ModelCase, round: Int, limits: Bool) async throws -> Bool {
        let expected = ReferenceModel(c: c).run()
        let (execution, rollbacks) = try await engineRun(c)
        let context = "seed \(seed), round \(round)\(limits ? " (limits)" : ""):\n\(c)"
        var ok = true
        func check(_ condition: Bool, _ message: @autoclosure () -> String) {
            if !condition {
                Issue.record("\(message())\n\(context)")
                ok = false
            }
        }
        check((execution.status == .failed) == expected.failed, "execution \(execution.status.rawValue), model failed=\(expected.failed)")
        if expected.ambiguous { return ok }
        for s in c.steps {
            let r = execution.stepResults[s.id]
            check(
                r?.status.rawValue == expected.statuses[s.id], "\(s.id): engine \(r?.status.rawValue ?? "-"), model \(expected.statuses[s.id] ?? "-")"
            )
            check(
                (r?.attempts ?? 0) == (expected.attempts[s.id] ?? 0), "\(s.id): \(r?.attempts ?? 0) attempts, model \(expected.attempts[s.id] ?? 0)")
        }
        if limits { return ok }
        // Rollbacks: latest completion first; steps that ended together in any order.
        var rest = rollbacks[...]
        for group in expected.rollbackGroups {
            let taken = rest.prefix(group.count)
            check(taken.sorted() == group, "rollbacks \(rollbacks), model \(expected.rollbackGroups)")
            rest = rest.dropFirst(group.count)
        }
        check(rest.isEmpty, "rollbacks \(rollbacks), model \(expected.rollbackGroups)")
        return ok
    }

    @Test("statuses, attempt counts and rollback order match the model on random workflows, failFast included")
    func randomWorkflows() async throws {
        var rng = SeededGenerator(seed: Self.seed)
        var compared = 0
        for round in 0..<1500 {
            let c = ModelCase.random(using: &rng, limits: false)
            if !ReferenceModel(c: c).run().ambiguous { compared += 1 }
            guard try await Self.compare(c, round: round, limits: false) else { return }
        }
        // Ties with a failFast stop are rare; nearly every case is compared in full.
        #expect(compared > 1400, "seed \(Self.seed): only \(compared) of 1500 compared in full")
    }

    @Test("with a parallelism limit and exclusive steps, statuses and attempts still match the model")
    func randomWorkflowsWithLimits() async throws {
        var rng = SeededGenerator(seed: Self.seed ^ 0x5eed)
        for round in 0..<800 {
            guard try await Self.compare(ModelCase.random(using: &rng, limits: true), round: round, limits: true) else { return }
        }
    }
}
