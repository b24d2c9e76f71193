import Foundation
import GRDB
import Orchestration

/// Waiting for the write lock without holding a thread.
///
/// SQLite's busy timeout waits inside the call, on the calling thread. The store writes from Swift
/// concurrency's cooperative pool (two threads on a 2-core machine), so a few writes waiting for
/// another process's lock (`novacron run` beside a server on one file) stalled every task of the
/// process for up to 10 s each. The writer connection therefore does not wait (busy timeout 0,
/// set once the schema is migrated): a write that finds the lock taken is tried again after a
/// pause that suspends the task, for up to ``lockWaitLimit`` in all. Readers keep SQLite's busy
/// timeout: in WAL mode they wait only in rare moments (a checkpoint's recovery), briefly.
extension SQLiteStore {
    /// How long a write waits for another connection's write lock before it fails.
    static let lockWaitLimit: Duration = .seconds(10)

    /// Runs `attempt` until it gets the lock (nil: the lock was taken; nothing was written).
    func lockWaits<T: Sendable>(_ doing: String, _ attempt: () async throws -> T?) async throws -> T {
        let deadline = ContinuousClock.now + Self.lockWaitLimit
        var pause: Duration = .milliseconds(1)
        while true {
            do {
                if let done = try await attempt() { return done }
            } catch let e as StoreError {
                throw e
            } catch {
                throw Self.describe(error, path: path, doing: doing)
            }
            guard ContinuousClock.now < deadline else {
                throw StoreError(
                    "\(path): cannot \(doing): another process has held the database's write lock for \(DurationText.format(Self.lockWaitLimit))")
            }
            // Not cut short by cancellation: a batch the engine began committing as it stops is
            // still written if the lock frees in time (only the limit above ends the wait).
            let wait = pause
            await Task.detached { @Sendable in _ = try? await Task.sleep(for: wait) }.value
            pause = min(pause * 2, .milliseconds(50))
        }
    }

    /// One transaction that takes the write lock at its start (BEGIN IMMEDIATE), so that when
    /// another connection holds it nothing of `body` has run; nil then.
    static func ifLockFree<T>(_ db: Database, _ body: (Database) throws -> T) throws -> T? {
        var result: T?
        do {
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
        } catch let error as DatabaseError where error.resultCode == .SQLITE_BUSY {
            return nil  // rolled back: tried again whole
        }
        return result
    }

    /// The writer stops waiting inside SQLite; ``lockWaits`` waits instead.
    static func stopWaitingInside(_ pool: DatabasePool) throws {
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA busy_timeout = 0") }
    }
}
