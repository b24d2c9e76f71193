import Foundation

/// A claim on an idempotency key for starting an execution: the key, what was asked under it
/// (a digest of the workflow, inputs and options) and the execution it started.
public struct StartKey: Sendable, Hashable, Codable {
    public var key: String
    public var fingerprint: String
    public var executionID: String
    public var createdAt: Date

    public init(key: String, fingerprint: String, executionID: String, createdAt: Date) {
        (self.key, self.fingerprint, self.executionID, self.createdAt) = (key, fingerprint, executionID, createdAt)
    }
}

/// Idempotency keys of execution starts (`Idempotency-Key` on the API, event deliveries): one
/// execution per key across every node sharing the store.
///
/// ```swift
/// let holder = try await store.claimStartKey(mine, expiry: now - 86_400, abandoned: nil)
/// if holder.executionID == mine.executionID { /* start it */ } else { /* answer with holder's */ }
/// ```
public protocol StartKeyStore: Sendable {
    /// Takes `claim.key` for `claim` when the key is free, when its claim was made before `expiry`
    /// (forgotten), or when its claim names execution `abandoned` (never started); otherwise
    /// leaves it. Returns the claim that holds the key afterwards: `claim` itself when taken.
    /// Atomic across nodes: of claims racing for one key, one wins and the others get it.
    func claimStartKey(_ claim: StartKey, expiry: Date, abandoned: String?) async throws -> StartKey
}
