import Synchronization

/// One wait for an execution's end: settled once, by the end or by the waiting task's
/// cancellation, whichever comes first, and from any thread.
final class EndWaiter: Sendable {
    private let state = Mutex<(outcome: Result<WorkflowExecution, any Error>?, continuation: CheckedContinuation<WorkflowExecution, any Error>?)>(
        (nil, nil))

    /// Returns the execution once it ended, or throws once the wait was cancelled.
    func wait() async throws -> WorkflowExecution {
        try await withCheckedThrowingContinuation { c in
            let settled = state.withLock { s -> Result<WorkflowExecution, any Error>? in
                if let outcome = s.outcome { return outcome }
                s.continuation = c
                return nil
            }
            if let settled { c.resume(with: settled) }
        }
    }

    /// Whether it was settled (the end came, or the wait was cancelled).
    var isSettled: Bool { state.withLock { $0.outcome != nil } }

    /// The first outcome wins; later ones are ignored.
    func settle(_ outcome: Result<WorkflowExecution, any Error>) {
        let waiting = state.withLock { s -> CheckedContinuation<WorkflowExecution, any Error>? in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            defer { s.continuation = nil }
            return s.continuation
        }
        waiting?.resume(with: outcome)
    }
}
