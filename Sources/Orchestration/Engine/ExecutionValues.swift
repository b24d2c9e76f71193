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

    /// Follows `path` inside `value`; `nil` when a key or index is missing.
    static func descend(_ value: JSONValue, _ path: some Collection<Reference.Component>) -> JSONValue? {
        var current = value
        for component in path {
            switch (component, current) {
            case (.key(let k), .object(let o)):
                guard let next = o[k] else { return nil }
                current = next
            case (.index(let i), .array(let a)):
                guard a.indices.contains(i) else { return nil }
                current = a[i]
            case (.key(let k), .string(let s)):
                // A step output written as text may hold JSON; read into it.
                guard let data = s.data(using: .utf8), let parsed = try? JSONDecoder().decode(JSONValue.self, from: data),
                      case .object(let o) = parsed, let next = o[k] else { return nil }
                current = next
            default:
                return nil
            }
        }
        return current
    }
}

/// A reference that cannot be resolved when a step starts.
public struct ResolutionError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
