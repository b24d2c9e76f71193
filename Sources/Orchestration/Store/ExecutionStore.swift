import Crypto
import Foundation

/// Where executions live: the source of truth the engine writes before it acts, and reads back
/// after a crash. Two implementations: ``InMemoryExecutionStore`` and the SQLite store
/// (`OrchestrationSQLite`); one conformance suite runs against both.
///
/// The engine's contract with a store (DESIGN §5): an execution is saved before
/// `executeWorkflow` returns; a step's result is saved before any dependent starts; an attempt is
/// saved as started before it runs, so one that was in flight at a crash is found and recorded as
/// interrupted.
///
/// ```swift
/// let store = InMemoryExecutionStore()
/// let version = try await store.saveWorkflow(workflow)
/// ```
public protocol ExecutionStore: Sendable {
    /// Saves a workflow definition under its content hash (idempotent) and returns the hash.
    func saveWorkflow(_ workflow: Workflow) async throws -> String
    /// A saved definition.
    func workflow(id: String, version: String) async throws -> Workflow?
    /// The workflows registered, each in the version saved last, by id.
    func registeredWorkflows() async throws -> [Workflow]
    /// Every saved version of a workflow, oldest first: content hash and when it was first saved.
    func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)]
    /// Forgets that a workflow is registered; its versions stay for the executions that pinned
    /// them. Returns whether it was registered.
    func unregisterWorkflow(id: String) async throws -> Bool

    /// Applies `writes` in order, all or none (one transaction): the engine batches what piles
    /// up while the previous batch commits (group commit).
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

    /// The saved state of every trigger (of one workflow, when given).
    func triggerStates(workflowID: String?) async throws -> [TriggerState]
    /// Saves a trigger's state (replacing what was saved).
    func saveTriggerState(_ state: TriggerState) async throws
    /// Remembers a webhook delivery id; `false` when it was seen before (a redelivery). Ids older
    /// than 30 days are forgotten.
    func recordDelivery(source: String, id: String, at: Date) async throws -> Bool

    /// Appends events in one transaction; returns them with their sequence numbers.
    func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent]
    /// Events after `seq`, oldest first.
    func events(after seq: Int64, limit: Int) async throws -> [BusEvent]
    /// The sequence number of the newest event (0 when there is none).
    func lastEventSeq() async throws -> Int64
    /// How far a durable consumer got (`nil` when it never ran).
    func cursor(_ name: String) async throws -> Int64?
    func saveCursor(_ name: String, _ seq: Int64) async throws
    func subscriptions() async throws -> [EventSubscription]
    func saveSubscription(_ subscription: EventSubscription) async throws
    /// Returns whether it existed.
    func deleteSubscription(id: String) async throws -> Bool
    func addDeadLetter(_ letter: DeadLetter) async throws
    /// Newest first.
    func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter]

    /// Observations of finished executions of a workflow after `seq`, oldest first, with their
    /// sequence numbers (written by ``StoreWrite/observation(_:)``).
    func observations(workflowID: String, after seq: Int64, limit: Int) async throws -> [(seq: Int64, observation: ExecutionObservation)]
    /// The sequence numbers and execution ids of a workflow's observations after `seq`, oldest first.
    func observationIDs(workflowID: String, after seq: Int64) async throws -> [(seq: Int64, executionID: String)]
    /// The observations with these sequence numbers.
    func observations(seqs: [Int64]) async throws -> [(seq: Int64, observation: ExecutionObservation)]
    /// The learning engine's saved statistics of a workflow.
    func learningSnapshot(workflowID: String) async throws -> Data?
    func saveLearningSnapshot(workflowID: String, _ data: Data) async throws
    /// Appends to the audit trail of optimizations applied and reverted.
    func appendOptimizationRecord(_ record: OptimizationRecord) async throws
    /// Oldest first.
    func optimizationRecords(workflowID: String) async throws -> [OptimizationRecord]
}

/// One change to a store.
public enum StoreWrite: Sendable {
    /// A new execution (with its step results, if any).
    case createExecution(ExecutionRecord)
    /// An execution's status, error, times, metrics and options (not its step results).
    case updateExecution(ExecutionRecord)
    /// An attempt started, or ended without ending its step (it will be retried).
    case attempt(AttemptRecord)
    /// A step's (or rollback's, `<id>.rollback`) result, the attempt that produced it, and the
    /// tail of its log.
    case stepFinished(executionID: String, result: StepResult, attempt: AttemptRecord?, log: String)
    /// What the learning engine learns from a finished execution (in the transaction of its end).
    case observation(ExecutionObservation)
    /// The process group an attempt started (its record exists already).
    case attemptProcess(executionID: String, stepID: String, attempt: Int, process: ProcessHandle)
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

/// An execution as stored: what users see, plus what the engine needs to carry it on.
public struct ExecutionRecord: Sendable, Hashable, Codable {
    public var execution: WorkflowExecution
    /// The content hash of the workflow definition the execution runs (its pinned version).
    public var workflowHash: String
    public var options: StoredOptions
    public var createdAt: Date
    /// The process running the execution (`host:pid`), so another one does not run it too.
    public var owner: String?

    public init(execution: WorkflowExecution, workflowHash: String, options: StoredOptions, createdAt: Date, owner: String? = nil) {
        self.execution = execution
        self.workflowHash = workflowHash
        self.options = options
        self.createdAt = createdAt
        self.owner = owner
    }

    /// `host:pid` of this process.
    public static var currentProcess: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// The execution options that must survive a restart.
public struct StoredOptions: Sendable, Hashable, Codable {
    public var maxParallelism: Int?
    public var debug: Bool
    public var paused: Bool
    public var trigger: JSONValue

    public init(maxParallelism: Int? = nil, debug: Bool = false, paused: Bool = false, trigger: JSONValue = .null) {
        self.maxParallelism = maxParallelism
        self.debug = debug
        self.paused = paused
        self.trigger = trigger
    }
}

/// One attempt of one step.
public struct AttemptRecord: Sendable, Hashable, Codable {
    public enum Status: String, Sendable, Hashable, Codable, CaseIterable {
        case running, succeeded, failed, timedOut, cancelled, cached
        /// In flight when the process running it died; the step was run again.
        case interrupted
    }

    public var executionID: String
    public var stepID: String
    public var attempt: Int
    public var status: Status
    public var startedAt: Date
    public var finishedAt: Date?
    public var error: String?
    public var exitCode: Int?
    /// The process group the attempt started, while it may still run (see ``ProcessHandle``).
    public var process: ProcessHandle?

    public init(
        executionID: String, stepID: String, attempt: Int, status: Status, startedAt: Date, finishedAt: Date? = nil,
        error: String? = nil, exitCode: Int? = nil, process: ProcessHandle? = nil
    ) {
        self.process = process
        self.executionID = executionID
        self.stepID = stepID
        self.attempt = attempt
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.exitCode = exitCode
    }
}

/// Errors from a store: unreadable, foreign, newer or full databases and the like.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension Workflow {
    /// The definition as canonical JSON (sorted keys): what is stored and hashed. The optimization
    /// score is derived from the rest (and changes with the planner), so it is always written as 0:
    /// the same definition keeps the same version, as it did before registration filled it in.
    public func canonicalJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var definition = self
        definition.optimizationScore = 0
        return try encoder.encode(definition)
    }

    /// SHA-256 of the canonical JSON, in hex: the same definition always has the same version.
    public func contentHash() throws -> String {
        Hex.encode(SHA256.hash(data: try canonicalJSON()))
    }
}
