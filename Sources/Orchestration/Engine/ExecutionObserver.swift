import Foundation

/// Watches executions through the engine's one hook (``WorkflowEngine/observe(_:)``): the learning
/// engine, metrics, the event bus and logs all do, so the engine knows none of them.
///
/// Every method is called on the engine, synchronously and in order: it must be quick and must not
/// call back into the engine. Slow work goes in the follow-up ``observe(_:)`` returns, which the
/// engine runs in its own task group.
///
/// ```swift
/// struct Counter: ExecutionObserver {
///     let finished = Mutex(0)
///     func observe(_ event: ExecutionEvent) -> ExecutionObserverFollowUp? {
///         if case .executionFinished = event { finished.withLock { $0 += 1 } }
///         return nil
///     }
/// }
/// engine.observe(Counter())
/// ```
public protocol ExecutionObserver: Sendable {
    /// An event happened; returns work to run afterwards, off the engine, if any.
    func observe(_ event: ExecutionEvent) -> ExecutionObserverFollowUp?

    /// Whether `.stepStarted` events should carry a fingerprint of the step's inputs, and
    /// workflows registered without a store their content hash: both cost a hash, so only an
    /// observer that uses them (the learning engine) asks.
    var wantsFingerprints: Bool { get }

    /// An execution is ending: writes to commit in the same transaction as its end (the learning
    /// engine's observation of it). Called once per execution, before `.executionFinished`, with
    /// or without a store.
    func executionEnding(_ ending: EndingExecution) -> [StoreWrite]
}

/// Work an observer hands the engine to run after an event, in the engine's task group.
public typealias ExecutionObserverFollowUp = @Sendable () async -> Void

extension ExecutionObserver {
    public var wantsFingerprints: Bool { false }
    public func executionEnding(_ ending: EndingExecution) -> [StoreWrite] { [] }
}

/// An execution at its end, as observers see it before `.executionFinished`.
public struct EndingExecution: Sendable {
    public var executionID: String
    public var workflowID: String
    /// The content hash of the definition that ran ("" when it was registered without one).
    public var version: String
    public var status: ExecutionStatus
    public var startedAt: Date
    public var finishedAt: Date
    /// Every step of the workflow, in definition order, with its status.
    public var steps: [(stepID: String, status: StepStatus)]
    /// Seconds from the start of each forEach step that ran to the end of its last item, by step id:
    /// the step's own time (its items are not steps).
    public var forEachSpans: [String: Double] = [:]
}

/// A closure as an observer (metrics, logs, the event bus's lifecycle events).
struct ClosureObserver: ExecutionObserver {
    let body: @Sendable (ExecutionEvent) -> Void

    func observe(_ event: ExecutionEvent) -> ExecutionObserverFollowUp? {
        body(event)
        return nil
    }
}

/// Learned step durations (the learning engine's), which order ready steps and give ETAs.
public protocol DurationEstimates: Sendable {
    /// A workflow's learned durations by step id, and a generation that changes when they do.
    func cachedDurations(workflowID: String) -> (generation: Int, durations: [String: Duration])?
}
