import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

/// The plan's estimated duration is what the engine takes when every step runs exactly its
/// estimate: the planner's simulation and the state machine share one scheduling rule
/// (`ReadyQueue`), checked here on random graphs (`NOVACRON_PROPERTY_SEED` replays one).
@Suite("Plan agrees with the engine")
struct PlanAgreesWithEngineTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_202

    /// A random DAG: each step depends on up to three earlier ones, runs 1–21 s, is exclusive one
    /// time in eight; the workflow may cap its parallelism.
    static func randomWorkflow(_ rng: inout SplitMix64, name: String) -> Workflow {
        let n = Int(rng.next() % 30) + 2
        var steps: [WorkflowStep] = []
        for i in 0..<n {
            var deps = Set<String>()
            if i > 0 { for _ in 0..<Int(rng.next() % 4) { deps.insert("s\(Int(rng.next() % UInt64(i)))") } }
            var step = WorkflowStep(id: "s\(i)", inputs: ["command": "true"])
            step.dependencies = deps.sorted()
            // Milliseconds drawn from 1–21 s: two steps ending at the same instant (whose order the
            // engine takes as they arrive) is then rare enough not to happen in these rounds.
            step.estimatedDuration = .milliseconds(Int(rng.next() % 20_000) + 1_000)
            step.parallel = rng.next() % 8 != 0
            steps.append(step)
        }
        var workflow = Workflow(name: name, steps: steps)
        workflow.maxParallelism = [nil, 1, 2, 3, 5][Int(rng.next() % 5)]
        return workflow
    }

    @Test("random graphs: the planned duration equals the engine's run on virtual time")
    func agrees() async throws {
        var rng = SplitMix64(seed: Self.seed)
        for round in 0..<40 {
            let workflow = Self.randomWorkflow(&rng, name: "plan-\(round)")
            let plan = try Planner(workerLimit: EngineConfiguration().workerLimit).plan(workflow)
            var model = SimulationModel()
            for step in workflow.steps { model.steps[step.id] = SimulationModel.Step(duration: .fixed(step.estimatedDuration!.seconds)) }
            let report = try await Simulator(workflow: workflow, model: model, seed: 1, warmUp: 0).run(runs: 1)
            #expect(
                abs(report.makespan.max - plan.estimatedDuration.seconds) < 1e-6,
                "seed \(Self.seed), round \(round): plan \(plan.estimatedDuration.seconds) s, engine \(report.makespan.max) s, maxParallelism \(workflow.maxParallelism.map(String.init) ?? "none"), exclusive \(workflow.steps.filter { !$0.parallel }.map(\.id))"
            )
        }
    }
}
