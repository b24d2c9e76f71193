/// Finds listed dependencies that another path already implies (see ``Planner``).
enum TransitiveReduction {
    struct Edge: Hashable {
        var step: Int
        var dependency: Int
        var via: Int
    }

    /// Redundant explicit edges, and whether the search finished within its budget.
    static func redundantEdges(graph: WorkflowGraph, budgetPerElement: Int) -> (edges: [Edge], complete: Bool) {
        let n = graph.count
        var position = [Int](repeating: 0, count: n)
        for (p, v) in graph.topologicalOrder.enumerated() { position[v] = p }
        let edgeCount = graph.upstream.reduce(0) { $0 + $1.count }
        var budget = budgetPerElement * (n + edgeCount) + 100_000
        var visited = [Int](repeating: -1, count: n)
        var target = [Int](repeating: -1, count: n)
        var found = [Int](repeating: -1, count: n)
        var stack: [Int] = []
        var edges: [Edge] = []

        for v in graph.topologicalOrder where graph.upstream[v].count >= 2 && graph.explicitCount[v] >= 1 {
            // Candidates: the explicit upstreams of v; any of them reachable from another upstream is redundant.
            var lowest = Int.max
            for u in graph.upstream[v].prefix(graph.explicitCount[v]) {
                target[u] = v
                lowest = min(lowest, position[u])
            }
            var remaining = graph.explicitCount[v]
            search: for w in graph.upstream[v] {
                stack.removeAll(keepingCapacity: true)
                for x in graph.upstream[w] where visited[x] != v && position[x] >= lowest {
                    visited[x] = v
                    stack.append(x)
                }
                while let x = stack.popLast() {
                    budget -= 1
                    if budget < 0 { return (edges, false) }
                    if target[x] == v, found[x] != v {
                        found[x] = v
                        edges.append(Edge(step: v, dependency: x, via: w))
                        remaining -= 1
                        if remaining == 0 { break search }
                    }
                    for y in graph.upstream[x] where visited[y] != v && position[y] >= lowest {
                        visited[y] = v
                        stack.append(y)
                    }
                }
            }
        }
        edges.sort { ($0.step, $0.dependency) < ($1.step, $1.dependency) }
        return (edges, true)
    }
}
