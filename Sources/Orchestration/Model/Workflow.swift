/// A workflow definition: a DAG of steps plus what starts it.
///
/// Mirrors the guide's `Workflow`. Build one in code or decode it from a file with
/// ``WorkflowDecoder``; check it with ``WorkflowValidator`` and plan it with ``Planner``.
///
/// ```swift
/// var pipeline = Workflow(name: "data-pipeline", steps: [
///     WorkflowStep(id: "extract"),
///     WorkflowStep(id: "load", dependencies: ["extract"]),
/// ])
/// let plan = try Planner().plan(pipeline)
/// pipeline.optimizationScore = plan.optimizationScore
/// ```
public struct Workflow: Sendable, Hashable, Codable {
    /// Derived from `name` unless given.
    public var id: String
    public var name: String
    public var description: String?
    public var version: String?
    public var steps: [WorkflowStep]
    public var triggers: [WorkflowTrigger]
    /// Defaults for `${name}` references; execution inputs override them.
    public var variables: [String: JSONValue]
    /// For the whole execution.
    public var timeout: Duration?
    /// At most this many steps of one execution run at once.
    public var maxParallelism: Int?
    /// The default for steps without their own policy.
    public var retryPolicy: RetryPolicy?
    /// Cancel the rest at the first failure that fails the execution.
    public var failFast: Bool
    /// Estimated serial duration ÷ estimated plan duration, set by the planner at registration.
    public var optimizationScore: Double
    /// What an execution returns when it completes, by name: `${…}` templates over its steps'
    /// results and its inputs (`outputs: {image: "${push.imageURL}"}`). A parent's `workflow` step
    /// reads them as its outputs.
    public var outputs: [String: JSONValue]?
    /// At most `limit` executions with the same rendered key run at once (``ConcurrencyPolicy``).
    public var concurrency: ConcurrencyPolicy?

    public init(
        id: String? = nil, name: String, description: String? = nil, version: String? = nil,
        steps: [WorkflowStep], triggers: [WorkflowTrigger] = [], variables: [String: JSONValue] = [:],
        timeout: Duration? = nil, maxParallelism: Int? = nil, retryPolicy: RetryPolicy? = nil,
        failFast: Bool = false, optimizationScore: Double = 0
    ) {
        self.id = id ?? Workflow.deriveID(from: name)
        self.name = name
        self.description = description
        self.version = version
        self.steps = steps
        self.triggers = triggers
        self.variables = variables
        self.timeout = timeout
        self.maxParallelism = maxParallelism
        self.retryPolicy = retryPolicy
        self.failFast = failFast
        self.optimizationScore = optimizationScore
    }

    /// The id a name gives: lower-cased, runs of characters outside `[a-z0-9_-]` become `-`.
    ///
    /// `"Deploy Application"` → `"deploy-application"`.
    public static func deriveID(from name: String) -> String {
        var out = ""
        var pendingDash = false
        for scalar in name.lowercased().unicodeScalars {
            if ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "_" || scalar == "-" {
                if pendingDash && !out.isEmpty { out += "-" }
                pendingDash = false
                out.unicodeScalars.append(scalar)
            } else {
                pendingDash = true
            }
        }
        return out
    }

    /// The step with `id`, if any.
    public func step(_ id: String) -> WorkflowStep? {
        steps.first { $0.id == id }
    }
}
