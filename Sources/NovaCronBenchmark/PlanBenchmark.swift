import Foundation
import Orchestration

/// `novacron-bench plan [steps]`: how long validation, planning and decoding take on large
/// generated workflows. Prints one line per measurement (best of 5 runs).
enum PlanBenchmark {
    static func run(_ arguments: [String]) throws {
        let n = arguments.first.flatMap(Int.init) ?? 100_000
        print("NovaCron planner benchmark, \(n) steps, best of 5 runs")
        for (name, workflow) in shapes(n) {
            let edges = workflow.steps.reduce(0) { $0 + $1.dependencies.count }
            var graph: WorkflowGraph?
            let validate = best { graph = WorkflowValidator().validate(workflow).graph }
            guard let graph else { throw BenchmarkError(message: "\(name) is invalid") }
            var plan: ExecutionPlan?
            let planning = best { plan = Planner().plan(graph) }
            print(
                name.padding(toLength: 22, withPad: " ", startingAt: 0)
                    + String(
                        format: "%7d edges  validate %7.1f ms  plan %7.1f ms  (stages %d, redundant %d%@)",
                        edges, validate * 1000, planning * 1000, plan!.stages.count,
                        plan!.redundantDependencies.count, plan!.reductionComplete ? "" : ", search cut short"))
        }
        // Decoding a file of that size (a chain), from text.
        var yaml = "name: big\nsteps:\n- {id: s0}\n"
        for i in 1..<n { yaml += "- {id: s\(i), dependencies: [s\(i - 1)]}\n" }
        var decoded = false
        let decode = best { decoded = (try? WorkflowLoader.load(source: yaml, file: "big.yaml")) != nil }
        guard decoded else { throw BenchmarkError(message: "the generated YAML did not load") }
        print(
            "YAML file (chain)".padding(toLength: 22, withPad: " ", startingAt: 0)
                + String(format: "%7d bytes  decode + validate %7.1f ms", yaml.utf8.count, decode * 1000))
    }

    static func best(_ body: () -> Void) -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let start = ContinuousClock.now
            body()
            let elapsed = ContinuousClock.now - start
            best = min(best, elapsed.seconds)
        }
        return best
    }

    static func shapes(_ n: Int) -> [(String, Workflow)] {
        var rng = SystemRandomNumberGenerator()
        var chain = [WorkflowStep(id: "s0")]
        var rooted = [WorkflowStep(id: "s0")]
        var layered: [WorkflowStep] = []
        var fan = [WorkflowStep(id: "start")]
        for i in 1..<n {
            chain.append(WorkflowStep(id: "s\(i)", dependencies: ["s\(i - 1)"]))
            rooted.append(WorkflowStep(id: "s\(i)", dependencies: i == 1 ? ["s0"] : ["s0", "s\(i - 1)"]))
        }
        for i in 0..<n {
            let layer = i / 1000
            let deps = layer == 0 ? [] : Set((0..<3).map { _ in "n\((layer - 1) * 1000 + Int.random(in: 0..<1000, using: &rng))" })
            layered.append(WorkflowStep(id: "n\(i)", dependencies: deps.sorted()))
        }
        for i in 1..<(n - 1) { fan.append(WorkflowStep(id: "f\(i)", dependencies: ["start"])) }
        fan.append(WorkflowStep(id: "end", dependencies: (1..<(n - 1)).map { "f\($0)" }))
        return [
            ("chain", Workflow(name: "chain", steps: chain)),
            ("chain + shared root", Workflow(name: "rooted", steps: rooted)),
            ("100 layers x 1000", Workflow(name: "layered", steps: layered)),
            ("fan-out / fan-in", Workflow(name: "fan", steps: fan)),
        ]
    }
}
