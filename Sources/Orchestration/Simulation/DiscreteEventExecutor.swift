import DequeModule
import Foundation
import Synchronization

/// Runs async code — the real engine included — on one thread, on virtual time: every job of
/// every task that prefers this executor runs here, in order, and when none is left to run the
/// clock jumps to the next sleeper's deadline. That is discrete-event simulation of the engine's
/// own code: only the steps are modelled, and an hour of virtual time costs only the engine's
/// bookkeeping for it.
///
/// Everything the body starts must stay on this executor (tasks inherit the preference, and the
/// engine's actor runs its jobs on the preferred executor) and wait only on the virtual clock;
/// work waiting on anything else (a socket, a real timer) ends the run with ``Stalled``.
package final class DiscreteEventExecutor: TaskExecutor, Sendable {
    let queue = Mutex(Deque<UnownedJob>())
    package let clock: VirtualClock
    /// Whether work outside this executor (a store's own threads) is under way: while it is, the
    /// clock waits for that work to come back rather than jumping ahead of it.
    let externalWork: (@Sendable () -> Bool)?

    package init(clock: VirtualClock = VirtualClock(), externalWork: (@Sendable () -> Bool)? = nil) {
        self.clock = clock
        self.externalWork = externalWork
    }

    /// Rung when a job arrives while the loop waits for external work.
    let arrived = DispatchSemaphore(value: 0)
    let waiting = Atomic<Bool>(false)

    package func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        queue.withLock { $0.append(unowned) }
        if waiting.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged { arrived.signal() }
    }

    /// Nothing can run and nobody sleeps on the virtual clock, yet the body has not finished.
    package struct Stalled: Error, CustomStringConvertible {
        package var description: String { "the simulation stalled: its work waits on something other than the virtual clock" }
    }

    /// Runs `body` to its end on a thread of its own, and returns what it returns.
    package func run<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread { [self] in
                // Below the rest of the process: a simulation is CPU-bound for as long as it runs,
                // and must not starve the servers and timers sharing the machine with it.
                #if os(Linux)
                    // (Linux keeps nice values per thread: who 0 is this thread alone.)
                    _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
                #endif
                let result = Mutex<Result<T, any Error>?>(nil)
                Task(executorPreference: self) {
                    let outcome: Result<T, any Error>
                    do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
                    result.withLock { $0 = outcome }
                }
                while true {
                    drain()
                    if let outcome = result.withLock({ $0 }) {
                        continuation.resume(with: outcome)
                        return
                    }
                    if let externalWork, externalWork() {
                        // Asleep until a job arrives; bounded: a call that never comes back ends the run as stalled.
                        // A wake with nothing queued (a signal left from before) just looks again.
                        waiting.store(true, ordering: .releasing)
                        var timedOut = false
                        if queue.withLock({ $0.isEmpty }) { timedOut = arrived.wait(timeout: .now() + 60) == .timedOut }
                        waiting.store(false, ordering: .releasing)
                        if !timedOut || !queue.withLock({ $0.isEmpty }) { continue }
                    }
                    if !clock.advanceToNextDeadline() {
                        continuation.resume(throwing: Stalled())
                        return
                    }
                }
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    func drain() {
        while let job = queue.withLock({ $0.popFirst() }) {
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}
