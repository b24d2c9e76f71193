import Foundation
import Orchestration
import PostgresNIO
import Synchronization

/// The ``ExecutionLeases`` concern: which node runs each unfinished execution. An execution's row
/// carries its owner (`owner_node`), a fencing epoch (`lease_epoch`, raised by every takeover) and
/// when the lease runs out (`lease_expires_at`, on the database's clock, so the nodes' clocks do
/// not matter). Writes to an execution check owner and epoch under a row lock (``fenced(_:in:)``).
extension PostgresStore: ExecutionLeases {
    /// This process as a node: `host:pid:random`, its row in `node` written on first use.
    struct Node: Sendable {
        let id: String
        let host: String
        let pid: Int32
        let role: String

        init(role: String) {
            host = ProcessInfo.processInfo.hostName
            pid = ProcessInfo.processInfo.processIdentifier
            self.role = role
            id = "\(host):\(pid):\(UUID().uuidString.prefix(8).lowercased())"
        }
    }

    /// The executions this node holds, by the epoch it holds them at.
    struct LeaseBook: Sendable {
        var held: [String: Int64] = [:]
        var registered = false
        /// The queues this node serves as a worker, as `node.queues` says them.
        var queues: String?
    }

    /// The database's clock in seconds since 1970.
    static let databaseNow = "extract(epoch from clock_timestamp())::float8"
    static let unfinished = "('pending', 'running', 'paused')"

    public var heldExecutions: Set<String> { Set(book.withLock { $0.held.keys }) }

    public func claimExecutions(only: Set<String>?) async throws -> Set<String> {
        try await registerNode()
        // Nodes gone for ten leases (a minute at least) that hold nothing are forgotten.
        try await query(
            "forget gone nodes",
            """
            DELETE FROM node n WHERE heartbeat_at < \(unescaped: Self.databaseNow) - greatest(60, 10 * lease_seconds)
                AND NOT EXISTS (SELECT 1 FROM execution e WHERE e.owner_node = n.id AND e.status IN \(unescaped: Self.unfinished))
            """)
        let dead = try await deadNodesOnThisHost()
        let held = Array(heldExecutions), wanted = only.map { Array($0) }
        let me = node.id, seconds = leaseDuration.seconds
        let claimed = try await rows(
            "claim executions",
            """
            UPDATE execution SET owner_node = \(me), lease_epoch = lease_epoch + 1,
                lease_expires_at = \(unescaped: Self.databaseNow) + \(seconds)
            WHERE id IN (
                SELECT id FROM execution
                WHERE status IN \(unescaped: Self.unfinished)
                    AND (\(wanted)::text[] IS NULL OR id = ANY(\(wanted)::text[]))
                    AND NOT (id = ANY(\(held)::text[]))
                    AND (lease_expires_at < \(unescaped: Self.databaseNow) OR owner_node IS NULL OR owner_node = ANY(\(dead)::text[]))
                ORDER BY created_at, ord
                FOR UPDATE SKIP LOCKED)
            RETURNING id, lease_epoch
            """, as: (String, Int64).self)
        book.withLock { b in for (id, epoch) in claimed { b.held[id] = epoch } }
        return Set(claimed.map(\.0))
    }

    public func renewLeases() async throws -> Set<String> {
        let held = book.withLock { $0.held }
        let me = node.id, seconds = leaseDuration.seconds
        if book.withLock({ $0.registered }) {
            try await query("renew the node's heartbeat", "UPDATE node SET heartbeat_at = \(unescaped: Self.databaseNow) WHERE id = \(me)")
        }
        guard !held.isEmpty else { return [] }
        let ids = Array(held.keys), epochs = ids.map { held[$0] ?? -1 }
        let rows = try await rows(
            "renew leases",
            """
            WITH held AS (SELECT * FROM unnest(\(ids)::text[], \(epochs)::int8[]) AS h(id, epoch)),
            renewed AS (
                UPDATE execution e SET lease_expires_at = \(unescaped: Self.databaseNow) + \(seconds) FROM held
                WHERE e.id = held.id AND e.owner_node = \(me) AND e.lease_epoch = held.epoch AND e.status IN \(unescaped: Self.unfinished)
                RETURNING e.id)
            SELECT held.id, renewed.id IS NOT NULL, COALESCE(e.owner_node = \(me) AND e.lease_epoch = held.epoch, false),
                COALESCE(e.status IN \(unescaped: Self.unfinished), false)
            FROM held LEFT JOIN renewed ON renewed.id = held.id LEFT JOIN execution e ON e.id = held.id
            """, as: (String, Bool, Bool, Bool).self)
        var lost: Set<String> = [], done: Set<String> = []
        for (id, renewed, ours, unfinished) in rows where !renewed {
            // Ended here (or deleted): nothing more to hold. Held by another node now: lost.
            if ours || !unfinished { done.insert(id) } else { lost.insert(id) }
        }
        // Only holds this renewal asked about: one claimed again meanwhile (a new epoch, say by a
        // recovery running beside this renewal) is held, not lost, and its run must go on.
        return book.withLock { b in
            var gone: Set<String> = []
            for id in lost.union(done) where b.held[id] == held[id] {
                b.held[id] = nil
                if lost.contains(id) { gone.insert(id) }
            }
            return gone
        }
    }

    public func releaseLeases() async throws {
        let me = node.id
        try await query(
            "give leases back",
            "UPDATE execution SET lease_expires_at = 0 WHERE owner_node = \(me) AND status IN \(unescaped: Self.unfinished)")
        book.withLock { $0.held.removeAll() }
        try await query("leave the cluster", "DELETE FROM node WHERE id = \(me)")
    }

    /// Writes this node's row once (an execution is created or claimed): `cluster status` lists it,
    /// and another process on this machine can tell from its pid that it is gone.
    func registerNode(queues: [String]? = nil) async throws(StoreError) {
        if let queues {
            let list = queues.sorted().joined(separator: ","), me = node.id
            guard book.withLock({ $0.queues != list }) else { return }
            book.withLock { $0.registered = false }
            try await registerNode()
            try await query("say which queues the node serves", "UPDATE node SET queues = \(list) WHERE id = \(me)")
            book.withLock { $0.queues = list }
            return
        }
        guard !book.withLock({ $0.registered }) else { return }
        let (id, host, pid, role, seconds) = (node.id, node.host, node.pid, node.role, leaseDuration.seconds)
        try await query(
            "register the node",
            """
            INSERT INTO node (id, host, pid, role, started_at, heartbeat_at, lease_seconds)
            VALUES (\(id), \(host), \(pid), \(role), \(unescaped: Self.databaseNow), \(unescaped: Self.databaseNow), \(seconds))
            ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
            """)
        book.withLock { $0.registered = true }
    }

    /// Nodes that were processes on this machine and are gone (killed, crashed): their executions
    /// need not wait for the lease to run out, as with SQLite's `host:pid` owners.
    func deadNodesOnThisHost() async throws(StoreError) -> [String] {
        let me = node.id, host = node.host
        return try await rows("read this machine's nodes", "SELECT id, pid FROM node WHERE host = \(host) AND id <> \(me)", as: (String, Int32).self)
            .filter { $0.1 != node.pid && ExecutionRecord.liveOtherProcess("\(host):\($0.1)") == nil }.map(\.0)
    }

    /// Of the executions `ids` (which exist), those this node does not hold at `epochs`: their
    /// writes are refused. Their rows stay share-locked to the end of the transaction, so no
    /// takeover commits between this check and the writes.
    func fenced(_ ids: Set<String>, epochs held: [String: Int64], in connection: PostgresConnection) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let list = Array(ids)
        let rows = try await connection.rows(
            "SELECT id, owner_node, lease_epoch FROM execution WHERE id = ANY(\(list)::text[]) FOR SHARE", logger: logger,
            as: (String, String?, Int64).self)
        return Set(rows.filter { $0.1 != node.id || held[$0.0] != $0.2 }.map(\.0))
    }

    public func forget(_ executionID: String) {
        book.withLock { _ = $0.held.removeValue(forKey: executionID) }
    }

    /// `body`, tried again while the database cannot be reached (restarting, a network blip),
    /// backing off from 100 ms to 2 s, for up to one lease: past that the node no longer holds
    /// what it was writing, and the error is the caller's.
    func retryingWhileUnavailable<R>(_ body: () async throws(StoreError) -> R) async throws(StoreError) -> R {
        let clock = ContinuousClock(), start = clock.now
        var pause = Duration.milliseconds(100)
        while true {
            do { return try await body() } catch  where error.isUnavailable && clock.now - start + pause < leaseDuration {
                do { try await clock.sleep(for: pause) } catch { throw StoreError("cancelled while waiting for the database") }
                pause = min(pause * 2, .seconds(2))
            }
        }
    }
}
