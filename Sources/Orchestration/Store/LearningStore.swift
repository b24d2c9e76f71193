import Foundation

/// What the learning engine keeps: observations of finished executions (written with each
/// execution's end by ``ExecutionStore/apply(_:)``), its saved statistics, and the audit trail of
/// optimizations applied and reverted.
public protocol LearningStore: Sendable {
    /// Observations of finished executions of a workflow after `seq`, oldest first, with their
    /// sequence numbers.
    func observations(workflowID: String, after seq: Int64, limit: Int) async throws -> [(seq: Int64, observation: ExecutionObservation)]
    /// The sequence numbers and execution ids of a workflow's observations after `seq`, oldest first.
    func observationIDs(workflowID: String, after seq: Int64) async throws -> [(seq: Int64, executionID: String)]
    /// The observations with these sequence numbers, in sequence order.
    func observations(seqs: [Int64]) async throws -> [(seq: Int64, observation: ExecutionObservation)]
    /// The learning engine's saved statistics of a workflow.
    func learningSnapshot(workflowID: String) async throws -> Data?
    func saveLearningSnapshot(workflowID: String, _ data: Data) async throws
    /// Appends to the audit trail of optimizations applied and reverted.
    func appendOptimizationRecord(_ record: OptimizationRecord) async throws
    /// Oldest first.
    func optimizationRecords(workflowID: String) async throws -> [OptimizationRecord]
}
