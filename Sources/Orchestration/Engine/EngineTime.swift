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

/// Tells a running attempt to stop (cancel or timeout), and lets the attempt wait for that.
final class AttemptSignal: Sendable {
    private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    /// Wakes the waiter, now or when it starts waiting.
    func fire() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.fired = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// Returns once fired, or once the calling task is cancelled.
    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { s -> Bool in
                    if s.fired || Task.isCancelled { return true }
                    s.waiter = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            fire()
        }
    }

    var isFired: Bool { state.withLock { $0.fired } }
}
