import Foundation
import GRDB
import Orchestration

/// Attempts live in their step's row (`step_result.attempts`, since migration v10): a JSON object
/// keyed by attempt number, `{"1": {"status": "failed", "startedAt": 1800000000.5, …}, "2": …}`.
/// A step's end and the next step's start are then two statements on one table instead of three
/// on two, which is most of what a durable chain's commit costs (docs/performance.md).
///
/// Every write is a JSON merge patch (`json_patch`) of the attempts it changes, so it needs no read
/// first: a field set to `null` is removed, and one left out (the process group, written on its
/// own) is kept.
extension SQLiteStore {
    /// Records an attempt's start or end (its fields but the process group).
    static func upsert(_ a: AttemptRecord, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO step_result (execution_id, step_id, result, attempts) VALUES (?, ?, '', ?)
                ON CONFLICT (execution_id, step_id) DO UPDATE SET attempts = json_patch(attempts, excluded.attempts)
                """
        ).execute(arguments: [a.executionID, a.stepID, try patch(a)])
    }

    /// The step's result (and log), with the attempt that produced it, in one statement.
    static func saveStep(executionID: String, stepID: String, result: String, attempt: AttemptRecord?, log: String, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO step_result (execution_id, step_id, result, log, attempts) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (execution_id, step_id) DO UPDATE SET
                    result = excluded.result, log = excluded.log, attempts = json_patch(attempts, excluded.attempts)
                """
        ).execute(arguments: [executionID, stepID, result, log, try attempt.map(patch) ?? "{}"])
    }

    /// Records the process group an attempt started, on an attempt already recorded.
    static func saveProcess(executionID: String, stepID: String, attempt: Int, json: String, _ db: Database) throws {
        try db.cachedStatement(
            sql:
                "UPDATE step_result SET attempts = json_patch(attempts, ?) WHERE execution_id = ? AND step_id = ? AND json_type(attempts, ?) IS NOT NULL"
        ).execute(arguments: ["{\"\(attempt)\":{\"process\":\(json)}}", executionID, stepID, "$.\"\(attempt)\""])
    }

    /// `{"<n>": {…}}`: the attempt's fields, those it lacks as `null` (removed by the patch).
    static func patch(_ a: AttemptRecord) throws -> String {
        var out = "{\"\(a.attempt)\":{\"status\":"
        JSONValue.writeQuoted(a.status.rawValue, into: &out)
        out += ",\"startedAt\":" + (try seconds(a.startedAt))
        out += ",\"finishedAt\":" + (try a.finishedAt.map(seconds) ?? "null")
        out += ",\"error\":"
        if let error = a.error { JSONValue.writeQuoted(error, into: &out) } else { out += "null" }
        out += ",\"exitCode\":" + (a.exitCode.map { String($0) } ?? "null")
        out += "}}"
        return out
    }

    /// Seconds since 1970 as a JSON number (`Double`'s description reads back exactly).
    private static func seconds(_ date: Date) throws -> String {
        let s = date.timeIntervalSince1970
        guard s.isFinite else { throw StoreError("an attempt's time is not a finite number: \(s)") }
        return "\(s)"
    }

    /// One attempt as its step's row keeps it.
    private struct Stored: Decodable {
        var status: String
        var startedAt: Double
        var finishedAt: Double?
        var error: String?
        var exitCode: Int?
        var process: ProcessHandle?
    }

    /// The attempts of the rows `(step_id, attempts)` given in the steps' row order, in start order:
    /// by start time, then by step row, then by number.
    static func attempts(executionID: String, rows: [Row]) throws -> [AttemptRecord] {
        var out: [(row: Int, record: AttemptRecord)] = []
        for (index, row) in rows.enumerated() {
            let stepID: String = row["step_id"]
            let text: String = row["attempts"]
            let stored: [String: Stored]
            do { stored = try JSONDecoder().decode([String: Stored].self, from: Data(text.utf8)) } catch {
                throw StoreError("the attempts of step '\(stepID)' of execution \(executionID) cannot be read: \(error)")
            }
            for (key, a) in stored {
                guard let number = Int(key) else { throw StoreError("step '\(stepID)' of execution \(executionID) has an attempt numbered '\(key)'") }
                let record = AttemptRecord(
                    executionID: executionID, stepID: stepID, attempt: number, status: AttemptStatus(rawValue: a.status) ?? .failed,
                    startedAt: Date(timeIntervalSince1970: a.startedAt), finishedAt: a.finishedAt.map(Date.init(timeIntervalSince1970:)),
                    error: a.error, exitCode: a.exitCode, process: a.process)
                out.append((index, record))
            }
        }
        out.sort { l, r in
            if l.record.startedAt != r.record.startedAt { return l.record.startedAt < r.record.startedAt }
            if l.row != r.row { return l.row < r.row }
            return l.record.attempt < r.record.attempt
        }
        return out.map(\.record)
    }

    public func attempts(executionID: String, stepID: String?) async throws -> [AttemptRecord] {
        try await read("read attempts") { db in
            var sql = "SELECT step_id, attempts FROM step_result WHERE execution_id = ? AND attempts <> '{}'"
            var arguments: StatementArguments = [executionID]
            if let stepID {
                sql += " AND step_id = ?"
                arguments += [stepID]
            }
            sql += " ORDER BY rowid"
            return try Self.attempts(executionID: executionID, rows: Row.fetchAll(db, sql: sql, arguments: arguments))
        }
    }

    public func interruptAttempts(executionID: String, at date: Date) async throws -> [AttemptRecord] {
        let error = "interrupted: the process running it stopped"
        return try await writeWaiting("mark interrupted attempts") { db in
            let rows = try Row.fetchAll(
                db, sql: "SELECT step_id, attempts FROM step_result WHERE execution_id = ? AND attempts LIKE '%\"running\"%' ORDER BY rowid",
                arguments: [executionID])
            var interrupted: [AttemptRecord] = []
            for var a in try Self.attempts(executionID: executionID, rows: rows) where a.status == .running {
                a.status = .interrupted
                a.finishedAt = date
                a.error = error
                try Self.upsert(a, db)
                interrupted.append(a)
            }
            return interrupted
        }
    }
}
