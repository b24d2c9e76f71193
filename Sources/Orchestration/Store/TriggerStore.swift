import Foundation

/// What triggers remember between runs: each trigger's state, and the webhook deliveries seen.
public protocol TriggerStore: Sendable {
    /// The saved state of every trigger (of one workflow, when given), by workflow and trigger id.
    func triggerStates(workflowID: String?) async throws -> [TriggerState]
    /// Saves a trigger's state (replacing what was saved).
    func saveTriggerState(_ state: TriggerState) async throws
    /// Remembers a webhook delivery id; `false` when it was seen before (a redelivery). Ids older
    /// than 30 days are forgotten.
    func recordDelivery(source: String, id: String, at: Date) async throws -> Bool
}

extension TriggerStore {
    /// Whether this node is the one to act on `id` of `source` — a cron tick, an event for a
    /// trigger, an event for a subscription: on a store several nodes share (``ExecutionLeases``),
    /// only the first to record it; on a store of its own, always (and nothing is written).
    public func firstAcrossNodes(source: String, id: String, at date: Date) async throws -> Bool {
        guard self is any ExecutionLeases else { return true }
        return try await recordDelivery(source: source, id: id, at: date)
    }
}
