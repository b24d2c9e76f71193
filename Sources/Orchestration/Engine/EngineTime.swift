import Foundation
import Synchronization

/// The engine's view of an injected clock: elapsed time since the engine started, dates derived
/// from it, and sleeps. With a manual clock, dates, durations and timeouts all follow virtual time.
struct EngineTime: Sendable {
    let clock: any Clock<Duration>
    let elapsed: @Sendable () -> Duration
    let origin: Date

    init<C: Clock>(_ clock: C, origin: Date = Date()) where C.Duration == Duration {
        self.clock = clock
        let start = clock.now
        self.elapsed = { start.duration(to: clock.now) }
        self.origin = origin
    }

    /// The current date on this clock.
    func now() -> Date { origin.addingTimeInterval(elapsed().seconds) }

    func sleep(for duration: Duration) async throws {
        try await clock.sleep(for: duration)
    }
}

/// A one-shot signal: tells a running attempt to stop (cancel or timeout), or an execution's timers
/// that it ended. Any number of tasks may wait for it.
final class AttemptSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private let state = Mutex(State())

    /// Wakes every waiter, now and from now on.
    func fire() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.fired = true
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in waiters { w.resume() }
    }

    /// Returns once fired, or once the calling task is cancelled (which does not fire it).
    func wait() async {
        let id = state.withLock { s -> Int in
            s.nextID += 1
            return s.nextID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.fired || Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
    }

}
