import Foundation
import Orchestration
import PostgresNIO

/// `novacron cluster status`: the `node` table, what each node holds, and leases about to run out,
/// read in one transaction on the database's clock.
extension PostgresStore {
    public func clusterStatus() async throws -> ClusterStatus {
        try await transaction("read the cluster's status") { connection in
            let now: Double = try await connection.rows("SELECT \(unescaped: Self.databaseNow)", logger: logger, as: Double.self).first ?? 0
            let nodes = try await connection.rows(
                """
                SELECT n.id, n.host, n.pid, n.role, n.started_at, n.heartbeat_at, n.lease_seconds,
                    (SELECT count(*) FROM execution e WHERE e.owner_node = n.id AND e.status IN \(unescaped: Self.unfinished))::int8,
                    n.queues,
                    (SELECT count(*) FROM step_task t WHERE t.claimed_by = n.id AND t.outcome IS NULL AND t.claim_expires_at >= \(now))::int8
                FROM node n ORDER BY n.started_at, n.id
                """, logger: logger, as: (String, String, Int32, String, Double, Double, Double, Int64, String, Int64).self)
            let queues = try await connection.rows(
                """
                SELECT queue, (count(*) FILTER (WHERE claimed_by IS NULL OR claim_expires_at < \(now)))::int8,
                    (count(*) FILTER (WHERE claimed_by IS NOT NULL AND claim_expires_at >= \(now)))::int8
                FROM step_task WHERE outcome IS NULL AND NOT superseded GROUP BY queue ORDER BY queue
                """, logger: logger, as: (String, Int64, Int64).self)
            let waiting: Int64 =
                try await connection.rows(
                    """
                    SELECT count(*)::int8 FROM execution WHERE status IN \(unescaped: Self.unfinished)
                        AND (owner_node IS NULL OR lease_expires_at < \(now))
                    """, logger: logger, as: Int64.self
                ).first ?? 0
            let expiring = try await connection.rows(
                """
                SELECT e.id, e.owner_node, e.lease_expires_at - \(now) FROM execution e JOIN node n ON n.id = e.owner_node
                WHERE e.status IN \(unescaped: Self.unfinished) AND e.lease_expires_at >= \(now)
                    AND e.lease_expires_at < \(now) + n.lease_seconds * 2 / 3
                ORDER BY e.lease_expires_at LIMIT 50
                """, logger: logger, as: (String, String, Double).self)
            return ClusterStatus(
                nodes: nodes.map { n in
                    ClusterStatus.Node(
                        id: n.0, host: n.1, pid: Int(n.2), role: n.3, startedAt: Date(timeIntervalSince1970: n.4),
                        lastHeartbeat: Date(timeIntervalSince1970: n.5), live: now - n.5 <= n.6, executions: Int(n.7),
                        queues: n.8.split(separator: ",").map(String.init), steps: Int(n.9))
                },
                waitingForANode: Int(waiting), leasesExpiringSoon: expiring.map { .init(executionID: $0.0, node: $0.1, expiresIn: $0.2) },
                queues: queues.map { .init(name: $0.0, waiting: Int($0.1), running: Int($0.2)) },
                at: Date(timeIntervalSince1970: now))
        }
    }
}
