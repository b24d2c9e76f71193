import Foundation

/// Counters of one execution, mirroring the guide's `ExecutionMetrics`.
public struct ExecutionMetrics: Sendable, Hashable, Codable {
    public var stepCount: Int
    public var successfulSteps: Int
    public var failedSteps: Int
    public var skippedSteps: Int
    public var retryCount: Int
    public var cacheHits: Int
    /// Wall time from start to end.
    public var totalDuration: Duration
    /// The longest chain of dependent step durations actually observed.
    public var criticalPathDuration: Duration
    /// Sum of step durations ÷ wall time: the parallel speedup actually obtained.
    public var optimizationGains: Double

    public init(
        stepCount: Int = 0, successfulSteps: Int = 0, failedSteps: Int = 0, skippedSteps: Int = 0,
        retryCount: Int = 0, cacheHits: Int = 0, totalDuration: Duration = .zero,
        criticalPathDuration: Duration = .zero, optimizationGains: Double = 0
    ) {
        self.stepCount = stepCount
        self.successfulSteps = successfulSteps
        self.failedSteps = failedSteps
        self.skippedSteps = skippedSteps
        self.retryCount = retryCount
        self.cacheHits = cacheHits
        self.totalDuration = totalDuration
        self.criticalPathDuration = criticalPathDuration
        self.optimizationGains = optimizationGains
    }
}

/// One run of a workflow, mirroring the guide's `WorkflowExecution`.
public struct WorkflowExecution: Sendable, Hashable, Codable {
    public var id: String
    public var workflowID: String
    /// The content hash of the workflow version the execution runs.
    public var workflowVersion: String?
    public var status: ExecutionStatus
    public var inputs: [String: JSONValue]
    /// The step running most recently started, for progress displays.
    public var currentStep: String?
    public var stepResults: [String: StepResult]
    public var metrics: ExecutionMetrics
    public var error: String?
    public var startedAt: Date?
    public var finishedAt: Date?
    /// When a running execution is expected to end (see
    /// ``ExecutionStateMachine/remainingSeconds(now:)``); `nil` once it has.
    public var estimatedCompletion: Date?
    /// `true` while the execution runs in debug mode (paused before each step).
    public var debug: Bool?
    /// In debug mode, the step the execution is paused before (`resume` runs it).
    public var pausedBefore: String?
    /// A child execution's parent: the execution and the `workflow` step that started it.
    public var parent: ParentLink?
    /// The rendered key of the workflow's concurrency group: at most its limit of executions with
    /// the key run at once; a `pending` execution with one waits for its turn.
    public var concurrencyKey: String?
    /// What the workflow's `outputs` gave when the execution completed.
    public var outputs: [String: JSONValue]?

    public init(
        id: String, workflowID: String, workflowVersion: String? = nil, status: ExecutionStatus = .pending,
        inputs: [String: JSONValue] = [:], currentStep: String? = nil, stepResults: [String: StepResult] = [:],
        metrics: ExecutionMetrics = ExecutionMetrics(), error: String? = nil, startedAt: Date? = nil,
        finishedAt: Date? = nil
    ) {
        self.id = id
        self.workflowID = workflowID
        self.workflowVersion = workflowVersion
        self.status = status
        self.inputs = inputs
        self.currentStep = currentStep
        self.stepResults = stepResults
        self.metrics = metrics
        self.error = error
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}
