import Foundation
import GRDB
import Orchestration

/// What the learning engine keeps: observations of finished executions (written with each
/// execution's end, in ``apply(_:)``), its saved statistics, and the audit trail of optimizations.
extension SQLiteStore: LearningStore {
    public func observations(workflowID: String, after seq: Int64, limit: Int) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        let rows = try await read("read learning observations") { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, observation FROM learning_observation WHERE workflow_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                arguments: [workflowID, seq, limit]
            )
            .map { (seq: $0["seq"] as Int64, text: $0["observation"] as String) }
        }
        return try rows.map { (seq: $0.seq, observation: try Self.decode(ExecutionObservation.self, $0.text)) }
    }

    public func observationIDs(workflowID: String, after seq: Int64) async throws -> [(seq: Int64, executionID: String)] {
        try await read("list learning observations") { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, execution_id FROM learning_observation WHERE workflow_id = ? AND seq > ? ORDER BY seq",
                arguments: [workflowID, seq]
            )
            .map { (seq: $0["seq"] as Int64, executionID: $0["execution_id"] as String) }
        }
    }

    public func observations(seqs: [Int64]) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        guard !seqs.isEmpty else { return [] }
        let rows = try await read("read learning observations") { db in
            try Row.fetchAll(
                db,
                sql: "SELECT seq, observation FROM learning_observation WHERE seq IN (\(seqs.map { _ in "?" }.joined(separator: ","))) ORDER BY seq",
                arguments: StatementArguments(seqs)
            )
            .map { (seq: $0["seq"] as Int64, text: $0["observation"] as String) }
        }
        return try rows.map { (seq: $0.seq, observation: try Self.decode(ExecutionObservation.self, $0.text)) }
    }

    public func learningSnapshot(workflowID: String) async throws -> Data? {
        try await read("read learned statistics") { db in
            try String.fetchOne(db, sql: "SELECT statistics FROM learning_snapshot WHERE workflow_id = ?", arguments: [workflowID]).map {
                Data($0.utf8)
            }
        }
    }

    public func saveLearningSnapshot(workflowID: String, _ data: Data) async throws {
        let text = String(decoding: data, as: UTF8.self)
        try await writeWaiting("save learned statistics") { db in
            try db.execute(
                sql:
                    "INSERT INTO learning_snapshot (workflow_id, statistics) VALUES (?, ?) ON CONFLICT(workflow_id) DO UPDATE SET statistics = excluded.statistics",
                arguments: [workflowID, text])
        }
    }

    public func appendOptimizationRecord(_ record: OptimizationRecord) async throws {
        let json = try Self.json(record)
        try await writeWaiting("record an optimization") { db in
            try db.execute(sql: "INSERT INTO optimization_audit (workflow_id, record) VALUES (?, ?)", arguments: [record.workflowID, json])
        }
    }

    public func optimizationRecords(workflowID: String) async throws -> [OptimizationRecord] {
        let rows = try await read("read the optimization audit") { db in
            try String.fetchAll(db, sql: "SELECT record FROM optimization_audit WHERE workflow_id = ? ORDER BY seq", arguments: [workflowID])
        }
        return try rows.map { try Self.decode(OptimizationRecord.self, $0) }
    }
}
