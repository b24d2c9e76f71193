import Foundation
import Orchestration
import OrchestrationCloud

/// `novacron-bench export [steps]`: how long exporting takes to each target, on generated
/// workflows of Lambda steps (a series-parallel fork-join tree, and a random DAG that has to be
/// layered). Best of 5 runs.
enum ExportBenchmark {
    static func run(_ arguments: [String]) throws {
        let n = arguments.first.flatMap(Int.init) ?? 1000
        print("NovaCron export benchmark, \(n) steps, best of 5 runs")
        for shape in ["fork-join", "random"] {
            var line = shape.padding(toLength: 11, withPad: " ", startingAt: 0)
            var layout = ""
            for target in CloudTarget.allCases {
                // Lambda steps for AWS; functions called over HTTPS for the others.
                let workflow = shapes(n, provider: target == .aws ? "aws" : "gcp")[shape]!
                guard let graph = WorkflowValidator().validate(workflow).graph else { throw BenchmarkError(message: "\(shape) is invalid") }
                var bytes = 0
                var failed: String?
                let time = PlanBenchmark.best {
                    do { bytes = try WorkflowExporter.export(graph, to: target).text.utf8.count } catch {
                        failed = "\(error)".prefix(500).description
                    }
                }
                if let failed { throw BenchmarkError(message: "\(shape) → \(target): \(failed)") }
                line += String(format: "  %@ %7.1f ms (%5d KiB)", target.rawValue, time * 1000, bytes / 1024)
                if layout.isEmpty {
                    let d = SeriesParallel.decompose(upstream: graph.upstream, durations: [Double](repeating: 1, count: graph.upstream.count))
                    layout = d.exact ? "  nested exactly" : String(format: "  waves: %.0f s → %.0f s", d.makespanBefore, d.makespanAfter)
                }
            }
            print(line + layout)
        }
    }

    static func step(_ i: Int, after: [Int], provider: String) -> WorkflowStep {
        WorkflowStep(
            id: "s\(i)", type: .lambda,
            inputs: [
                "provider": .string(provider), "function_name": .string("f\(i % 7)"), "url": .string("https://f\(i % 7).example.run.app"),
                "input": after.first.map { .string("${s\($0).value}") } ?? "seed",
            ],
            dependencies: after.map { "s\($0)" }, timeout: .seconds(60), retryPolicy: RetryPolicy(maxAttempts: 3))
    }

    static func shapes(_ n: Int, provider: String) -> [String: Workflow] {
        func step(_ i: Int, after: [Int]) -> WorkflowStep { Self.step(i, after: after, provider: provider) }
        // Fork-join: chains of 4 fanned out from one step and joined, repeated.
        var forkJoin = [step(0, after: [])]
        var last = 0
        while forkJoin.count < n {
            let fork = last
            var ends: [Int] = []
            for _ in 0..<8 where forkJoin.count < n - 1 {
                var previous = fork
                for _ in 0..<4 where forkJoin.count < n - 1 {
                    forkJoin.append(step(forkJoin.count, after: [previous]))
                    previous = forkJoin.count - 1
                }
                ends.append(previous)
            }
            forkJoin.append(step(forkJoin.count, after: ends.isEmpty ? [fork] : ends))
            last = forkJoin.count - 1
        }
        // Random: each step depends on up to 3 of the 20 before it.
        var rng = SplitMix64(seed: 42)
        var random = [step(0, after: [])]
        for i in 1..<n {
            let count = Int.random(in: 1...3, using: &rng)
            let ups = Set((0..<count).map { _ in max(0, i - Int.random(in: 1...20, using: &rng)) }).sorted()
            random.append(step(i, after: ups))
        }
        return ["fork-join": Workflow(name: "fork-join", steps: forkJoin), "random": Workflow(name: "random", steps: random)]
    }
}
