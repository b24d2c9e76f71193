/// How a workflow will run: stages, critical path, estimates, priorities and findings.
///
/// Made by ``Planner``. Durations are estimates: learned, else `estimatedDuration`, else the
/// planner's default (1 s).
public struct ExecutionPlan: Sendable, Hashable {
    /// Steps whose dependencies are all in earlier stages; they can run together.
    public struct Stage: Sendable, Hashable {
        public var steps: [String]
        /// More than one step and none of them exclusive (`parallel: false`).
        public var parallel: Bool
    }

    /// A listed dependency that is implied by another path and can be dropped without changing the run.
    public struct RedundantDependency: Sendable, Hashable {
        public var step: String
        public var dependency: String
        /// The other upstream of `step` through which `dependency` is already awaited.
        public var via: String

        public init(step: String, dependency: String, via: String) {
            self.step = step
            self.dependency = dependency
            self.via = via
        }
    }

    /// A dependency that exists because of a `${…}` reference, not a `dependencies` entry.
    public struct ImplicitDependency: Sendable, Hashable {
        public var step: String
        public var dependency: String

        public init(step: String, dependency: String) {
            self.step = step
            self.dependency = dependency
        }
    }

    public var workflowID: String
    public var stages: [Stage]
    /// The longest chain of estimated durations, in run order.
    public var criticalPath: [String]
    public var criticalPathDuration: Duration
    /// The makespan of a simulated run that honours `maxParallelism`, exclusive steps and priorities.
    public var estimatedDuration: Duration
    /// The sum of all estimates: how long one-at-a-time would take.
    public var serialDuration: Duration
    /// `serialDuration ÷ estimatedDuration`: how much faster than serial the plan runs.
    public var optimizationScore: Double
    /// Per step: the estimate used.
    public var estimates: [String: Duration]
    /// Per step: the longest estimated path from its start to the end of the workflow. Higher runs first.
    public var priorities: [String: Duration]
    /// Idempotent steps that have no cache policy yet; caching them is safe.
    public var cacheHints: [String]
    public var implicitDependencies: [ImplicitDependency]
    public var redundantDependencies: [RedundantDependency]
    /// False when the graph was too large to search completely for redundant dependencies.
    public var reductionComplete: Bool
}
