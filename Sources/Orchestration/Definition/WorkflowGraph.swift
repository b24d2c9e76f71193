/// A workflow's steps as a DAG of indices, with explicit and implicit edges resolved.
///
/// Built by ``WorkflowValidator`` once per definition and shared by the planner and the engine.
/// Index `i` is `workflow.steps[i]`.
public struct WorkflowGraph: Sendable {
    public let workflow: Workflow
    /// Step id → index.
    public let index: [String: Int]
    /// Every upstream of each step: explicit dependencies, then implicit ones (from `${…}`), no repeats.
    public let upstream: [[Int]]
    /// How many of `upstream[i]` are explicit (they come first).
    public let explicitCount: [Int]
    /// Every downstream of each step.
    public let downstream: [[Int]]
    /// Parsed conditions.
    package let conditions: [Expression?]
    /// Upstreams whose status a step's condition reads; those need only be terminal.
    public let statusReads: [Set<Int>]
    /// A topological order (Kahn's, stable by definition order); shorter than the step count when there is a cycle.
    public let topologicalOrder: [Int]

    init(workflow: Workflow, index: [String: Int], implicit: [[Int]], conditions: [Expression?], statusReads: [Set<Int>]) {
        self.workflow = workflow
        self.index = index
        self.conditions = conditions
        self.statusReads = statusReads
        let n = workflow.steps.count
        var upstream = [[Int]](repeating: [], count: n)
        var explicitCount = [Int](repeating: 0, count: n)
        var downstream = [[Int]](repeating: [], count: n)
        var seen = [Int](repeating: -1, count: n)
        for i in 0..<n {
            for dep in workflow.steps[i].dependencies {
                guard let j = index[dep], j != i, seen[j] != i else { continue }
                seen[j] = i
                upstream[i].append(j)
            }
            explicitCount[i] = upstream[i].count
            for j in implicit[i] where j != i && seen[j] != i {
                seen[j] = i
                upstream[i].append(j)
            }
            for j in upstream[i] { downstream[j].append(i) }
        }
        self.upstream = upstream
        self.explicitCount = explicitCount
        self.downstream = downstream
        // Kahn's algorithm; a FIFO over definition order keeps the order stable and readable.
        var indegree = upstream.map(\.count)
        var order: [Int] = []
        order.reserveCapacity(n)
        for i in 0..<n where indegree[i] == 0 { order.append(i) }
        var head = 0
        while head < order.count {
            let u = order[head]
            head += 1
            for v in downstream[u] {
                indegree[v] -= 1
                if indegree[v] == 0 { order.append(v) }
            }
        }
        topologicalOrder = order
    }

    /// Number of steps.
    public var count: Int { upstream.count }

    /// Whether edge `upstream → step` is implicit (from a reference, not listed in `dependencies`).
    public func isImplicit(step: Int, upstreamPosition: Int) -> Bool {
        upstreamPosition >= explicitCount[step]
    }

    /// The step ids of `indices`.
    public func ids(_ indices: [Int]) -> [String] {
        indices.map { workflow.steps[$0].id }
    }
}
