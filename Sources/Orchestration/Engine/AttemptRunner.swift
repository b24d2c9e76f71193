import Foundation
import Synchronization

/// Runs one attempt with the executor for its step, in the calling task, until it ends or its
/// timeout or stop signal stops it. A stop cancels the calling task (the executor then kills its
/// processes and returns), so no task is started for an attempt without a timeout and only a
/// timer for one with: starting and waking child tasks was the larger part of a short step's
/// cost (docs/performance.md). The engine runs local attempts with it, a ``StepWorker`` the
/// steps it claims from a queue.
///
/// A task that was stopped stays cancelled: ``Ran/cancelledTask`` says so, and whatever the
/// caller does next that must not be cancelled (saving the outcome) goes to another task.
struct AttemptRunner: Sendable {
    let executors: ExecutorRegistry
    let context: ExecutorContext
    let time: TimeSource

    /// How an attempt ended, and whether stopping it cancelled the calling task.
    struct Ran: Sendable {
        var outcome: StepOutcome
        var cancelledTask = false
    }

    func run(
        _ request: StepRequest, signal: OneShotSignal, redactor: Redactor, processStarted: (@Sendable (ProcessHandle) -> Void)? = nil
    ) async -> Ran {
        // Stopped before it began (the execution was cancelled while the attempt waited to run):
        // nothing is started, so nothing can run unrecorded.
        guard !signal.isFired else {
            return Ran(outcome: StepOutcome(ending: .cancelled, error: "not started: the execution stopped before this attempt began"))
        }
        guard let executor = executors.executor(for: request) else {
            return Ran(outcome: .failure("no executor for \(request.type.rawValue) steps\(request.action.map { " (action \($0))" } ?? "")"))
        }
        var context = self.context
        context.redactor = redactor
        if let processStarted { context.processStarted = processStarted }
        let stop = withUnsafeCurrentTask { AttemptStop(task: $0) }
        let registration = signal.whenFired { stop.stop(.stopped) }
        var outcome: StepOutcome
        let reason: AttemptStop.Reason?
        if let timeout = request.timeout {
            let time = self.time
            (outcome, reason) = await withTaskGroup(of: Void.self) { [context] group in
                group.addTask {
                    do { try await time.sleep(for: timeout) } catch { return }
                    stop.stop(.timedOut)
                }
                let outcome = await executor.execute(request, context: context)
                let reason = stop.close()
                group.cancelAll()
                return (outcome, reason)
            }
        } else {
            outcome = await executor.execute(request, context: context)
            reason = stop.close()
        }
        signal.forget(registration)
        switch reason {
        case .timedOut?:
            outcome.ending = .timedOut
            outcome.error = "timed out after \(DurationText.format(request.timeout ?? .zero))"
        case .stopped?:
            outcome.ending = .cancelled
            outcome.error = outcome.error ?? "cancelled"
        case nil:
            // Merging even nothing gives an empty dictionary storage of its own: one allocation a step.
            if outcome.succeeded, !request.actionOutputs.isEmpty { outcome.outputs.merge(request.actionOutputs) { own, _ in own } }
        }
        return Ran(outcome: outcome, cancelledTask: reason != nil)
    }
}

/// Stops an attempt that runs in a task by cancelling that task, once, until the attempt ends
/// (``close()``): from then on nothing cancels the task, which goes on to other work.
final class AttemptStop: Sendable {
    enum Reason: Sendable {
        case stopped
        case timedOut
    }

    private struct State: @unchecked Sendable {
        /// The attempt's task while it runs the attempt (it outlives every use: ``close()``
        /// clears it before the attempt's scope ends).
        var task: UnsafeCurrentTask?
        var reason: Reason?
    }

    private let state: Mutex<State>

    init(task: UnsafeCurrentTask?) {
        state = Mutex(State(task: task))
    }

    /// Cancels the attempt's task, unless it ended or was stopped already.
    func stop(_ reason: Reason) {
        state.withLock { s in
            guard let task = s.task, s.reason == nil else { return }
            s.reason = reason
            task.cancel()
        }
    }

    /// The attempt ended: returns why it was stopped, if it was.
    func close() -> Reason? {
        state.withLock { s in
            s.task = nil
            return s.reason
        }
    }
}
