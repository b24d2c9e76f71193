import Foundation
import GRDB
import Orchestration

/// The ``ExecutionStore`` concern: executions, step results and log tails, written in batches by
/// ``apply(_:)``; attempts, kept in their step's row, are in SQLiteStore+Attempts.swift.
extension SQLiteStore: ExecutionStore {
    public func apply(_ writes: [StoreWrite]) async throws {
        // Encode outside the write lock; then one transaction for the batch.
        enum Prepared: Sendable {
            case create(id: String, workflowID: String, hash: String, status: String, record: String, created: Double, results: [(String, String)])
            case update(id: String, status: String, record: String)
            case attempt(AttemptRecord)
            case step(executionID: String, stepID: String, result: String, attempt: AttemptRecord?, log: String)
            case observation(workflowID: String, executionID: String, json: String)
            case process(executionID: String, stepID: String, attempt: Int, json: String)
            case release(executionID: String, stepID: String?)
        }
        var prepared: [Prepared] = []
        prepared.reserveCapacity(writes.count)
        for w in writes {
            switch w {
            case .createExecution(let record):
                let e = record.execution
                prepared.append(
                    .create(
                        id: e.id, workflowID: e.workflowID, hash: record.workflowHash, status: e.status.rawValue,
                        record: try record.storedHeaderJSON(), created: record.createdAt.timeIntervalSince1970,
                        // By step id: attempts that start at the same instant then list in a fixed order.
                        results: try record.execution.stepResults.values.sorted { $0.stepID < $1.stepID }.map { ($0.stepID, try $0.storedJSON()) }))
            case .updateExecution(let record):
                prepared.append(.update(id: record.execution.id, status: record.execution.status.rawValue, record: try record.storedHeaderJSON()))
            case .attempt(let a):
                prepared.append(.attempt(a))
            case .stepFinished(let id, let result, let attempt, let log):
                prepared.append(.step(executionID: id, stepID: result.stepID, result: try result.storedJSON(), attempt: attempt, log: log))
            case .observation(let o):
                prepared.append(.observation(workflowID: o.workflowID, executionID: o.executionID, json: try Self.json(o)))
            case .attemptProcess(let id, let stepID, let attempt, let process):
                prepared.append(.process(executionID: id, stepID: stepID, attempt: attempt, json: try Self.json(process)))
            case .releaseSlots(let id, let stepID):
                prepared.append(.release(executionID: id, stepID: stepID))
            }
        }
        let batch = prepared
        try await write("save \(writes.count == 1 ? "a change" : "\(writes.count) changes")") { db in
            for p in batch {
                switch p {
                case .create(let id, let workflowID, let hash, let status, let record, let created, let results):
                    try db.cachedStatement(
                        sql: "INSERT INTO execution (id, workflow_id, workflow_version, status, record, created_at) VALUES (?, ?, ?, ?, ?, ?)"
                    ).execute(arguments: [id, workflowID, hash, status, record, created])
                    for (stepID, json) in results {
                        try db.cachedStatement(sql: "INSERT INTO step_result (execution_id, step_id, result) VALUES (?, ?, ?)")
                            .execute(arguments: [id, stepID, json])
                    }
                case .update(let id, let status, let record):
                    try db.cachedStatement(sql: "UPDATE execution SET status = ?, record = ? WHERE id = ?").execute(arguments: [status, record, id])
                    if db.changesCount == 0 { throw StoreError("no execution \(id)") }
                case .attempt(let a):
                    try Self.upsert(a, db)
                case .step(let id, let stepID, let result, let attempt, let log):
                    try Self.saveStep(executionID: id, stepID: stepID, result: result, attempt: attempt, log: log, db)
                case .observation(let workflowID, let executionID, let json):
                    try db.cachedStatement(sql: "INSERT INTO learning_observation (workflow_id, execution_id, observation) VALUES (?, ?, ?)")
                        .execute(arguments: [workflowID, executionID, json])
                case .process(let id, let stepID, let attempt, let json):
                    try Self.saveProcess(executionID: id, stepID: stepID, attempt: attempt, json: json, db)
                case .release(let id, let stepID):
                    try Self.releaseSlots(executionID: id, stepID: stepID, db)
                }
            }
        }
    }

    public func execution(id: String) async throws -> ExecutionRecord? {
        let rows = try await read("read an execution") { db -> (String, [String])? in
            guard let header = try String.fetchOne(db, sql: "SELECT record FROM execution WHERE id = ?", arguments: [id]) else { return nil }
            let results = try String.fetchAll(db, sql: "SELECT result FROM step_result WHERE execution_id = ? AND result <> ''", arguments: [id])
            return (header, results)
        }
        guard let (header, results) = rows else { return nil }
        var record = try Self.decode(ExecutionRecord.self, header)
        for text in results {
            let r = try Self.decode(StepResult.self, text)
            record.execution.stepResults[r.stepID] = r
        }
        return record
    }

    public func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) async throws -> [ExecutionRecord] {
        let texts = try await read("list executions") { db -> [String] in
            var sql = "SELECT record FROM execution"
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let workflowID {
                conditions.append("workflow_id = ?")
                arguments += [workflowID]
            }
            if let status {
                conditions.append("status = ?")
                arguments += [status.rawValue]
            }
            if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
            sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
            arguments += [limit]
            return try String.fetchAll(db, sql: sql, arguments: arguments)
        }
        return try texts.map { try Self.decode(ExecutionRecord.self, $0) }
    }

    public func unfinishedExecutions() async throws -> [ExecutionRecord] {
        let ids = try await read("list unfinished executions") { db in
            try String.fetchAll(db, sql: "SELECT id FROM execution WHERE status IN ('pending', 'running', 'paused') ORDER BY created_at, rowid")
        }
        var out: [ExecutionRecord] = []
        for id in ids { if let r = try await execution(id: id) { out.append(r) } }
        return out
    }

    public func log(executionID: String, stepID: String) async throws -> String? {
        try await read("read a log") { db in
            try String.fetchOne(
                db, sql: "SELECT log FROM step_result WHERE execution_id = ? AND step_id = ? AND result <> ''", arguments: [executionID, stepID])
        }
    }

    public func prune(endedBefore cutoff: Date) async throws -> Int {
        var pruned = 0
        while true {
            // Chosen in SQL, a chunk at a time: reading every old record into memory grew the
            // server by megabytes at each pass (the soak), and one transaction deleting them all
            // held the write lock from every execution running meanwhile. The record's JSON
            // holds when it ended (`Date`'s encoding: seconds since 2001); created_at (seconds
            // since 1970, indexed) narrows the search first.
            let ids = try await read("list old executions") { db in
                try String.fetchAll(
                    db,
                    sql: """
                        SELECT id FROM execution
                        WHERE status IN ('completed', 'failed', 'cancelled') AND created_at < ?
                          AND COALESCE(json_extract(record, '$.execution.finishedAt'), json_extract(record, '$.createdAt')) < ?
                        LIMIT ?
                        """,
                    arguments: [cutoff.timeIntervalSince1970, cutoff.timeIntervalSinceReferenceDate, Self.pruneChunk])
            }
            guard !ids.isEmpty else { return pruned }
            try await writeWaiting("delete old executions") { db in
                for id in ids {
                    try db.execute(sql: "DELETE FROM signal WHERE execution_id = ?", arguments: [id])
                    try Self.releaseSlots(executionID: id, stepID: nil, db)
                    try db.execute(sql: "DELETE FROM callback WHERE execution_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM step_result WHERE execution_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM execution WHERE id = ?", arguments: [id])
                }
            }
            pruned += ids.count
            if ids.count < Self.pruneChunk { return pruned }
        }
    }

    /// How many executions one prune transaction deletes at most.
    static let pruneChunk = 500

    /// Runs SQLite's own consistency check; `["ok"]` when the file is sound.
    public func integrityCheck() async throws -> [String] {
        try await read("check the database") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
