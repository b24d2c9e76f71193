import Foundation

/// One execution (or one step of it) holding a concurrency key, or waiting for it.
public struct ConcurrencySlot: Sendable, Hashable, Codable {
    public var key: String
    public var executionID: String
    /// The step that holds or waits (a forEach item's `<step>[<i>]`); empty for the execution itself.
    public var stepID: String
    public var holding: Bool
    /// The order requests joined the key's queue in (assigned by the store).
    public var seq: Int64
    /// When it joined the queue.
    public var since: Date
    /// When its engine last asked: a waiter not seen for ``ConcurrencyStore/staleAfter`` is passed over.
    public var seenAt: Date

    public init(key: String, executionID: String, stepID: String, holding: Bool, seq: Int64, since: Date, seenAt: Date) {
        (self.key, self.executionID, self.stepID, self.holding, self.seq, self.since, self.seenAt) =
            (key, executionID, stepID, holding, seq, since, seenAt)
    }
}

/// A request for a slot of a concurrency key.
public struct SlotRequest: Sendable, Hashable {
    public var key: String
    public var executionID: String
    public var stepID: String
    public var limit: Int
    /// Whether to wait in the queue when no slot is free; without, the request leaves no trace.
    public var queue: Bool

    public init(key: String, executionID: String, stepID: String = "", limit: Int, queue: Bool = true) {
        (self.key, self.executionID, self.stepID, self.limit, self.queue) = (key, executionID, stepID, max(1, limit), queue)
    }
}

/// Concurrency keys (`concurrency:` on workflows and steps): who holds each key and who waits, in
/// order, across every node sharing the store.
///
/// A slot is released in the transaction of its holder's end (``StoreWrite/releaseSlots(executionID:stepID:)``);
/// a slot whose execution has ended some other way, or is gone, is freed by the next request for
/// the key, so a crash never leaks one. A slot of an execution that was interrupted (its process
/// died) stays held until the execution is carried on and ends, or is cancelled: running it beside
/// another holder is what the key forbids.
///
/// ```swift
/// let slots = try await store.acquireSlot(SlotRequest(key: "deploy-prod", executionID: id, limit: 1), now: now)
/// let mine = slots.first { $0.executionID == id && $0.stepID == "" }
/// if mine?.holding == true { /* run */ } else { /* wait, ask again */ }
/// ```
public protocol ConcurrencyStore: Sendable {
    /// Asks for a slot: joins the key's queue when not in it (asking again keeps the place and
    /// marks the waiter alive), and takes a slot when fewer than `limit` hold the key and every
    /// live waiter that queued earlier has one too. Holders of ended or missing executions are
    /// freed first. Returns the key's slots afterwards: holders, then waiters in queue order.
    /// Atomic across nodes. PostgreSQL times rows and judges waiters' liveness by the database's
    /// clock rather than `now` (its nodes' clocks may differ); the other stores use `now`.
    func acquireSlot(_ request: SlotRequest, now: Date) async throws -> [ConcurrencySlot]
    /// The key's slots: holders, then waiters in queue order.
    func concurrencySlots(key: String) async throws -> [ConcurrencySlot]
}

extension ConcurrencySlot {
    /// A waiter not seen for this long is passed over (its engine died or stopped asking); it keeps
    /// its place should it come back.
    public static let staleAfter: TimeInterval = 30

    /// Decides a request (the one rule every store applies inside its transaction), given the key's
    /// rows once the slots of ended executions are gone: the requester's row to save (nil when it
    /// neither holds nor queues), and every row afterwards, holders first then waiters in order.
    /// A new row is given `Int64.max` as its place until the store assigns one.
    package static func decide(_ rows: [ConcurrencySlot], _ request: SlotRequest, now: Date) -> (mine: ConcurrencySlot?, rows: [ConcurrencySlot]) {
        var rows = rows
        var mine: ConcurrencySlot
        if let at = rows.firstIndex(where: { $0.executionID == request.executionID && $0.stepID == request.stepID }) {
            mine = rows.remove(at: at)
            mine.seenAt = now
        } else {
            mine = ConcurrencySlot(
                key: request.key, executionID: request.executionID, stepID: request.stepID, holding: false, seq: .max, since: now, seenAt: now)
        }
        if !mine.holding {
            let free = request.limit - rows.filter(\.holding).count
            // Live waiters queued before this one go first.
            let ahead = rows.filter { !$0.holding && $0.seq < mine.seq && now.timeIntervalSince($0.seenAt) < staleAfter }.count
            mine.holding = free > ahead
        }
        guard mine.holding || request.queue || mine.seq != .max else { return (nil, order(rows)) }
        return (mine, order(rows + [mine]))
    }

    /// Holders first (oldest first), then waiters in queue order.
    package static func order(_ rows: [ConcurrencySlot]) -> [ConcurrencySlot] {
        rows.sorted { a, b in a.holding != b.holding ? a.holding : a.seq < b.seq }
    }
}
