import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Learning observer")
struct LearningObserverTests {
    @Test("the observation written with an execution's end: each attempt's outcome and error, fingerprints, queue waits, cache hits")
    func observation() async throws {
        let store = InMemoryStore()
        let executor = ScriptedExecutor()
        executor.script("flaky", [.failure("boom"), .success(outputs: ["n": 1])])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let clock = ManualClock()
        try await WorkflowEngine.withEngine(executors: executors, clock: clock, store: store, learning: LearningEngine(store: store)) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: flaky, inputs: {command: x}, retryPolicy: {maxAttempts: 2, backoffStrategy: fixed, initialDelay: 5s, jitter: none}}
                      - {id: after, dependencies: [flaky], inputs: {command: y}}
                      - {id: cached, inputs: {command: z}, cache: {enabled: true, ttl: 1h}}
                    """))
            let first = try await engine.executeWorkflow("w")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(5))
            #expect(try await engine.waitForExecution(first.id).status == .completed)
            let second = try await engine.executeWorkflow("w")
            #expect(try await engine.waitForExecution(second.id).status == .completed)
        }
        let observations = try await store.observations(workflowID: "w", after: 0, limit: 10).map(\.observation)
        try #require(observations.count == 2)
        let steps = Dictionary(uniqueKeysWithValues: observations[0].steps.map { ($0.stepID, $0) })
        #expect(observations[0].steps.map(\.stepID) == ["flaky", "after", "cached"])
        #expect(steps["flaky"]?.attempts.map(\.outcome) == [.failed, .succeeded])
        #expect(steps["flaky"]?.attempts.map(\.error) == ["boom", nil])
        #expect(steps["flaky"]?.inputKey?.count == 16)
        #expect(steps["flaky"]?.outputKey?.count == 16)
        #expect(steps["after"]?.queueWait != nil)
        #expect(observations[0].version.count == 64)
        let cached = try #require(observations[1].steps.first { $0.stepID == "cached" })
        #expect(cached.attempts.map(\.outcome) == [.cached])
        #expect(cached.attempts.first?.seconds == 0)
        #expect(cached.outputKey == steps["cached"]?.outputKey)
    }

    @Test("a forEach step is one step to the learning engine: its items are not steps, and its span is its one observed run")
    func forEachIsOneStep() async throws {
        let store = InMemoryStore()
        let executor = ScriptedExecutor()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let clock = ManualClock()
        try await WorkflowEngine.withEngine(executors: executors, clock: clock, store: store, learning: LearningEngine(store: store)) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: w
                    steps:
                      - {id: before, inputs: {command: x}}
                      - {id: fan, dependencies: [before], forEach: [1, 2, 3], inputs: {command: "echo ${item}"}}
                    """))
            let run = try await engine.executeWorkflow("w")
            #expect(try await engine.waitForExecution(run.id).status == .completed)
        }
        let observations = try await store.observations(workflowID: "w", after: 0, limit: 10).map(\.observation)
        try #require(observations.count == 1)
        #expect(observations[0].steps.map(\.stepID) == ["before", "fan"])
        let fan = try #require(observations[0].steps.last)
        #expect(fan.status == .success)
        #expect(fan.attempts.map(\.outcome) == [.succeeded], "the step's span, ending with the last item, in the same write as the end")
    }
}
