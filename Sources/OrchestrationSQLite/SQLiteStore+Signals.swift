import Foundation
import GRDB
import Orchestration

/// The ``SignalStore`` concern: signals and approval decisions, per execution, in send order.
extension SQLiteStore: SignalStore {
    public func addSignal(_ signal: ExecutionSignal) async throws -> ExecutionSignal {
        let payload = try Self.json(signal.payload)
        let seq = try await write("save a signal") { db -> Int64 in
            try db.execute(
                sql: "INSERT INTO signal (execution_id, kind, name, payload, sender, sent_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    signal.executionID, signal.kind.rawValue, signal.name, payload, signal.sender, signal.sentAt.timeIntervalSince1970,
                ])
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
}
