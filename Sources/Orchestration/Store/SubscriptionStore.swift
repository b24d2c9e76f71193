import Foundation

/// Outbound event subscriptions, and the deliveries that gave up (dead letters).
public protocol SubscriptionStore: Sendable {
    /// Oldest first.
    func subscriptions() async throws -> [EventSubscription]
    /// Saves a subscription (replacing one with its id).
    func saveSubscription(_ subscription: EventSubscription) async throws
    /// Deletes a subscription and its consumer cursor; returns whether it existed.
    func deleteSubscription(id: String) async throws -> Bool
    func addDeadLetter(_ letter: DeadLetter) async throws
    /// Newest first.
    func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter]
}
