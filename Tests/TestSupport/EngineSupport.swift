import Foundation
import Orchestration
import OrchestrationTesting
import Testing

/// Loads a workflow from YAML text written in a test.
package func workflowDocument(_ yaml: String, actions: ActionCatalog = .builtIn) throws -> WorkflowDocument {
    do {
        return try WorkflowLoader.load(source: yaml, file: "test.yaml", actions: actions)
    } catch {
        Issue.record("workflow does not load: \(error.errors.map(\.description).joined(separator: "\n"))")
        throw error
    }
}

/// A state machine for `yaml`, ready to start.
package func machine(_ yaml: String, limit: Int = 64, inputs: [String: JSONValue] = [:], reuse: [String: StepResult] = [:], debug: Bool = false)
    throws
    -> ExecutionStateMachine
{
    let document = try workflowDocument(yaml)
    let compiled = try CompiledWorkflow(graph: document.graph)
    var merged = document.workflow.variables
    merged.merge(inputs) { _, new in new }
    let values = ExecutionValues(executionID: "e1", workflowID: document.workflow.id, workflowName: document.workflow.name, inputs: merged)
    return ExecutionStateMachine(compiled: compiled, values: values, limit: limit, reuse: reuse, debug: debug, seed: 7)
}

/// A state machine for a workflow built in code.
package func machine(_ workflow: Workflow, limit: Int = 64) throws -> ExecutionStateMachine {
    let graph = try #require(WorkflowValidator().validate(workflow).graph)
    let compiled = try CompiledWorkflow(graph: graph)
    let values = ExecutionValues(executionID: "e1", workflowID: workflow.id, workflowName: workflow.name, inputs: workflow.variables)
    return ExecutionStateMachine(compiled: compiled, values: values, limit: limit, seed: 7)
}

package let t0 = Date(timeIntervalSince1970: 1_800_000_000)

package extension ExecutionStateMachine {
    /// The id of a unit: a step's id, or a forEach item's `<step>[<index>]`.
    package func id(_ step: Int) -> String { results[step].stepID }
    package func index(_ id: String) -> Int { compiled.graph.index[id] ?? results.firstIndex { $0.stepID == id }! }
    package func result(_ id: String) -> StepResult { results[index(id)] }
}

package extension Array where Element == ExecutionStateMachine.Action {
    /// Ids of the steps these actions start, in order.
    package func started(_ m: ExecutionStateMachine) -> [String] {
        compactMap { if case .startAttempt(let s, _, _) = $0 { return m.id(s) } else { return nil } }
    }

    package var requests: [StepRequest] {
        compactMap { if case .startAttempt(_, _, let r) = $0 { return r } else { return nil } }
    }

    package var finish: ExecutionStatus? {
        for a in self { if case .finish(let s) = a { return s } }
        return nil
    }

    package var retries: [(step: Int, attempt: Int, delay: Duration)] {
        compactMap { if case .scheduleRetry(let s, let a, let d) = $0 { return (s, a, d) } else { return nil } }
    }

    package var rollbacks: [StepRequest] {
        compactMap { if case .startRollback(_, _, let r) = $0 { return r } else { return nil } }
    }

    package var cancelled: [Int] {
        flatMap { if case .cancelAttempts(let s) = $0 { return s } else { return [] } }
    }
}

package extension ExecutionStateMachine {
    /// Finishes `id`'s running attempt with `outcome` and returns the actions.
    package mutating func finish(_ id: String, _ outcome: StepOutcome = .success(), at seconds: Double = 1) -> [Action] {
        attemptFinished(step: index(id), outcome: outcome, now: t0.addingTimeInterval(seconds))
    }
}

/// Runs `body` with an engine on a manual clock whose every step type goes to `executor`.
package func withScriptedEngine<R: Sendable>(
    _ executor: ScriptedExecutor, clock: ManualClock = ManualClock(), secrets: SecretProvider = SecretProvider(environment: [:]),
    cache: any StepCache = InMemoryStepCache(), store: (any Store)? = nil, workerLimit: Int = 64, seed: UInt64 = 1,
    _ body: (WorkflowEngine) async throws -> R
) async throws -> R {
    PoolWatchdog.start()
    var executors = ExecutorRegistry()
    for type in StepType.allCases { executors.register(executor, for: type) }
    return try await WorkflowEngine.withEngine(
        executors: executors, configuration: EngineConfiguration(workerLimit: workerLimit), clock: clock,
        secrets: secrets, cache: cache, store: store, seed: seed, body)
}
