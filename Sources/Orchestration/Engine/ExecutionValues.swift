import Foundation

/// What `${…}` references read in one execution, besides step results: inputs over variables,
/// secrets, the execution and workflow, and the triggering event.
public struct ExecutionValues: Sendable {
    public var executionID: String
    public var workflowID: String
    public var workflowName: String
    /// Execution inputs merged over the workflow's variables.
    public var inputs: [String: JSONValue]
    /// Secret values by name (only those the workflow references).
    public var secrets: [String: String]
    /// The triggering event's data (`${trigger.…}`), `null` when started by hand.
    public var trigger: JSONValue

    public init(
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
public struct ResolutionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
