import Foundation

/// The event bus's log: every event published, numbered in order, and how far each durable
/// consumer got.
public protocol EventLogStore: Sendable {
    /// Appends events in one transaction; returns them with their sequence numbers.
    func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent]
    /// Events after `seq`, oldest first.
    func events(after seq: Int64, limit: Int) async throws -> [BusEvent]
    /// The sequence number of the newest event (0 when there is none).
    func lastEventSeq() async throws -> Int64
    /// How far a durable consumer got (`nil` when it never ran).
    func cursor(_ name: String) async throws -> Int64?
    /// Saves how far a durable consumer got.
    func saveCursor(_ name: String, _ seq: Int64) async throws
}
