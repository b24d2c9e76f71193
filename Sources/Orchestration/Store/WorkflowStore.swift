import Crypto
import Foundation

/// Workflow definitions, immutable and kept by content hash, and which version of each is
/// registered.
///
/// ```swift
/// let version = try await store.saveWorkflow(workflow)
/// let same = try await store.workflow(id: workflow.id, version: version)
/// ```
public protocol WorkflowStore: Sendable {
    /// Saves a workflow definition under its content hash (idempotent), makes it the registered
    /// version, and returns the hash.
    func saveWorkflow(_ workflow: Workflow) async throws -> String
    /// A saved definition.
    func workflow(id: String, version: String) async throws -> Workflow?
    /// The workflows registered, each in the version saved last, by id.
    func registeredWorkflows() async throws -> [Workflow]
    /// The registered version (content hash) of each registered workflow, by id: what another
    /// node sharing the store registered, changed or unregistered, without reading definitions.
    func registeredVersions() async throws -> [String: String]
    /// Every saved version of a workflow, oldest first: content hash and when it was first saved.
    func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)]
    /// Forgets that a workflow is registered; its versions stay for the executions that pinned
    /// them. Returns whether it was registered.
    func unregisterWorkflow(id: String) async throws -> Bool
}

extension Workflow {
    /// The definition as canonical JSON (sorted keys): what is stored and hashed. The optimization
    /// score is derived from the rest (and changes with the planner), so it is always written as 0:
    /// the same definition keeps the same version, as it did before registration filled it in.
    public func canonicalJSON() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var definition = self
        definition.optimizationScore = 0
        return try encoder.encode(definition)
    }

    /// SHA-256 of the canonical JSON, in hex: the same definition always has the same version.
    public func contentHash() throws -> String {
        Hex.encode(SHA256.hash(data: try canonicalJSON()))
    }
}
