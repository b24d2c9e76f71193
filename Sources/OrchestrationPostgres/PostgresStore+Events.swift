import Foundation
import Orchestration
import PostgresNIO

/// The ``EventLogStore`` and ``SubscriptionStore`` concerns: the event log, consumers' cursors,
/// subscriptions and dead letters.
extension PostgresStore: EventLogStore {
    /// The advisory lock that makes appends one at a time across nodes, so sequence numbers commit
    /// in order: a consumer reading `seq > cursor` never skips an event that committed late.
    static let eventAppendLock: Int64 = 0x4E43_4576_656E_7473

    public func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent] {
        guard !events.isEmpty else { return [] }
        let rows: [(type: String, payload: String, at: Double)] = events.map { e in
            (e.type, BusEvent.storedPayload(data: e.data, source: e.source), e.time.timeIntervalSince1970)
        }
        let seqs = try await transaction("append events") { connection -> [Int64] in
            try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.eventAppendLock))", logger: logger)
            let types = rows.map(\.type), payloads = rows.map(\.payload), times = rows.map(\.at)
            let seqs = try await connection.rows(
                """
                INSERT INTO event (type, payload, created_at)
                SELECT e.type, e.payload, e.created_at FROM unnest(\(types)::text[], \(payloads)::text[], \(times)::float8[]) WITH ORDINALITY AS e(type, payload, created_at, n)
                ORDER BY n RETURNING seq
                """, logger: logger, as: Int64.self)
            try await connection.execute("SELECT pg_notify(\(Self.eventChannel), '')", logger: logger)
            return seqs
        }
        let sorted = seqs.sorted()
        return zip(sorted, events).map { BusEvent(seq: $0.0, type: $0.1.type, data: $0.1.data, source: $0.1.source, time: $0.1.time) }
    }

    public func events(after seq: Int64, limit: Int) async throws -> [BusEvent] {
        let count = Int64(max(0, limit))
        return try await rows(
            "read events", "SELECT seq, type, payload, created_at FROM event WHERE seq > \(seq) ORDER BY seq LIMIT \(count)",
            as: (Int64, String, String, Double).self
        ).map { row in
            BusEvent(seq: row.0, type: row.1, storedPayload: row.2, time: Date(timeIntervalSince1970: row.3))
        }
    }

    public func lastEventSeq() async throws -> Int64 {
        try await rows("read the last event", "SELECT COALESCE(MAX(seq), 0)::int8 FROM event", as: Int64.self).first ?? 0
    }

    public func cursor(_ name: String) async throws -> Int64? {
        try await rows("read a consumer's cursor", "SELECT seq FROM consumer_cursor WHERE name = \(name)", as: Int64.self).first
    }

    public func saveCursor(_ name: String, _ seq: Int64) async throws {
        try await query(
            "save a consumer's cursor",
            "INSERT INTO consumer_cursor (name, seq) VALUES (\(name), \(seq)) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq")
    }
}

/// The ``ConsumerLeases`` concern: which node delivers for each durable consumer (`consumer_hold`),
/// and a `NOTIFY` on ``eventChannel`` with every append, which wakes the holders on other nodes.
extension PostgresStore: ConsumerLeases {
    static let eventChannel = "novacron_events"

    public func holdConsumer(_ name: String) async throws -> Bool {
        let me = node.id, now = Date().timeIntervalSince1970
        let until = now + leaseDuration.seconds
        return try await !rows(
            "hold a consumer",
            """
            INSERT INTO consumer_hold (name, node, held_until) VALUES (\(name), \(me), \(until))
            ON CONFLICT (name) DO UPDATE SET node = excluded.node, held_until = excluded.held_until
            WHERE consumer_hold.node = excluded.node OR consumer_hold.held_until < \(now)
            RETURNING 1
            """, as: Int32.self
        ).isEmpty
    }

    public func releaseConsumer(_ name: String) async throws {
        try await query("release a consumer", "DELETE FROM consumer_hold WHERE name = \(name) AND node = \(node.id)")
    }

    public func waitForAppends(upTo limit: Duration) async {
        await wait(on: Self.eventChannel, upTo: limit)
    }
}

extension PostgresStore: SubscriptionStore {
    public func subscriptions() async throws -> [EventSubscription] {
        try await rows("list subscriptions", "SELECT record FROM event_subscription ORDER BY created_at, id", as: String.self)
            .map { try Self.decode(EventSubscription.self, $0) }
    }

    public func saveSubscription(_ subscription: EventSubscription) async throws {
        let json = String(decoding: try JSONEncoder().encode(subscription), as: UTF8.self)
        let created = subscription.createdAt.timeIntervalSince1970
        try await query(
            "save a subscription",
            """
            INSERT INTO event_subscription (id, record, created_at) VALUES (\(subscription.id), \(json), \(created))
            ON CONFLICT (id) DO UPDATE SET record = excluded.record
            """)
    }

    public func deleteSubscription(id: String) async throws -> Bool {
        let cursor = "subscription:" + id
        return try await transaction("delete a subscription") { connection in
            let existed = try await !connection.rows("DELETE FROM event_subscription WHERE id = \(id) RETURNING 1", logger: logger, as: Int32.self)
                .isEmpty
            try await connection.execute("DELETE FROM consumer_cursor WHERE name = \(cursor)", logger: logger)
            return existed
        }
    }

    public func addDeadLetter(_ letter: DeadLetter) async throws {
        let json = String(decoding: try JSONEncoder().encode(letter), as: UTF8.self)
        try await query(
            "record a dead letter",
            """
            INSERT INTO dead_letter (subscription_id, seq, record) VALUES (\(letter.subscriptionID), \(letter.seq), \(json))
            ON CONFLICT (subscription_id, seq) DO UPDATE SET record = excluded.record
            """)
    }

    public func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter] {
        let count = Int64(max(0, limit))
        return try await rows(
            "list dead letters", "SELECT record FROM dead_letter WHERE subscription_id = \(subscriptionID) ORDER BY seq DESC LIMIT \(count)",
            as: String.self
        ).map { try Self.decode(DeadLetter.self, $0) }
    }
}
