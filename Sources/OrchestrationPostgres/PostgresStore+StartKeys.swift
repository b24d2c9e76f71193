import Foundation
import Orchestration
import PostgresNIO

/// The ``StartKeyStore`` concern: idempotency keys of execution starts, one execution per key
/// across the cluster (the key is the table's primary key).
extension PostgresStore: StartKeyStore {
    public func claimStartKey(_ claim: StartKey, expiry: Date, abandoned: String?) async throws -> StartKey {
        let forgotten = expiry.timeIntervalSince1970, created = claim.createdAt.timeIntervalSince1970
        let row = try await transaction("claim an idempotency key") { connection -> (String, String, Double)? in
            try await connection.execute("DELETE FROM start_key WHERE created_at < \(forgotten)", logger: logger)
            // Racing inserts of one key wait for each other here; the loser's row is the winner's.
            try await connection.execute(
                """
                INSERT INTO start_key (key, fingerprint, execution_id, created_at)
                VALUES (\(claim.key), \(claim.fingerprint), \(claim.executionID), \(created))
                ON CONFLICT (key) DO UPDATE SET fingerprint = excluded.fingerprint, execution_id = excluded.execution_id,
                    created_at = excluded.created_at
                WHERE start_key.execution_id = \(abandoned)
                """, logger: logger)
            return try await connection.rows(
                "SELECT fingerprint, execution_id, created_at FROM start_key WHERE key = \(claim.key)", logger: logger,
                as: (String, String, Double).self
            ).first
        }
        guard let row else { return claim }
        return StartKey(key: claim.key, fingerprint: row.0, executionID: row.1, createdAt: Date(timeIntervalSince1970: row.2))
    }
}
