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
        // Encoded before the transaction; then one transaction of a few statements for the batch.
        let batch = try WriteBatch(writes)
        let me = node.id, seconds = leaseDuration.seconds
        let touched = batch.executions.subtracting(batch.fresh)
        // The epochs the batch was written under: should this node lose an execution and claim it
        // again while the batch waits for the database, the batch is still refused.
        let epochs = book.withLock { $0.held }
        // A try after one that failed may follow one that committed unanswered: see `again`.
        var tries = 0
        let refused = try await retryingWhileUnavailable { () async throws(StoreError) -> Set<String> in
            tries += 1
            let again = tries > 1
            if !batch.fresh.isEmpty { try await registerNode() }
            return try await transaction("save \(writes.count == 1 ? "a change" : "\(writes.count) changes")", repeatable: false) {
                connection -> Set<String> in
                // Tried again, the executions it creates may be there already: fenced too, as
                // this node's first hold of them (another node may have taken one over since).
                var fence = touched, held = epochs
                if again {
                    fence.formUnion(batch.fresh)
                    for id in batch.fresh { held[id] = 1 }
                }
                let refused = try await fenced(fence, epochs: held, in: connection)
                try await batch.run(skipping: refused, owner: me, leaseSeconds: seconds, again: again, in: connection, logger: logger)
                return refused
            }
        }
        // Only a hold the batch was written under is given up. Writes left over from before this
        // node claimed an execution again (a recovery beside a self-fence) are refused, but the
        // new claim stands: dropping it stopped the recovered run for good while its lease,
        // unrenewed here, kept other nodes off it until it ran out (the chaos test).
        book.withLock { b in
            for id in batch.fresh where !refused.contains(id) { b.held[id] = 1 }
            for id in refused where b.held[id] == epochs[id] { b.held[id] = nil }
        }
        // Every refused execution is named, whatever this node holds now: the run that wrote
        // these did not save them and must not act on them (start the attempt they record).
        if !refused.isEmpty { throw LeaseLost(refused) }
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
