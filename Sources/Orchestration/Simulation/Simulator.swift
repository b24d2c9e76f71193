import Foundation
import Synchronization

/// Runs every step type of a simulation: waits on the virtual clock for a duration drawn from the
/// model, then succeeds or fails as drawn. Draws are seeded per execution, step and attempt, so a
/// simulation with the same seed runs the same.
package final class SimulatedStepExecutor: StepExecutor, Sendable {
    let model: SimulationModel
    let seed: UInt64
    /// Execution ids in the order they first ran a step: the run number of each.
    let runs = Mutex<[String: Int]>([:])

    package init(model: SimulationModel, seed: UInt64) {
        self.model = model
        self.seed = seed
    }

    static func mix(_ values: [UInt64]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for v in values {
            h ^= v
            h = h &* 0x0000_0100_0000_01b3
            h ^= h >> 29
        }
        return h
    }

    static func hash(_ text: String) -> UInt64 { mix(text.utf8.map(UInt64.init)) }

    package func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let run = runs.withLock { r -> Int in
            if let n = r[request.executionID] { return n }
            r[request.executionID] = r.count + 1
            return r.count
        }
        // A forEach item behaves as its step is modelled.
        let behaviour = model.step(StepResult.item(of: request.stepID)?.stepID ?? request.stepID)
        var rng = SplitMix64(seed: Self.mix([seed, UInt64(run), Self.hash(request.stepID), UInt64(request.attempt)]))
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &rng), u2 = Double.random(in: 0..<1, using: &rng)
        var seconds = behaviour.duration.draw(u1, u2)
        if let after = behaviour.slowdownAfter, run > after { seconds *= behaviour.slowdownFactor }
        let fails = Double.random(in: 0..<1, using: &rng) < behaviour.failureRate
        do { try await context.clock.sleep(for: .clamped(seconds: seconds)) } catch {
            return StepOutcome.cancelled()
        }
        if fails { return .failure(behaviour.error, exitCode: 1) }
        let value: JSONValue =
            behaviour.deterministicOutputs
            ? .string(String(StepCacheKey.make(for: request).prefix(12)))
            : .string("run-\(run)-attempt-\(request.attempt)")
        return .success(outputs: ["result": value])
    }
}

/// What a simulation found.
package struct SimulationReport: Sendable, Codable {
    package var runs: Int
    package var succeeded: Int
    package var successRate: Double
    /// Virtual seconds from start to end of each execution: mean and percentiles.
    package var makespan: Makespan
    /// Real seconds the simulation took, and runs per real second.
    package var wallSeconds: Double
    package var runsPerSecond: Double
    package var pattern: WorkflowPattern
    package var suggestions: [Suggestion]
    /// What auto-optimization applied, kept and reverted during the runs.
    package var optimizations: [OptimizationRecord]
    /// The success rate of each quarter of the runs, in the order they finished.
    package var successRateByQuarter: [Double]
    /// How far the engine's ETA was off at 25%, 50% and 75% of each completed execution (after
    /// the first ``Simulator/warmUp`` runs): mean |predicted end − actual end| ÷ actual duration.
    package var etaError: ETAError?
    /// Mean makespan ÷ its lower bound max(critical path, total work ÷ slots), from each completed
    /// execution's own step durations (after the warm-up).
    package var lowerBoundRatio: Double?

    package struct ETAError: Sendable, Codable {
        package var at25: Double
        package var at50: Double
        package var at75: Double
        /// The same errors divided by the time that was still left instead of the whole duration.
        package var ofRemaining25: Double
        package var ofRemaining50: Double
        package var ofRemaining75: Double
        package var executions: Int

        package init(at25: Double, at50: Double, at75: Double, ofRemaining25: Double, ofRemaining50: Double, ofRemaining75: Double, executions: Int) {
            self.at25 = at25
            self.at50 = at50
            self.at75 = at75
            self.ofRemaining25 = ofRemaining25
            self.ofRemaining50 = ofRemaining50
            self.ofRemaining75 = ofRemaining75
            self.executions = executions
        }
    }

    package struct Makespan: Sendable, Codable {
        package var mean: Double
        package var p50: Double
        package var p90: Double
        package var p99: Double
        package var max: Double
    }
}

/// `novacron simulate`: runs a workflow many times through the real engine on virtual time, with
/// steps behaving as a ``SimulationModel`` says, and reports the makespans, the success rate and
/// what the learning engine would suggest.
///
/// ```swift
/// let report = try await Simulator(workflow: workflow, model: model, seed: 1).run(runs: 1000)
/// print(report.makespan.p90, report.suggestions.map(\.description))
/// ```
package struct Simulator: Sendable {
    package var workflow: Workflow
    package var model: SimulationModel
    package var maxParallelism: Int?
    package var seed: UInt64
    package var optimization: OptimizationConfig
    /// Executions running at once (each started as soon as one ends). Default 1.
    package var concurrency: Int
    /// Which ready step starts first under a parallelism limit.
    package var scheduling: ReadyQueue.Scheduling
    /// Runs left out of the ETA and lower-bound figures while the engine learns. Default 20.
    package var warmUp: Int

    package init(
        workflow: Workflow, model: SimulationModel, maxParallelism: Int? = nil, seed: UInt64 = 1,
        optimization: OptimizationConfig = OptimizationConfig(),
        concurrency: Int = 1, scheduling: ReadyQueue.Scheduling = .criticalPathFirst, warmUp: Int = 20
    ) {
        self.workflow = workflow
        self.model = model
        self.maxParallelism = maxParallelism
        self.seed = seed
        self.optimization = optimization
        self.concurrency = max(1, concurrency)
        self.scheduling = scheduling
        self.warmUp = warmUp
    }

    struct Prediction: Sendable {
        var madeAt: Date
        var end: Date
    }

    final class PredictionLog: Sendable {
        let entries = Mutex<[String: [Prediction]]>([:])
    }

    /// Runs `runs` executions; `each` sees every finished one (for tests and progress).
    package func run(runs: Int, each: (@Sendable (WorkflowExecution) -> Void)? = nil) async throws -> SimulationReport {
        let clock = VirtualClock()
        let scheduler = DiscreteEventExecutor(clock: clock)
        let learning = LearningEngine(configuration: optimization)
        let executor = SimulatedStepExecutor(model: model, seed: seed)
        var registry = ExecutorRegistry()
        for type in StepType.allCases { registry.register(executor, for: type) }
        let executors = registry
        let workflow = self.workflow
        let options = ExecutionOptions(maxParallelism: maxParallelism)
        let concurrency = self.concurrency
        let started = ContinuousClock.now
        let scheduling = self.scheduling
        // A workflow step is modelled like any other step: its child is not simulated.
        let configuration = {
            var c = EngineConfiguration(retainedExecutions: 64, scheduling: scheduling)
            c.modelsEveryStep = true
            return c
        }()
        let predictions = PredictionLog()
        let (finished, finalWorkflow) = try await scheduler.run { () async throws -> ([WorkflowExecution], Workflow) in
            try await WorkflowEngine.withEngine(
                executors: executors, configuration: configuration, clock: clock,
                secrets: SecretProvider(environment: [:]), seed: seed, learning: learning
            ) { engine in
                try await engine.registerWorkflow(workflow)
                // With auto-optimization on, suggestions become versions (and are judged) as the runs go.
                let optimizer = AutoOptimizer(engine: engine, judgedAfter: 20)
                let executions = try await withThrowingTaskGroup(of: WorkflowExecution?.self) { group in
                    // The ETA as the engine gives it when an execution starts and whenever a step ends.
                    let events = engine.events()
                    group.addTask {
                        for await event in events {
                            switch event {
                            case .executionStarted(let id, _, _), .stepFinished(let id, _, _):
                                if let now = try? await engine.estimatedCompletion(id), let end = now.at {
                                    predictions.entries.withLock { $0[id, default: []].append(Prediction(madeAt: now.now, end: end)) }
                                }
                            default: break
                            }
                        }
                        return nil
                    }
                    if optimization.enableAutoOptimization {
                        group.addTask {
                            await optimizer.run()
                            return nil
                        }
                    }
                    var out: [WorkflowExecution] = []
                    out.reserveCapacity(runs)
                    var next = 0
                    func start() {
                        let n = next
                        next += 1
                        group.addTask {
                            let e = try await engine.executeWorkflow(workflow.id, inputs: ["run": .number(Double(n + 1))], options: options)
                            return try await engine.waitForExecution(e.id)
                        }
                    }
                    while next < min(runs, concurrency) { start() }
                    while out.count < runs, let finished = try await group.next() {
                        guard let done = finished else { continue }
                        each?(done)
                        out.append(done)
                        if next < runs { start() }
                    }
                    group.cancelAll()
                    return out
                }
                return (executions, await engine.workflow(workflow.id) ?? workflow)
            }
        }
        let wall = started.duration(to: .now).seconds
        let makespans = finished.map { ($0.finishedAt ?? Date()).timeIntervalSince($0.startedAt ?? Date()) }.sorted()
        let succeeded = finished.filter { $0.status == .completed }.count
        let pattern = await learning.pattern(workflowID: workflow.id, stepOrder: workflow.steps.map(\.id))
        let suggestions = await learning.suggestions(for: finalWorkflow)
        let audit = (try? await learning.audit(workflowID: workflow.id)) ?? []
        return SimulationReport(
            runs: finished.count, succeeded: succeeded, successRate: finished.isEmpty ? 0 : Double(succeeded) / Double(finished.count),
            makespan: .init(
                mean: makespans.isEmpty ? 0 : makespans.reduce(0, +) / Double(makespans.count), p50: Statistics.quantile(makespans, 0.5),
                p90: Statistics.quantile(makespans, 0.9), p99: Statistics.quantile(makespans, 0.99), max: makespans.last ?? 0),
            wallSeconds: wall, runsPerSecond: wall > 0 ? Double(finished.count) / wall : 0, pattern: pattern, suggestions: suggestions,
            optimizations: audit,
            successRateByQuarter: (0..<4).map { q in
                let part = finished[(finished.count * q / 4)..<(finished.count * (q + 1) / 4)]
                return part.isEmpty ? 0 : Double(part.filter { $0.status == .completed }.count) / Double(part.count)
            },
            etaError: Self.etaError(Array(finished.dropFirst(warmUp)), predictions: predictions.entries.withLock { $0 }),
            lowerBoundRatio: Self.lowerBoundRatio(Array(finished.dropFirst(warmUp)), workflow: workflow, slots: maxParallelism ?? 64))
    }

    static func etaError(_ executions: [WorkflowExecution], predictions: [String: [Prediction]]) -> SimulationReport.ETAError? {
        var total: [Double] = [0, 0, 0], remaining: [Double] = [0, 0, 0]
        var n = 0
        for e in executions where e.status == .completed {
            guard let start = e.startedAt, let end = e.finishedAt, let made = predictions[e.id], end > start else { continue }
            let actual = end.timeIntervalSince(start)
            var row: [(Double, Double)] = []
            for (k, fraction) in [0.25, 0.5, 0.75].enumerated() {
                let at = start.addingTimeInterval(actual * fraction)
                guard let p = made.last(where: { $0.madeAt <= at }) else { break }
                let off = abs(p.end.timeIntervalSince(end))
                row.append((off / actual, off / (actual * (1 - fraction))))
                _ = k
            }
            guard row.count == 3 else { continue }
            for k in 0..<3 {
                total[k] += row[k].0
                remaining[k] += row[k].1
            }
            n += 1
        }
        guard n > 0 else { return nil }
        let d = Double(n)
        return .init(
            at25: total[0] / d, at50: total[1] / d, at75: total[2] / d, ofRemaining25: remaining[0] / d, ofRemaining50: remaining[1] / d,
            ofRemaining75: remaining[2] / d, executions: n)
    }

    static func lowerBoundRatio(_ executions: [WorkflowExecution], workflow: Workflow, slots: Int) -> Double? {
        guard let graph = WorkflowValidator().validate(workflow).graph else { return nil }
        var ratios: [Double] = []
        for e in executions where e.status == .completed {
            guard let start = e.startedAt, let end = e.finishedAt else { continue }
            let durations = workflow.steps.map { e.stepResults[$0.id]?.duration.seconds ?? 0 }
            var longest = [Double](repeating: 0, count: durations.count)
            for v in graph.topologicalOrder {
                longest[v] = durations[v] + (graph.upstream[v].map { longest[$0] }.max() ?? 0)
            }
            let bound = max(longest.max() ?? 0, durations.reduce(0, +) / Double(max(1, slots)))
            if bound > 0 { ratios.append(end.timeIntervalSince(start) / bound) }
        }
        return ratios.isEmpty ? nil : ratios.reduce(0, +) / Double(ratios.count)
    }
}
