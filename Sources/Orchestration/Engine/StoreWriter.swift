import Foundation
import Synchronization

/// Writes to an ``ExecutionStore`` in order, batching what piles up while the previous batch
/// commits (group commit). Every enqueue returns a ticket; waiting for a ticket returns once
/// that write and every earlier one are committed — the engine waits before it acts on a
/// change, so nothing starts before what led to it is saved.
final class StoreWriter: Sendable {
    private struct State {
        var queue: [StoreWrite] = []
        var enqueued = 0
        var committed = 0
        /// Recent failed batches: the tickets (from, upTo] they held.
        var failures: [(from: Int, upTo: Int, error: any Error)] = []
        var waiters: [(ticket: Int, continuation: CheckedContinuation<Void, any Error>)] = []
        var wake: CheckedContinuation<Void, Never>?
        var batches = 0
        /// Set when the engine stops: nothing more is written, waits fail.
        var closed = false
    }

    let store: any ExecutionStore
    private let state = Mutex(State())

    init(store: any ExecutionStore) {
        self.store = store
    }

    /// Queues `writes`; returns the ticket to wait for.
    func enqueue(_ writes: [StoreWrite]) -> Int {
        let (ticket, wake) = state.withLock { s -> (Int, CheckedContinuation<Void, Never>?) in
            s.queue.append(contentsOf: writes)
            s.enqueued += writes.count
            defer { s.wake = nil }
            return (s.enqueued, s.wake)
        }
        wake?.resume()
        return ticket
    }

    /// Returns once every write up to `ticket` is committed; throws the error of a failed batch
    /// that held one of them.
    func wait(for ticket: Int) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLock { s -> Result<Bool, any Error> in
                if s.closed, ticket > s.committed { return .failure(StoreError("the engine stopped before this was saved")) }
                if ticket <= s.committed {
                    if let failure = s.failures.first(where: { $0.from < ticket && ticket <= $0.upTo }) { return .failure(failure.error) }
                    return .success(true)
                }
                s.waiters.append((ticket, c))
                return .success(false)
            }
            switch outcome {
            case .success(true): c.resume()
            case .success(false): break
            case .failure(let error): c.resume(throwing: error)
            }
        }
    }

    /// Commits batches until the calling task is cancelled; then fails every wait still pending.
    func run() async {
        defer { close() }
        while !Task.isCancelled {
            let batch = await nextBatch()
            guard let batch else { return }
            var failure: (any Error)?
            do { try await store.apply(batch.writes) } catch { failure = error }
            let ready = state.withLock { s -> [(CheckedContinuation<Void, any Error>, Bool)] in
                let from = s.committed
                s.committed = batch.upTo
                s.batches += 1
                if let failure {
                    s.failures.append((from, batch.upTo, failure))
                    if s.failures.count > 64 { s.failures.removeFirst() }
                }
                let done = s.waiters.filter { $0.ticket <= batch.upTo }
                s.waiters.removeAll { $0.ticket <= batch.upTo }
                return done.map { ($0.continuation, failure != nil) }
            }
            for (c, failed) in ready {
                if failed, let failure { c.resume(throwing: failure) } else { c.resume() }
            }
        }
    }

    private func close() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, any Error>] in
            s.closed = true
            defer { s.waiters.removeAll() }
            return s.waiters.map(\.continuation)
        }
        for w in waiters { w.resume(throwing: StoreError("the engine stopped before this was saved")) }
    }

    /// How many batches were committed (write amplification = steps ÷ batches).
    var batchCount: Int { state.withLock { $0.batches } }

    private func nextBatch() async -> (writes: [StoreWrite], upTo: Int)? {
        while true {
            if Task.isCancelled { return nil }
            let taken = state.withLock { s -> (writes: [StoreWrite], upTo: Int)? in
                guard !s.queue.isEmpty else { return nil }
                defer { s.queue.removeAll(keepingCapacity: true) }
                return (s.queue, s.enqueued)
            }
            if let taken { return taken }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if !s.queue.isEmpty || Task.isCancelled { return true }
                        s.wake = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
                    defer { s.wake = nil }
                    return s.wake
                }
                c?.resume()
            }
        }
    }
}
