import Foundation
import Orchestration
import PostgresNIO
import Synchronization

/// The ``ExecutionStore`` concern: executions, step results, attempts and log tails, written in
/// batches by ``apply(_:)``, one transaction each.
extension PostgresStore: ExecutionStore {
    /// Writes to an execution this node does not hold (another node took it over) are refused,
    /// the rest of the batch commits, and ``LeaseLost`` names the refused executions.
    public func apply(_ writes: [StoreWrite]) async throws {
        // Encode before the transaction; then one transaction for the batch.
        // Each statement, its execution, and whether it must touch a row (an update of an execution).
        var statements: [(execution: String, query: PostgresQuery, mustTouch: Bool)] = []
        statements.reserveCapacity(writes.count + 4)
        var created: [String] = []
        let me = node.id, seconds = leaseDuration.seconds
        for w in writes {
            switch w {
            case .createExecution(let record):
                var header = record
                header.execution.stepResults = [:]
                let e = record.execution, json = try Self.json(header), created_ = record.createdAt.timeIntervalSince1970
                created.append(e.id)
                statements.append(
                    (
                        e.id,
                        """
                        INSERT INTO execution (id, workflow_id, workflow_version, status, record, created_at, owner_node, lease_epoch, lease_expires_at)
                        VALUES (\(e.id), \(e.workflowID), \(record.workflowHash), \(e.status.rawValue), \(json), \(created_), \(me), 1,
                            \(unescaped: Self.databaseNow) + \(seconds))
                        """, false
                    ))
                for r in e.stepResults.values {
                    let result = try Self.json(r)
                    statements.append(
                        (e.id, "INSERT INTO step_result (execution_id, step_id, result) VALUES (\(e.id), \(r.stepID), \(result))", false))
                }
            case .updateExecution(let record):
                var header = record
                header.execution.stepResults = [:]
                let e = record.execution, json = try Self.json(header)
                statements.append((e.id, "UPDATE execution SET status = \(e.status.rawValue), record = \(json) WHERE id = \(e.id) RETURNING 1", true))
            case .attempt(let a):
                statements.append((a.executionID, Self.upsert(a), false))
            case .stepFinished(let id, let result, let attempt, let log):
                let json = try Self.json(result)
                statements.append(
                    (
                        id,
                        """
                        INSERT INTO step_result (execution_id, step_id, result, log) VALUES (\(id), \(result.stepID), \(json), \(log))
                        ON CONFLICT (execution_id, step_id) DO UPDATE SET result = excluded.result, log = excluded.log
                        """, false
                    ))
                if let attempt { statements.append((id, Self.upsert(attempt), false)) }
            case .observation(let o):
                let json = try Self.json(o)
                statements.append(
                    (
                        o.executionID,
                        "INSERT INTO learning_observation (workflow_id, execution_id, observation) VALUES (\(o.workflowID), \(o.executionID), \(json))",
                        false
                    ))
            case .attemptProcess(let id, let stepID, let attempt, let process):
                let json = try Self.json(process), number = Int32(clamping: attempt)
                statements.append(
                    (
                        id, "UPDATE attempt SET process = \(json) WHERE execution_id = \(id) AND step_id = \(stepID) AND attempt = \(number)",
                        false
                    ))
            }
        }
        let batch = statements, fresh = Set(created)
        let touched = Set(batch.map(\.execution)).subtracting(fresh)
        // The epochs the batch was written under: should this node lose an execution and claim it
        // again while the batch waits for the database, the batch is still refused.
        let epochs = book.withLock { $0.held }
        let refused = try await retryingWhileUnavailable { () async throws(StoreError) -> Set<String> in
            if !created.isEmpty { try await registerNode() }
            return try await transaction("save \(writes.count == 1 ? "a change" : "\(writes.count) changes")") { connection -> Set<String> in
                let refused = try await fenced(touched, epochs: epochs, in: connection)
                for (execution, statement, mustTouch) in batch where !refused.contains(execution) {
                    let rows = try await connection.rows(statement, logger: logger, as: Int32.self)
                    if mustTouch, rows.isEmpty { throw StoreError("no execution to update") }
                }
                return refused
            }
        }
        book.withLock { b in
            for id in fresh { b.held[id] = 1 }
            for id in refused { b.held[id] = nil }
        }
        if !refused.isEmpty { throw LeaseLost(refused) }
    }

    static func upsert(_ a: AttemptRecord) -> PostgresQuery {
        let number = Int32(clamping: a.attempt), started = a.startedAt.timeIntervalSince1970
        let finished = a.finishedAt?.timeIntervalSince1970, exit = a.exitCode.map { Int32(clamping: $0) }
        return """
            INSERT INTO attempt (execution_id, step_id, attempt, status, started_at, finished_at, error, exit_code)
            VALUES (\(a.executionID), \(a.stepID), \(number), \(a.status.rawValue), \(started), \(finished), \(a.error), \(exit))
            ON CONFLICT (execution_id, step_id, attempt) DO UPDATE SET
                status = excluded.status, finished_at = excluded.finished_at, error = excluded.error, exit_code = excluded.exit_code
            """
    }

    public func execution(id: String) async throws -> ExecutionRecord? {
        let found = try await transaction("read an execution") { connection -> (String, [String])? in
            guard let header = try await connection.rows("SELECT record FROM execution WHERE id = \(id)", logger: logger, as: String.self).first
            else { return nil }
            let results = try await connection.rows("SELECT result FROM step_result WHERE execution_id = \(id)", logger: logger, as: String.self)
            return (header, results)
        }
        guard let (header, results) = found else { return nil }
        var record = try Self.decode(ExecutionRecord.self, header)
        for text in results {
            let r = try Self.decode(StepResult.self, text)
            record.execution.stepResults[r.stepID] = r
        }
        return record
    }

    public func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) async throws -> [ExecutionRecord] {
        let state = status?.rawValue, count = Int64(max(0, limit))
        return try await rows(
            "list executions",
            """
            SELECT record FROM execution
            WHERE (\(workflowID)::text IS NULL OR workflow_id = \(workflowID)) AND (\(state)::text IS NULL OR status = \(state))
            ORDER BY created_at DESC, ord DESC LIMIT \(count)
            """, as: String.self
        ).map { try Self.decode(ExecutionRecord.self, $0) }
    }

    public func unfinishedExecutions() async throws -> [ExecutionRecord] {
        let ids = try await rows(
            "list unfinished executions", "SELECT id FROM execution WHERE status IN ('pending', 'running', 'paused') ORDER BY created_at, ord",
            as: String.self)
        var out: [ExecutionRecord] = []
        for id in ids { if let r = try await execution(id: id) { out.append(r) } }
        return out
    }

    static let attemptColumns = "execution_id, step_id, attempt, status, started_at, finished_at, error, exit_code, process"
    typealias AttemptRow = (String, String, Int32, String, Double, Double?, String?, Int32?, String?)

    public func attempts(executionID: String, stepID: String?) async throws -> [AttemptRecord] {
        try await rows(
            "read attempts",
            """
            SELECT \(unescaped: Self.attemptColumns) FROM attempt
            WHERE execution_id = \(executionID) AND (\(stepID)::text IS NULL OR step_id = \(stepID)) ORDER BY ord
            """, as: AttemptRow.self
        ).map(Self.attempt)
    }

    static func attempt(_ row: AttemptRow) -> AttemptRecord {
        AttemptRecord(
            executionID: row.0, stepID: row.1, attempt: Int(row.2), status: AttemptStatus(rawValue: row.3) ?? .failed,
            startedAt: Date(timeIntervalSince1970: row.4), finishedAt: row.5.map(Date.init(timeIntervalSince1970:)), error: row.6,
            exitCode: row.7.map { Int($0) },
            process: row.8.flatMap { try? JSONDecoder().decode(ProcessHandle.self, from: Data($0.utf8)) })
    }

    public func log(executionID: String, stepID: String) async throws -> String? {
        try await rows("read a log", "SELECT log FROM step_result WHERE execution_id = \(executionID) AND step_id = \(stepID)", as: String.self)
            .first
    }

    /// Only the node holding the execution may (``LeaseLost`` otherwise): the one that claimed it.
    public func interruptAttempts(executionID: String, at date: Date) async throws -> [AttemptRecord] {
        let reason = "interrupted: the process running it stopped", finished = date.timeIntervalSince1970
        let rows = try await transaction("mark interrupted attempts") { connection -> [AttemptRow]? in
            guard try await fenced([executionID], epochs: book.withLock({ $0.held }), in: connection).isEmpty else { return nil }
            return try await connection.rows(
                """
                WITH interrupted AS (
                    UPDATE attempt SET status = 'interrupted', finished_at = \(finished), error = \(reason)
                    WHERE execution_id = \(executionID) AND status = 'running'
                    RETURNING \(unescaped: Self.attemptColumns), ord)
                SELECT \(unescaped: Self.attemptColumns) FROM interrupted ORDER BY ord
                """, logger: logger, as: AttemptRow.self)
        }
        guard let rows else { throw LeaseLost([executionID]) }
        return rows.map(Self.attempt)
    }

    public func prune(endedBefore cutoff: Date) async throws -> Int {
        // The record's JSON holds finishedAt; created_at is a safe lower bound for the filter.
        let before = cutoff.timeIntervalSince1970
        let candidates = try await rows(
            "list old executions", "SELECT record FROM execution WHERE status IN ('completed', 'failed', 'cancelled') AND created_at < \(before)",
            as: String.self)
        var old: [String] = []
        for text in candidates {
            let record = try Self.decode(ExecutionRecord.self, text)
            if (record.execution.finishedAt ?? record.createdAt) < cutoff { old.append(record.execution.id) }
        }
        guard !old.isEmpty else { return 0 }
        let ids = old
        try await query("delete old executions", "DELETE FROM execution WHERE id = ANY(\(ids))")
        return old.count
    }
}
