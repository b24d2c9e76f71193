import HeapModule

/// A simulated run of a graph on estimated durations, with the engine's own scheduling rule
/// (``ReadyQueue``, which the state machine uses): ready steps start highest priority first, at
/// most `limit` at once; an exclusive step waits for the running ones to finish, holds back the
/// steps behind it, and runs alone.
enum PlanSimulation {
    struct Running: Comparable {
        var finish: Double
        var index: Int
        static func < (a: Running, b: Running) -> Bool {
            a.finish != b.finish ? a.finish < b.finish : a.index < b.index
        }
    }

    /// The simulated makespan in seconds.
    static func makespan(graph: WorkflowGraph, estimates: [Double], priorities: [Double], exclusive: [Bool], limit: Int?) -> Double {
        var waiting = graph.upstream.map(\.count)
        var ready = ReadyQueue(priorities: priorities, exclusive: exclusive, limit: limit ?? Int.max)
        var running = Heap<Running>()
        for i in 0..<graph.count where waiting[i] == 0 { ready.add(i) }
        var now = 0.0
        while true {
            while let next = ready.next() {
                ready.start(next)
                running.insert(Running(finish: now + estimates[next], index: next))
            }
            guard let done = running.popMin() else { break }
            now = done.finish
            ready.finish(done.index)
            for v in graph.downstream[done.index] {
                waiting[v] -= 1
                if waiting[v] == 0 { ready.add(v) }
            }
        }
        return now
    }
}
