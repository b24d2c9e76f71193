import Foundation
import GRDB
import Orchestration

extension SQLiteExecutionStore {
    public func saveWorkflow(_ workflow: Workflow) async throws -> String {
        let definition = String(decoding: try workflow.canonicalJSON(), as: UTF8.self)
        let hash = try workflow.contentHash()
        let id = workflow.id
        try await write("save a workflow") { db in
            let now = Date().timeIntervalSince1970
            try db.execute(
                sql: "INSERT OR IGNORE INTO workflow_version (workflow_id, version, definition, created_at) VALUES (?, ?, ?, ?)",
                arguments: [id, hash, definition, now])
            try db.execute(
                sql: """
                    INSERT INTO registered_workflow (workflow_id, version, registered_at) VALUES (?, ?, ?)
                    ON CONFLICT (workflow_id) DO UPDATE SET version = excluded.version, registered_at = excluded.registered_at
                    """,
                arguments: [id, hash, now])
        }
        return hash
    }

    public func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)] {
        let rows = try await read("list workflow versions") { db in
            try Row.fetchAll(db, sql: "SELECT version, created_at FROM workflow_version WHERE workflow_id = ? ORDER BY created_at, rowid", arguments: [id])
                .map { (($0["version"] as String), ($0["created_at"] as Double)) }
        }
        return rows.map { ($0.0, Date(timeIntervalSince1970: $0.1)) }
    }

    public func triggerStates(workflowID: String?) async throws -> [TriggerState] {
        let rows = try await read("read trigger states") { db in
            try String.fetchAll(
                db, sql: "SELECT state FROM trigger_state WHERE ?1 IS NULL OR workflow_id = ?1 ORDER BY workflow_id, trigger_id",
                arguments: [workflowID])
        }
        return try rows.map { try JSONDecoder().decode(TriggerState.self, from: Data($0.utf8)) }
    }

    public func recordDelivery(source: String, id: String, at: Date) async throws -> Bool {
        try await write("record a webhook delivery") { db in
            try db.execute(sql: "DELETE FROM webhook_delivery WHERE received_at < ?", arguments: [at.timeIntervalSince1970 - 30 * 86_400])
            try db.execute(sql: "INSERT OR IGNORE INTO webhook_delivery (source, id, received_at) VALUES (?, ?, ?)", arguments: [source, id, at.timeIntervalSince1970])
            return db.changesCount > 0
        }
    }

    public func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent] {
        let rows: [(String, String, Double, JSONValue, String, Date)] = events.map { e in
            let payload = JSONValue.object(["data": e.data, "source": .string(e.source)]).jsonText
            return (e.type, payload, e.time.timeIntervalSince1970, e.data, e.source, e.time)
        }
        let seqs = try await write("append events") { db -> [Int64] in
            let statement = try db.cachedStatement(sql: "INSERT INTO event (type, payload, created_at) VALUES (?, ?, ?)")
            var out: [Int64] = []
            out.reserveCapacity(rows.count)
            for r in rows {
                try statement.execute(arguments: [r.0, r.1, r.2])
                out.append(db.lastInsertedRowID)
            }
            return out
        }
        return zip(seqs, rows).map { BusEvent(seq: $0.0, type: $0.1.0, data: $0.1.3, source: $0.1.4, time: $0.1.5) }
    }

    public func events(after seq: Int64, limit: Int) async throws -> [BusEvent] {
        let rows = try await read("read events") { db in
            try Row.fetchAll(db, sql: "SELECT seq, type, payload, created_at FROM event WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
                .map { (($0["seq"] as Int64), ($0["type"] as String), ($0["payload"] as String), ($0["created_at"] as Double)) }
        }
        return rows.map { row in
            var data: JSONValue = .null
            var source = ""
            if case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: Data(row.2.utf8)) {
                data = o["data"] ?? .null
                if case .string(let s)? = o["source"] { source = s }
            }
            return BusEvent(seq: row.0, type: row.1, data: data, source: source, time: Date(timeIntervalSince1970: row.3))
        }
    }

    public func lastEventSeq() async throws -> Int64 {
        try await read("read the last event") { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM event") ?? 0 }
    }

    public func cursor(_ name: String) async throws -> Int64? {
        try await read("read a consumer's cursor") { db in try Int64.fetchOne(db, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [name]) }
    }

    public func saveCursor(_ name: String, _ seq: Int64) async throws {
        try await write("save a consumer's cursor") { db in
            try db.execute(sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq", arguments: [name, seq])
        }
    }

    public func subscriptions() async throws -> [EventSubscription] {
        let rows = try await read("list subscriptions") { db in try String.fetchAll(db, sql: "SELECT record FROM event_subscription ORDER BY created_at, id") }
        return try rows.map { try JSONDecoder().decode(EventSubscription.self, from: Data($0.utf8)) }
    }

    public func saveSubscription(_ subscription: EventSubscription) async throws {
        let json = String(decoding: try JSONEncoder().encode(subscription), as: UTF8.self)
        try await write("save a subscription") { db in
            try db.execute(
                sql: "INSERT INTO event_subscription (id, record, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                arguments: [subscription.id, json, subscription.createdAt.timeIntervalSince1970])
        }
    }

    public func deleteSubscription(id: String) async throws -> Bool {
        try await write("delete a subscription") { db in
            try db.execute(sql: "DELETE FROM event_subscription WHERE id = ?", arguments: [id])
            let existed = db.changesCount > 0
            try db.execute(sql: "DELETE FROM consumer_cursor WHERE name = ?", arguments: ["subscription:" + id])
            return existed
        }
    }

    public func addDeadLetter(_ letter: DeadLetter) async throws {
        let json = String(decoding: try JSONEncoder().encode(letter), as: UTF8.self)
        try await write("record a dead letter") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO dead_letter (subscription_id, seq, record) VALUES (?, ?, ?)", arguments: [letter.subscriptionID, letter.seq, json])
        }
    }

    public func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter] {
        let rows = try await read("list dead letters") { db in
            try String.fetchAll(db, sql: "SELECT record FROM dead_letter WHERE subscription_id = ? ORDER BY seq DESC LIMIT ?", arguments: [subscriptionID, limit])
        }
        return try rows.map { try JSONDecoder().decode(DeadLetter.self, from: Data($0.utf8)) }
    }

    public func saveTriggerState(_ state: TriggerState) async throws {
        let json = String(decoding: try JSONEncoder().encode(state), as: UTF8.self)
        try await write("save a trigger's state") { db in
            try db.execute(
                sql: "INSERT INTO trigger_state (workflow_id, trigger_id, state) VALUES (?, ?, ?) ON CONFLICT(workflow_id, trigger_id) DO UPDATE SET state = excluded.state",
                arguments: [state.workflowID, state.triggerID, json])
        }
    }

    public func unregisterWorkflow(id: String) async throws -> Bool {
        try await write("unregister a workflow") { db in
            try db.execute(sql: "DELETE FROM registered_workflow WHERE workflow_id = ?", arguments: [id])
            return db.changesCount > 0
        }
    }

    public func registeredWorkflows() async throws -> [Workflow] {
        let texts = try await read("list workflows") { db in
            try String.fetchAll(db, sql: """
                SELECT v.definition FROM registered_workflow r
                JOIN workflow_version v ON v.workflow_id = r.workflow_id AND v.version = r.version
                ORDER BY r.workflow_id
                """)
        }
        return try texts.map { try Self.decode(Workflow.self, $0) }
    }

    public func workflow(id: String, version: String) async throws -> Workflow? {
        let text = try await read("read a workflow") { db in
            try String.fetchOne(db, sql: "SELECT definition FROM workflow_version WHERE workflow_id = ? AND version = ?", arguments: [id, version])
        }
        guard let text else { return nil }
        return try Self.decode(Workflow.self, text)
    }

    public func apply(_ writes: [StoreWrite]) async throws {
        // Encode outside the write lock; then one transaction for the batch.
        enum Prepared: Sendable {
            case create(id: String, workflowID: String, hash: String, status: String, record: String, created: Double, results: [(String, String)])
            case update(id: String, status: String, record: String)
            case attempt(AttemptRecord)
            case step(executionID: String, stepID: String, result: String, attempt: AttemptRecord?, log: String)
            case observation(workflowID: String, executionID: String, json: String)
            case process(executionID: String, stepID: String, attempt: Int, json: String)
        }
        var prepared: [Prepared] = []
        prepared.reserveCapacity(writes.count)
        for w in writes {
            switch w {
            case .createExecution(let record):
                var header = record
                header.execution.stepResults = [:]
                let e = record.execution
                prepared.append(.create(
                    id: e.id, workflowID: e.workflowID, hash: record.workflowHash, status: e.status.rawValue,
                    record: try Self.json(header), created: record.createdAt.timeIntervalSince1970,
                    results: try record.execution.stepResults.values.map { ($0.stepID, try Self.json($0)) }))
            case .updateExecution(let record):
                var header = record
                header.execution.stepResults = [:]
                prepared.append(.update(id: record.execution.id, status: record.execution.status.rawValue, record: try Self.json(header)))
            case .attempt(let a):
                prepared.append(.attempt(a))
            case .stepFinished(let id, let result, let attempt, let log):
                prepared.append(.step(executionID: id, stepID: result.stepID, result: try Self.json(result), attempt: attempt, log: log))
            case .observation(let o):
                prepared.append(.observation(workflowID: o.workflowID, executionID: o.executionID, json: try Self.json(o)))
            case .attemptProcess(let id, let stepID, let attempt, let process):
                prepared.append(.process(executionID: id, stepID: stepID, attempt: attempt, json: try Self.json(process)))
            }
        }
        let batch = prepared
        try await write("save \(writes.count == 1 ? "a change" : "\(writes.count) changes")") { db in
            for p in batch {
                switch p {
                case .create(let id, let workflowID, let hash, let status, let record, let created, let results):
                    try db.execute(
                        sql: "INSERT INTO execution (id, workflow_id, workflow_version, status, record, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                        arguments: [id, workflowID, hash, status, record, created])
                    for (stepID, json) in results {
                        try db.execute(sql: "INSERT INTO step_result (execution_id, step_id, result) VALUES (?, ?, ?)", arguments: [id, stepID, json])
                    }
                case .update(let id, let status, let record):
                    try db.execute(sql: "UPDATE execution SET status = ?, record = ? WHERE id = ?", arguments: [status, record, id])
                    if db.changesCount == 0 { throw StoreError("no execution \(id)") }
                case .attempt(let a):
                    try Self.upsert(a, db)
                case .step(let id, let stepID, let result, let attempt, let log):
                    try db.cachedStatement(sql: """
                        INSERT INTO step_result (execution_id, step_id, result, log) VALUES (?, ?, ?, ?)
                        ON CONFLICT (execution_id, step_id) DO UPDATE SET result = excluded.result, log = excluded.log
                        """).execute(arguments: [id, stepID, result, log])
                    if let attempt { try Self.upsert(attempt, db) }
                case .observation(let workflowID, let executionID, let json):
                    try db.cachedStatement(sql: "INSERT INTO learning_observation (workflow_id, execution_id, observation) VALUES (?, ?, ?)")
                        .execute(arguments: [workflowID, executionID, json])
                case .process(let id, let stepID, let attempt, let json):
                    try db.cachedStatement(sql: "UPDATE attempt SET process = ? WHERE execution_id = ? AND step_id = ? AND attempt = ?")
                        .execute(arguments: [json, id, stepID, attempt])
                }
            }
        }
    }

    static func upsert(_ a: AttemptRecord, _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO attempt (execution_id, step_id, attempt, status, started_at, finished_at, error, exit_code)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (execution_id, step_id, attempt) DO UPDATE SET
                status = excluded.status, finished_at = excluded.finished_at, error = excluded.error, exit_code = excluded.exit_code
            """).execute(
            arguments: [
                a.executionID, a.stepID, a.attempt, a.status.rawValue, a.startedAt.timeIntervalSince1970,
                a.finishedAt?.timeIntervalSince1970, a.error, a.exitCode,
            ])
    }

    public func execution(id: String) async throws -> ExecutionRecord? {
        let rows = try await read("read an execution") { db -> (String, [String])? in
            guard let header = try String.fetchOne(db, sql: "SELECT record FROM execution WHERE id = ?", arguments: [id]) else { return nil }
            let results = try String.fetchAll(db, sql: "SELECT result FROM step_result WHERE execution_id = ?", arguments: [id])
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

    public func attempts(executionID: String, stepID: String?) async throws -> [AttemptRecord] {
        try await read("read attempts") { db in
            var sql = "SELECT * FROM attempt WHERE execution_id = ?"
            var arguments: StatementArguments = [executionID]
            if let stepID {
                sql += " AND step_id = ?"
                arguments += [stepID]
            }
            // Insertion order: an upsert keeps the row (and its rowid).
            sql += " ORDER BY rowid"
            return try Row.fetchAll(db, sql: sql, arguments: arguments).map(Self.attempt)
        }
    }

    static func attempt(_ row: Row) -> AttemptRecord {
        AttemptRecord(
            executionID: row["execution_id"], stepID: row["step_id"], attempt: row["attempt"],
            status: AttemptRecord.Status(rawValue: row["status"]) ?? .failed,
            startedAt: Date(timeIntervalSince1970: row["started_at"]),
            finishedAt: (row["finished_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            error: row["error"], exitCode: row["exit_code"],
            process: (row["process"] as String?).flatMap { try? JSONDecoder().decode(ProcessHandle.self, from: Data($0.utf8)) })
    }

    public func log(executionID: String, stepID: String) async throws -> String? {
        try await read("read a log") { db in
            try String.fetchOne(db, sql: "SELECT log FROM step_result WHERE execution_id = ? AND step_id = ?", arguments: [executionID, stepID])
        }
    }

    public func interruptAttempts(executionID: String, at date: Date) async throws -> [AttemptRecord] {
        try await write("mark interrupted attempts") { db in
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM attempt WHERE execution_id = ? AND status = 'running' ORDER BY rowid", arguments: [executionID])
            try db.execute(
                sql: "UPDATE attempt SET status = 'interrupted', finished_at = ?, error = ? WHERE execution_id = ? AND status = 'running'",
                arguments: [date.timeIntervalSince1970, "interrupted: the process running it stopped", executionID])
            return rows.map {
                var a = Self.attempt($0)
                a.status = .interrupted
                a.finishedAt = date
                a.error = "interrupted: the process running it stopped"
                return a
            }
        }
    }

    public func prune(endedBefore cutoff: Date) async throws -> Int {
        // The record's JSON holds finishedAt; created_at is a safe lower bound for the filter.
        let candidates = try await read("list old executions") { db in
            try String.fetchAll(db, sql: "SELECT record FROM execution WHERE status IN ('completed', 'failed', 'cancelled') AND created_at < ?", arguments: [cutoff.timeIntervalSince1970])
        }
        var old: [String] = []
        for text in candidates {
            let record = try Self.decode(ExecutionRecord.self, text)
            if (record.execution.finishedAt ?? record.createdAt) < cutoff { old.append(record.execution.id) }
        }
        guard !old.isEmpty else { return 0 }
        let ids = old
        try await write("delete old executions") { db in
            for id in ids {
                try db.execute(sql: "DELETE FROM attempt WHERE execution_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM step_result WHERE execution_id = ?", arguments: [id])
                try db.execute(sql: "DELETE FROM execution WHERE id = ?", arguments: [id])
            }
        }
        return old.count
    }

    /// Runs SQLite's own consistency check; `["ok"]` when the file is sound.
    public func integrityCheck() async throws -> [String] {
        try await read("check the database") { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}

extension SQLiteExecutionStore: StepCache {
    public func lookup(_ key: String, now: Date) async -> [String: JSONValue]? {
        let text = try? await read("read the cache") { db in
            try String.fetchOne(db, sql: "SELECT outputs FROM cache_entry WHERE key = ? AND expires_at > ?", arguments: [key, now.timeIntervalSince1970])
        }
        guard let text else { return nil }
        return try? Self.decode([String: JSONValue].self, text)
    }

    public func store(_ key: String, outputs: [String: JSONValue], expires: Date) async {
        guard let json = try? Self.json(outputs) else { return }
        _ = try? await write("write the cache") { db in
            try db.execute(
                sql: "INSERT INTO cache_entry (key, outputs, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET outputs = excluded.outputs, expires_at = excluded.expires_at",
                arguments: [key, json, expires.timeIntervalSince1970])
        }
    }
}
