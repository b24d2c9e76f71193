import Foundation
import Orchestration
import OrchestrationTesting
import Testing

/// Loads a workflow from YAML text written in a test.
func workflowDocument(_ yaml: String, actions: ActionCatalog = .builtIn) throws -> WorkflowDocument {
    do {
        return try WorkflowLoader.load(source: yaml, file: "test.yaml", actions: actions)
    } catch {
        Issue.record("workflow does not load: \(error.errors.map(\.description).joined(separator: "\n"))")
        throw error
    }
}

/// A state machine for `yaml`, ready to start.
func machine(_ yaml: String, limit: Int = 64, inputs: [String: JSONValue] = [:], reuse: [String: StepResult] = [:], debug: Bool = false) throws
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
func machine(_ workflow: Workflow, limit: Int = 64) throws -> ExecutionStateMachine {
    let graph = try #require(WorkflowValidator().validate(workflow).graph)
    let compiled = try CompiledWorkflow(graph: graph)
    let values = ExecutionValues(executionID: "e1", workflowID: workflow.id, workflowName: workflow.name, inputs: workflow.variables)
    return ExecutionStateMachine(compiled: compiled, values: values, limit: limit, seed: 7)
}

let t0 = Date(timeIntervalSince1970: 1_800_000_000)

extension ExecutionStateMachine {
    func id(_ step: Int) -> String { compiled.workflow.steps[step].id }
    func index(_ id: String) -> Int { compiled.graph.index[id]! }
    func result(_ id: String) -> StepResult { results[index(id)] }
}

extension Array where Element == ExecutionStateMachine.Action {
    /// Ids of the steps these actions start, in order.
    func started(_ m: ExecutionStateMachine) -> [String] {
        compactMap { if case .startAttempt(let s, _, _) = $0 { return m.id(s) } else { return nil } }
    }

    var requests: [StepRequest] {
        compactMap { if case .startAttempt(_, _, let r) = $0 { return r } else { return nil } }
    }

    var finish: ExecutionStatus? {
        for a in self { if case .finish(let s) = a { return s } }
        return nil
    }

    var retries: [(step: Int, attempt: Int, delay: Duration)] {
        compactMap { if case .scheduleRetry(let s, let a, let d) = $0 { return (s, a, d) } else { return nil } }
    }

    var rollbacks: [StepRequest] {
        compactMap { if case .startRollback(_, _, let r) = $0 { return r } else { return nil } }
    }

    var cancelled: [Int] {
        flatMap { if case .cancelAttempts(let s) = $0 { return s } else { return [] } }
    }
}

extension ExecutionStateMachine {
    /// Finishes `id`'s running attempt with `outcome` and returns the actions.
    mutating func finish(_ id: String, _ outcome: StepOutcome = .success(), at seconds: Double = 1) -> [Action] {
        attemptFinished(step: index(id), outcome: outcome, now: t0.addingTimeInterval(seconds))
    }
}
