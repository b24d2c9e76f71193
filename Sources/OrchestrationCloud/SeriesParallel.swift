import Foundation

/// Step Functions and GCP Workflows can only nest parallel branches: a workflow maps onto them
/// exactly when its DAG is series-parallel. This finds that nesting, or, for any other DAG,
/// layers the steps into waves (each wave waits for the whole previous one) and says how much
/// parallelism that costs.
public enum SeriesParallel {
    /// How steps (by index) nest.
    public indirect enum Structure: Sendable, Hashable {
        case step(Int)
        /// One after another.
        case series([Structure])
        /// Side by side; the next thing waits for all.
        case parallel([Structure])

        /// The time it takes when step `i` takes `durations[i]`.
        public func makespan(_ durations: [Double]) -> Double {
            switch self {
            case .step(let i): durations[i]
            case .series(let parts): parts.reduce(0) { $0 + $1.makespan(durations) }
            case .parallel(let parts): parts.map { $0.makespan(durations) }.max() ?? 0
            }
        }
    }

    public struct Decomposition: Sendable, Hashable {
        public var structure: Structure
        /// The DAG is series-parallel and the structure keeps every bit of its parallelism.
        public var exact: Bool
        /// The critical path of the DAG, and the makespan of the structure, with the given
        /// durations: equal when exact.
        public var makespanBefore: Double
        public var makespanAfter: Double
    }

    /// Decomposes the DAG of `upstream` (the dependencies of each step, by index).
    /// Dependencies implied by others (c on a when c depends on b and b on a) are dropped
    /// first: they change no order, and would make a series-parallel DAG look like it is not.
    public static func decompose(upstream given: [[Int]], durations: [Double]) -> Decomposition {
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
    public static func criticalPath(upstream: [[Int]], durations: [Double]) -> Double {
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
    static func reduce(upstream: [[Int]]) -> Structure? {
        let n = upstream.count, source = n, sink = n + 1
        // Edges as (from, to, label); a label of nil is an empty edge.
        var edges: [Int: (from: Int, to: Int, label: Structure?)] = [:]
        var next = 0
        func add(_ from: Int, _ to: Int, _ label: Structure?) {
            edges[next] = (from, to, label)
            next += 1
        }
        var hasDownstream = [Bool](repeating: false, count: n)
        for (v, ups) in upstream.enumerated() {
            if ups.isEmpty { add(source, v, nil) }
            for u in Set(ups) {
                add(u, v, nil)
                hasDownstream[u] = true
            }
        }
        for v in 0..<n where !hasDownstream[v] { add(v, sink, nil) }
        var removed = Set<Int>()
        var changed = true
        while changed {
            changed = false
            // Parallel: edges with the same ends.
            var byEnds: [[Int]: [Int]] = [:]
            for (id, e) in edges { byEnds[[e.from, e.to], default: []].append(id) }
            for (ends, ids) in byEnds where ids.count > 1 {
                let labels = ids.sorted().compactMap { edges[$0]?.label }
                for id in ids { edges[id] = nil }
                add(ends[0], ends[1], labels.isEmpty ? nil : labels.count == 1 ? labels[0] : .parallel(labels))
                changed = true
            }
            // Series: a step with exactly one edge in and one edge out.
            var ins: [Int: [Int]] = [:], outs: [Int: [Int]] = [:]
            for (id, e) in edges {
                ins[e.to, default: []].append(id)
                outs[e.from, default: []].append(id)
            }
            for v in 0..<n where !removed.contains(v) {
                guard let i = ins[v], let o = outs[v], i.count == 1, o.count == 1, let a = edges[i[0]], let b = edges[o[0]] else { continue }
                edges[i[0]] = nil
                edges[o[0]] = nil
                let parts = [a.label, .step(v), b.label].compactMap { $0 }.flatMap { part -> [Structure] in
                    if case .series(let inner) = part { return inner }
                    return [part]
                }
                add(a.from, b.to, .series(parts))
                removed.insert(v)
                changed = true
                break
            }
        }
        guard edges.count == 1, let last = edges.values.first, last.from == source, last.to == sink, removed.count == n else { return nil }
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
