/// A store several nodes share, where each durable consumer of the event log (event triggers, an
/// outbound subscription) delivers on one node at a time: the node holds the consumer through a
/// lease it renews, and another node takes the consumer over, from its saved cursor, once the lease
/// runs out. `PostgresStore` is one; SQLite and memory are not shared and need none.
///
/// Delivery stays at least once: a node that dies mid-delivery has the event delivered again by
/// the node that takes over, as a single node does after a crash.
public protocol ConsumerLeases: Sendable {
    /// How long a hold lasts without renewal; ``EventBus`` renews every third of it.
    var leaseDuration: Duration { get }
    /// Takes or renews this node's hold on consumer `name`; `false` while another node holds it.
    func holdConsumer(_ name: String) async throws -> Bool
    /// Gives this node's hold on `name` up at once (a drained shutdown).
    func releaseConsumer(_ name: String) async throws
    /// Returns when an event may have been appended on any node, after `limit` at the latest.
    func waitForAppends(upTo limit: Duration) async
}
