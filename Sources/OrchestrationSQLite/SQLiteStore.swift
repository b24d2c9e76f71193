import Foundation
import GRDB
import Orchestration

/// The embedded durable store: one SQLite file in WAL mode, through GRDB.
///
/// It implements every concern of ``Store``, one `SQLiteStore+Concern.swift` file each: workflows
/// (`workflow_version`, `registered_workflow`), executions (`execution`, `step_result` with the
/// log tail and the attempts), triggers (`trigger_state`, `webhook_delivery`), events (`event`,
/// `consumer_cursor`, `event_subscription`, `dead_letter`), learning (`learning_observation`,
/// `learning_snapshot`, `optimization_audit`) and the step cache (`cache_entry`). Tables are
/// created by named, append-only migrations (`+Schema`); a database written by a newer NovaCron,
/// or by another application, is refused with a message that says so.
///
/// Durability: ``Durability/processCrash`` (`synchronous=NORMAL`, the default) survives the
/// process being killed at any moment; ``Durability/powerLoss`` (`synchronous=FULL`) also
/// survives the machine losing power, at the cost of an fsync per write.
///
/// ```swift
/// let store = try SQLiteStore(path: "/var/lib/novacron/novacron.db")
/// ```
public final class SQLiteStore: Sendable {
    public enum Durability: String, Sendable, CaseIterable {
        case processCrash, powerLoss
    }

    let pool: DatabasePool
    public let path: String
    public let durability: Durability

    public init(path: String, durability: Durability = .processCrash) throws(StoreError) {
        self.path = path
        self.durability = durability
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: directory) {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw StoreError("\(path): cannot create the folder \(directory): \(error.localizedDescription)")
            }
        }
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        let synchronous = durability == .powerLoss ? "FULL" : "NORMAL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous)")
        }
        // Switching a brand-new file to WAL takes a lock that SQLite does not wait for: when several
        // processes create the same database at once, the losers get SQLITE_BUSY at once (seen in
        // CI). Try again a few times, briefly.
        var attempt = 0
        while true {
            attempt += 1
            do {
                pool = try DatabasePool(path: path, configuration: configuration)
                break
            } catch let error as DatabaseError where (error.resultCode == .SQLITE_BUSY || error.resultCode == .SQLITE_LOCKED) && attempt < 20 {
                usleep(UInt32(10_000 * attempt))
            } catch {
                throw Self.describe(error, path: path, doing: "open the database", opening: true)
            }
        }
        try Self.checkAndMigrate(pool, path: path)
        do { try Self.stopWaitingInside(pool) } catch { throw Self.describe(error, path: path, doing: "configure the database", opening: true) }
    }

    /// What went wrong, for a person: the file, what the store was doing, what to do.
    /// `opening`: while the store opens the file, before it has used it.
    static func describe(_ error: any Error, path: String, doing: String, opening: Bool = false) -> StoreError {
        if let e = error as? DatabaseError {
            switch e.resultCode {
            case .SQLITE_NOTADB: return StoreError("\(path): not a NovaCron database (the file is not SQLite)")
            case .SQLITE_CORRUPT where opening:
                return StoreError(
                    "\(path): the database is corrupt (or the disk cannot read it: check the system log); restore a backup or move it aside")
            case .SQLITE_CORRUPT:
                // A file that opened and was read reads as corrupt: a disk failing to read (EIO)
                // is reported by SQLite as exactly this, so the file itself may be sound.
                return StoreError(
                    "\(path): the database reads as corrupt while trying to \(doing) (\(e.message ?? "malformed")): a disk failing to read (an I/O error) shows as this too; check the system log, and restore a backup only if `sqlite3 \(path) 'PRAGMA integrity_check'` does not say ok"
                )
            case .SQLITE_READONLY: return StoreError("\(path): the database is read-only; NovaCron needs to write to it")
            case .SQLITE_CANTOPEN: return StoreError("\(path): cannot open the database (check that the folder exists and is writable)")
            case .SQLITE_FULL: return StoreError("\(path): the disk is full; nothing was written")
            case .SQLITE_IOERR: return StoreError("\(path): I/O error while trying to \(doing): \(e.message ?? "")")
            default: return StoreError("\(path): cannot \(doing): \(e.message ?? "\(e.resultCode)")")
            }
        }
        return StoreError("\(path): cannot \(doing): \(error)")
    }

    /// Writes in one transaction on the calling thread (GRDB's synchronous API): for the engine's
    /// commits only (``apply(_:)``), which its commit queue runs one at a time. A commit takes
    /// tens of microseconds, and hopping to GRDB's queue and back cost more than that on a serial
    /// chain of steps (3,540 → see docs/running.md for the figures). While another process holds
    /// the write lock it waits off the thread (see ``lockWaits``).
    func write<T: Sendable>(_ doing: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await lockWaits(doing) { try self.pool.writeWithoutTransaction { db in try Self.ifLockFree(db, body) } }
    }

    /// Writes in one transaction on GRDB's writer queue: every write but the engine's commits.
    /// One on the calling thread that finds the queue busy with an engine commit blocks that
    /// thread until it is free, and the process runs on a thread a core: the event log's appends
    /// did that on every start over the API (2,200 starts/s with the machine 20% idle; 2,800
    /// after). Not cut short by the caller's cancellation, like ``write``: a write begun is
    /// finished (GRDB interrupts a cancelled task's statement).
    func writeWaiting<T: Sendable>(_ doing: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await lockWaits(doing) {
            try await Task.detached { try await self.pool.writeWithoutTransaction { db in try Self.ifLockFree(db, body) } }.value
        }
    }

    func read<T: Sendable>(_ doing: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        do { return try await pool.read(body) } catch let e as StoreError { throw e } catch {
            throw Self.describe(error, path: path, doing: doing)
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static func json<T: Encodable>(_ value: T) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
