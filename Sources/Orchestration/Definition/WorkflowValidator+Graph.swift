extension ValidationContext {
    func buildGraph() -> WorkflowGraph {
        WorkflowGraph(workflow: workflow, index: index, implicit: implicit, conditions: conditions, statusReads: statusReads)
    }

    /// Reports one cycle per group of steps that wait on each other, as `a -> b -> c -> a`.
    mutating func checkCycles(_ graph: WorkflowGraph) {
        let n = graph.count
        guard graph.topologicalOrder.count < n else { return }
        // Iterative DFS over upstream edges; a back edge closes a cycle.
        var state = [UInt8](repeating: 0, count: n)  // 0 new, 1 on stack, 2 done
        var reported = [Bool](repeating: false, count: n)
        var stack: [(node: Int, next: Int)] = []
        var positionOnStack = [Int](repeating: -1, count: n)
        for root in 0..<n where state[root] == 0 {
            stack.append((root, 0))
            state[root] = 1
            positionOnStack[root] = 0
            while let top = stack.last {
                let u = top.node
                if top.next < graph.upstream[u].count {
                    stack[stack.count - 1].next += 1
                    let v = graph.upstream[u][top.next]
                    if state[v] == 0 {
                        state[v] = 1
                        positionOnStack[v] = stack.count
                        stack.append((v, 0))
                    } else if state[v] == 1, !reported[v] {
                        // stack[pos(v)...] is v, …, u, each waiting on the next: reversed, that is run order.
                        // Print it from the step defined first, so the report does not depend on search order.
                        let members = stack[positionOnStack[v]...].map(\.node)
                        for m in members { reported[m] = true }
                        var runOrder = Array(members.reversed())
                        let first = runOrder.indices.min { runOrder[$0] < runOrder[$1] }!
                        runOrder = Array(runOrder[first...] + runOrder[..<first])
                        let ids = runOrder.map { graph.workflow.steps[$0].id }
                        let text = (ids + [ids[0]]).joined(separator: " -> ")
                        // The last arrow, last -> first, is the first step's wait on the last one.
                        let waiter = runOrder[0], awaited = runOrder[runOrder.count - 1]
                        let position = graph.upstream[waiter].firstIndex(of: awaited)!
                        let implicitEdge = graph.isImplicit(step: waiter, upstreamPosition: position)
                        let awaitedID = graph.workflow.steps[awaited].id
                        let path =
                            implicitEdge
                            ? "steps[\(waiter)]"
                            : "steps[\(waiter)].dependencies[\(graph.workflow.steps[waiter].dependencies.firstIndex(of: awaitedID) ?? 0)]"
                        let how = implicitEdge ? " (through a ${\(awaitedID).…} reference)" : ""
                        error(.cycle, "dependency cycle: \(text)\(how); each step waits for the one before it", path: path)
                    }
                } else {
                    state[u] = 2
                    positionOnStack[u] = -1
                    stack.removeLast()
                }
            }
        }
    }

    mutating func collectWarnings() {
        let missing = workflow.steps.enumerated().filter { $0.element.timeout == nil }
        if !missing.isEmpty {
            let names = missing.prefix(5).map { "'\($0.element.id)'" }.joined(separator: ", ")
            let more = missing.count > 5 ? " and \(missing.count - 5) more" : ""
            let fallback =
                workflow.timeout.map { "only the workflow timeout (\(DurationText.format($0))) stops them" }
                ?? "nothing stops them if they hang"
            warning(
                .missingTimeout, "\(missing.count == 1 ? "step" : "\(missing.count) steps") without a timeout: \(names)\(more); \(fallback)",
                path: "steps[\(missing[0].offset)]")
        }
        var reported = Set<String>()
        for input in undeclaredInputs where reported.insert(input.name).inserted {
            let at = input.text.flatMap { text in input.offset.flatMap { sourceMap?.location(of: input.path, offset: $0, in: text) } }
            warning(
                .undeclaredInput, "input '\(input.name)' has no default in 'variables'; every execution must supply it",
                path: input.path, location: at)
        }
    }

    /// A stage this wide is one the guide's "Don't" list means by a monolithic workflow.
    static let widestStage = 1000

    /// What a validator can see of the guide's best practices, and steps that cannot run as
    /// written (they fail when they start, saying what they need).
    mutating func collectBestPracticeWarnings(_ graph: WorkflowGraph) {
        func list(_ indices: [Int]) -> String {
            indices.prefix(5).map { "'\(workflow.steps[$0].id)'" }.joined(separator: ", ")
                + (indices.count > 5 ? " and \(indices.count - 5) more" : "")
        }
        let idle = workflow.steps.indices.filter { hasNothingToRun(workflow.steps[$0]) }
        if let first = idle.first {
            warning(
                .missingField,
                "\(idle.count == 1 ? "step" : "\(idle.count) steps") with nothing to run: \(list(idle)); a task step needs inputs.command or inputs.args, a container step an action or inputs.args, an api step inputs.url, a wait step inputs.duration or inputs.url — without it the step fails when it starts",
                path: "steps[\(first)].inputs")
        }
        let unretried = workflow.steps.indices.filter {
            let step = workflow.steps[$0]
            return (step.type == .api || step.type == .lambda) && (step.retryPolicy ?? workflow.retryPolicy).map { $0.maxAttempts <= 1 } ?? true
        }
        if let first = unretried.first {
            warning(
                .invalidRetryPolicy,
                "\(unretried.count == 1 ? "step" : "\(unretried.count) steps") calling another service without retries: \(list(unretried)); calls fail transiently, so give them a retryPolicy (the guide's best practice)",
                path: "steps[\(first)]")
        }
        guard graph.topologicalOrder.count == workflow.steps.count else { return }
        var level = [Int](repeating: 0, count: workflow.steps.count)
        var width: [Int: Int] = [:]
        for v in graph.topologicalOrder {
            for u in graph.upstream[v] where level[u] + 1 > level[v] { level[v] = level[u] + 1 }
            width[level[v], default: 0] += 1
        }
        if let (stage, count) = width.max(by: { ($0.value, $1.key) < ($1.value, $0.key) }), count > Self.widestStage {
            let first = level.firstIndex(of: stage) ?? 0
            warning(
                .tooLarge,
                "stage \(stage + 1) holds \(count) steps that all become ready at once (more than \(Self.widestStage)); split the workflow or group the work into fewer, larger steps (the guide's 'Don't' list)",
                path: "steps[\(first)]")
        }
    }

    /// A step without an action that lacks what its executor needs.
    func hasNothingToRun(_ step: WorkflowStep) -> Bool {
        guard step.action == nil else { return false }
        func has(_ name: String) -> Bool { step.inputs[name].map { $0 != .null } ?? false }
        switch step.type {
        case .task: return !has("command") && !has("args")
        case .container: return !has("args")
        case .api: return !has("url")
        case .wait: return !has("duration") && !has("url") && !has("signal") && !has("until")
        case .lambda: return false
        case .workflow: return step.workflow == nil
        case .approval: return false
        }
    }
}
