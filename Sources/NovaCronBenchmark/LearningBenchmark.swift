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
            print(
                "seed \(run.seed): \(run.truePositives.count) found, false positives \(run.falsePositives), missed \(run.missed), \(Int(run.runsPerSecond)) runs/s"
            )
        }
        let speeds = report.seeds.map(\.runsPerSecond).sorted()
        print(
            String(
                format: "precision %.3f, recall %.3f over %d seeds × %d executions; simulation %.0f–%.0f runs/s (median %.0f)",
                report.precision, report.recall, seedCount, runs, speeds.first ?? 0, speeds.last ?? 0, speeds[speeds.count / 2]))
        let scheduling = try await LearningEvaluation.scheduling(dags: Int(option("dags", in: arguments) ?? "") ?? 20)
        print(
            String(
                format:
                    "random DAGs (%d, 30 steps, %d slots): makespan ÷ lower bound %.3f first come first served, %.3f critical path first (learned durations)",
                scheduling.dags, scheduling.slots, scheduling.firstComeFirstServed, scheduling.criticalPathFirst))
        let e = scheduling.eta
        print(
            String(
                format:
                    "ETA error over %d executions: %.1f%% / %.1f%% / %.1f%% of the duration at 25/50/75%% progress (%.1f%% / %.1f%% / %.1f%% of the time left)",
                e.executions, e.at25 * 100, e.at50 * 100, e.at75 * 100, e.ofRemaining25 * 100, e.ofRemaining50 * 100, e.ofRemaining75 * 100))
        // What the engine says, for the first seed.
        let workflow = try WorkflowLoader.load(source: LearningEvaluation.workflow, file: "planted.yaml").workflow
        let model = try SimulationModel.parse(LearningEvaluation.model, file: "planted.model.yaml")
        let one = try await Simulator(workflow: workflow, model: model, seed: 1).run(runs: runs)
        for s in one.suggestions {
            print(String(format: "  [%@ %.2f] %@", s.priority.rawValue, s.confidence, s.description))
        }
    }
}
