/// Plans a validated workflow: stages, critical path, priorities, estimates, redundant
/// dependencies and cache hints, in time linear in steps + edges.
///
/// - Stages: a step's stage is one more than the latest stage among its upstreams.
/// - Critical path: the chain with the largest sum of estimates.
/// - Priority of a step: its estimate plus the largest priority among its downstreams
///   (the longest remaining path); when more steps are ready than may run, higher goes first.
/// - Estimated duration: a simulated run with those priorities, `maxParallelism` and exclusive steps.
/// - `optimizationScore` = serial ÷ estimated duration. For `extract → 3 transforms → load`
///   with 1 s each: serial 5 s, plan 3 s, score 5/3 ≈ 1.67.
/// - Redundant dependencies: a listed dependency `u` of `v` that another upstream of `v` already
///   waits for. Found by a backward search from `v`'s other upstreams that stops at steps earlier in
///   topological order than every candidate and as soon as all candidates are found; a work budget
///   of ``reductionBudgetPerElement`` × (steps + edges) bounds it (``ExecutionPlan/reductionComplete``).
///
/// ```swift
/// let plan = try Planner().plan(workflow)
/// print(plan.stages.map(\.steps), plan.optimizationScore)
/// ```
public struct Planner: Sendable {
    /// The estimate of a step with neither a learned duration nor `estimatedDuration`.
    public var defaultEstimate: Duration
    /// Learned durations by step id; they win over `estimatedDuration`.
    public var learnedDurations: [String: Duration]
    /// The engine's worker limit, used with `maxParallelism` in the simulation; `nil` for none.
    public var workerLimit: Int?
    /// Search work allowed per step and edge when looking for redundant dependencies.
    public static let reductionBudgetPerElement = 64

    public init(defaultEstimate: Duration = .seconds(1), learnedDurations: [String: Duration] = [:], workerLimit: Int? = nil) {
        self.defaultEstimate = defaultEstimate
        self.learnedDurations = learnedDurations
        self.workerLimit = workerLimit
    }

    /// Validates and plans `workflow`, throwing every error when it is not valid.
    public func plan(_ workflow: Workflow, sourceMap: SourceMap? = nil) throws(DefinitionErrors) -> ExecutionPlan {
        let result = WorkflowValidator().validate(workflow, sourceMap: sourceMap)
        guard let graph = result.graph else { throw DefinitionErrors(result.errors) }
        return plan(graph)
    }

    /// Plans a validated graph.
    public func plan(_ graph: WorkflowGraph) -> ExecutionPlan {
        let steps = graph.workflow.steps
        let n = graph.count
        let order = graph.topologicalOrder
        let estimate: [Double] = steps.map {
            (learnedDurations[$0.id] ?? $0.estimatedDuration ?? defaultEstimate).seconds
        }

        // Stages and earliest finish, in topological order.
        var level = [Int](repeating: 0, count: n)
        var finish = [Double](repeating: 0, count: n)
        var criticalPredecessor = [Int](repeating: -1, count: n)
        for v in order {
            var start = 0.0
            for u in graph.upstream[v] {
                level[v] = max(level[v], level[u] + 1)
                if criticalPredecessor[v] < 0 || finish[u] > start {
                    start = finish[u]
                    criticalPredecessor[v] = u
                }
            }
            finish[v] = start + estimate[v]
        }
        var stages: [ExecutionPlan.Stage] = []
        for v in order {
            while stages.count <= level[v] { stages.append(ExecutionPlan.Stage(steps: [], parallel: true)) }
            stages[level[v]].steps.append(steps[v].id)
            if !steps[v].parallel { stages[level[v]].parallel = false }
        }
        for i in stages.indices where stages[i].steps.count < 2 { stages[i].parallel = false }

        // Critical path: back from the latest finisher.
        var criticalPath: [String] = []
        var end = -1
        for v in order where end < 0 || finish[v] > finish[end] { end = v }
        var cursor = end
        while cursor >= 0 {
            criticalPath.append(steps[cursor].id)
            cursor = criticalPredecessor[cursor]
        }
        criticalPath.reverse()

        // Priorities: longest remaining path, in reverse topological order.
        var remaining = [Double](repeating: 0, count: n)
        for v in order.reversed() {
            var longest = 0.0
            for w in graph.downstream[v] { longest = max(longest, remaining[w]) }
            remaining[v] = estimate[v] + longest
        }

        let serial = estimate.reduce(0, +)
        let limit = [graph.workflow.maxParallelism, workerLimit].compactMap { $0 }.min()
        let makespan = PlanSimulation.makespan(
            graph: graph, estimates: estimate, priorities: remaining, exclusive: steps.map { !$0.parallel }, limit: limit)
        let reduction = TransitiveReduction.redundantEdges(graph: graph, budgetPerElement: Self.reductionBudgetPerElement)

        var estimates: [String: Duration] = [:]
        var priorities: [String: Duration] = [:]
        estimates.reserveCapacity(n)
        priorities.reserveCapacity(n)
        var implicit: [ExecutionPlan.ImplicitDependency] = []
        for v in 0..<n {
            estimates[steps[v].id] = .clamped(seconds: estimate[v])
            priorities[steps[v].id] = .clamped(seconds: remaining[v])
            for position in graph.explicitCount[v]..<graph.upstream[v].count {
                implicit.append(.init(step: steps[v].id, dependency: steps[graph.upstream[v][position]].id))
            }
        }
        return ExecutionPlan(
            workflowID: graph.workflow.id,
            stages: stages,
            criticalPath: criticalPath,
            criticalPathDuration: .clamped(seconds: end >= 0 ? finish[end] : 0),
            estimatedDuration: .clamped(seconds: makespan),
            serialDuration: .clamped(seconds: serial),
            optimizationScore: makespan > 0 ? serial / makespan : 1,
            estimates: estimates,
            priorities: priorities,
            cacheHints: steps.filter { $0.idempotent && $0.effectiveCache == nil }.map(\.id),
            implicitDependencies: implicit,
            redundantDependencies: reduction.edges.map {
                .init(step: steps[$0.step].id, dependency: steps[$0.dependency].id, via: steps[$0.via].id)
            },
            reductionComplete: reduction.complete)
    }
}
