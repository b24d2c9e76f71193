import Foundation
import Orchestration
import OrchestrationTesting

/// `learning [--seeds N] [--runs R]`: the learning engine's evaluation (see
/// ``LearningEvaluation``): precision and recall of its suggestions against planted problems,
/// and simulation speed.
enum LearningBenchmark {
    static func run(_ arguments: [String]) async throws {
        let seedCount = Int(option("seeds", in: arguments) ?? "") ?? 10
        let runs = Int(option("runs", in: arguments) ?? "") ?? 200
        let report = try await LearningEvaluation.evaluate(seeds: (1...UInt64(seedCount)).map { $0 }, runs: runs)
        for run in report.seeds {
            print("seed \(run.seed): \(run.truePositives.count) found, false positives \(run.falsePositives), missed \(run.missed), \(Int(run.runsPerSecond)) runs/s")
        }
        let speeds = report.seeds.map(\.runsPerSecond).sorted()
        print(String(format: "precision %.3f, recall %.3f over %d seeds × %d executions; simulation %.0f–%.0f runs/s (median %.0f)",
                     report.precision, report.recall, seedCount, runs, speeds.first ?? 0, speeds.last ?? 0, speeds[speeds.count / 2]))
        // What the engine says, for the first seed.
        let workflow = try WorkflowLoader.load(source: LearningEvaluation.workflow, file: "planted.yaml").workflow
        let model = try SimulationModel.parse(LearningEvaluation.model, file: "planted.model.yaml")
        let one = try await Simulator(workflow: workflow, model: model, seed: 1).run(runs: runs)
        for s in one.suggestions {
            print(String(format: "  [%@ %.2f] %@", s.priority.rawValue, s.confidence, s.description))
        }
    }
}
