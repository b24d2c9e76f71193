import Foundation
import Orchestration
import PostgresNIO

extension PostgresStore {
    /// A batch of ``StoreWrite``s as a few set-based statements, one per table, each taking its
    /// rows as one JSON parameter (`json_to_recordset`): a batch of a thousand writes is six round
    /// trips, not a thousand. Writes to the same row keep the last one (each write of a row says
    /// all of it), which is what applying them in order would leave.
    struct WriteBatch {
        struct Created: Encodable {
            var id, workflow_id, workflow_version, status, record: String
            var created_at: Double
        }
        struct Result: Encodable { var execution_id, step_id, result, log: String }
        struct Attempt: Encodable {
            var execution_id, step_id: String
            var attempt: Int32
            var status: String
            var started_at: Double
            var finished_at: Double?
            var error: String?
            var exit_code: Int32?
        }
        struct Update: Encodable { var id, status, record: String }
        struct Observation: Encodable { var workflow_id, execution_id, observation: String }
        struct Process: Encodable {
            var execution_id, step_id: String
            var attempt: Int32
            var process: String
        }

        struct Release: Encodable { var execution_id: String, step_id: String? }

        var created: [Created] = []
        var results: [String: Result] = [:]
        var attempts: [String: Attempt] = [:]
        /// Attempts' keys in the order first written: the order they are inserted (`ord`) in.
        var attemptOrder: [String] = []
        var updates: [String: Update] = [:]
        var observations: [Observation] = []
        var processes: [Process] = []
        var releases: [Release] = []
        /// Every execution the batch writes to, and those it creates.
        var executions: Set<String> = []
        var fresh: Set<String> = []

        init(_ writes: [StoreWrite]) throws {
            for w in writes {
                switch w {
                case .createExecution(let record):
                    let e = record.execution
                    created.append(
                        Created(
                            id: e.id, workflow_id: e.workflowID, workflow_version: record.workflowHash, status: e.status.rawValue,
                            record: try record.storedHeaderJSON(), created_at: record.createdAt.timeIntervalSince1970))
                    fresh.insert(e.id)
                    for r in e.stepResults.values { try add(e.id, r, log: "") }
                case .updateExecution(let record):
                    let e = record.execution
                    updates[e.id] = Update(id: e.id, status: e.status.rawValue, record: try record.storedHeaderJSON())
                case .attempt(let a):
                    add(a)
                case .stepFinished(let id, let result, let attempt, let log):
                    try add(id, result, log: log)
                    if let attempt { add(attempt) }
                case .observation(let o):
                    observations.append(
                        Observation(workflow_id: o.workflowID, execution_id: o.executionID, observation: try PostgresStore.json(o)))
                case .attemptProcess(let id, let stepID, let attempt, let process):
                    processes.append(
                        Process(execution_id: id, step_id: stepID, attempt: Int32(clamping: attempt), process: try PostgresStore.json(process)))
                case .releaseSlots(let id, let stepID):
                    releases.append(Release(execution_id: id, step_id: stepID))
                }
            }
            executions = fresh.union(results.values.map(\.execution_id)).union(attempts.values.map(\.execution_id))
                .union(updates.keys).union(observations.map(\.execution_id)).union(processes.map(\.execution_id))
                .union(releases.map(\.execution_id))
        }

        mutating func add(_ execution: String, _ r: StepResult, log: String) throws {
            results[execution + "\u{0}" + r.stepID] = Result(execution_id: execution, step_id: r.stepID, result: try r.storedJSON(), log: log)
        }

        mutating func add(_ a: AttemptRecord) {
            let key = a.executionID + "\u{0}" + a.stepID + "\u{0}\(a.attempt)"
            if attempts[key] == nil { attemptOrder.append(key) }
            attempts[key] = Attempt(
                execution_id: a.executionID, step_id: a.stepID, attempt: Int32(clamping: a.attempt), status: a.status.rawValue,
                started_at: a.startedAt.timeIntervalSince1970, finished_at: a.finishedAt?.timeIntervalSince1970, error: a.error,
                exit_code: a.exitCode.map { Int32(clamping: $0) })
        }

        /// Runs the batch but for the writes to `refused` executions, in `connection`'s transaction.
        ///
        /// `again`: an earlier try may have committed (the connection dropped before its COMMIT
        /// was answered), so what it did must not be done twice: an execution already created
        /// (by it: ids are unique) is left as it is, an observation already recorded is not
        /// added again. Every other write says all of its row and is the same done twice.
        /// - Throws: a ``StoreError`` when an execution to update is not there.
        func run(
            skipping refused: Set<String>, owner: String, leaseSeconds: Double, again: Bool, in connection: PostgresConnection, logger: Logger
        ) async throws {
            func rows<T: Encodable>(_ items: some Sequence<T>, of execution: (T) -> String) throws -> String? {
                let kept = items.filter { !refused.contains(execution($0)) }
                return kept.isEmpty ? nil : try PostgresStore.json(kept)
            }
            if let json = try rows(created, of: \.id) {
                try await connection.execute(
                    """
                    INSERT INTO execution (id, workflow_id, workflow_version, status, record, created_at, owner_node, lease_epoch, lease_expires_at)
                    SELECT id, workflow_id, workflow_version, status, record, created_at, \(owner), 1, \(unescaped: PostgresStore.databaseNow) + \(leaseSeconds)
                    FROM json_to_recordset(\(json)::json)
                        AS x(id text, workflow_id text, workflow_version text, status text, record text, created_at float8)
                    \(unescaped: again ? "ON CONFLICT (id) DO NOTHING" : "")
                    """, logger: logger)
            }
            if let json = try rows(results.values, of: \.execution_id) {
                try await connection.execute(
                    """
                    INSERT INTO step_result (execution_id, step_id, result, log)
                    SELECT execution_id, step_id, result, log FROM json_to_recordset(\(json)::json)
                        AS x(execution_id text, step_id text, result text, log text)
                    ON CONFLICT (execution_id, step_id) DO UPDATE SET result = excluded.result, log = excluded.log
                    """, logger: logger)
            }
            if let json = try rows(attemptOrder.compactMap { attempts[$0] }, of: \.execution_id) {
                try await connection.execute(
                    """
                    INSERT INTO attempt (execution_id, step_id, attempt, status, started_at, finished_at, error, exit_code)
                    SELECT execution_id, step_id, attempt, status, started_at, finished_at, error, exit_code FROM json_to_recordset(\(json)::json)
                        AS x(execution_id text, step_id text, attempt int4, status text, started_at float8, finished_at float8, error text,
                            exit_code int4)
                    ON CONFLICT (execution_id, step_id, attempt) DO UPDATE SET
                        status = excluded.status, finished_at = excluded.finished_at, error = excluded.error, exit_code = excluded.exit_code
                    """, logger: logger)
            }
            let updating = updates.values.filter { !refused.contains($0.id) }
            if let json = try rows(updating, of: \.id) {
                let touched = try await connection.rows(
                    """
                    UPDATE execution e SET status = x.status, record = x.record
                    FROM json_to_recordset(\(json)::json) AS x(id text, status text, record text)
                    WHERE e.id = x.id RETURNING e.id
                    """, logger: logger, as: String.self)
                if touched.count < updating.count { throw StoreError("no execution to update") }
            }
            if let json = try rows(observations, of: \.execution_id) {
                try await connection.execute(
                    """
                    INSERT INTO learning_observation (workflow_id, execution_id, observation)
                    SELECT workflow_id, execution_id, observation FROM json_to_recordset(\(json)::json)
                        AS x(workflow_id text, execution_id text, observation text)
                    \(unescaped: again ? "WHERE NOT EXISTS (SELECT 1 FROM learning_observation o WHERE o.workflow_id = x.workflow_id AND o.execution_id = x.execution_id)" : "")
                    """, logger: logger)
            }
            if let json = try rows(processes, of: \.execution_id) {
                try await connection.execute(
                    """
                    UPDATE attempt a SET process = x.process
                    FROM json_to_recordset(\(json)::json) AS x(execution_id text, step_id text, attempt int4, process text)
                    WHERE a.execution_id = x.execution_id AND a.step_id = x.step_id AND a.attempt = x.attempt
                    """, logger: logger)
            }
            if let json = try rows(releases, of: \.execution_id) {
                try await connection.execute(
                    """
                    DELETE FROM concurrency_slot s USING json_to_recordset(\(json)::json) AS x(execution_id text, step_id text)
                    WHERE s.execution_id = x.execution_id AND (x.step_id IS NULL OR s.step_id = x.step_id)
                    """, logger: logger)
            }
        }
    }
}
