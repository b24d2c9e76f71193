import Foundation

/// Executions, their step results, attempts and log tails: the source of truth the engine writes
/// before it acts, and reads back after a crash.
///
/// The engine's contract with it (docs/durability.md): an execution is saved before
/// `executeWorkflow` returns; a step's result is saved before any dependent starts; an attempt is
/// saved as started before it runs, so one that was in flight at a crash is found and recorded as
/// interrupted.
///
/// ```swift
/// try await store.apply([.createExecution(record), .attempt(started)])
/// let back = try await store.execution(id: record.execution.id)
/// ```
public protocol ExecutionStore: Sendable {
    /// Applies `writes` in order, all or none (one transaction): the engine batches what piles
    /// up while the previous batch commits (group commit). An ``StoreWrite/observation(_:)`` in
    /// the batch is written to the ``LearningStore`` of the same store, in the same transaction.
    func apply(_ writes: [StoreWrite]) async throws

    /// One execution with its step results.
    func execution(id: String) async throws -> ExecutionRecord?
    /// Executions, newest first, without step results.
    func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) async throws -> [ExecutionRecord]
    /// Executions that had not ended (pending, running, paused), with their step results.
    func unfinishedExecutions() async throws -> [ExecutionRecord]
    /// Attempts of one execution (of one step, when given), in start order.
    func attempts(executionID: String, stepID: String?) async throws -> [AttemptRecord]
    /// The kept log tail of a step's last attempt.
    func log(executionID: String, stepID: String) async throws -> String?
    /// Marks every attempt of the execution still recorded as running as interrupted; returns them.
    func interruptAttempts(executionID: String, at: Date) async throws -> [AttemptRecord]
    /// Deletes executions that ended before `cutoff` (with their steps, attempts and logs);
    /// returns how many. Running and paused executions are kept whatever their age.
    func prune(endedBefore cutoff: Date) async throws -> Int
}

/// One change to an ``ExecutionStore``, applied in a batch by ``ExecutionStore/apply(_:)``.
public enum StoreWrite: Sendable {
    /// A new execution (with its step results, if any).
    case createExecution(ExecutionRecord)
    /// An execution's status, error, times, metrics and options (not its step results).
    case updateExecution(ExecutionRecord)
    /// An attempt started, or ended without ending its step (it will be retried).
    case attempt(AttemptRecord)
    /// A step's (or rollback's, ``StepResult/rollbackID(of:)``) result, the attempt that produced
    /// it, and the tail of its log.
    case stepFinished(executionID: String, result: StepResult, attempt: AttemptRecord?, log: String)
    /// What the learning engine learns from a finished execution (in the transaction of its end).
    case observation(ExecutionObservation)
    /// The process group an attempt started (its record exists already).
    case attemptProcess(executionID: String, stepID: String, attempt: Int, process: ProcessHandle)
    /// Frees the concurrency slots (held or waited for) of one step of an execution, or of all of
    /// it when `stepID` is nil (``ConcurrencyStore``): written with the holder's end.
    case releaseSlots(executionID: String, stepID: String?)
}

extension ExecutionStore {
    public func createExecution(_ record: ExecutionRecord) async throws { try await apply([.createExecution(record)]) }
    public func updateExecution(_ record: ExecutionRecord) async throws { try await apply([.updateExecution(record)]) }
    public func attemptStarted(_ attempt: AttemptRecord) async throws { try await apply([.attempt(attempt)]) }
    public func attemptFinished(_ attempt: AttemptRecord) async throws { try await apply([.attempt(attempt)]) }
    public func stepFinished(executionID: String, result: StepResult, attempt: AttemptRecord?, log: String) async throws {
        try await apply([.stepFinished(executionID: executionID, result: result, attempt: attempt, log: log)])
    }
}
