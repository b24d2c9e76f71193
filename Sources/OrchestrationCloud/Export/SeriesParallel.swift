import Foundation

/// Step Functions and GCP Workflows can only nest parallel branches: a workflow maps onto them
/// exactly when its DAG is series-parallel. This finds that nesting, or, for any other DAG,
/// layers the steps into waves (each wave waits for the whole previous one) and says how much
/// parallelism that costs.
package enum SeriesParallel {
    /// How steps (by index) nest.
    package indirect enum Structure: Sendable, Hashable {
        case step(Int)
        /// One after another.
        case series([Structure])
        /// Side by side; the next thing waits for all.
        case parallel([Structure])

        /// The time it takes when step `i` takes `durations[i]`.
        package func makespan(_ durations: [Double]) -> Double {
            switch self {
            case .step(let i): durations[i]
            case .series(let parts): parts.reduce(0) { $0 + $1.makespan(durations) }
            case .parallel(let parts): parts.map { $0.makespan(durations) }.max() ?? 0
            }
        }
    }

    package struct Decomposition: Sendable, Hashable {
        package var structure: Structure
        /// The DAG is series-parallel and the structure keeps every bit of its parallelism.
        package var exact: Bool
        /// The critical path of the DAG, and the makespan of the structure, with the given
        /// durations: equal when exact.
        package var makespanBefore: Double
        package var makespanAfter: Double
    }

    /// Decomposes the DAG of `upstream` (the dependencies of each step, by index).
    /// Dependencies implied by others (c on a when c depends on b and b on a) are dropped
    /// first: they change no order, and would make a series-parallel DAG look like it is not.
    package static func decompose(upstream given: [[Int]], durations: [Double]) -> Decomposition {
        let upstream = transitiveReduction(given)
        let n = upstream.count
        let before = criticalPath(upstream: upstream, durations: durations)
        guard n > 0 else { return Decomposition(structure: .series([]), exact: true, makespanBefore: 0, makespanAfter: 0) }
        if let structure = reduce(upstream: upstream) {
            return Decomposition(structure: structure, exact: true, makespanBefore: before, makespanAfter: structure.makespan(durations))
        }
        let layered = waves(upstream: upstream)
        return Decomposition(structure: layered, exact: false, makespanBefore: before, makespanAfter: layered.makespan(durations))
    }

    /// The longest chain of durations.
    package static func criticalPath(upstream: [[Int]], durations: [Double]) -> Double {
        var finish = [Double](repeating: 0, count: upstream.count)
        for v in topologicalOrder(upstream) { finish[v] = durations[v] + (upstream[v].map { finish[$0] }.max() ?? 0) }
        return finish.max() ?? 0
    }

    /// The fewest dependencies with the same reachability.
    static func transitiveReduction(_ upstream: [[Int]]) -> [[Int]] {
        // Ancestors of each step as bit sets, in topological order.
        let n = upstream.count, words = (n + 63) / 64
        var ancestors = [[UInt64]](repeating: [UInt64](repeating: 0, count: words), count: n)
        for v in topologicalOrder(upstream) {
            for u in upstream[v] {
                ancestors[v][u / 64] |= 1 << UInt64(u % 64)
                for w in 0..<words { ancestors[v][w] |= ancestors[u][w] }
            }
        }
        return upstream.map { ups in
            let direct = Set(ups)
            return ups.filter { u in
                !direct.contains { other in other != u && ancestors[other][u / 64] & (1 << UInt64(u % 64)) != 0 }
            }
        }
    }

    static func topologicalOrder(_ upstream: [[Int]]) -> [Int] {
        var indegree = upstream.map(\.count)
        var downstream = [[Int]](repeating: [], count: upstream.count)
        for (v, ups) in upstream.enumerated() { for u in ups { downstream[u].append(v) } }
        var ready = indegree.indices.filter { indegree[$0] == 0 }
        var order: [Int] = []
        while let v = ready.popLast() {
            order.append(v)
            for w in downstream[v] {
                indegree[w] -= 1
                if indegree[w] == 0 { ready.append(w) }
            }
        }
        return order
    }

    /// Series and parallel reductions on the graph with a source before every first step and a
    /// sink after every last one: a node with one edge in and one out joins its edges in
    /// series; edges between the same two nodes join in parallel. Series-parallel exactly when
    /// one edge from source to sink is left; its label is the structure.
    ///
    /// Parallel edges are joined as they appear, and a worklist holds the nodes whose degrees
    /// changed, so the whole reduction takes time linear in the edges (hash operations aside).
    static func reduce(upstream: [[Int]]) -> Structure? {
        let n = upstream.count, source = n, sink = n + 1
        struct Edge {
            var from: Int
            var to: Int
            /// nil for an empty edge.
            var label: Structure?
        }
        var edges: [Int: Edge] = [:]
        var byEnds: [Int: Int] = [:]  // from * (n + 2) + to → edge id
        var ins = [Set<Int>](repeating: [], count: n + 2)
        var outs = [Set<Int>](repeating: [], count: n + 2)
        var next = 0
        var work: [Int] = []
        func key(_ from: Int, _ to: Int) -> Int { from * (n + 2) + to }
        func add(_ from: Int, _ to: Int, _ label: Structure?) {
            if let existing = byEnds[key(from, to)] {
                // Parallel reduction: join with the edge already there.
                let old = edges[existing]!.label
                edges[existing]!.label =
                    switch (old, label) {
                    case (nil, let x), (let x, nil): x
                    case (let a?, let b?): .parallel([a, b])
                    }
                work.append(from)
                work.append(to)
                return
            }
            edges[next] = Edge(from: from, to: to, label: label)
            byEnds[key(from, to)] = next
            outs[from].insert(next)
            ins[to].insert(next)
            next += 1
        }
        func remove(_ id: Int) {
            let e = edges.removeValue(forKey: id)!
            byEnds[key(e.from, e.to)] = nil
            outs[e.from].remove(id)
            ins[e.to].remove(id)
        }
        var hasDownstream = [Bool](repeating: false, count: n)
        for (v, ups) in upstream.enumerated() {
            if ups.isEmpty { add(source, v, nil) }
            for u in ups {
                add(u, v, nil)
                hasDownstream[u] = true
            }
        }
        for v in 0..<n where !hasDownstream[v] { add(v, sink, nil) }
        var removed = [Bool](repeating: false, count: n)
        work = Array((0..<n).reversed())
        while let v = work.popLast() {
            guard v < n, !removed[v], ins[v].count == 1, outs[v].count == 1,
                let i = ins[v].first, let o = outs[v].first, let a = edges[i], let b = edges[o]
            else { continue }
            // Series reduction.
            remove(i)
            remove(o)
            removed[v] = true
            let parts = [a.label, .step(v), b.label].compactMap { $0 }.flatMap { part -> [Structure] in
                if case .series(let inner) = part { return inner }
                return [part]
            }
            add(a.from, b.to, .series(parts))
            work.append(a.from)
            work.append(b.to)
        }
        guard edges.count == 1, let last = edges.values.first, last.from == source, last.to == sink, !removed.contains(false) else { return nil }
        return flatten(last.label ?? .series([]))
    }

    /// Series inside series and parallel inside parallel merged; one-element groups unwrapped.
    static func flatten(_ s: Structure) -> Structure {
        switch s {
        case .step: return s
        case .series(let parts):
            let inner = parts.map(flatten).flatMap { p -> [Structure] in if case .series(let x) = p { x } else { [p] } }
            return inner.count == 1 ? inner[0] : .series(inner)
        case .parallel(let parts):
            let inner = parts.map(flatten).flatMap { p -> [Structure] in if case .parallel(let x) = p { x } else { [p] } }
            return inner.count == 1 ? inner[0] : .parallel(inner)
        }
    }

    /// Waves by depth (the longest chain of dependencies before a step), in series.
    static func waves(upstream: [[Int]]) -> Structure {
        var depth = [Int](repeating: 0, count: upstream.count)
        for v in topologicalOrder(upstream) { depth[v] = (upstream[v].map { depth[$0] + 1 }.max() ?? 0) }
        let levels = (depth.max() ?? 0) + 1
        return flatten(.series((0..<levels).map { level in .parallel(depth.indices.filter { depth[$0] == level }.map { .step($0) }) }))
    }
}
