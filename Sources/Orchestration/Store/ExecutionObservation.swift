import Foundation

/// What the learning engine keeps of one finished execution: per step, how each attempt ended and
/// how long it took, how long the step waited for a worker, and fingerprints of its inputs and
/// outputs (for caching). The engine writes it in the same transaction as the execution's end.
public struct ExecutionObservation: Sendable, Hashable, Codable {
    public var executionID: String
    public var workflowID: String
    /// The content hash of the definition that ran.
    public var version: String
    public var status: ExecutionStatus
    public var startedAt: Date
    /// Wall time from start to end, in seconds.
    public var seconds: Double
    public var steps: [StepObservation]

    public init(
        executionID: String, workflowID: String, version: String, status: ExecutionStatus, startedAt: Date, seconds: Double, steps: [StepObservation]
    ) {
        self.executionID = executionID
        self.workflowID = workflowID
        self.version = version
        self.status = status
        self.startedAt = startedAt
        self.seconds = seconds
        self.steps = steps
    }
}

/// One step of one execution.
public struct StepObservation: Sendable, Hashable, Codable {
    public var stepID: String
    public var status: StepStatus
    public var attempts: [AttemptObservation]
    /// Seconds between the step becoming ready and its first attempt starting.
    public var queueWait: Double?
    /// A fingerprint of the first attempt's resolved inputs (the cache key), when it ran.
    public var inputKey: String?
    /// A fingerprint of the outputs, when it succeeded.
    public var outputKey: String?

    public init(
        stepID: String, status: StepStatus, attempts: [AttemptObservation] = [], queueWait: Double? = nil, inputKey: String? = nil,
        outputKey: String? = nil
    ) {
        self.stepID = stepID
        self.status = status
        self.attempts = attempts
        self.queueWait = queueWait
        self.inputKey = inputKey
        self.outputKey = outputKey
    }
}

/// One attempt of a step.
public struct AttemptObservation: Sendable, Hashable, Codable {
    /// How the attempt ended (never `running`; `interrupted` ones are not observed).
    public var outcome: AttemptStatus
    public var seconds: Double
    /// The error, already redacted (secrets never reach the learning engine).
    public var error: String?

    public init(outcome: AttemptStatus, seconds: Double, error: String? = nil) {
        self.outcome = outcome
        self.seconds = seconds
        self.error = error
    }
}
