import Foundation
import Orchestration
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// A commit that records its batches and, while `held`, waits for `release()` before committing.
final class GatedCommit: Sendable {
    private let state = Mutex<(batches: [[Int]], held: Bool, gate: CheckedContinuation<Void, Never>?, entered: [CheckedContinuation<Void, Never>])>(
        ([], true, nil, []))

    var batches: [[Int]] { state.withLock { $0.batches } }

    func commit(_ items: [Int]) async throws -> [String] {
        await withCheckedContinuation { c in
            let (go, entered) = state.withLock { s -> (Bool, [CheckedContinuation<Void, Never>]) in
                s.batches.append(items)
                defer { s.entered = [] }
                if s.held {
                    s.gate = c
                    return (false, s.entered)
                }
                return (true, s.entered)
            }
            for e in entered { e.resume() }
            if go { c.resume() }
        }
        if items.contains(-1) { throw StoreError("disk full") }
        return items.map { "saved \($0)" }
    }

    /// Returns once a commit has started (and is held).
    func waitForCommit(count: Int) async {
        await withCheckedContinuation { c in
            let now = state.withLock { s -> Bool in
                if s.batches.count >= count { return true }
                s.entered.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func release(holdNext: Bool = false) {
        let gate = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.held = holdNext
            defer { s.gate = nil }
            return s.gate
        }
        gate?.resume()
    }
}

@Suite("Group commit queue")
struct GroupCommitQueueTests {
    func withQueue<R: Sendable>(
        batchLimit: Int = .max, _ commit: GatedCommit, _ body: (GroupCommitQueue<Int, String>) async throws -> R
    ) async throws -> R {
        let queue = GroupCommitQueue<Int, String>(batchLimit: batchLimit, closedError: StoreError("stopped"), commit: { try await commit.commit($0) })
        let loop = Task { await queue.run() }
        defer { loop.cancel() }
        return try await body(queue)
    }

    @Test("what is queued while a batch commits goes into the next batch")
    func batching() async throws {
        let commit = GatedCommit()
        try await withQueue(commit) { queue in
            async let first = queue.submit(1)
            await commit.waitForCommit(count: 1)
            let ticket = queue.enqueue([2, 3])
            #expect(queue.enqueue([4, 5]) == ticket + 2)
            commit.release()
            #expect(try await first == "saved 1")
            try await queue.wait(for: ticket + 2)
            #expect(commit.batches == [[1], [2, 3, 4, 5]])
            #expect(queue.batchCount == 2)
        }
    }

    @Test("each waiter gets the output of its own item, however the items were batched")
    func outputs() async throws {
        let commit = GatedCommit()
        try await withQueue(commit) { queue in
            async let first = queue.submit(0)
            await commit.waitForCommit(count: 1)
            commit.release()
            let outputs = try await withThrowingTaskGroup(of: (Int, String).self) { group in
                for n in 1...50 { group.addTask { (n, try await queue.submit(n)) } }
                return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
            }
            #expect(try await first == "saved 0")
            #expect(outputs == Dictionary(uniqueKeysWithValues: (1...50).map { ($0, "saved \($0)") }))
            #expect(commit.batches.flatMap { $0 }.sorted() == Array(0...50))
        }
    }

    @Test("a failed batch fails the waits for its items only; later batches commit")
    func failure() async throws {
        let commit = GatedCommit()
        commit.release()
        try await withQueue(commit) { queue in
            let good = queue.enqueue([1])
            try await queue.wait(for: good)
            await #expect(throws: StoreError("disk full")) { try await queue.submit(-1) }
            let bad = queue.enqueue([])
            // The failed ticket keeps failing; the one before it stays committed.
            await #expect(throws: StoreError("disk full")) { try await queue.wait(for: bad) }
            try await queue.wait(for: good)
            #expect(try await queue.submit(7) == "saved 7")
        }
    }

    @Test("a commit still at the store shows its age (how a node tells its writes hang); none shows once it returned")
    func commitAge() async throws {
        let commit = GatedCommit()
        try await withQueue(commit) { queue in
            #expect(queue.commitAge == nil)
            async let first = queue.submit(1)
            await commit.waitForCommit(count: 1)
            #expect(queue.commitAge != nil)
            commit.release()
            let saved = try await first
            #expect(saved == "saved 1")
            #expect(queue.commitAge == nil)
        }
    }

    @Test("a batch takes at most batchLimit items")
    func limit() async throws {
        let commit = GatedCommit()
        try await withQueue(batchLimit: 2, commit) { queue in
            async let first = queue.submit(0)
            await commit.waitForCommit(count: 1)
            let last = queue.enqueue([1, 2, 3, 4, 5])
            commit.release()
            _ = try await first
            try await queue.wait(for: last)
            #expect(commit.batches == [[0], [1, 2], [3, 4], [5]])
        }
    }

    @Test("once the loop stops, pending and later waits throw the closed error and nothing more is committed")
    func closing() async throws {
        let commit = GatedCommit()
        let queue = GroupCommitQueue<Int, String>(closedError: StoreError("stopped"), commit: { try await commit.commit($0) })
        let loop = Task { await queue.run() }
        async let held = queue.submit(1)
        await commit.waitForCommit(count: 1)
        let pending = queue.enqueue([2])
        loop.cancel()
        commit.release()
        // The batch that was committing finishes; the one queued behind it is dropped.
        #expect(try await held == "saved 1")
        await loop.value
        await #expect(throws: StoreError("stopped")) { try await queue.wait(for: pending) }
        await #expect(throws: StoreError("stopped")) { try await queue.submit(3) }
        await #expect(throws: StoreError("stopped")) { try await queue.wait(for: queue.enqueue([4])) }
        #expect(queue.isClosed)
        #expect(commit.batches == [[1]])
    }

    @Test("commit(_:) with nobody committing commits on the caller, without the loop")
    func callerCommits() async throws {
        let commit = GatedCommit()
        commit.release()
        let queue = GroupCommitQueue<Int, String>(closedError: StoreError("stopped"), commit: { try await commit.commit($0) })
        // No loop runs: only the caller can have committed these.
        try await queue.commit([1, 2])
        try await queue.commit([3])
        #expect(commit.batches == [[1, 2], [3]])
        #expect(queue.batchCount == 2)
    }

    @Test("what is queued while a caller commits goes into the next batch, which the loop commits; a failure reaches the caller")
    func callerThenLoop() async throws {
        let commit = GatedCommit()
        try await withQueue(commit) { queue in
            async let first: Void = queue.commit([1])
            await commit.waitForCommit(count: 1)
            queue.enqueue([2, 3])
            let ticket = queue.enqueue([4])
            commit.release(holdNext: false)
            try await first
            try await queue.wait(for: ticket)
            #expect(commit.batches == [[1], [2, 3, 4]])
            await #expect(throws: StoreError.self) { try await queue.commit([-1]) }
            try await queue.commit([5])
            #expect(commit.batches.last == [5])
        }
    }

    @Test("commit(_:) once the loop stopped throws the closed error and commits nothing")
    func commitAfterClose() async throws {
        let commit = GatedCommit()
        commit.release()
        let queue = GroupCommitQueue<Int, String>(closedError: StoreError("stopped"), commit: { try await commit.commit($0) })
        let loop = Task { await queue.run() }
        loop.cancel()
        await loop.value
        await #expect(throws: StoreError("stopped")) { try await queue.commit([1]) }
        #expect(commit.batches.isEmpty)
    }
}
