import Foundation

/// A lifecycle event of an execution, as ``WorkflowEngine/events()`` streams them.
public enum ExecutionEvent: Sendable {
    case executionStarted(executionID: String, workflowID: String, stepCount: Int)
    /// An attempt started (rollbacks as `<id>.rollback`). `queueWait`: seconds since the step
    /// became ready; `inputFingerprint`: a short hash of its inputs, when an observer wants
    /// fingerprints (``ExecutionObserver/wantsFingerprints``).
    case stepStarted(executionID: String, stepID: String, attempt: Int, at: Date, queueWait: Double?, inputFingerprint: String?)
    /// An attempt ended (rollbacks as `<id>.rollback`): how, after how many seconds (0 when
    /// cached), its error and its outputs, both already redacted.
    case attemptFinished(
        executionID: String, stepID: String, attempt: Int, status: AttemptStatus, seconds: Double, error: String?, outputs: [String: JSONValue])
    /// The attempt's executor began, `latency` after the step became ready (dependency done →
    /// dependent started: queueing behind the parallelism limit plus the engine's own overhead).
    case stepScheduled(executionID: String, stepID: String, latency: Duration)
    case stepRetrying(executionID: String, stepID: String, nextAttempt: Int, delay: Duration, error: String?)
    /// A step reached a terminal state (success, failed, skipped, cancelled); rollbacks come as `<id>.rollback`.
    case stepFinished(executionID: String, result: StepResult, log: String)
    case executionPaused(executionID: String, beforeStep: String?)
    case executionResumed(executionID: String)
    case executionFinished(WorkflowExecution)

    /// The execution the event belongs to.
    public var executionID: String {
        switch self {
        case .executionStarted(let id, _, _), .stepStarted(let id, _, _, _, _, _), .attemptFinished(let id, _, _, _, _, _, _),
            .stepScheduled(let id, _, _),
            .stepRetrying(let id, _, _, _, _),
            .stepFinished(let id, _, _), .executionPaused(let id, _), .executionResumed(let id):
            return id
        case .executionFinished(let e):
            return e.id
        }
    }
}
