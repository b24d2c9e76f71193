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
                        // stack[pos(v)...] is v, …, u, and u waits on v: the cycle in run order is v ← … ← u.
                        let members = stack[positionOnStack[v]...].map(\.node)
                        for m in members { reported[m] = true }
                        let runOrder = members.reversed().map { graph.workflow.steps[$0].id }
                        let text = (runOrder + [runOrder[0]]).joined(separator: " -> ")
                        let position = graph.upstream[u].firstIndex(of: v)!
                        let path = graph.isImplicit(step: u, upstreamPosition: position)
                            ? "steps[\(u)]"
                            : "steps[\(u)].dependencies[\(graph.workflow.steps[u].dependencies.firstIndex(of: graph.workflow.steps[v].id) ?? 0)]"
                        let how = graph.isImplicit(step: u, upstreamPosition: position) ? " (through a ${\(graph.workflow.steps[v].id).…} reference)" : ""
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
            let fallback = workflow.timeout.map { "only the workflow timeout (\(DurationText.format($0))) stops them" }
                ?? "nothing stops them if they hang"
            warning(.missingTimeout, "\(missing.count == 1 ? "step" : "\(missing.count) steps") without a timeout: \(names)\(more); \(fallback)",
                    path: "steps[\(missing[0].offset)]")
        }
        var reported = Set<String>()
        for input in undeclaredInputs where reported.insert(input.name).inserted {
            let at = input.text.flatMap { text in input.offset.flatMap { sourceMap?.location(of: input.path, offset: $0, in: text) } }
            warning(.undeclaredInput, "input '\(input.name)' has no default in 'variables'; every execution must supply it",
                    path: input.path, location: at)
        }
    }
}
