import Foundation

/// What the store remembers of one trigger between runs: whether someone switched it off, when it
/// last fired, which schedule tick that was (to make up missed ticks after downtime), and its
/// last error (a Prometheus that was down, a webhook that did not verify).
public struct TriggerState: Sendable, Hashable, Codable {
    public var workflowID: String
    public var triggerID: String
    /// Set by enable/disable; `nil` means as the definition says.
    public var enabled: Bool?
    public var lastFiredAt: Date?
    /// The schedule tick last handled (fired, or skipped by the missed-tick policy).
    public var lastTick: Date?
    public var lastError: String?
    public var lastErrorAt: Date?
    public var fireCount: Int

    public init(
        workflowID: String, triggerID: String, enabled: Bool? = nil, lastFiredAt: Date? = nil, lastTick: Date? = nil,
        lastError: String? = nil, lastErrorAt: Date? = nil, fireCount: Int = 0
    ) {
        self.workflowID = workflowID
        self.triggerID = triggerID
        self.enabled = enabled
        self.lastFiredAt = lastFiredAt
        self.lastTick = lastTick
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
        self.fireCount = fireCount
    }
}
