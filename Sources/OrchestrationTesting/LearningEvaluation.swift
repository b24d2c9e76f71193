import Foundation
import Orchestration

/// The learning engine's evaluation: simulated workloads with planted problems, run through the
/// real engine on virtual time, and the suggestions scored against what was planted. Used by the
/// test suite and by `novacron-bench learning`.
///
/// The workload (`planted`): a build pipeline of eight steps where
/// - `tests` fails 20% of attempts at random and has no retries (planted: add-retries);
/// - `package` takes a median 45 s (p95 70 s) under a 1 m timeout (planted: raise-timeout);
/// - `scan` takes twice as long from the 121st execution on (planted: duration-regression);
/// - `deps` is idempotent, always gets the same inputs and gives the same outputs (planted:
///   enable-cache);
/// - `publish` lists `compile`, which it already waits for through `package` (planted:
///   remove-dependency);
/// - `checkout`, `compile` and `notify` are healthy: any suggestion on them is a false positive.
public enum LearningEvaluation {
    public static let workflow = """
        name: planted
        variables: {run: 0}
        steps:
          - {id: checkout, timeout: 1m, estimatedDuration: 2s, inputs: {command: "git checkout ${run}"}}
          - {id: deps, dependencies: [checkout], idempotent: true, timeout: 5m, estimatedDuration: 30s, inputs: {command: "npm ci"}}
          - {id: compile, timeout: 10m, estimatedDuration: 1m, inputs: {command: "make ${checkout.result} ${deps.result}"}}
          - {id: tests, timeout: 10m, estimatedDuration: 40s, inputs: {command: "make test ${compile.result}"}}
          - {id: package, timeout: 1m, estimatedDuration: 45s, inputs: {command: "make package ${compile.result}"}}
          - {id: scan, timeout: 5m, estimatedDuration: 20s, inputs: {command: "scan ${package.result}"}}
          - {id: publish, dependencies: [compile], timeout: 2m, estimatedDuration: 10s, inputs: {command: "publish ${package.result} ${tests.result} ${scan.result}"}}
          - {id: notify, timeout: 1m, estimatedDuration: 1s, inputs: {command: "notify ${publish.result}"}}
        """

    public static let model = """
        default: {duration: 1s}
        steps:
          checkout: {duration: {min: 1s, max: 3s}}
          deps: {duration: {median: 30s, p95: 45s}, outputs: same}
          compile: {duration: {median: 60s, p95: 90s}}
          tests: {duration: {median: 40s, p95: 55s}, failureRate: 0.2, error: "connection reset by peer (test db 10.0.3.7:5432)"}
          package: {duration: {median: 45s, p95: 70s}}
          scan: {duration: {min: 18s, max: 22s}, slowdown: {after: 120, factor: 2}}
          publish: {duration: {min: 5s, max: 15s}}
          notify: {duration: 1s}
        """

    /// What was planted, as `kind/step`.
    public static let truth: Set<String> = [
        "add-retries/tests", "raise-timeout/package", "duration-regression/scan", "enable-cache/deps", "remove-dependency/publish",
    ]

    public struct Report: Sendable, Codable {
        public struct Run: Sendable, Codable {
            public var seed: UInt64
            public var suggested: [String]
            public var truePositives: [String]
            public var falsePositives: [String]
            public var missed: [String]
            public var runsPerSecond: Double
        }

        public var runsPerSeed: Int
        public var seeds: [Run]
        public var precision: Double
        public var recall: Double
    }

    /// Runs the planted workload `runs` times under each seed and scores the suggestions.
    public static func evaluate(seeds: [UInt64], runs: Int = 200) async throws -> Report {
        let workflow = try WorkflowLoader.load(source: Self.workflow, file: "planted.yaml").workflow
        let model = try SimulationModel.parse(Self.model, file: "planted.model.yaml")
        var out: [Report.Run] = []
        for seed in seeds {
            let report = try await Simulator(workflow: workflow, model: model, seed: seed).run(runs: runs)
            let suggested = report.suggestions.map { "\($0.kind.rawValue)/\($0.step ?? "")" }
            let found = Set(suggested)
            out.append(Report.Run(
                seed: seed, suggested: suggested.sorted(), truePositives: found.intersection(truth).sorted(),
                falsePositives: found.subtracting(truth).sorted(), missed: truth.subtracting(found).sorted(), runsPerSecond: report.runsPerSecond))
        }
        let tp = Double(out.map(\.truePositives.count).reduce(0, +))
        let fp = Double(out.map(\.falsePositives.count).reduce(0, +))
        let fn = Double(out.map(\.missed.count).reduce(0, +))
        return Report(runsPerSeed: runs, seeds: out, precision: tp + fp > 0 ? tp / (tp + fp) : 1, recall: tp + fn > 0 ? tp / (tp + fn) : 1)
    }
}
