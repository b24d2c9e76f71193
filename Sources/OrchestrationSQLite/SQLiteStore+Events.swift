import Foundation
import GRDB
import Orchestration

/// The ``EventLogStore`` and ``SubscriptionStore`` concerns: the event log, consumers' cursors, subscriptions and dead letters.
extension SQLiteStore: EventLogStore {
    public func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent] {
        let rows: [(String, String, Double, JSONValue, String, Date)] = events.map { e in
            let payload = BusEvent.storedPayload(data: e.data, source: e.source)
            return (e.type, payload, e.time.timeIntervalSince1970, e.data, e.source, e.time)
        }
        let seqs = try await writeWaiting("append events") { db -> [Int64] in
            let statement = try db.cachedStatement(sql: "INSERT INTO event (type, payload, created_at) VALUES (?, ?, ?)")
            var out: [Int64] = []
            out.reserveCapacity(rows.count)
            for r in rows {
                try statement.execute(arguments: [r.0, r.1, r.2])
                out.append(db.lastInsertedRowID)
            }
            return out
        }
        return zip(seqs, rows).map { BusEvent(seq: $0.0, type: $0.1.0, data: $0.1.3, source: $0.1.4, time: $0.1.5) }
    }

    public func events(after seq: Int64, limit: Int) async throws -> [BusEvent] {
        let rows = try await read("read events") { db in
            try Row.fetchAll(db, sql: "SELECT seq, type, payload, created_at FROM event WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
                .map { (($0["seq"] as Int64), ($0["type"] as String), ($0["payload"] as String), ($0["created_at"] as Double)) }
        }
        return rows.map { row in
            BusEvent(seq: row.0, type: row.1, storedPayload: row.2, time: Date(timeIntervalSince1970: row.3))
        }
    }

    public func lastEventSeq() async throws -> Int64 {
        try await read("read the last event") { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM event") ?? 0 }
    }

    public func cursor(_ name: String) async throws -> Int64? {
        try await read("read a consumer's cursor") { db in
            try Int64.fetchOne(db, sql: "SELECT seq FROM consumer_cursor WHERE name = ?", arguments: [name])
        }
    }

    public func saveCursor(_ name: String, _ seq: Int64) async throws {
        try await writeWaiting("save a consumer's cursor") { db in
            try db.execute(
                sql: "INSERT INTO consumer_cursor (name, seq) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
                arguments: [name, seq])
        }
    }
}

extension SQLiteStore: SubscriptionStore {
    public func subscriptions() async throws -> [EventSubscription] {
        let rows = try await read("list subscriptions") { db in
            try String.fetchAll(db, sql: "SELECT record FROM event_subscription ORDER BY created_at, id")
        }
        return try rows.map { try JSONDecoder().decode(EventSubscription.self, from: Data($0.utf8)) }
    }

    public func saveSubscription(_ subscription: EventSubscription) async throws {
        let json = String(decoding: try JSONEncoder().encode(subscription), as: UTF8.self)
        try await writeWaiting("save a subscription") { db in
            try db.execute(
                sql:
                    "INSERT INTO event_subscription (id, record, created_at) VALUES (?, ?, ?) ON CONFLICT(id) DO UPDATE SET record = excluded.record",
                arguments: [subscription.id, json, subscription.createdAt.timeIntervalSince1970])
        }
    }

    public func deleteSubscription(id: String) async throws -> Bool {
        try await writeWaiting("delete a subscription") { db in
            try db.execute(sql: "DELETE FROM event_subscription WHERE id = ?", arguments: [id])
            let existed = db.changesCount > 0
            try db.execute(sql: "DELETE FROM consumer_cursor WHERE name = ?", arguments: ["subscription:" + id])
            return existed
        }
    }

    public func addDeadLetter(_ letter: DeadLetter) async throws {
        let json = String(decoding: try JSONEncoder().encode(letter), as: UTF8.self)
        try await writeWaiting("record a dead letter") { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO dead_letter (subscription_id, seq, record) VALUES (?, ?, ?)",
                arguments: [letter.subscriptionID, letter.seq, json])
        }
    }

    public func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter] {
        let rows = try await read("list dead letters") { db in
            try String.fetchAll(
                db, sql: "SELECT record FROM dead_letter WHERE subscription_id = ? ORDER BY seq DESC LIMIT ?", arguments: [subscriptionID, limit])
        }
        return try rows.map { try JSONDecoder().decode(DeadLetter.self, from: Data($0.utf8)) }
    }
}
