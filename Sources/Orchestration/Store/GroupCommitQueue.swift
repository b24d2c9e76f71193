import Synchronization

/// Items queued by many tasks and committed in batches: what is queued while one batch commits
/// goes into the next (group commit), so a durable store pays one transaction for many writes.
/// The engine's store writes and the event bus's events both go through one.
///
/// One batch commits at a time, either in the loop (``run()``) or by a caller of ``commit(_:)``
/// that finds nobody committing: it commits in its own task, so a serial chain of writes (each
/// waiting for the one before) never wakes the loop's thread and is woken back from it.
///
/// Nothing here is `nonisolated(nonsending)`: an actor that calls in gives up its executor for
/// the commit and takes it back after, by the ordinary hop. With `nonisolated(nonsending)` (so
/// the engine's actor committed on its own executor), Swift 6.3.1's release build sometimes
/// resumed the engine's code after a commit off its actor — two threads then changed the engine's
/// state at once, and the soak crashed on a corrupted dictionary (docs/reliability.md).
///
/// Every item gets a ticket, its position in the queue (from 1). Waiting for a ticket returns
/// once that item and every earlier one are committed, or throws the error of the batch that held
/// it. When ``run()`` ends (its task is cancelled), what is still queued is dropped and every
/// wait, and every later one, throws `closedError`.
///
/// ```swift
/// let queue = GroupCommitQueue<StoreWrite, Void>(closedError: StoreError("stopped")) { writes in
///     try await store.apply(writes)
///     return writes.map { _ in () }
/// }
/// async let loop: Void = queue.run()
/// try await queue.wait(for: queue.enqueue([.createExecution(record)]))
/// ```
package final class GroupCommitQueue<Item: Sendable, Output: Sendable>: Sendable {
    /// Commits a batch, all or nothing; returns one output per item, in order.
    package typealias Commit = @Sendable ([Item]) async throws -> [Output]
    /// Called after a batch committed and its waiters were resumed, before the next batch.
    package typealias Committed = @Sendable ([Output]) async -> Void

    fileprivate struct State {
        var queue: [Item] = []
        var enqueued = 0
        var committed = 0
        /// Recent failed batches: the tickets (from, upTo] they held.
        var failures: [(from: Int, upTo: Int, error: any Error)] = []
        var waiters: [(ticket: Int, continuation: CheckedContinuation<Output?, any Error>)] = []
        var wake: CheckedContinuation<Void, Never>?
        /// Whether a batch is being committed now (by the loop or by a caller of ``commit(_:)``).
        var committing = false
        var batches = 0
        /// Calls that queued items since the last batch was taken, and in that batch: one
        /// writer at a time (a chain) has nobody to wait for.
        var callsQueued = 0
        var lastBatchCalls = 0
        var closed = false
        /// When the batch being committed now went to the store.
        var committingSince: ContinuousClock.Instant?
    }

    private let state = Mutex(State())
    private let commit: Commit
    private let committed: Committed?
    private let batchLimit: Int
    private let closedError: any Error

    /// - Parameters:
    ///   - batchLimit: the most items one commit takes.
    ///   - closedError: what waits throw once the loop has stopped.
    package init(batchLimit: Int = .max, closedError: any Error, commit: @escaping Commit, committed: Committed? = nil) {
        self.batchLimit = max(1, batchLimit)
        self.closedError = closedError
        self.commit = commit
        self.committed = committed
    }

    /// Queues `items` without waiting; returns the ticket of the last one (of the last item
    /// queued before, when `items` is empty). Once the loop has stopped, nothing is queued and
    /// waiting for the ticket returned throws `closedError`.
    @discardableResult
    package func enqueue(_ items: [Item]) -> Int {
        let (ticket, wake) = state.withLock { s -> (Int, CheckedContinuation<Void, Never>?) in
            guard !s.closed else { return (.max, nil) }
            guard !items.isEmpty else { return (s.enqueued, nil) }
            s.queue.append(contentsOf: items)
            s.enqueued += items.count
            s.callsQueued += 1
            // Whoever commits now wakes the loop when done.
            return (s.enqueued, s.committing ? nil : s.takeWake())
        }
        wake?.resume()
        return ticket
    }

    /// Queues `items` and returns once they and every earlier item are committed; throws the
    /// error of the batch that held them, or `closedError` when the loop stopped. When no batch
    /// is being committed, the caller commits what is queued itself, in its own task.
    package func commit(_ items: [Item]) async throws {
        try await commit(queueing(items))
    }

    /// Items queued by ``queueing(_:)`` for ``commit(_:)-(Queued)``.
    package struct Queued: Sendable {
        fileprivate var ticket: Int
        fileprivate var crowded: Bool
        fileprivate var closed: Bool
    }

    /// Queues `items` now, to be committed by ``commit(_:)-(Queued)``: an actor that queues its
    /// writes in the same turn as the change they record cannot have a later change's writes
    /// committed before them.
    package func queueing(_ items: [Item]) -> Queued {
        state.withLock { s in
            guard !s.closed else { return Queued(ticket: .max, crowded: false, closed: true) }
            s.queue.append(contentsOf: items)
            s.enqueued += items.count
            s.callsQueued += 1
            return Queued(ticket: s.enqueued, crowded: s.lastBatchCalls > 1, closed: false)
        }
    }

    /// ``commit(_:)`` of items already queued by ``queueing(_:)``.
    package func commit(_ queued: Queued) async throws {
        guard !queued.closed else { throw closedError }
        let ticket = queued.ticket
        // When the last batch held several writers' items, let whatever else is ready queue its
        // writes first (other executions' attempts that ended meanwhile): they go into this
        // batch instead of one each. A lone writer (a chain) does not pay for the yield.
        if queued.crowded { await Task.yield() }
        let next = state.withLock { s -> (ticket: Int, batch: Batch<Item>?) in
            guard !s.committing, !s.queue.isEmpty, ticket > s.committed else { return (ticket, nil) }
            return (ticket, s.takeBatch(limit: batchLimit))
        }
        guard let batch = next.batch else { return try await wait(for: next.ticket) }
        let result = await commitBatch(batch)
        guard next.ticket <= batch.upTo else { return try await wait(for: next.ticket) }
        if case .failure(let error) = result { throw error }
    }

    /// Returns once every item up to `ticket` is committed; throws the error of a failed batch
    /// that held one of them, or `closedError` when the loop stopped first.
    package func wait(for ticket: Int) async throws {
        _ = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Output?, any Error>) in
            let outcome = state.withLock { s -> Result<Bool, any Error> in
                if ticket <= s.committed {
                    if let failure = s.failures.first(where: { $0.from < ticket && ticket <= $0.upTo }) { return .failure(failure.error) }
                    return .success(true)
                }
                if s.closed { return .failure(closedError) }
                s.waiters.append((ticket, c))
                return .success(false)
            }
            switch outcome {
            case .success(true): c.resume(returning: nil)
            case .success(false): break
            case .failure(let error): c.resume(throwing: error)
            }
        }
    }

    /// Queues one item and returns its output once it is committed.
    package func submit(_ item: Item) async throws -> Output {
        let output = try await withCheckedThrowingContinuation { (c: CheckedContinuation<Output?, any Error>) in
            let (closed, wake) = state.withLock { s -> (Bool, CheckedContinuation<Void, Never>?) in
                guard !s.closed else { return (true, nil) }
                s.queue.append(item)
                s.enqueued += 1
                s.callsQueued += 1
                s.waiters.append((s.enqueued, c))
                return (false, s.committing ? nil : s.takeWake())
            }
            if closed { c.resume(throwing: closedError) }
            wake?.resume()
        }
        guard let output else { throw closedError }
        return output
    }

    /// How many batches were committed (write amplification = items ÷ batches).
    package var batchCount: Int { state.withLock { $0.batches } }

    /// Whether the loop has stopped.
    package var isClosed: Bool { state.withLock { $0.closed } }

    /// How long the batch being committed now has been at the store (`nil` when none is): a
    /// commit that never returns shows here.
    package var commitAge: Duration? {
        state.withLock { s in s.committingSince.map { $0.duration(to: .now) } }
    }

    /// Commits batches until the calling task is cancelled; then fails every wait still pending.
    package func run() async {
        defer { close() }
        while let batch = await nextBatch() {
            await commitBatch(batch)
        }
    }

    /// Commits `batch` (taken from the queue, `committing` set), settles its waiters, then lets
    /// the loop take what was queued meanwhile.
    @discardableResult
    private func commitBatch(_ batch: Batch<Item>) async -> Result<[Output], any Error> {
        var result: Result<[Output], any Error>
        do {
            let outputs = try await commit(batch.items)
            result = outputs.count == batch.items.count ? .success(outputs) : .failure(GroupCommitError.outputCount(outputs.count, batch.items.count))
        } catch {
            result = .failure(error)
        }
        let (ready, wake) = state.withLock {
            s -> ([(ticket: Int, continuation: CheckedContinuation<Output?, any Error>)], CheckedContinuation<Void, Never>?) in
            s.committing = false
            s.committingSince = nil
            s.committed = batch.upTo
            s.batches += 1
            if case .failure(let error) = result {
                s.failures.append((batch.from, batch.upTo, error))
                if s.failures.count > 64 { s.failures.removeFirst() }
            }
            let done = s.waiters.filter { $0.ticket <= batch.upTo }
            s.waiters.removeAll { $0.ticket <= batch.upTo }
            return (done, s.queue.isEmpty ? nil : s.takeWake())
        }
        switch result {
        case .success(let outputs):
            for w in ready {
                let index = w.ticket - batch.from - 1
                w.continuation.resume(returning: outputs.indices.contains(index) ? outputs[index] : nil)
            }
            if let committed { await committed(outputs) }
        case .failure(let error):
            for w in ready { w.continuation.resume(throwing: error) }
        }
        wake?.resume()
        return result
    }

    private func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<Output?, any Error>] in
            s.closed = true
            s.queue.removeAll()
            defer { s.waiters.removeAll() }
            return s.waiters.map(\.continuation)
        }
        for w in waiters { w.resume(throwing: closedError) }
    }

    private func nextBatch() async -> Batch<Item>? {
        while true {
            if Task.isCancelled { return nil }
            let taken = state.withLock { s -> Batch<Item>? in
                guard !s.committing, !s.queue.isEmpty else { return nil }
                return s.takeBatch(limit: batchLimit)
            }
            if let taken { return taken }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if (!s.queue.isEmpty && !s.committing) || Task.isCancelled { return true }
                        s.wake = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                let c = state.withLock { $0.takeWake() }
                c?.resume()
            }
        }
    }
}

/// Items taken from the queue to commit together: the tickets (from, upTo].
private struct Batch<Item: Sendable>: Sendable {
    var items: [Item]
    var from: Int
    var upTo: Int
}

extension GroupCommitQueue.State {
    /// Takes up to `limit` queued items as the next batch and marks it committing.
    fileprivate mutating func takeBatch(limit: Int) -> Batch<Item> {
        let n = min(queue.count, limit)
        let from = committed
        committing = true
        committingSince = .now
        lastBatchCalls = callsQueued
        callsQueued = 0
        if n == queue.count {
            defer { queue.removeAll(keepingCapacity: true) }
            return Batch(items: queue, from: from, upTo: from + n)
        }
        defer { queue.removeFirst(n) }
        return Batch(items: Array(queue.prefix(n)), from: from, upTo: from + n)
    }

    /// The loop's wake-up, if it is parked.
    fileprivate mutating func takeWake() -> CheckedContinuation<Void, Never>? {
        defer { wake = nil }
        return wake
    }
}

/// A commit that returned a different number of outputs than it was given items.
struct GroupCommitError: Error, CustomStringConvertible {
    var description: String
    static func outputCount(_ got: Int, _ expected: Int) -> GroupCommitError {
        GroupCommitError(description: "a group commit returned \(got) outputs for \(expected) items")
    }
}
