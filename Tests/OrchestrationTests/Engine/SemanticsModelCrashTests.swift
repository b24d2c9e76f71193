import Foundation
import Orchestration
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// ``ReferenceModel`` again, with a crash: the engine runs on SQLite until a random batch of
/// writes fails as the process's death, then a second engine on the same file recovers the
/// execution. docs/durability.md: steps with a saved result are not run again; an attempt in
/// flight is recorded `interrupted` and its step runs again as the next attempt. The model is
/// told which attempts were interrupted (they count against `maxAttempts`, as a lost worker's
/// attempt does in Temporal or Airflow) and must then agree on every step.
@Suite("The engine agrees with the model across a crash and recovery on SQLite")
struct SemanticsModelCrashTests {
    /// Plays the model's attempts, counting an interrupted attempt as not having happened: the
    /// n-th attempt that is not interrupted plays the n-th scripted outcome.
    final class Script: StepExecutor, Sendable {
        let attempts: [String: [ModelCase.Attempt]]
        /// Where interrupted attempts are recorded (the recovering engine's store).
        let store = Mutex<(any Store)?>(nil)
        /// Steps the recovering engine started.
        let startedAfter = Mutex<[String]>([])

        init(_ c: ModelCase) {
            attempts = Dictionary(uniqueKeysWithValues: c.steps.map { ($0.id, $0.attempts) })
        }

        func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
            var interrupted = 0
            if let store = store.withLock({ $0 }) {
                startedAfter.withLock { $0.append(request.stepID) }
                let records = (try? await store.attempts(executionID: request.executionID, stepID: request.stepID)) ?? []
                interrupted = records.filter { $0.status == .interrupted && $0.attempt < request.attempt }.count
            }
            guard let script = attempts[request.stepID] else { return .success() }
            let n = request.attempt - interrupted
            guard (1...script.count).contains(n) else { return .failure("attempt \(request.attempt) (\(interrupted) interrupted) has no script") }
            let ms: Int
            switch script[n - 1] {
            case .succeed(let t), .fail(let t): ms = t
            case .hang: ms = 100_000_000
            }
            do { try await context.clock.sleep(for: .milliseconds(ms)) } catch { return .cancelled() }
            if case .succeed = script[n - 1] { return .success() }
            return .failure("scripted failure", exitCode: 1)
        }
    }

    /// Runs `body` with an engine on `store`, on virtual time that waits for SQLite's threads.
    static func withEngine<T: Sendable>(
        _ store: CrashableStore, _ script: Script, _ body: @escaping @Sendable (WorkflowEngine) async throws -> T
    ) async throws -> T {
        var registry = ExecutorRegistry()
        registry.register(script, for: .task)
        let executors = registry
        let clock = VirtualClock()
        return try await DiscreteEventExecutor(clock: clock, externalWork: { store.isBusy }).run {
            try await WorkflowEngine.withEngine(
                executors: executors, clock: clock, secrets: SecretProvider(environment: [:]), store: store, seed: 1, body)
        }
    }

    @Test(
        "crashed at a random write and recovered: every step ends as the model says given the attempts the crash interrupted, and saved results are not run again"
    )
    func crashAndRecover() async throws {
        let seed = SemanticsModelTests.seed
        var rng = SeededGenerator(seed: seed ^ 0xc4a5)
        var crashed = 0
        for round in 0..<150 {
            var c = ModelCase.random(using: &rng, limits: Bool.random(using: &rng))
            c.failFast = false  // whom a stop cancels depends on timing, which a crash changes
            let crashAt = Int.random(in: 2...9, using: &rng)
            let context = "seed \(seed), round \(round), crash at write \(crashAt):\n\(c)"
            let document = try workflowDocument(c.yaml)
            let path = temporaryDatabasePath()
            defer { try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent) }
            let script = Script(c)

            let first = CrashableStore(try openSQLiteStore(path: path), crashAtApply: crashAt)
            let id = try await Self.withEngine(first, script) { engine in
                try await engine.registerWorkflow(document)
                let id = try await engine.executeWorkflow(document.workflow.id).id
                _ = try? await engine.waitForExecution(id)
                return id
            }
            let second = CrashableStore(try openSQLiteStore(path: path))
            let saved = try #require(try await second.execution(id: id), "\(context)")
            let done = Set(saved.execution.stepResults.values.filter { $0.status.isTerminal }.map(\.stepID))
            if first.hasCrashed { crashed += 1 }
            script.store.withLock { $0 = second }
            let final =
                saved.execution.status.isTerminal
                ? saved.execution
                : try await Self.withEngine(second, script) { engine in
                    _ = try await engine.recover()
                    return try await engine.waitForExecution(id)
                }

            var interrupted: [String: Set<Int>] = [:]
            for s in c.steps {
                let records = try await second.attempts(executionID: id, stepID: s.id)
                interrupted[s.id] = Set(records.filter { $0.status == .interrupted }.map(\.attempt))
            }
            let expected = ReferenceModel(c: c, interrupted: interrupted).run()
            var ok = (final.status == .failed) == expected.failed
            #expect(ok, "execution \(final.status.rawValue), model failed=\(expected.failed): \(context)")
            for s in c.steps {
                let r = final.stepResults[s.id]
                let lost = interrupted[s.id]?.sorted() ?? []
                let same = r?.status.rawValue == expected.statuses[s.id] && (r?.attempts ?? 0) == (expected.attempts[s.id] ?? 0)
                #expect(
                    same,
                    "\(s.id): \(r?.status.rawValue ?? "-") after \(r?.attempts ?? 0) attempts (interrupted: \(lost)), model \(expected.statuses[s.id] ?? "-") after \(expected.attempts[s.id] ?? 0): \(context)"
                )
                ok = ok && same
            }
            let again = script.startedAfter.withLock { $0 }.filter { done.contains($0) }
            #expect(again.isEmpty, "saved results run again: \(again): \(context)")
            let rolledBack = Set(final.stepResults.values.filter { StepResult.isRollbackID($0.stepID) && $0.status == .success }.map(\.stepID))
            let expectedRollbacks = Set(expected.rollbackGroups.joined().map { StepResult.rollbackID(of: $0) })
            #expect(rolledBack == expectedRollbacks, "rollbacks \(rolledBack.sorted()), model \(expectedRollbacks.sorted()): \(context)")
            if !ok || !again.isEmpty || rolledBack != expectedRollbacks { return }
        }
        // Most cases crash somewhere; the rest end before their crash point and are compared as they are.
        #expect(crashed > 80, "seed \(seed): only \(crashed) of 150 cases crashed")
    }
}
