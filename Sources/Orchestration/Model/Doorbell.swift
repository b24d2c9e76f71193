import Synchronization

/// A wake-up that may be rung before anyone waits (it is remembered, once) and waited for with a
/// time limit. Unlike an `AsyncStream`, a wait that is cancelled or times out leaves it usable:
/// a stream ends for good when the task waiting on it is cancelled.
///
/// ```swift
/// let bell = Doorbell()
/// bell.ring()                                  // a notification came
/// await bell.wait(upTo: .seconds(1))           // returns at once: it was rung
/// ```
package final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var next: UInt64 = 0
    }
    private let state = Mutex(State())

    package init() {}

    /// Wakes everyone waiting, or the next wait when nobody is.
    package func ring() {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            guard !s.waiters.isEmpty else {
                s.rung = true
                return []
            }
            defer { s.waiters.removeAll() }
            return Array(s.waiters.values)
        }
        for w in woken { w.resume() }
    }

    /// Returns when rung (or rung since the last wait returned), or when the calling task is cancelled.
    package func wait() async {
        let id = state.withLock { s in
            s.next += 1
            return s.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s -> Bool in
                    if s.rung {
                        s.rung = false
                        return true
                    }
                    // Checked under the lock the cancellation handler takes: one sees the other.
                    if Task.isCancelled { return true }
                    s.waiters[id] = c
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// ``wait()``, for `limit` at most.
    package func wait(upTo limit: Duration) async {
        _ = await withTimeLimit(limit) { await self.wait() }
    }
}
