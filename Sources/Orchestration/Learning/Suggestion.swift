import Foundation

/// A change the learning engine proposes, with the evidence behind it and the change itself as
/// a JSON Patch of the definition (see ``Workflow/document``). Mirrors the guide's optimization
/// suggestions.
public struct Suggestion: Sendable, Hashable, Codable {
    /// What kind of change it is: ``SuggestionKind``.
    public typealias Kind = SuggestionKind

    public enum Priority: String, Sendable, Hashable, Codable, Comparable {
        case low, medium, high

        public static func < (a: Priority, b: Priority) -> Bool {
            [Priority.low, .medium, .high].firstIndex(of: a)! < [Priority.low, .medium, .high].firstIndex(of: b)!
        }
    }

    /// `kind/step` (and `:dependency` for dependency kinds): stable while the evidence changes.
    public var id: String
    public var kind: Kind
    public var step: String?
    public var description: String
    /// The expected improvement, in percent: success-rate points for reliability kinds, share of
    /// the execution's duration for speed kinds, relative planning error for estimates.
    public var expectedImpact: Double
    public var priority: Priority
    /// A statistical lower bound (0…1) on the suggestion being right; the formula of each kind
    /// is in docs/learning.md.
    public var confidence: Double
    /// Applied automatically (when enabled and confident enough). Kinds that change what a
    /// workflow does, rather than how reliably or quickly, never are.
    public var safe: Bool
    /// The change alters the workflow's meaning (ordering, side effects): review it.
    public var semanticChange: Bool
    /// The numbers behind it.
    public var evidence: [String: JSONValue]
    /// RFC 6902 operations on the definition document; the first ones `test` that the step is
    /// still where it was.
    public var patch: [JSONPatchOperation]

    /// Every number in it is finite. A suggestion that is not is never made: JSON cannot carry
    /// NaN or infinity, and a person cannot act on one.
    public var isFinite: Bool {
        expectedImpact.isFinite && confidence.isFinite && evidence.values.allSatisfy(\.isFinite) && patch.allSatisfy { $0.value?.isFinite ?? true }
    }

    /// The guide's `Description`.
    public var json: JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(id), "kind": .string(kind.rawValue), "description": .string(description),
            "expectedImpact": .number((expectedImpact * 10).rounded() / 10), "priority": .string(priority.rawValue),
            "confidence": .number((confidence * 1000).rounded() / 1000), "safe": .bool(safe), "semanticChange": .bool(semanticChange),
            "evidence": .object(evidence), "patch": .array(patch.map(\.json)),
        ]
        if let step { o["step"] = .string(step) }
        return .object(o)
    }
}

extension Workflow {
    /// This workflow with `patch` applied to its document, decoded and validated again.
    public func applying(_ patch: [JSONPatchOperation], actions: ActionCatalog = .builtIn) throws -> Workflow {
        let patched = try JSONPatch.apply(patch, to: document)
        var workflow = try WorkflowLoader.load(source: patched.jsonText, file: "\(id) (patched)", actions: actions).workflow
        workflow.optimizationScore = optimizationScore
        return workflow
    }
}
