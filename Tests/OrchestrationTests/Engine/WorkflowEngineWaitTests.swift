import Foundation
import Orchestration
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

extension WorkflowEngineTests {
    @Test("a wait for an execution's end whose task is cancelled throws CancellationError; the execution carries on")
    func cancelledWait() async throws {
        let executor = ScriptedExecutor()
        executor.hold("slow")
        let final = try await withScriptedEngine(executor) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: slow, inputs: {command: x}}
                    """))
            let started = try await engine.executeWorkflow("w")
            await executor.waitForStarts(1)
            let waiting = Task { try await engine.waitForExecution(started.id) }
            waiting.cancel()
            await #expect(throws: CancellationError.self) { try await waiting.value }
            executor.release("slow")
            return try await engine.waitForExecution(started.id)
        }
        #expect(final.status == .completed)
    }
}

extension WorkflowEngineTests {
    @Test("a wait for the end is never lost while many steps end at once (100 fan-outs of 50 steps)")
    func waitsAreNotLost() async throws {
        var steps = [WorkflowStep(id: "root", inputs: ["command": "true"])]
        for i in 0..<48 { steps.append(WorkflowStep(id: "s\(i)", inputs: ["command": "true"], dependencies: ["root"])) }
        steps.append(WorkflowStep(id: "join", inputs: ["command": "true"], dependencies: (0..<48).map { "s\($0)" }))
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let statuses = try await WorkflowEngine.withEngine(executors: executors) { engine in
            try await engine.registerWorkflow(Workflow(name: "fan", steps: steps))
            var statuses: [ExecutionStatus] = []
            for _ in 0..<100 {
                let started = try await engine.executeWorkflow("fan")
                statuses.append(try await engine.waitForExecution(started.id).status)
            }
            return statuses
        }
        #expect(statuses == Array(repeating: .completed, count: 100))
    }
}

extension WorkflowEngineTests {
    @Test("after a drain's grace, what still runs is handed back: stopping the engine records and reports no end")
    func handedBack() async throws {
        let executor = ScriptedExecutor()
        executor.hold("build")
        let clock = ManualClock()
        let store = InMemoryStore()
        let seen = Mutex<[String]>([])
        let id = try await withScriptedEngine(executor, clock: clock, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.pipeline))
            let started = try await engine.executeWorkflow("pipeline")
            await executor.waitForStarts(1)
            async let drained: Void = engine.drain(grace: .seconds(30))
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30))
            await drained
            engine.observe { event in seen.withLock { $0.append(event.name) } }
            return started.id
        }
        // Leaving withScriptedEngine cancelled the held step; its end was neither saved nor announced.
        #expect(seen.withLock { $0 }.isEmpty)
        let saved = try #require(try await store.execution(id: id))
        #expect(saved.execution.status == .running)
        #expect(saved.execution.stepResults["build"] == nil)
    }
}
