import Synchronization

/// An attempt's task carries on with the next attempt its end started, instead of handing it to
/// ``WorkflowEngine/run()``'s loop for a new child task: a chain of steps then runs in one task,
/// without waking the loop's thread and then another for the child at every step (two wake-ups
/// of sleeping threads per step, the larger part of a durable chain's cost between commits; see
/// docs/performance.md). When an end starts several attempts, the first is carried on with and
/// the others go to the loop as before, so a fan-out runs in parallel.
extension WorkflowEngine {
    /// The attempts started while one attempt's end is applied. Open until that attempt's task
    /// takes them; an attempt started after that (by a task that inherited the task-local) goes
    /// to the loop.
    final class Handoff: Sendable {
        private let state = Mutex<(open: Bool, jobs: [Job])>((true, []))

        /// Keeps `job` for the attempt's task; false once it has taken what it keeps.
        func keep(_ job: Job) -> Bool {
            state.withLock { s in
                guard s.open else { return false }
                s.jobs.append(job)
                return true
            }
        }

        /// What was kept so far; it stays open.
        func takeKeepingOpen() -> [Job] {
            state.withLock { s in
                defer { s.jobs = [] }
                return s.jobs
            }
        }

        /// What was kept; closes it.
        func take() -> [Job] {
            state.withLock { s in
                s.open = false
                defer { s.jobs = [] }
                return s.jobs
            }
        }
    }

    /// Set while an attempt's end is applied, in that attempt's task.
    @TaskLocal static var handoff: Handoff?

    /// Starts an attempt job: kept for the attempt's task whose end started it, or run by the loop.
    nonisolated func submit(_ job: Job) {
        if let handoff = Self.handoff, handoff.keep(job) { return }
        jobQueue.append(job)
    }

    /// Applies an attempt's end or a timer's firing (`body`) and returns the attempt to carry on
    /// with, if it started any; the others go to the loop. None once the engine is stopping: the
    /// loop drops them.
    nonisolated func endingAttempt(_ body: () async -> Void) async -> Job? {
        let handoff = Handoff()
        await Self.$handoff.withValue(handoff) { await body() }
        var started = handoff.take()
        guard !started.isEmpty else { return nil }
        let next = Task.isCancelled ? nil : started.removeFirst()
        jobQueue.append(contentsOf: started)
        return next
    }
}
