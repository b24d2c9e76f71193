import Foundation
import GRDB
import Orchestration

/// The ``SignalStore`` concern: signals and approval decisions, per execution, in send order.
extension SQLiteStore: SignalStore {
    public func addSignal(_ signal: ExecutionSignal) async throws -> ExecutionSignal {
        let payload = try Self.json(signal.payload)
        let seq = try await writeWaiting("save a signal") { db -> Int64 in
            try Self.insert(signal, payload: payload, db)
            return db.lastInsertedRowID
        }
        var saved = signal
        saved.seq = seq
        return saved
    }

    public func signals(executionID: String, after seq: Int64) async throws -> [ExecutionSignal] {
        let rows = try await read("read signals") { db -> [(Int64, String, String, String, String, Double)] in
            try Row.fetchAll(
                db, sql: "SELECT seq, kind, name, payload, sender, sent_at FROM signal WHERE execution_id = ? AND seq > ? ORDER BY seq",
                arguments: [executionID, seq]
            ).map { ($0[0], $0[1], $0[2], $0[3], $0[4], $0[5]) }
        }
        return try rows.compactMap { row -> ExecutionSignal? in
            guard let kind = ExecutionSignal.Kind(rawValue: row.1) else { return nil }
            return ExecutionSignal(
                seq: row.0, executionID: executionID, kind: kind, name: row.2, payload: try Self.decode(JSONValue.self, row.3), sender: row.4,
                sentAt: Date(timeIntervalSince1970: row.5))
        }
    }

    public func addCallback(_ callback: CallbackToken) async throws {
        try await writeWaiting("save a callback") { db in
            try db.execute(
                sql:
                    "INSERT INTO callback (digest, execution_id, step_id, signal, created_at, expires_at, minted_by) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    callback.digest, callback.executionID, callback.stepID, callback.signal, callback.createdAt.timeIntervalSince1970,
                    callback.expiresAt.timeIntervalSince1970, callback.mintedBy,
                ])
        }
    }

    public func callback(digest: String) async throws -> CallbackToken? {
        try await read("read a callback") { db -> CallbackToken? in
            try Row.fetchOne(
                db, sql: "SELECT execution_id, step_id, signal, created_at, expires_at, used_at, minted_by FROM callback WHERE digest = ?",
                arguments: [digest]
            ).map { row in
                CallbackToken(
                    digest: digest, executionID: row[0], stepID: row[1], signal: row[2], createdAt: Date(timeIntervalSince1970: row[3]),
                    expiresAt: Date(timeIntervalSince1970: row[4]), usedAt: (row[5] as Double?).map(Date.init(timeIntervalSince1970:)),
                    mintedBy: row[6])
            }
        }
    }

    public func useCallback(digest: String, now: Date, sending signal: ExecutionSignal?) async throws -> Bool {
        let payload = try signal.map { try Self.json($0.payload) }
        return try await writeWaiting("use a callback") { db -> Bool in
            try db.execute(
                sql: "UPDATE callback SET used_at = ? WHERE digest = ? AND used_at IS NULL AND expires_at > ?",
                arguments: [now.timeIntervalSince1970, digest, now.timeIntervalSince1970])
            guard db.changesCount == 1 else { return false }
            if let signal, let payload { try Self.insert(signal, payload: payload, db) }
            return true
        }
    }

    /// Saves `signal` with its payload already encoded (its sequence number is the row id).
    static func insert(_ signal: ExecutionSignal, payload: String, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO signal (execution_id, kind, name, payload, sender, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [signal.executionID, signal.kind.rawValue, signal.name, payload, signal.sender, signal.sentAt.timeIntervalSince1970])
    }
}
