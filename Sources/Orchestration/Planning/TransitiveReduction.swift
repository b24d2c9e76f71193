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

        var candidates: [Int] = []
        for v in graph.topologicalOrder where graph.upstream[v].count >= 2 && graph.explicitCount[v] >= 1 {
            // Candidates: the explicit upstreams of v; any of them reachable from another upstream is redundant.
            // Ancestors sit earlier in topological order, so a step earlier than every unfound candidate
            // cannot lead to one: the search stops there, and ends once every candidate is decided.
            candidates.removeAll(keepingCapacity: true)
            for u in graph.upstream[v].prefix(graph.explicitCount[v]) {
                target[u] = v
                candidates.append(u)
            }
            candidates.sort { position[$0] < position[$1] }
            var next = 0
            var lowest = position[candidates[0]]
            search: for w in graph.upstream[v] {
                stack.removeAll(keepingCapacity: true)
                stack.append(w)
                while let x = stack.popLast() {
                    guard position[x] > lowest else { continue }
                    for y in graph.upstream[x] where visited[y] != v && position[y] >= lowest {
                        budget -= 1
                        if budget < 0 { return (edges, false) }
                        visited[y] = v
                        if target[y] == v, found[y] != v {
                            found[y] = v
                            edges.append(Edge(step: v, dependency: y, via: w))
                            while next < candidates.count, found[candidates[next]] == v { next += 1 }
                            if next == candidates.count { break search }
                            lowest = position[candidates[next]]
                        }
                        stack.append(y)
                    }
                }
            }
        }
        edges.sort { ($0.step, $0.dependency) < ($1.step, $1.dependency) }
        return (edges, true)
    }
}
