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
