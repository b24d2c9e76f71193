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
package enum LearningEvaluation {
    package static let workflow = """
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

    package static let model = """
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
    package static let truth: Set<String> = [
        "add-retries/tests", "raise-timeout/package", "duration-regression/scan", "enable-cache/deps", "remove-dependency/publish",
    ]

    package struct Report: Sendable, Codable {
        package struct Run: Sendable, Codable {
            package var seed: UInt64
            package var suggested: [String]
            package var truePositives: [String]
            package var falsePositives: [String]
            package var missed: [String]
            package var runsPerSecond: Double
        }

        package var runsPerSeed: Int
        package var seeds: [Run]
        package var precision: Double
        package var recall: Double
    }

    /// Runs the planted workload `runs` times under each seed and scores the suggestions.
    package static func evaluate(seeds: [UInt64], runs: Int = 200) async throws -> Report {
        let workflow = try WorkflowLoader.load(source: Self.workflow, file: "planted.yaml").workflow
        let model = try SimulationModel.parse(Self.model, file: "planted.model.yaml")
        var out: [Report.Run] = []
        for seed in seeds {
            let report = try await Simulator(workflow: workflow, model: model, seed: seed).run(runs: runs)
            let suggested = report.suggestions.map { "\($0.kind.rawValue)/\($0.step ?? "")" }
            let found = Set(suggested)
            out.append(
                Report.Run(
                    seed: seed, suggested: suggested.sorted(), truePositives: found.intersection(truth).sorted(),
                    falsePositives: found.subtracting(truth).sorted(), missed: truth.subtracting(found).sorted(), runsPerSecond: report.runsPerSecond)
            )
        }
        let tp = Double(out.map(\.truePositives.count).reduce(0, +))
        let fp = Double(out.map(\.falsePositives.count).reduce(0, +))
        let fn = Double(out.map(\.missed.count).reduce(0, +))
        return Report(runsPerSeed: runs, seeds: out, precision: tp + fp > 0 ? tp / (tp + fp) : 1, recall: tp + fn > 0 ? tp / (tp + fn) : 1)
    }

    // MARK: ETAs and critical-path-first scheduling

    /// A random DAG of `steps` steps (each depends on up to three earlier ones, none has an
    /// estimate) and a model of its durations: log-normal, medians from 5 s to 2 m, σ 0.3.
    package static func randomDAG(seed: UInt64, steps: Int = 30) throws -> (Workflow, SimulationModel) {
        var rng = SplitMix64(seed: seed)
        var yaml = "name: random-\(seed)\nsteps:\n"
        var model = SimulationModel()
        for i in 0..<steps {
            let id = String(format: "s%02d", i)
            var upstream = Set<Int>()
            if i > 0 {
                for _ in 0..<Int.random(in: 0...3, using: &rng) where Double.random(in: 0..<1, using: &rng) < 0.7 {
                    upstream.insert(Int.random(in: max(0, i - 10)..<i, using: &rng))
                }
            }
            let deps = upstream.sorted().map { String(format: "s%02d", $0) }
            yaml += "  - {id: \(id)\(deps.isEmpty ? "" : ", dependencies: [\(deps.joined(separator: ", "))]")}\n"
            let median = Double.random(in: 5...120, using: &rng)
            model.steps[id] = SimulationModel.Step(duration: .logNormal(mu: log(median), sigma: 0.3))
        }
        return (try WorkflowLoader.load(source: yaml, file: "random-\(seed).yaml").workflow, model)
    }

    package struct SchedulingReport: Sendable, Codable {
        package var dags: Int
        package var slots: Int
        /// Mean makespan ÷ lower bound over the DAGs, first come first served and critical path first.
        package var firstComeFirstServed: Double
        package var criticalPathFirst: Double
        /// The engine's ETA error with learned durations (mean over the DAGs, critical path first).
        package var eta: SimulationReport.ETAError
    }

    /// Runs each of `dags` random DAGs `runs` times under a limit of `slots` steps at once, with
    /// each scheduling policy (the same draws), and reports makespan ÷ lower bound and the ETA
    /// error, leaving out the first 20 runs while durations are learned.
    package static func scheduling(dags: Int = 10, steps: Int = 30, slots: Int = 4, runs: Int = 60) async throws -> SchedulingReport {
        var fifo: [Double] = [], critical: [Double] = []
        var etas: [SimulationReport.ETAError] = []
        for d in 0..<dags {
            let (workflow, model) = try randomDAG(seed: UInt64(100 + d), steps: steps)
            for policy in ExecutionStateMachine.Scheduling.allCases {
                let report = try await Simulator(workflow: workflow, model: model, maxParallelism: slots, seed: UInt64(d + 1), scheduling: policy)
                    .run(runs: runs)
                guard let ratio = report.lowerBoundRatio else { continue }
                if policy == .criticalPathFirst {
                    critical.append(ratio)
                    if let eta = report.etaError { etas.append(eta) }
                } else {
                    fifo.append(ratio)
                }
            }
        }
        let mean = { (x: [Double]) in x.isEmpty ? 0 : x.reduce(0, +) / Double(x.count) }
        let eta = SimulationReport.ETAError(
            at25: mean(etas.map(\.at25)), at50: mean(etas.map(\.at50)), at75: mean(etas.map(\.at75)),
            ofRemaining25: mean(etas.map(\.ofRemaining25)), ofRemaining50: mean(etas.map(\.ofRemaining50)),
            ofRemaining75: mean(etas.map(\.ofRemaining75)),
            executions: etas.map(\.executions).reduce(0, +))
        return SchedulingReport(dags: dags, slots: slots, firstComeFirstServed: mean(fifo), criticalPathFirst: mean(critical), eta: eta)
    }
}
