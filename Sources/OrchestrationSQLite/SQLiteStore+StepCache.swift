import Foundation
import GRDB
import Orchestration

/// Cached step outputs, kept in the database so a cache hit survives the process.
extension SQLiteStore: StepCache {
    public func lookup(_ key: String, now: Date) async -> [String: JSONValue]? {
        let text = try? await read("read the cache") { db in
            try String.fetchOne(
                db, sql: "SELECT outputs FROM cache_entry WHERE key = ? AND expires_at > ?", arguments: [key, now.timeIntervalSince1970])
        }
        guard let text else { return nil }
        return try? Self.decode([String: JSONValue].self, text)
    }

    public func store(_ key: String, outputs: [String: JSONValue], expires: Date) async {
        guard let json = try? Self.json(outputs) else { return }
        _ = try? await writeWaiting("write the cache") { db in
            try db.execute(
                sql:
                    "INSERT INTO cache_entry (key, outputs, expires_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET outputs = excluded.outputs, expires_at = excluded.expires_at",
                arguments: [key, json, expires.timeIntervalSince1970])
        }
    }
}
