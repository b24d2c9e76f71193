import Foundation

/// What `${…}` references read in one execution, besides step results: inputs over variables,
/// secrets, the execution and workflow, and the triggering event.
package struct ExecutionValues: Sendable {
    package var executionID: String
    package var workflowID: String
    package var workflowName: String
    /// Execution inputs merged over the workflow's variables.
    package var inputs: [String: JSONValue]
    /// Secret values by name (only those the workflow references).
    package var secrets: [String: String]
    /// The triggering event's data (`${trigger.…}`), `null` when started by hand.
    package var trigger: JSONValue
    /// A child execution's parent.
    package var parent: ParentLink?
    /// The rendered key of the workflow's concurrency group, if it has one.
    package var concurrencyKey: String?

    package init(
        executionID: String, workflowID: String, workflowName: String, inputs: [String: JSONValue],
        secrets: [String: String] = [:], trigger: JSONValue = .null
    ) {
        self.executionID = executionID
        self.workflowID = workflowID
        self.workflowName = workflowName
        self.inputs = inputs
        self.secrets = secrets
        self.trigger = trigger
    }
}

/// A reference that cannot be resolved when a step starts.
package struct ResolutionError: Error, Sendable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
