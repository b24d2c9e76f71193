/// Everything NovaCron keeps, one protocol per concern. A store implements each of them, and each
/// has its own conformance suite run against every implementation (`Tests/OrchestrationTests/Store`,
/// over every `StoreKind` in `Tests/TestSupport`):
///
/// | Protocol | What it keeps | Used by |
/// |---|---|---|
/// | ``WorkflowStore`` | definitions by content hash, which version is registered | engine, CLI, API |
/// | ``ExecutionStore`` | executions, step results, attempts, log tails | engine, CLI, API |
/// | ``TriggerStore`` | trigger state, webhook delivery ids | trigger scheduler, webhooks |
/// | ``EventLogStore`` | the event log and consumers' cursors | event bus |
/// | ``SubscriptionStore`` | outbound subscriptions and dead letters | event bus, outbound webhooks |
/// | ``LearningStore`` | observations, learned statistics, the optimization audit | learning engine |
/// | ``StartKeyStore`` | idempotency keys of execution starts | engine |
/// | ``SignalStore`` | signals and approval decisions sent to executions | engine, CLI, API |
/// | ``ConcurrencyStore`` | who holds each concurrency key and who waits | engine, CLI, API |
/// | ``RetentionStore`` | forgetting old events and observations learned from | retention (`serve --retention`) |
///
/// Atomic together: the writes of one ``ExecutionStore/apply(_:)`` batch — an execution's creation
/// and updates, attempts, step results and, with an execution's end, its learning observation
/// (``StoreWrite/observation(_:)``) — commit in one transaction, so the statistics never count an
/// execution the store does not hold as ended, nor miss one it does. Every other write is atomic on
/// its own (see docs/durability.md).
///
/// Implementations: ``InMemoryStore`` and `SQLiteStore` (`OrchestrationSQLite`).
public typealias Store = WorkflowStore & ExecutionStore & TriggerStore & EventLogStore & SubscriptionStore & LearningStore
    & StartKeyStore & SignalStore & ConcurrencyStore & RetentionStore

/// Errors from a store: unreadable, foreign, newer or full databases and the like.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    /// The store could not be reached (a database server restarting, a network gone): trying again
    /// later may succeed, unlike a full disk or a refused write.
    public var isUnavailable: Bool
    public init(_ message: String, unavailable: Bool = false) {
        self.message = message
        self.isUnavailable = unavailable
    }
    public var description: String { message }
}
