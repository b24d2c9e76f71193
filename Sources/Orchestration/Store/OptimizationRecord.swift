import Foundation

/// One entry of the audit trail of optimizations: who changed what, why, and from which version
/// to which.
public struct OptimizationRecord: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable {
        /// A suggestion became a new version.
        case applied
        /// An applied suggestion was undone because its version did significantly worse.
        case reverted
        /// An applied suggestion's version did not do significantly worse: it stays.
        case kept
    }

    public var workflowID: String
    public var action: Action
    public var suggestionID: String
    public var kind: SuggestionKind
    /// `learning-engine` for automatic changes; the API token's name or `cli` otherwise.
    public var by: String
    /// The suggestion's description, or why it was reverted.
    public var reason: String
    public var confidence: Double
    public var beforeVersion: String
    public var afterVersion: String
    public var patch: [JSONPatchOperation]
    public var evidence: [String: JSONValue]
    public var at: Date

    public init(
        workflowID: String, action: Action, suggestionID: String, kind: SuggestionKind, by: String, reason: String,
        confidence: Double, beforeVersion: String, afterVersion: String, patch: [JSONPatchOperation], evidence: [String: JSONValue], at: Date
    ) {
        self.workflowID = workflowID
        self.action = action
        self.suggestionID = suggestionID
        self.kind = kind
        self.by = by
        self.reason = reason
        self.confidence = confidence
        self.beforeVersion = beforeVersion
        self.afterVersion = afterVersion
        self.patch = patch
        self.evidence = evidence
        self.at = at
    }
}

/// What kind of change a learning engine's suggestion makes (and an audit record applied).
public enum SuggestionKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// The step timeout cuts off attempts that would have succeeded.
    case raiseTimeout = "raise-timeout"
    /// The step fails transiently and has no retries.
    case addRetries = "add-retries"
    /// The step's retries never rescue it.
    case removeRetries = "remove-retries"
    /// An idempotent step keeps getting the same inputs.
    case enableCache = "enable-cache"
    /// A listed dependency another path already implies.
    case removeDependency = "remove-dependency"
    /// A dependency whose outputs the step never reads holds the critical path back.
    case parallelize
    /// A step has no `estimatedDuration`; planning uses 1 s for it.
    case setEstimate = "set-estimate"
    /// Recent runs of the step are significantly slower than before.
    case durationRegression = "duration-regression"
}
