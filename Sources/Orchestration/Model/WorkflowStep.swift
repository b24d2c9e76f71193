/// One node of a workflow's DAG.
///
/// Mirrors the guide's `WorkflowStep`. Only `id` is required; a step without `type` is a `task`.
///
/// ```swift
/// let deploy = WorkflowStep(
///     id: "deploy", type: .task,
///     inputs: ["command": "kubectl apply -f ${manifest}"],
///     dependencies: ["push"], timeout: .seconds(900),
///     retryPolicy: RetryPolicy(maxAttempts: 3, initialDelay: .seconds(10)))
/// ```
public struct WorkflowStep: Sendable, Hashable, Codable {
    /// Unique within the workflow, `[A-Za-z0-9_-]+`.
    public var id: String
    public var name: String?
    public var description: String?
    public var type: StepType
    /// A named action from the action catalog (`docker-build`, `health-check`, …).
    public var action: String?
    public var inputs: [String: JSONValue]
    /// Explicit upstream step ids. References in `${…}` add implicit ones.
    public var dependencies: [String]
    /// An expression; when it is false the step is skipped.
    public var condition: String?
    /// Per attempt.
    public var timeout: Duration?
    /// When nil, the workflow's default policy applies.
    public var retryPolicy: RetryPolicy?
    /// `false` makes the step exclusive: it runs alone. Default `true`.
    public var parallel: Bool
    /// A failure of this step does not fail the execution. Default `false`.
    public var continueOnFailure: Bool
    public var cache: CachePolicy?
    /// Same inputs give the same outputs and running it twice is harmless.
    public var idempotent: Bool
    /// Used by the planner until durations are learned; default 1 second.
    public var estimatedDuration: Duration?
    /// Runs, in reverse completion order, when the execution fails or is cancelled after this step succeeded.
    public var rollback: StepBody?
    /// Names of the outputs the step promises.
    public var outputs: [String]
    /// The queue whose workers run the step (`novacron worker --queue NAME`), on a store several
    /// nodes share; `nil` runs it on the node running the execution.
    public var queue: String?
    /// Runs the step once per item of a list: a `${…}` reference to a JSON list (an upstream output,
    /// an input, a variable) or a literal list. Each item is its own attempt record
    /// (`<step>[<index>]`); the step's result aggregates them (``ForEach``).
    public var forEach: JSONValue?
    /// With `forEach`: at most this many items run at once (default: the engine's limit).
    public var maxConcurrency: Int?
    /// With `forEach`: the step still succeeds when at most this many items fail.
    public var toleratedFailures: Int?
    /// With `forEach`: the step still succeeds when at most this percentage of items fail.
    public var toleratedFailurePercentage: Double?
    /// For an `approval` step: what its timeout decides, `approve` or `reject`; without it the
    /// step fails as timed out.
    public var onTimeout: String?
    /// For a `workflow` step: the id of the registered workflow it runs as a child execution.
    public var workflow: String?
    /// For a `workflow` step: the child's version (content hash, or a prefix of it) to run; the
    /// registered version when absent.
    public var workflowVersion: String?
    /// At most `limit` steps with the same rendered key run at once, across executions; the slot is
    /// taken before the first attempt and kept through retries (``ConcurrencyPolicy``).
    public var concurrency: ConcurrencyPolicy?

    public init(
        id: String,
        name: String? = nil,
        description: String? = nil,
        type: StepType = .task,
        action: String? = nil,
        inputs: [String: JSONValue] = [:],
        dependencies: [String] = [],
        condition: String? = nil,
        timeout: Duration? = nil,
        retryPolicy: RetryPolicy? = nil,
        parallel: Bool = true,
        continueOnFailure: Bool = false,
        cache: CachePolicy? = nil,
        idempotent: Bool = false,
        estimatedDuration: Duration? = nil,
        rollback: StepBody? = nil,
        outputs: [String] = [],
        queue: String? = nil,
        forEach: JSONValue? = nil,
        maxConcurrency: Int? = nil,
        toleratedFailures: Int? = nil,
        toleratedFailurePercentage: Double? = nil
    ) {
        self.queue = queue
        self.forEach = forEach
        self.maxConcurrency = maxConcurrency
        self.toleratedFailures = toleratedFailures
        self.toleratedFailurePercentage = toleratedFailurePercentage
        self.id = id
        self.name = name
        self.description = description
        self.type = type
        self.action = action
        self.inputs = inputs
        self.dependencies = dependencies
        self.condition = condition
        self.timeout = timeout
        self.retryPolicy = retryPolicy
        self.parallel = parallel
        self.continueOnFailure = continueOnFailure
        self.cache = cache
        self.idempotent = idempotent
        self.estimatedDuration = estimatedDuration
        self.rollback = rollback
        self.outputs = outputs
    }

    /// The cache policy in effect: the `cache` block, else the guide's `_cache_enabled` / `_cache_ttl` inputs.
    public var effectiveCache: CachePolicy? {
        if let cache { return cache.enabled ? cache : nil }
        guard case .bool(true)? = inputs["_cache_enabled"] else { return nil }
        if case .number(let seconds)? = inputs["_cache_ttl"], let ttl = try? DurationText.duration(seconds: seconds) { return CachePolicy(ttl: ttl) }
        if case .string(let text)? = inputs["_cache_ttl"], let ttl = try? DurationText.parse(text) {
            return CachePolicy(ttl: ttl)
        }
        return CachePolicy()
    }
}

/// The body of a rollback: what to run, without a DAG position of its own.
///
/// ```yaml
/// rollback: {type: task, inputs: {command: "kubectl rollout undo deployment/app"}}
/// ```
public struct StepBody: Sendable, Hashable, Codable {
    public var type: StepType
    public var action: String?
    public var inputs: [String: JSONValue]
    public var timeout: Duration?
    public var retryPolicy: RetryPolicy?

    public init(
        type: StepType = .task, action: String? = nil, inputs: [String: JSONValue] = [:],
        timeout: Duration? = nil, retryPolicy: RetryPolicy? = nil
    ) {
        self.type = type
        self.action = action
        self.inputs = inputs
        self.timeout = timeout
        self.retryPolicy = retryPolicy
    }
}
