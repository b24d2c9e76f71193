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
    public var kind: Suggestion.Kind
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
        workflowID: String, action: Action, suggestionID: String, kind: Suggestion.Kind, by: String, reason: String,
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
