import Foundation

extension WorkflowEngine {
    /// Applies one of the learning engine's current suggestions for a workflow: its patch makes a
    /// new version, registered for the executions that start from now on, and recorded in the
    /// audit trail with `by`. Throws when there is no such suggestion any more, or when the
    /// definition changed under it (the patch's `test` operations fail).
    public func applySuggestion(_ suggestionID: String, workflowID: String, by: String) async throws -> OptimizationRecord {
        guard let learning else { throw EngineError(.unsupported, "the learning engine is off") }
        guard let current = workflow(workflowID) else { throw EngineError(.notFound, "no workflow '\(workflowID)'") }
        let suggestions = await learning.suggestions(for: current)
        guard let suggestion = suggestions.first(where: { $0.id == suggestionID }) else {
            let known = suggestions.map(\.id)
            throw EngineError(
                .notFound,
                "no suggestion '\(suggestionID)' for workflow '\(workflowID)'\(known.isEmpty ? "; it has none now" : "; current ones: \(known.joined(separator: ", "))")"
            )
        }
        return try await apply(suggestion, to: current, by: by)
    }

    /// Registers `workflow` with `suggestion`'s patch as a new version and records it.
    func apply(_ suggestion: Suggestion, to workflow: Workflow, by: String) async throws -> OptimizationRecord {
        guard let learning else { throw EngineError(.unsupported, "the learning engine is off") }
        let patched: Workflow
        do { patched = try workflow.applying(suggestion.patch, actions: configuration.actions) } catch {
            throw EngineError(.conflict, "cannot apply '\(suggestion.id)': \(error)")
        }
        let before = try workflow.contentHash(), after = try patched.contentHash()
        try await registerWorkflow(patched)
        let record = OptimizationRecord(
            workflowID: workflow.id, action: .applied, suggestionID: suggestion.id, kind: suggestion.kind, by: by,
            reason: suggestion.description, confidence: suggestion.confidence, beforeVersion: before, afterVersion: after,
            patch: suggestion.patch, evidence: suggestion.evidence, at: now())
        try await learning.appendAudit(record)
        return record
    }
}
