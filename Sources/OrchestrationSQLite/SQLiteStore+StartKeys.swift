import Foundation
import GRDB
import Orchestration

/// The ``StartKeyStore`` concern: idempotency keys of execution starts.
extension SQLiteStore: StartKeyStore {
    public func claimStartKey(_ claim: StartKey, expiry: Date, abandoned: String?) async throws -> StartKey {
        let row = try await writeWaiting("claim an idempotency key") { db -> (String, String, Double)? in
            try db.execute(sql: "DELETE FROM start_key WHERE created_at < ?", arguments: [expiry.timeIntervalSince1970])
            try db.execute(
                sql: """
                    INSERT INTO start_key (key, fingerprint, execution_id, created_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT(key) DO UPDATE SET fingerprint = excluded.fingerprint, execution_id = excluded.execution_id,
                        created_at = excluded.created_at
                    WHERE start_key.execution_id = ?
                    """,
                arguments: [claim.key, claim.fingerprint, claim.executionID, claim.createdAt.timeIntervalSince1970, abandoned])
            return try Row.fetchOne(db, sql: "SELECT fingerprint, execution_id, created_at FROM start_key WHERE key = ?", arguments: [claim.key])
                .map { ($0[0], $0[1], $0[2]) }
        }
        guard let row else { return claim }
        return StartKey(key: claim.key, fingerprint: row.0, executionID: row.1, createdAt: Date(timeIntervalSince1970: row.2))
    }
}
