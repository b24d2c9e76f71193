import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Planner")
struct PlannerTests {
    @Test("data-pipeline: the three transforms form one parallel stage; serial 5, plan 3, score 5/3")
    func dataPipeline() throws {
        let document = try WorkflowLoader.load(contentsOf: Repository.path("Examples/data-pipeline.yaml"))
        let plan = Planner().plan(document.graph)
        #expect(plan.stages.map(\.steps) == [["extract"], ["transform-db1", "transform-db2", "transform-api"], ["load"]])
        #expect(plan.stages.map(\.parallel) == [false, true, false])
        #expect(plan.serialDuration == .seconds(5))
        #expect(plan.estimatedDuration == .seconds(3))
        #expect(plan.criticalPathDuration == .seconds(3))
        #expect(plan.optimizationScore == 5.0 / 3.0)
        #expect(plan.criticalPath == ["extract", "transform-db1", "load"])
        #expect(plan.cacheHints == ["transform-db1", "transform-db2", "transform-api"])
        #expect(plan.priorities["extract"] == .seconds(3) && plan.priorities["load"] == .seconds(1))
    }

    @Test("critical path and priorities follow estimates, not step count")
    func estimates() throws {
        let w = Workflow(
            name: "est",
            steps: [
                WorkflowStep(id: "quick1", estimatedDuration: .seconds(1)),
                WorkflowStep(id: "quick2", dependencies: ["quick1"], estimatedDuration: .seconds(1)),
                WorkflowStep(id: "slow", estimatedDuration: .seconds(10)),
                WorkflowStep(id: "end", dependencies: ["quick2", "slow"], estimatedDuration: .seconds(2)),
            ])
        let plan = try Planner().plan(w)
        #expect(plan.criticalPath == ["slow", "end"])
        #expect(plan.criticalPathDuration == .seconds(12))
        #expect(plan.priorities == ["quick1": .seconds(4), "quick2": .seconds(3), "slow": .seconds(12), "end": .seconds(2)])
        let learned = Planner(learnedDurations: ["quick1": .seconds(20)]).plan(WorkflowValidator().validate(w).graph!)
        #expect(learned.criticalPath == ["quick1", "quick2", "end"])
    }

    @Test("maxParallelism and exclusive steps lengthen the estimate; the score says so")
    func simulation() throws {
        let fan = (1...4).map { WorkflowStep(id: "s\($0)", estimatedDuration: .seconds(2)) }
        var w = Workflow(name: "fan", steps: fan)
        #expect(try Planner().plan(w).estimatedDuration == .seconds(2))
        w.maxParallelism = 2
        let limited = try Planner().plan(w)
        #expect(limited.estimatedDuration == .seconds(4) && limited.optimizationScore == 2)
        w.maxParallelism = nil
        w.steps[3].parallel = false
        let exclusive = try Planner().plan(w)
        #expect(exclusive.estimatedDuration == .seconds(4))
        #expect(exclusive.stages[0].parallel == false)
    }

    @Test("redundant dependencies are reported with the path that implies them")
    func redundant() throws {
        let w = Workflow(
            name: "r",
            steps: [
                WorkflowStep(id: "a"),
                WorkflowStep(id: "b", dependencies: ["a"]),
                WorkflowStep(id: "c", dependencies: ["b"]),
                WorkflowStep(id: "d", dependencies: ["a", "c", "b"]),
            ])
        let plan = try Planner().plan(w)
        #expect(
            plan.redundantDependencies == [
                .init(step: "d", dependency: "a", via: "c"),
                .init(step: "d", dependency: "b", via: "c"),
            ])
        #expect(plan.reductionComplete)
    }

    @Test("implicit dependencies from references are listed and scheduled")
    func implicit() throws {
        let w = Workflow(
            name: "i",
            steps: [
                WorkflowStep(id: "build"),
                WorkflowStep(id: "push", inputs: ["image": "${build.image}"]),
            ])
        let plan = try Planner().plan(w)
        #expect(plan.implicitDependencies == [.init(step: "push", dependency: "build")])
        #expect(plan.stages.map(\.steps) == [["build"], ["push"]])
    }

    @Test("a 100,000-step DAG plans completely: chains with a shared root, fan-in, random layers", .ownThread)
    func large() throws {
        // Every step depends on the root and on its predecessor: all root edges but one are redundant.
        var steps = [WorkflowStep(id: "root")]
        for i in 1..<100_000 {
            steps.append(WorkflowStep(id: "s\(i)", dependencies: i == 1 ? ["root"] : ["root", "s\(i - 1)"]))
        }
        let chain = try Planner().plan(Workflow(name: "chain", steps: steps))
        let chainStages = chain.stages.count
        #expect(chainStages == 100_000)
        let redundant = chain.redundantDependencies.count, complete = chain.reductionComplete
        #expect(redundant == 99_998)
        #expect(complete)

        var rng = SeededGenerator(seed: 3)
        var layered: [WorkflowStep] = []
        for i in 0..<100_000 {
            let layer = i / 1000
            let deps = layer == 0 ? [] : (0..<3).map { _ in "n\((layer - 1) * 1000 + Int.random(in: 0..<1000, using: &rng))" }
            layered.append(WorkflowStep(id: "n\(i)", dependencies: Array(Set(deps)).sorted()))
        }
        let plan = try Planner().plan(Workflow(name: "layers", steps: layered))
        let stages = plan.stages.count, serial = plan.serialDuration, critical = plan.criticalPathDuration
        let redundantInLayers = plan.redundantDependencies.count, layersComplete = plan.reductionComplete
        #expect(stages == 100)
        #expect(serial == .seconds(100_000))
        #expect(critical == .seconds(100))
        #expect(redundantInLayers == 0 && layersComplete)
    }

    @Test("DOT and Mermaid mark the critical path and the redundant edge")
    func renderings() throws {
        let w = Workflow(
            name: "r",
            steps: [
                WorkflowStep(id: "a"), WorkflowStep(id: "b", dependencies: ["a"]), WorkflowStep(id: "c", dependencies: ["a", "b"]),
            ])
        let result = WorkflowValidator().validate(w)
        let graph = try #require(result.graph)
        let renderer = PlanRenderer(plan: Planner().plan(graph), graph: graph)
        let dot = renderer.dot()
        #expect(dot.contains(#""a" -> "b" [color=red, penwidth=2];"#))
        #expect(dot.contains(#""a" -> "c" [style=dashed, label="redundant"];"#))
        let mermaid = renderer.mermaid()
        #expect(mermaid.contains("n0 -. redundant .-> n2"))
        #expect(mermaid.contains("class n0,n1,n2 critical"))
        guard case .object(let json) = renderer.json() else {
            Issue.record("plan JSON is not an object")
            return
        }
        #expect(json["optimizationScore"] == 1)
        #expect(json["criticalPath"] == ["a", "b", "c"])
    }
}
