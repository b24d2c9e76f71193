import HeapModule

/// A simulated run of a graph on estimated durations, with the engine's scheduling rules:
/// ready steps start highest priority first, at most `limit` at once; an exclusive step
/// (`parallel: false`) waits for the running ones to finish, holds back the steps behind it,
/// and runs alone.
enum PlanSimulation {
    struct Ready: Comparable {
        var priority: Double
        var index: Int
        static func < (a: Ready, b: Ready) -> Bool {
            a.priority != b.priority ? a.priority < b.priority : a.index > b.index
        }
    }

    struct Running: Comparable {
        var finish: Double
        var index: Int
        static func < (a: Running, b: Running) -> Bool {
            a.finish != b.finish ? a.finish < b.finish : a.index < b.index
        }
    }

    /// The simulated makespan in seconds.
    static func makespan(graph: WorkflowGraph, estimates: [Double], priorities: [Double], limit: Int?) -> Double {
        let steps = graph.workflow.steps
        var waiting = graph.upstream.map(\.count)
        var ready = Heap<Ready>()
        var running = Heap<Running>()
        for i in 0..<graph.count where waiting[i] == 0 { ready.insert(Ready(priority: priorities[i], index: i)) }
        var now = 0.0
        var exclusiveRunning = false
        let width = limit ?? Int.max
        while true {
            while !exclusiveRunning, running.count < width, let top = ready.max {
                if !steps[top.index].parallel {
                    guard running.isEmpty else { break }
                    exclusiveRunning = true
                }
                _ = ready.popMax()
                running.insert(Running(finish: now + estimates[top.index], index: top.index))
            }
            guard let done = running.popMin() else { break }
            now = done.finish
            if !steps[done.index].parallel { exclusiveRunning = false }
            for v in graph.downstream[done.index] {
                waiting[v] -= 1
                if waiting[v] == 0 { ready.insert(Ready(priority: priorities[v], index: v)) }
            }
        }
        return now
    }
}
