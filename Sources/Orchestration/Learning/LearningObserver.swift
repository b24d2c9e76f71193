import Foundation
import Synchronization

/// The learning engine's view of executions, through the engine's one hook: it notes each step's
/// attempts (how they ended, how long they took), its queue wait and input and output
/// fingerprints; at an execution's end it writes the ``ExecutionObservation`` in the same
/// transaction, hands it to the learning engine, and has the engine run its absorption.
final class LearningObserver: ExecutionObserver {
    let learning: LearningEngine

    /// What was noted of one running execution's steps, by step id.
    struct Trace {
        var attempts: [String: [AttemptObservation]] = [:]
        var queueWaits: [String: Double] = [:]
        var inputKeys: [String: String] = [:]
        var outputKeys: [String: String] = [:]
        var observation: ExecutionObservation?
    }

    private let traces = Mutex<[String: Trace]>([:])

    init(_ learning: LearningEngine) { self.learning = learning }

    var wantsFingerprints: Bool { true }

    func observe(_ event: ExecutionEvent) -> ExecutionObserverFollowUp? {
        switch event {
        case .stepStarted(let id, let step, let attempt, _, let queueWait, let fingerprint)
        where attempt == 1 && !StepResult.isRollbackID(step) && !StepResult.isItemID(step):
            traces.withLock { t in
                if let queueWait { t[id, default: Trace()].queueWaits[step] = queueWait }
                if let fingerprint { t[id, default: Trace()].inputKeys[step] = fingerprint }
            }
        case .attemptFinished(let id, let step, _, let status, let seconds, let error, let outputs)
        where !StepResult.isRollbackID(step) && !StepResult.isItemID(step):
            let outputKey =
                status == .succeeded || status == .cached ? String(StepCacheKey.fingerprint(JSONValue.object(outputs).jsonText).prefix(16)) : nil
            traces.withLock { t in
                t[id, default: Trace()].attempts[step, default: []].append(AttemptObservation(outcome: status, seconds: seconds, error: error))
                if let outputKey { t[id, default: Trace()].outputKeys[step] = outputKey }
            }
        case .executionFinished(let execution):
            guard let observation = traces.withLock({ $0.removeValue(forKey: execution.id)?.observation }) else { return nil }
            // Handed over before anyone waiting for the end is woken (with a store, it is saved
            // already): whatever is read next includes it.
            learning.submit(observation)
            let learning = self.learning
            return { await learning.absorb(observation.workflowID) }
        default:
            break
        }
        return nil
    }

    func executionEnding(_ ending: EndingExecution) -> [StoreWrite] {
        let observation = traces.withLock { t -> ExecutionObservation in
            let trace = t[ending.executionID] ?? Trace()
            let steps = ending.steps.map { step in
                // A forEach step runs no attempt of its own (its items do, and they are not steps
                // here): its span from its first item to its last is what it took.
                var attempts = trace.attempts[step.stepID] ?? []
                if let span = ending.forEachSpans[step.stepID] {
                    let outcome: AttemptStatus = step.status == .success ? .succeeded : step.status == .cancelled ? .cancelled : .failed
                    attempts = [AttemptObservation(outcome: outcome, seconds: span, error: nil)]
                }
                return StepObservation(
                    stepID: step.stepID, status: step.status, attempts: attempts, queueWait: trace.queueWaits[step.stepID],
                    inputKey: trace.inputKeys[step.stepID], outputKey: trace.outputKeys[step.stepID])
            }
            let observation = ExecutionObservation(
                executionID: ending.executionID, workflowID: ending.workflowID, version: ending.version, status: ending.status,
                startedAt: ending.startedAt, seconds: max(0, ending.finishedAt.timeIntervalSince(ending.startedAt)), steps: steps)
            t[ending.executionID, default: Trace()].observation = observation
            return observation
        }
        return [.observation(observation)]
    }
}

extension LearningEngine: DurationEstimates {}

extension WorkflowEngine {
    /// An engine whose executions `learning` learns from (observing it), and whose ready steps
    /// are ordered by what it learned.
    public init(
        executors: ExecutorRegistry, configuration: EngineConfiguration = EngineConfiguration(),
        clock: some Clock<Duration> = ContinuousClock(), secrets: SecretProvider = SecretProvider(),
        cache: any StepCache = InMemoryStepCache(), store: (any WorkflowStore & ExecutionStore)? = nil, seed: UInt64? = nil,
        learning: LearningEngine?
    ) {
        self.init(
            executors: executors, configuration: configuration, clock: clock, secrets: secrets, cache: cache, store: store, seed: seed,
            estimates: learning)
        if let learning { observe(LearningObserver(learning)) }
    }

    /// Runs an engine that `learning` learns from for the length of `body`, then stops it.
    public static func withEngine<R: Sendable>(
        executors: ExecutorRegistry, configuration: EngineConfiguration = EngineConfiguration(),
        clock: some Clock<Duration> = ContinuousClock(), secrets: SecretProvider = SecretProvider(),
        cache: any StepCache = InMemoryStepCache(), store: (any WorkflowStore & ExecutionStore)? = nil, seed: UInt64? = nil,
        learning: LearningEngine?, _ body: (WorkflowEngine) async throws -> R
    ) async throws -> R {
        let engine = WorkflowEngine(
            executors: executors, configuration: configuration, clock: clock, secrets: secrets, cache: cache, store: store, seed: seed,
            learning: learning)
        return try await engine.running(body)
    }

    /// The learning engine that learns from this engine's executions, if any.
    public nonisolated var learning: LearningEngine? { estimates as? LearningEngine }
}
