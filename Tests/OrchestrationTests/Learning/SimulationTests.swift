import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Simulation on virtual time through the real engine")
struct SimulationTests {
    static let workflow = """
        name: sim
        steps:
          - {id: fetch, timeout: 1m, estimatedDuration: 10s}
          - {id: build, dependencies: [fetch], timeout: 5m, estimatedDuration: 2m, retryPolicy: {maxAttempts: 3, initialDelay: 5s, jitter: none}}
          - {id: lint, dependencies: [fetch], timeout: 1m, estimatedDuration: 20s}
          - {id: ship, dependencies: [build, lint], timeout: 1m, estimatedDuration: 5s}
        """

    static let model = """
        default: {duration: 5s}
        steps:
          fetch: {duration: 10s}
          build: {duration: {min: 100s, max: 140s}, failureRate: 0.3, error: "exit 2"}
          lint: {duration: 20s}
        """

    func simulate(seed: UInt64, runs: Int = 200, maxParallel: Int? = nil) async throws -> SimulationReport {
        let workflow = try workflowDocument(Self.workflow).workflow
        let model = try SimulationModel.parse(Self.model, file: "model.yaml")
        return try await Simulator(workflow: workflow, model: model, maxParallelism: maxParallel, seed: seed).run(runs: runs)
    }

    @Test("makespans follow the model: fetch, then build and lint together, then ship; failures are retried on virtual time")
    func makespans() async throws {
        let report = try await simulate(seed: 1)
        #expect(report.runs == 200)
        // Without a failure: 10 + build (100…140) + 5. Each failed build attempt adds its duration and the 5 s delay.
        #expect(report.makespan.p50 >= 115 && report.makespan.p50 <= 300, "\(report.makespan)")
        #expect(abs(report.makespan.mean - Self.expectedMean) / Self.expectedMean < 0.08, "\(report.makespan.mean) vs \(Self.expectedMean)")
        // Failing all 3 attempts: 0.3³ = 2.7%.
        #expect(report.successRate > 0.93 && report.successRate < 0.995)
        let build = try #require(report.pattern.steps.first { $0.stepID == "build" })
        #expect(abs((build.firstAttemptFailureRate ?? 0) - 0.3) < 0.08)
        #expect((build.retryRecoveryRate ?? 0) > 0.8)
    }

    /// E[makespan] = 10 + E[build chain] + 5, where each attempt takes 120 s on average and a
    /// failed one adds a 5 s delay: attempts a = 1 + 0.3 + 0.09 on average, delays 0.3 + 0.09.
    static let expectedMean = 10 + (1 + 0.3 + 0.09) * 120 + (0.3 + 0.09) * 5 + 5

    @Test("the same seed gives the same simulation; another seed another")
    func deterministic() async throws {
        let a = try await simulate(seed: 5, runs: 50), b = try await simulate(seed: 5, runs: 50), c = try await simulate(seed: 6, runs: 50)
        #expect(a.makespan.mean == b.makespan.mean)
        #expect(a.succeeded == b.succeeded)
        #expect(a.makespan.mean != c.makespan.mean)
    }

    @Test("a parallelism limit of 1 serializes build and lint")
    func parallelism() async throws {
        let free = try await simulate(seed: 3, runs: 30), one = try await simulate(seed: 3, runs: 30, maxParallel: 1)
        #expect(one.makespan.mean > free.makespan.mean + 15)
    }

    @Test("model files are checked, with the place of the problem")
    func modelErrors() {
        #expect(throws: SimulationModel.Invalid.self) { try SimulationModel.parse("steps: {a: {duration: {median: 5s}}}", file: "m.yaml") }
        do {
            _ = try SimulationModel.parse("steps:\n  a: {failureRate: 2}\n", file: "m.yaml")
            Issue.record("accepted a failure rate of 2")
        } catch {
            #expect(error.description.contains("m.yaml:2:3 step a.failureRate: a probability from 0 to 1"), "\(error.description)")
        }
        #expect(throws: SimulationModel.Invalid.self) { try SimulationModel.parse("stepz: {}", file: "m.yaml") }
    }
}

@Suite("Learning evaluation: planted problems")
struct LearningEvaluationTests {
    @Test(
        "over 200 simulated executions under 5 seeds, the suggestions find what was planted (recall ≥ 0.9) and nothing on healthy steps (precision ≥ 0.95)"
    )
    func planted() async throws {
        let report = try await LearningEvaluation.evaluate(seeds: [1, 2, 3, 4, 5], runs: 200)
        for run in report.seeds {
            print("seed \(run.seed): found \(run.truePositives), false \(run.falsePositives), missed \(run.missed), \(Int(run.runsPerSecond)) runs/s")
        }
        #expect(report.precision >= 0.95, "precision \(report.precision)")
        #expect(report.recall >= 0.9, "recall \(report.recall)")
    }
}

@Suite("ETAs and critical-path-first scheduling")
struct SchedulingEvaluationTests {
    @Test("on random DAGs under 4 slots, critical path first with learned durations beats first come first served, and ETAs are within 15%")
    func randomDAGs() async throws {
        let report = try await LearningEvaluation.scheduling(dags: 4, steps: 30, slots: 4, runs: 50)
        print("makespan ÷ lower bound: FCFS \(report.firstComeFirstServed), critical path first \(report.criticalPathFirst); ETA error \(report.eta)")
        #expect(report.criticalPathFirst < report.firstComeFirstServed)
        #expect(report.criticalPathFirst >= 1)
        #expect(report.eta.executions > 100)
        #expect(report.eta.at25 <= 0.15 && report.eta.at50 <= 0.15 && report.eta.at75 <= 0.15, "\(report.eta)")
    }

    @Test("a running execution's ETA is the longest estimated path still ahead, and moves as steps run")
    func eta() async throws {
        let executor = ScriptedExecutor()
        executor.takes("build", .seconds(60))
        executor.takes("test", .seconds(30))
        let clock = ManualClock()
        try await withScriptedEngine(executor, clock: clock) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: eta
                    steps:
                      - {id: build, estimatedDuration: 1m}
                      - {id: test, dependencies: [build], estimatedDuration: 30s}
                      - {id: lint, dependencies: [build], estimatedDuration: 10s}
                    """))
            let started = try await engine.executeWorkflow("eta")
            await clock.waitForSleepers(1)
            let first = try await engine.estimatedCompletion(started.id)
            #expect(first.at.map { $0.timeIntervalSince(first.now) } == 90)
            #expect(try await engine.getExecution(started.id).estimatedCompletion == first.at)
            clock.advance(by: .seconds(20))
            let later = try await engine.estimatedCompletion(started.id)
            #expect(later.at.map { $0.timeIntervalSince(later.now) } == 70)
            clock.advance(by: .seconds(40))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30))
            let done = try await engine.waitForExecution(started.id)
            #expect(done.estimatedCompletion == nil)
        }
    }

    @Test("a forEach step's items behave as the model says of the step, at most maxConcurrency at once; the pattern has the step, not its items")
    func forEachItems() async throws {
        let workflow = try workflowDocument(
            """
            name: fan
            steps:
              - {id: shard, forEach: [1, 2, 3, 4, 5, 6], maxConcurrency: 2, timeout: 1m, inputs: {n: "${item}"}}
            """
        ).workflow
        let model = try SimulationModel.parse("default: {duration: 1s}\nsteps:\n  shard: {duration: 10s}\n", file: "model.yaml")
        let report = try await Simulator(workflow: workflow, model: model, seed: 9).run(runs: 30)
        // Six 10 s items, two at a time: three rounds.
        #expect(report.makespan.p50 == 30, "\(report.makespan)")
        #expect(report.pattern.steps.map(\.stepID) == ["shard"])
    }

    @Test("a simulation runs workflow steps, approvals and waits as the model says, instead of waiting for anyone")
    func waitsAreModelled() async throws {
        let workflow = try workflowDocument(
            """
            name: gated
            steps:
              - {id: gate, type: approval, timeout: 1h}
              - {id: build, workflow: other, dependencies: [gate]}
              - {id: ci, type: wait, dependencies: [build], timeout: 1h, inputs: {signal: done}}
            """
        ).workflow
        let model = try SimulationModel.parse("default: {duration: 1s}\nsteps:\n  gate: {duration: 600s}\n", file: "model.yaml")
        let report = try await Simulator(workflow: workflow, model: model, seed: 3).run(runs: 3)
        #expect(report.successRate == 1)
        #expect(report.makespan.p50 == 602, "\(report.makespan)")
    }
}
