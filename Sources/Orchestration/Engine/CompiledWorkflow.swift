import Foundation

/// A validated workflow prepared for running: templates parsed, shell commands spliced, policies
/// resolved and priorities computed, once at registration and shared by every execution.
package struct CompiledWorkflow: Sendable {
    /// One step body (a step or its rollback) ready to render.
    package struct Body: Sendable {
        package var id: String
        package var type: StepType
        package var action: ActionDefinition?
        package var inputs: [String: CompiledValue]
        /// The rewritten shell `command` of a task step, with its bindings.
        package var splice: ShellSplice?
        package var timeout: Duration?
        package var retryPolicy: RetryPolicy
    }

    package let workflow: Workflow
    package let graph: WorkflowGraph
    package let bodies: [Body]
    package let rollbacks: [Body?]
    /// Longest estimated remaining path from each step to the end, in seconds: the start order
    /// when more steps are ready than may run.
    package private(set) var priorities: [Double]
    /// Each step's estimated duration in seconds: learned, else `estimatedDuration`, else 1 s.
    package private(set) var estimates: [Double]
    package let cachePolicies: [CachePolicy?]
    /// Per step, whether it runs alone (`parallel: false`).
    package let exclusive: [Bool]
    /// Every secret name any step or condition references.
    package let secretNames: Set<String>
    /// Per step, the queue whose workers run it and its rollback (``StepQueue``), if any.
    package let queues: [String?]
    /// Per step, its concurrency key, if any (``ConcurrencyPolicy``).
    package let concurrency: [ConcurrencyPolicy?]
    /// Whether some step has a concurrency key (its end then frees a slot).
    package let hasStepConcurrency: Bool
    /// Per step, how it runs once per item, if it is a forEach step.
    package let forEach: [ForEachPlan?]

    /// A forEach step's list and limits.
    package struct ForEachPlan: Sendable {
        /// The list, or the reference that gives it.
        package var items: CompiledValue
        /// `forEach` as written, for errors.
        package var source: String
        package var maxConcurrency: Int?
        package var toleratedFailures: Int?
        package var toleratedFailurePercentage: Double?
    }

    /// Compiles `graph` (from ``WorkflowValidator``), resolving actions against `actions`.
    package init(graph: WorkflowGraph, actions: ActionCatalog = .builtIn, planner: Planner = Planner()) throws(ActionError) {
        let workflow = graph.workflow
        self.graph = graph
        var secrets = Set<String>()
        func collect(_ refs: [Reference]) {
            for r in refs {
                if case .secret(let name) = r.target(stepIDs: []) { secrets.insert(name) }
            }
        }
        func body(id: String, type: StepType, action: String?, inputs: [String: JSONValue], timeout: Duration?, retry: RetryPolicy?)
            throws(ActionError) -> Body
        {
            var definition: ActionDefinition?
            if let action {
                guard let found = actions[action] else {
                    throw ActionError(message: "step '\(id)': unknown action '\(action)'; known actions: \(actions.names.joined(separator: ", "))")
                }
                definition = found
            }
            // An action runs as its own type, whatever the step says (the validator warns).
            let type = definition?.type ?? type
            var compiled: [String: CompiledValue] = [:]
            var splice: ShellSplice?
            for (key, value) in inputs {
                if key == "command", type == .task, case .string(let command) = value {
                    do { splice = try ShellSplice(command) } catch {
                        throw ActionError(message: "step '\(id)': inputs.command: \(error.message)")
                    }
                    collect(splice!.bindings.map(\.reference))
                    continue
                }
                let c = CompiledValue(value)
                collect(c.references)
                compiled[key] = c
            }
            return Body(
                id: id, type: type, action: definition, inputs: compiled, splice: splice, timeout: timeout,
                retryPolicy: retry ?? workflow.retryPolicy ?? RetryPolicy())
        }
        var bodies: [Body] = []
        var rollbacks: [Body?] = []
        bodies.reserveCapacity(workflow.steps.count)
        rollbacks.reserveCapacity(workflow.steps.count)
        for step in workflow.steps {
            bodies.append(
                try body(id: step.id, type: step.type, action: step.action, inputs: step.inputs, timeout: step.timeout, retry: step.retryPolicy))
            if let r = step.rollback {
                rollbacks.append(
                    try body(
                        id: StepResult.rollbackID(of: step.id), type: r.type, action: r.action, inputs: r.inputs, timeout: r.timeout,
                        retry: r.retryPolicy))
            } else {
                rollbacks.append(nil)
            }
        }
        for condition in graph.conditions { if let condition { collect(condition.references) } }
        self.forEach = workflow.steps.map { step in
            step.forEach.map { items in
                let compiled = CompiledValue(items)
                collect(compiled.references)
                return ForEachPlan(
                    items: compiled, source: items.kindName == "string" ? items.text : "the literal list", maxConcurrency: step.maxConcurrency,
                    toleratedFailures: step.toleratedFailures, toleratedFailurePercentage: step.toleratedFailurePercentage)
            }
        }
        self.bodies = bodies
        self.rollbacks = rollbacks
        self.secretNames = secrets
        self.cachePolicies = workflow.steps.map(\.effectiveCache)
        self.exclusive = workflow.steps.map { !$0.parallel }
        self.queues = workflow.steps.map(\.queue)
        self.concurrency = workflow.steps.map(\.concurrency)
        self.hasStepConcurrency = concurrency.contains { $0 != nil }
        (self.estimates, self.priorities) = Self.priorities(graph: graph, planner: planner)
        // The optimization score (serial ÷ planned duration) from the same estimates, as the plan
        // reports it: the guide's `OptimizationScore`, filled in at registration.
        var scored = workflow
        let serial = estimates.reduce(0, +)
        let makespan = PlanSimulation.makespan(
            graph: graph, estimates: estimates, priorities: priorities, exclusive: exclusive, limit: workflow.maxParallelism)
        scored.optimizationScore = makespan > 0 && serial.isFinite ? (serial / makespan * 1000).rounded() / 1000 : 1
        self.workflow = scored
    }

    /// The same workflow with priorities from `learned` durations (by step id; others keep
    /// their `estimatedDuration`).
    package func reprioritized(learned: [String: Duration]) -> CompiledWorkflow {
        var copy = self
        (copy.estimates, copy.priorities) = Self.priorities(graph: graph, planner: Planner(learnedDurations: learned))
        return copy
    }

    /// Estimates, and the longest remaining path from each step, bottom-up in reverse topological order.
    static func priorities(graph: WorkflowGraph, planner: Planner) -> (estimates: [Double], priorities: [Double]) {
        let n = graph.count
        var remaining = [Double](repeating: 0, count: n)
        var estimates = [Double](repeating: 0, count: n)
        for v in graph.topologicalOrder.reversed() {
            var longest = 0.0
            for d in graph.downstream[v] where remaining[d] > longest { longest = remaining[d] }
            let step = graph.workflow.steps[v]
            estimates[v] = (planner.learnedDurations[step.id] ?? step.estimatedDuration ?? planner.defaultEstimate).seconds
            remaining[v] = estimates[v] + longest
        }
        return (estimates, remaining)
    }
}

/// An input value with its `${…}` templates parsed once.
package indirect enum CompiledValue: Sendable {
    case literal(JSONValue)
    case template(Template)
    case array([CompiledValue])
    case object([String: CompiledValue])

    package init(_ value: JSONValue) {
        switch value {
        case .string(let s) where s.contains("${"):
            if let t = try? Template(s) {
                self = t.isLiteral ? .literal((try? t.render { _ in nil }) ?? value) : .template(t)
            } else {
                self = .literal(value)
            }
        case .array(let items):
            let compiled = items.map(CompiledValue.init)
            if compiled.allSatisfy({ if case .literal = $0 { return true } else { return false } }) {
                self = .literal(value)
            } else {
                self = .array(compiled)
            }
        case .object(let fields):
            let compiled = fields.mapValues(CompiledValue.init)
            if compiled.values.allSatisfy({ if case .literal = $0 { return true } else { return false } }) {
                self = .literal(value)
            } else {
                self = .object(compiled)
            }
        default:
            self = .literal(value)
        }
    }

    /// Every reference inside.
    package var references: [Reference] {
        switch self {
        case .literal: return []
        case .template(let t): return t.references.map(\.reference)
        case .array(let items): return items.flatMap(\.references)
        case .object(let fields): return fields.values.flatMap(\.references)
        }
    }

    /// The value with references resolved.
    package func render(_ resolve: ExpressionEvaluator.Resolver) throws -> JSONValue {
        switch self {
        case .literal(let v): return v
        case .template(let t): return try t.render(resolve: resolve)
        case .array(let items): return .array(try items.map { try $0.render(resolve) })
        case .object(let fields): return .object(try fields.mapValues { try $0.render(resolve) })
        }
    }
}
