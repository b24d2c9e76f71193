import Foundation

/// Forgetting what is older than a retention age (`serve --retention`, docs/server.md): besides
/// executions (``ExecutionStore/prune(endedBefore:)``), the event log and the learning engine's
/// raw observations. Webhook delivery ids are forgotten after 30 days by the stores themselves.
public protocol RetentionStore: Sendable {
    /// Deletes bus events created before `cutoff` that every durable consumer has read (at or
    /// below the lowest saved cursor); returns how many.
    func pruneEvents(before cutoff: Date) async throws -> Int
    /// Deletes learning observations whose executions are no longer kept and that their
    /// workflow's saved statistics include (at or below the snapshot's `appliedSeq`): what was
    /// learned from them stays; returns how many.
    func pruneObservations() async throws -> Int
}
