import Synchronization

/// An unbounded queue with one consumer, which takes everything queued at once. What the engine
/// hands to its loop goes through one: a fan-out queues thousands of attempts in a burst, and an
/// `AsyncStream` took its lock, woke its reader and went through unspecialized generic code once
/// per element (15% of a 100,000-step fan-out's profile).
///
/// Items queued before anyone takes them wait; once the consumer's task is cancelled, ``take()``
/// returns nil from then on, and what is queued stays unread (the engine is stopping).
///
/// ```swift
/// let queue = BatchQueue<Int>()
/// queue.append(contentsOf: [1, 2])
/// while let batch = await queue.take() { for n in batch { print(n) } }
/// ```
package final class BatchQueue<Element: Sendable>: Sendable {
    fileprivate struct State {
        var items: [Element] = []
        var reader: CheckedContinuation<Void, Never>?
        var ended = false
    }
    private let state = Mutex(State())

    package init() {}

    /// Queues `item`, waking the consumer if it waits.
    package func append(_ item: Element) {
        let reader = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.ended else { return nil }
            s.items.append(item)
            return s.takeReader()
        }
        reader?.resume()
    }

    /// Queues `items` in order, waking the consumer once.
    package func append(contentsOf items: some Collection<Element>) {
        guard !items.isEmpty else { return }
        let reader = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard !s.ended else { return nil }
            s.items.append(contentsOf: items)
            return s.takeReader()
        }
        reader?.resume()
    }

    /// Everything queued, in order, waiting until there is something; nil once the calling task
    /// is cancelled (and from then on). One consumer at a time.
    package func take() async -> [Element]? {
        while true {
            switch state.withLock({ $0.take() }) {
            case .items(let items): return items
            case .ended: return nil
            case .empty: break
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let wait = state.withLock { s -> Bool in
                        // Checked under the lock the cancellation handler takes: one sees the other.
                        guard !s.ended, !Task.isCancelled, s.items.isEmpty else { return false }
                        s.reader = c
                        return true
                    }
                    if !wait { c.resume() }
                }
            } onCancel: {
                state.withLock { $0.takeReader() }?.resume()
            }
        }
    }
}

extension BatchQueue.State {
    fileprivate enum Taken {
        case items([Element])
        case empty
        case ended
    }

    /// What the consumer finds: the queued items, nothing yet, or the end (its task is cancelled).
    fileprivate mutating func take() -> Taken {
        if ended || Task.isCancelled {
            ended = true
            return .ended
        }
        guard !items.isEmpty else { return .empty }
        defer { items = [] }
        return .items(items)
    }

    fileprivate mutating func takeReader() -> CheckedContinuation<Void, Never>? {
        defer { reader = nil }
        return reader
    }
}
