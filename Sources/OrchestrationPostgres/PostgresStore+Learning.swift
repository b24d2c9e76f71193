import Foundation
import Orchestration
import PostgresNIO

/// What the learning engine keeps: observations of finished executions from every node (written
/// with each execution's end, in ``apply(_:)``), its saved statistics, and the audit trail.
extension PostgresStore: LearningStore {
    public func observations(workflowID: String, after seq: Int64, limit: Int) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        let count = Int64(max(0, limit))
        return try await rows(
            "read learning observations",
            "SELECT seq, observation FROM learning_observation WHERE workflow_id = \(workflowID) AND seq > \(seq) ORDER BY seq LIMIT \(count)",
            as: (Int64, String).self
        ).map { (seq: $0.0, observation: try Self.decode(ExecutionObservation.self, $0.1)) }
    }

    public func observationIDs(workflowID: String, after seq: Int64) async throws -> [(seq: Int64, executionID: String)] {
        try await rows(
            "list learning observations",
            "SELECT seq, execution_id FROM learning_observation WHERE workflow_id = \(workflowID) AND seq > \(seq) ORDER BY seq",
            as: (Int64, String).self
        ).map { (seq: $0.0, executionID: $0.1) }
    }

    public func observations(seqs: [Int64]) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        guard !seqs.isEmpty else { return [] }
        return try await rows(
            "read learning observations", "SELECT seq, observation FROM learning_observation WHERE seq = ANY(\(seqs)) ORDER BY seq",
            as: (Int64, String).self
        ).map { (seq: $0.0, observation: try Self.decode(ExecutionObservation.self, $0.1)) }
    }

    public func learningSnapshot(workflowID: String) async throws -> Data? {
        try await rows("read learned statistics", "SELECT statistics FROM learning_snapshot WHERE workflow_id = \(workflowID)", as: String.self)
            .first.map { Data($0.utf8) }
    }

    public func saveLearningSnapshot(workflowID: String, _ data: Data) async throws {
        let text = String(decoding: data, as: UTF8.self)
        try await query(
            "save learned statistics",
            """
            INSERT INTO learning_snapshot (workflow_id, statistics) VALUES (\(workflowID), \(text))
            ON CONFLICT (workflow_id) DO UPDATE SET statistics = excluded.statistics
            """)
    }

    public func appendOptimizationRecord(_ record: OptimizationRecord) async throws {
        let json = try Self.json(record)
        try await query("record an optimization", "INSERT INTO optimization_audit (workflow_id, record) VALUES (\(record.workflowID), \(json))")
    }

    public func optimizationRecords(workflowID: String) async throws -> [OptimizationRecord] {
        try await rows(
            "read the optimization audit", "SELECT record FROM optimization_audit WHERE workflow_id = \(workflowID) ORDER BY seq", as: String.self
        )
        .map { try Self.decode(OptimizationRecord.self, $0) }
    }
}

/// Cached step outputs, shared by every node.
extension PostgresStore: StepCache {
    public func lookup(_ key: String, now: Date) async -> [String: JSONValue]? {
        let at = now.timeIntervalSince1970
        guard
            let text = try? await rows("read the cache", "SELECT outputs FROM cache_entry WHERE key = \(key) AND expires_at > \(at)", as: String.self)
                .first
        else { return nil }
        return try? Self.decode([String: JSONValue].self, text)
    }

    public func store(_ key: String, outputs: [String: JSONValue], expires: Date) async {
        guard let json = try? Self.json(outputs) else { return }
        let until = expires.timeIntervalSince1970
        _ = try? await query(
            "write the cache",
            """
            INSERT INTO cache_entry (key, outputs, expires_at) VALUES (\(key), \(json), \(until))
            ON CONFLICT (key) DO UPDATE SET outputs = excluded.outputs, expires_at = excluded.expires_at
            """)
    }
}
