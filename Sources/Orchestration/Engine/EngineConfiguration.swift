import Logging
import Tracing

/// Engine-wide settings, with their defaults.
public struct EngineConfiguration: Sendable {
    /// Where the engine logs execution and step lifecycle events, trigger fires, recovery and store
    /// errors, with `execution`, `workflow`, `step` and `attempt` metadata. `nil` (the default):
    /// nothing is logged.
    public var logger: Logger?
    /// The most steps running at once across one execution (a workflow's `maxParallelism` may
    /// lower it). Default 64.
    public var workerLimit: Int
    /// Time a cancelled or timed-out process gets between SIGTERM and SIGKILL. Default 5 s.
    public var killGracePeriod: Duration
    /// Bytes of stdout/stderr kept per attempt (the tail). Default 64 KiB.
    public var logLimit: Int
    /// The actions steps may name.
    public var actions: ActionCatalog
    /// Finished executions kept in memory for `getExecution`/`listExecutions` (trimmed in batches, so
    /// up to a quarter more between trims); older ones are read from the store. Default 1,000.
    public var retainedExecutions: Int
    /// Which ready step starts first when not all may: critical path first (by learned durations
    /// once there are enough executions, else `estimatedDuration`), or first come, first served.
    public var scheduling: ReadyQueue.Scheduling
    /// A simulation: every step runs through the executor registered for its type, `workflow`
    /// steps, approvals and waits for a signal or a time included (they start no child and wait
    /// for nobody). Default `false`.
    public var modelsEveryStep = false
    /// Where executions go as traces (docs/observability.md): a span per execution, attempt,
    /// wait and rollback. `nil` (the default): none are made.
    public var tracer: (any Tracer)?

    public init(
        workerLimit: Int = 64, killGracePeriod: Duration = .seconds(5), logLimit: Int = 64 * 1024,
        actions: ActionCatalog = .builtIn, retainedExecutions: Int = 1000, scheduling: ReadyQueue.Scheduling = .criticalPathFirst,
        logger: Logger? = nil
    ) {
        self.logger = logger
        self.scheduling = scheduling
        self.workerLimit = workerLimit
        self.killGracePeriod = killGracePeriod
        self.logLimit = logLimit
        self.actions = actions
        self.retainedExecutions = retainedExecutions
    }
}

/// Per-execution options.
public struct ExecutionOptions: Sendable {
    /// Lower the parallelism of this execution (`--max-parallel`).
    public var maxParallelism: Int?
    /// Pause before every step; `resumeExecution` lets one more start.
    public var debug: Bool
    /// The triggering event's data, read by `${trigger.…}`.
    public var trigger: JSONValue
    /// Results to reuse instead of running those steps (retry-from-failure).
    public var reuse: [String: StepResult]
    /// Starts with this key start one execution (see ``WorkflowEngine/startExecution(_:inputs:options:)``).
    public var idempotencyKey: String?
    /// Set when a parent's `workflow` step starts this execution.
    public var parent: ParentLink?
    /// The span the execution's trace continues (a request's `traceparent`, a parent step's
    /// attempt); without one, the execution starts a trace of its own.
    public var traceParent: TraceHeaders?

    public init(
        maxParallelism: Int? = nil, debug: Bool = false, trigger: JSONValue = .null, reuse: [String: StepResult] = [:], idempotencyKey: String? = nil
    ) {
        self.maxParallelism = maxParallelism
        self.debug = debug
        self.trigger = trigger
        self.reuse = reuse
        self.idempotencyKey = idempotencyKey
    }
}
