import Synchronization

/// A one-shot signal: tells a running attempt to stop (cancel or timeout), an execution's timers
/// that it ended, a server's services that recovery is done. Any number of tasks may wait for it.
package final class OneShotSignal: Sendable {
    private struct State {
        var fired = false
        var nextID = 0
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var actions: [Int: @Sendable () -> Void] = [:]
    }

    private let state = Mutex(State())

    package init() {}

    /// Whether it was fired.
    package var isFired: Bool { state.withLock { $0.fired } }

    /// Wakes every waiter, now and from now on.
    package func fire() {
        let (waiters, actions) = state.withLock { s -> ([CheckedContinuation<Void, Never>], [@Sendable () -> Void]) in
            s.fired = true
            defer {
                s.waiters.removeAll()
                s.actions.removeAll()
            }
            return (Array(s.waiters.values), Array(s.actions.values))
        }
        for w in waiters { w.resume() }
        for a in actions { a() }
    }

    /// Calls `action` when fired (at once when it was already), unless ``forget(_:)`` came
    /// first; returns what to pass to it. For a waiter that cannot suspend to wait.
    package func whenFired(_ action: @escaping @Sendable () -> Void) -> Int {
        let (id, now) = state.withLock { s -> (Int, Bool) in
            s.nextID += 1
            if s.fired { return (s.nextID, true) }
            s.actions[s.nextID] = action
            return (s.nextID, false)
        }
        if now { action() }
        return id
    }

    /// Drops the action ``whenFired(_:)`` registered as `id`; it may be running already.
    package func forget(_ id: Int) {
        _ = state.withLock { $0.actions.removeValue(forKey: id) }
    }

    /// Returns once fired, or once the calling task is cancelled (which does not fire it).
    package func wait() async {
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
