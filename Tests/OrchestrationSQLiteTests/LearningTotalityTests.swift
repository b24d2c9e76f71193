import Foundation
import Orchestration
import OrchestrationExecutors
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

/// The learning engine's arithmetic is total: any history gives suggestions or none — never a
/// trap, a NaN or an infinity. Histories are random, from a seed printed with every failure
/// (`NOVACRON_PROPERTY_SEED` replays one).
@Suite("Learning: total arithmetic over random histories")
struct LearningTotalityTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_202
    static let histories = 1500

    /// How one step behaves over a history: the cases the issue names and the ones that broke.
    enum Behaviour: CaseIterable {
        case allFailures, allTimeouts, identical, zeroLength, hugeOutliers, cutOffsOnly, mostlyCutOff
        case ordinary, transientFailures, neverRescued, slowdown, repeatedInputs, hostileNumbers
    }

    /// A workflow with a redundant dependency (c on a and b, b on a), steps that read nothing
    /// from their dependencies, and a random timeout, retry policy, idempotence and estimate.
    static func workflow(_ rng: inout SplitMix64) throws -> Workflow {
        func options(_ rng: inout SplitMix64) -> String {
            var o: [String] = []
            if let t = ["50ms", "1s", "30s", "1h", nil].randomElement(using: &rng)! { o.append("timeout: \(t)") }
            if Bool.random(using: &rng) { o.append("retryPolicy: {maxAttempts: 3}") }
            if Bool.random(using: &rng) { o.append("idempotent: true") }
            if Bool.random(using: &rng) { o.append("estimatedDuration: \(["0s", "1ms", "10s", "2h"].randomElement(using: &rng)!)") }
            return o.map { ", " + $0 }.joined()
        }
        let yaml = """
            name: history
            steps:
              - {id: a\(options(&rng))}
              - {id: b, dependencies: [a]\(options(&rng))}
              - {id: c, dependencies: [a, b]\(options(&rng))}
              - {id: d, dependencies: [b]\(options(&rng))}
              - {id: e\(options(&rng))}
            """
        return try WorkflowLoader.load(source: yaml, file: "history.yaml").workflow
    }

    /// A duration drawn for `behaviour` on run `run`, against the step's timeout.
    static func seconds(_ behaviour: Behaviour, run: Int, timeout: Double, _ rng: inout SplitMix64) -> Double {
        switch behaviour {
        case .identical: return 2.5
        case .zeroLength: return 0
        case .hugeOutliers:
            return run % 7 == 0
                ? [1e9, 1e15, 1e300, Double.greatestFiniteMagnitude].randomElement(using: &rng)! : Double.random(in: 1...3, using: &rng)
        case .slowdown: return run < 60 ? Double.random(in: 1...2, using: &rng) : Double.random(in: 5...9, using: &rng)
        case .hostileNumbers:
            return [.nan, .infinity, -.infinity, -1, 0, .leastNonzeroMagnitude, 1e-300, 1e308, 3e9, Double(bitPattern: rng.next())].randomElement(
                using: &rng)!
        default: return Double.random(in: 0.001...max(0.002, timeout * 0.9), using: &rng)
        }
    }

    /// One step's observation in one execution.
    static func observation(_ id: String, _ behaviour: Behaviour, run: Int, timeout: Double, attempts maxAttempts: Int, _ rng: inout SplitMix64)
        -> StepObservation
    {
        var attempts: [AttemptObservation] = []
        var status = StepStatus.failed
        for attempt in 1...maxAttempts {
            let outcome: AttemptStatus
            switch behaviour {
            case .allFailures, .neverRescued: outcome = .failed
            case .allTimeouts, .cutOffsOnly: outcome = .timedOut
            case .mostlyCutOff: outcome = Double.random(in: 0..<1, using: &rng) < 0.85 ? .timedOut : .succeeded
            case .transientFailures: outcome = (run + attempt) % 3 == 0 ? .failed : .succeeded
            case .hostileNumbers: outcome = [.succeeded, .failed, .timedOut, .cancelled, .cached].randomElement(using: &rng)!
            default: outcome = Double.random(in: 0..<1, using: &rng) < 0.1 ? .failed : .succeeded
            }
            let seconds = outcome == .timedOut && behaviour != .hostileNumbers ? timeout : Self.seconds(behaviour, run: run, timeout: timeout, &rng)
            attempts.append(
                AttemptObservation(outcome: outcome, seconds: seconds, error: outcome == .succeeded ? nil : "connection reset after \(run) ms"))
            if outcome == .succeeded || outcome == .cached {
                status = .success
                break
            }
        }
        let input = behaviour == .repeatedInputs || behaviour == .identical ? "in-\(run % 3)" : "in-\(run)"
        return StepObservation(
            stepID: id, status: status, attempts: attempts, queueWait: Self.seconds(behaviour, run: run, timeout: 1, &rng),
            inputKey: input, outputKey: status == .success ? "out-\(input)" : nil)
    }

    /// A random history of `workflow`, and the behaviour each step had.
    static func history(_ workflow: Workflow, _ rng: inout SplitMix64) -> WorkflowStatistics {
        let behaviours = workflow.steps.map { _ in Behaviour.allCases.randomElement(using: &rng)! }
        let runs = [1, 2, 9, 10, 11, 40, 120].randomElement(using: &rng)!
        var statistics = WorkflowStatistics(workflowID: workflow.id, window: [8, 256].randomElement(using: &rng)!)
        let rate = [0.1, 0, 1, .nan, .infinity].randomElement(using: &rng)!
        for run in 0..<runs {
            let steps = workflow.steps.enumerated().map { i, step in
                observation(
                    step.id, behaviours[i], run: run, timeout: step.timeout?.seconds ?? 60,
                    attempts: step.retryPolicy?.maxAttempts ?? 1, &rng)
            }
            let status: ExecutionStatus = steps.allSatisfy { $0.status == .success } ? .completed : .failed
            let seconds = behaviours.contains(.hostileNumbers) ? Self.seconds(.hostileNumbers, run: run, timeout: 1, &rng) : Double(run % 5) + 1
            statistics.add(
                ExecutionObservation(
                    executionID: "x\(run)", workflowID: workflow.id, version: "v\(run / 50)", status: status,
                    startedAt: Date(timeIntervalSince1970: 1_800_000_000 + Double(run) * 60), seconds: seconds, steps: steps), learningRate: rate)
        }
        return statistics
    }

    @Test(
        "1,500 random histories (all failures, all timeouts, one sample, identical, zero, huge outliers, cut-offs only, hostile numbers): every pattern, suggestion of every kind, plan and ETA is finite and encodes as JSON",
        .ownThread
    )
    func randomHistories() throws {
        var rng = SplitMix64(seed: Self.seed)
        var kinds: [Suggestion.Kind: Int] = [:]
        let encoder = JSONEncoder()  // refuses NaN and infinity
        for round in 0..<Self.histories {
            let workflow = try Self.workflow(&rng)
            let statistics = Self.history(workflow, &rng)
            let suggester = Suggester(configuration: OptimizationConfig(minimumExecutions: [1, 10].randomElement(using: &rng)!))
            let context = "seed \(Self.seed), history \(round)"
            for candidate in suggester.candidates(for: workflow, statistics: statistics) {
                kinds[candidate.kind, default: 0] += 1
                #expect(candidate.isFinite, "\(context): \(candidate.id) \(candidate.evidence)")
                #expect((0...1).contains(candidate.confidence), "\(context): \(candidate.id) confidence \(candidate.confidence)")
            }
            let suggestions = suggester.suggestions(for: workflow, statistics: statistics)
            #expect(throws: Never.self, "\(context)") { _ = try encoder.encode(suggestions.map(\.json)) }
            for suggestion in suggestions {
                // Every patch applies to the definition it was made for.
                #expect(throws: Never.self, "\(context): \(suggestion.id)") { _ = try workflow.applying(suggestion.patch) }
            }
            let pattern = statistics.pattern(minimumExecutions: suggester.configuration.minimumExecutions)
            #expect(throws: Never.self, "\(context): pattern") { _ = try encoder.encode(pattern) }
            #expect(pattern.averageDuration.map { $0 >= .zero } ?? true, "\(context)")
            // Plans (and so priorities and ETAs) from the learned durations.
            let plan = try Planner(learnedDurations: suggester.learnedDurations(statistics)).plan(workflow)
            #expect(plan.estimatedDuration.seconds.isFinite && plan.optimizationScore.isFinite, "\(context): \(plan.estimatedDuration)")
        }
        // The property is about every kind: each must have been reached by some history.
        for kind in Suggestion.Kind.allCases {
            #expect(kinds[kind, default: 0] > 0, "seed \(Self.seed): no history reached \(kind.rawValue); reached \(kinds)")
        }
    }

    @Test("the simulator, fed a model learned from random histories (hostile ones included), reports finite makespans, ETA errors and suggestions")
    func simulatorFromHistories() async throws {
        var rng = SplitMix64(seed: Self.seed &+ 1)
        let encoder = JSONEncoder()
        for round in 0..<40 {
            let workflow = try Self.workflow(&rng)
            let statistics = Self.history(workflow, &rng)
            let model = SimulationModel.learned(from: statistics)
            let report = try await Simulator(workflow: workflow, model: model, seed: UInt64(round), warmUp: 2).run(runs: 6)
            #expect(throws: Never.self, "seed \(Self.seed), simulation \(round)") { _ = try encoder.encode(report) }
            #expect(report.runs == 6, "seed \(Self.seed), simulation \(round)")
        }
    }

    @Test("the statistics functions, clamped durations and saturating integers are total on any double")
    func primitives() {
        var rng = SplitMix64(seed: Self.seed &+ 2)
        let specials: [Double] = [.nan, .infinity, -.infinity, 0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -1, 1e300]
        for x in specials + (0..<20_000).map({ _ in Double(bitPattern: rng.next()) }) {
            #expect(Statistics.normalQuantile(x).isFinite, "seed \(Self.seed): \(x)")
            #expect(Statistics.quantile([1, 2, 3], x).isFinite, "seed \(Self.seed): \(x)")
            #expect(Duration.clamped(seconds: x) <= .seconds(Int64(DurationText.maximumSeconds)), "seed \(Self.seed): \(x)")
            if x.isFinite, abs(x) < 1e18 { #expect(Int(saturating: x) == Int(x), "seed \(Self.seed): \(x)") }
        }
        #expect(Int(saturating: .nan) == 0 && Int(saturating: 1e300) == .max && Int(saturating: -.infinity) == .min && Int(saturating: 42.9) == 42)
        #expect(Statistics.censoredLogNormal(observed: [.nan, .infinity, 1], censoredAt: [.infinity]) == nil)
        #expect(Statistics.wilsonLower(30, 10) <= 1)
    }
}

/// The history that aborted `novacron suggest`: real executions, through the real shell
/// executor and SQLite, of a step whose tight timeout cuts most attempts off. The timeout leaves
/// the quick runs (10 ms of sleep) room for a shell to start on a loaded machine: at 150 ms, CI
/// saw them cut off too, and with no finished attempt there is nothing to fit.
@Suite("Learning: a real history of cut-off attempts")
struct LearningRealHistoryTests {
    static let workflow = """
        name: tight
        steps:
          - id: fetch
            timeout: 500ms
            inputs: {command: "sleep ${pause}"}
          - id: report
            dependencies: [fetch]
            inputs: {command: "true"}
        """

    @Test("40 real runs, 34 of them cut off by the timeout: the pattern and suggestions are finite, and one raises the timeout")
    func cutOffHistory() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        let learning = LearningEngine(store: store)
        try await WorkflowEngine.withEngine(executors: .standard(), store: store, learning: learning) { engine in
            try await engine.registerWorkflow(try WorkflowLoader.load(source: Self.workflow, file: "tight.yaml").workflow)
            for run in 0..<40 {
                let pause = run % 7 == 0 ? "0.01" : "5"
                let started = try await engine.executeWorkflow("tight", inputs: ["pause": .string(pause)])
                _ = try await engine.waitForExecution(started.id)
            }
        }
        await learning.flush()
        let pattern = await learning.pattern(workflowID: "tight")
        let fetch = try #require(pattern.steps.first { $0.stepID == "fetch" })
        #expect((fetch.timeoutRate ?? 0) > 0.7)
        _ = try JSONEncoder().encode(pattern)
        let workflow = try WorkflowLoader.load(source: Self.workflow, file: "tight.yaml").workflow
        let suggestions = await learning.suggestions(for: workflow)
        _ = try JSONEncoder().encode(suggestions.map(\.json))
        let raise = try #require(suggestions.first { $0.kind == .raiseTimeout })
        let proposed = try DurationText.parse(try #require(raise.patch.last?.value?.text))
        #expect(proposed > .milliseconds(500) && proposed <= .seconds(5), "\(raise.description)")
    }
}
