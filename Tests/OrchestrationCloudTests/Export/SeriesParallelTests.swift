import Orchestration
import OrchestrationCloud
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Series-parallel decomposition (for Step Functions and GCP Workflows)")
struct SeriesParallelTests {
    typealias S = SeriesParallel.Structure

    @Test("chains, fan-outs and diamonds nest exactly")
    func exact() {
        // a → b → c
        #expect(SeriesParallel.decompose(upstream: [[], [0], [1]], durations: [1, 1, 1]).structure == .series([.step(0), .step(1), .step(2)]))
        // a → (b | c) → d: the diamond.
        let diamond = SeriesParallel.decompose(upstream: [[], [0], [0], [1, 2]], durations: [1, 5, 2, 1])
        #expect(diamond.exact)
        #expect(diamond.structure == .series([.step(0), .parallel([.step(1), .step(2)]), .step(3)]))
        #expect(diamond.makespanBefore == 7 && diamond.makespanAfter == 7)
        // Three independent steps.
        #expect(SeriesParallel.decompose(upstream: [[], [], []], durations: [1, 2, 3]).structure == .parallel([.step(0), .step(1), .step(2)]))
        // A redundant edge (c also lists a) changes nothing.
        #expect(SeriesParallel.decompose(upstream: [[], [0], [1, 0]], durations: [1, 1, 1]).structure == .series([.step(0), .step(1), .step(2)]))
        // Nested: a → ((b → c) | d) → e.
        let nested = SeriesParallel.decompose(upstream: [[], [0], [1], [0], [2, 3]], durations: [1, 1, 1, 1, 1])
        #expect(nested.structure == .series([.step(0), .parallel([.series([.step(1), .step(2)]), .step(3)]), .step(4)]))
    }

    @Test("the N shape is not series-parallel: it is layered into waves and the lost parallelism is measured")
    func layered() {
        // a → c, a → d, b → d: d waits for a and b, c only for a.
        let n = SeriesParallel.decompose(upstream: [[], [], [0], [0, 1]], durations: [1, 10, 10, 1])
        #expect(!n.exact)
        #expect(n.structure == .series([.parallel([.step(0), .step(1)]), .parallel([.step(2), .step(3)])]))
        // As a DAG: c can start after a (1 s) and end at 11; d after b at 10, ends at 11. Waves: 10 + 10.
        #expect(n.makespanBefore == 11)
        #expect(n.makespanAfter == 20)
        // A bigger non-series-parallel graph still runs every step once, in dependency order.
        let upstream: [[Int]] = [[], [], [0], [0, 1], [2, 3], [1], [4, 5]]
        let d = SeriesParallel.decompose(upstream: upstream, durations: Array(repeating: 1, count: 7))
        var seen: [Int] = []
        func walk(_ s: S) {
            switch s {
            case .step(let i): seen.append(i)
            case .series(let p), .parallel(let p): p.forEach(walk)
            }
        }
        walk(d.structure)
        #expect(seen.sorted() == Array(0..<7))
        #expect(d.makespanAfter >= d.makespanBefore)
    }

    /// Start times under the structure's own semantics: a series runs its parts one after
    /// another, a parallel all at once and ends with the last.
    static func schedule(_ s: S, at start: Double, _ d: [Double], _ starts: inout [Int: Double]) -> Double {
        switch s {
        case .step(let i):
            starts[i] = start
            return start + d[i]
        case .series(let parts):
            var t = start
            for p in parts { t = schedule(p, at: t, d, &starts) }
            return t
        case .parallel(let parts):
            return parts.map { schedule($0, at: start, d, &starts) }.max() ?? start
        }
    }

    @Test("on 300 random DAGs: every step once, every dependency honoured, never faster than the DAG, exactly as fast when series-parallel")
    func property() {
        var rng = SeededGenerator(seed: 42)
        var exactCount = 0
        for _ in 0..<300 {
            let n = Int.random(in: 1...9, using: &rng)
            let upstream: [[Int]] = (0..<n).map { v in v == 0 ? [] : (0..<v).filter { _ in Double.random(in: 0..<1, using: &rng) < 0.3 } }
            let durations = (0..<n).map { _ in Double(Int.random(in: 1...9, using: &rng)) }
            let d = SeriesParallel.decompose(upstream: upstream, durations: durations)
            var starts: [Int: Double] = [:]
            let end = Self.schedule(d.structure, at: 0, durations, &starts)
            #expect(starts.keys.sorted() == Array(0..<n))
            for v in 0..<n { for u in upstream[v] { #expect(starts[v]! >= starts[u]! + durations[u]) } }
            #expect(end == d.makespanAfter)
            #expect(d.makespanAfter >= d.makespanBefore)
            if d.exact {
                exactCount += 1
                #expect(d.makespanAfter == d.makespanBefore)
            }
        }
        // Both kinds occur.
        #expect(exactCount > 50 && exactCount < 300)
    }
}
