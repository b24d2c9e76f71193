import Foundation
import GRDB
import Orchestration
import OrchestrationSQLite
import TestSupport
import Testing

/// Waiting for another process's write lock must not take a thread of Swift's cooperative pool:
/// on a 2-core machine that pool has two threads, and a store write parked in SQLite's busy wait
/// on each stalled every server, timer and test in the process (seen as unrelated HTTP tests timing
/// out together in CI).
@Suite("SQLite lock waits")
struct SQLiteLockWaitTests {
    @Test("writes that wait for another connection's write lock leave the cooperative pool free, and succeed once it is released")
    func waitsOffThePool() async throws {
        let path = temporaryDatabasePath()
        let store = try SQLiteStore(path: path)
        // Another writer, as another process would be: its own connection, on a thread of its own.
        let holder = LockHolder(path: path)
        try await holder.hold()
        let writers = max(4, ProcessInfo.processInfo.activeProcessorCount * 2)
        async let written: [Bool] = withTaskGroup(of: Bool.self) { group in
            for n in 0..<writers {
                group.addTask { (try? await store.createExecution(sampleRecord("waiting-\(n)"))) != nil }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        // This runs only if the writers left a thread of the pool free while they wait.
        let released = Task {
            await Task.yield()
            holder.release()
            return true
        }
        #expect(await released.value)
        let results = await written
        #expect(results == Array(repeating: true, count: writers), "a write failed while it waited for the lock: \(results)")
        #expect(holder.heldUntilReleased, "the other connection gave up its lock before it was told to")
        for n in 0..<writers { #expect(try await store.execution(id: "waiting-\(n)") != nil) }
    }
}

/// Holds an SQLite write lock (BEGIN IMMEDIATE) on a connection and thread of its own until told.
final class LockHolder: @unchecked Sendable {
    let path: String
    private let releaseSignal = DispatchSemaphore(value: 0)
    private(set) var heldUntilReleased = false

    init(path: String) { self.path = path }

    /// Returns once the lock is held.
    func hold() async throws {
        try await withCheckedThrowingContinuation { (started: CheckedContinuation<Void, any Error>) in
            let thread = Thread { [self] in
                do {
                    let queue = try DatabaseQueue(path: path)
                    try queue.inDatabase { db in
                        try db.execute(sql: "BEGIN IMMEDIATE")
                        started.resume()
                        // Bounded, so a broken store cannot hang the suite: 60 s is far beyond any wait here.
                        heldUntilReleased = releaseSignal.wait(timeout: .now() + 60) == .success
                        try db.execute(sql: "COMMIT")
                    }
                } catch {
                    started.resume(throwing: error)
                }
            }
            thread.start()
        }
    }

    func release() { releaseSignal.signal() }
}
