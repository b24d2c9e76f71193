import Foundation
import Orchestration
import PostgresNIO
import Synchronization

/// The ``StepQueue`` concern: `step_task` rows. A worker claims ready rows with
/// `FOR UPDATE SKIP LOCKED` (so workers never wait for each other), holding them until
/// `claim_expires_at` (the database's clock), which its heartbeats push on. A row whose claim
/// lapsed is ready again — unless it was withdrawn. A row is not claimable while another row of
/// the same step is held by a live claim: one attempt of a step runs at a time. `NOTIFY` on
/// ``stepChannel`` wakes workers when steps are queued, on ``outcomeChannel`` the execution's
/// node when an outcome is written.
extension PostgresStore: StepQueue {
    static let stepChannel = "novacron_steps"
    static let outcomeChannel = "novacron_outcomes"
    /// A live claim on the database's clock.
    static let liveClaim = "claimed_by IS NOT NULL AND claim_expires_at >= \(databaseNow)"

    public var claimDuration: Duration { leaseDuration }
    public var nodeID: String { node.id }

    struct Enqueued: Encodable {
        var queue, execution_id, step_id: String
        var attempt: Int
        var request: String
    }

    public func enqueue(_ steps: [QueuedStep]) async throws -> [Int64?] {
        guard !steps.isEmpty else { return [] }
        let me = node.id, held = book.withLock { $0.held }
        let rows = try steps.map {
            Enqueued(queue: $0.queue, execution_id: $0.executionID, step_id: $0.stepID, attempt: $0.request.attempt, request: try Self.json($0))
        }
        let ids = try await transaction("queue \(steps.count) step\(steps.count == 1 ? "" : "s")") { connection -> [String: Int64] in
            let refused = try await fenced(Set(steps.map(\.executionID)), epochs: held, in: connection)
            let kept = rows.filter { !refused.contains($0.execution_id) }
            guard !kept.isEmpty else { return [:] }
            let json = try Self.json(kept)
            let columns = "x(queue text, execution_id text, step_id text, attempt int4, request text)"
            // Older attempts of these steps: gone when ended or no live claim holds them, else asked
            // to stop (their outcomes are nobody's: superseded).
            try await connection.execute(
                """
                DELETE FROM step_task t USING json_to_recordset(\(json)::json) AS \(unescaped: columns)
                WHERE t.execution_id = x.execution_id AND t.step_id = x.step_id AND (t.outcome IS NOT NULL OR NOT (\(unescaped: Self.liveClaim)))
                """, logger: logger)
            try await connection.execute(
                """
                UPDATE step_task t SET stop_requested = true, superseded = true FROM json_to_recordset(\(json)::json) AS \(unescaped: columns)
                WHERE t.execution_id = x.execution_id AND t.step_id = x.step_id AND t.outcome IS NULL
                """, logger: logger)
            let inserted = try await connection.rows(
                """
                INSERT INTO step_task (queue, execution_id, step_id, attempt, request, enqueued_at, owner_node)
                SELECT queue, execution_id, step_id, attempt, request, \(unescaped: Self.databaseNow), \(me) FROM json_to_recordset(\(json)::json) AS \(unescaped: columns)
                RETURNING id, execution_id, step_id, attempt
                """, logger: logger, as: (Int64, String, String, Int32).self)
            let queues = Array(Set(kept.map(\.queue)))
            try await connection.execute("SELECT pg_notify(\(Self.stepChannel), q) FROM unnest(\(queues)::text[]) AS q", logger: logger)
            return Dictionary(inserted.map { ("\($0.1)\u{0}\($0.2)\u{0}\($0.3)", $0.0) }) { first, _ in first }
        }
        return steps.map { ids["\($0.executionID)\u{0}\($0.stepID)\u{0}\($0.request.attempt)"] }
    }

    public func withdraw(_ id: Int64) async throws -> Bool {
        try await transaction("withdraw queued step \(id)") { connection -> Bool in
            let gone = try await connection.rows(
                "DELETE FROM step_task WHERE id = \(id) AND outcome IS NULL AND NOT (\(unescaped: Self.liveClaim)) RETURNING id", logger: logger,
                as: Int64.self)
            guard gone.isEmpty else { return true }
            try await connection.execute("UPDATE step_task SET stop_requested = true WHERE id = \(id)", logger: logger)
            try await connection.execute("SELECT pg_notify(\(Self.stepChannel), '')", logger: logger)
            return false
        }
    }

    /// Read, then deleted: a `DELETE … RETURNING` whose answer the connection lost (the rows gone,
    /// the outcomes with them) was tried again in place and found nothing, and the steps never
    /// ended. A delete whose answer is lost now finds the rows gone when tried again, and the
    /// outcomes were read before it; a process that dies in between reads them again.
    public func takeOutcomes(_ ids: Set<Int64>) async throws -> [Int64: QueuedOutcome] {
        guard !ids.isEmpty else { return [:] }
        let list = Array(ids)
        let rows = try await rows(
            "read outcomes of queued steps", "SELECT id, outcome FROM step_task WHERE id = ANY(\(list)::int8[]) AND outcome IS NOT NULL",
            as: (Int64, String).self)
        guard !rows.isEmpty else { return [:] }
        var out: [Int64: QueuedOutcome] = [:]
        for (id, text) in rows { out[id] = try Self.decode(QueuedOutcome.self, text) }
        let taken = Array(out.keys)
        _ = try await self.rows(
            "take outcomes of queued steps", "DELETE FROM step_task WHERE id = ANY(\(taken)::int8[]) AND outcome IS NOT NULL RETURNING id",
            as: Int64.self)
        return out
    }

    public func waitForOutcomes(upTo limit: Duration) async {
        await wait(on: Self.outcomeChannel, upTo: limit)
    }

    public func claimSteps(queues: [String], limit: Int) async throws -> [ClaimedStep] {
        guard limit > 0, !queues.isEmpty else { return [] }
        try await registerNode(queues: queues)
        let me = node.id, seconds = leaseDuration.seconds
        let rows = try await rows(
            "claim queued steps",
            """
            UPDATE step_task SET claimed_by = \(me), claim_expires_at = \(unescaped: Self.databaseNow) + \(seconds), claims = claims + 1
            WHERE id IN (
                SELECT t.id FROM step_task t
                WHERE t.queue = ANY(\(queues)::text[]) AND t.outcome IS NULL AND NOT t.stop_requested
                    AND NOT (t.claimed_by IS NOT NULL AND t.claim_expires_at >= \(unescaped: Self.databaseNow))
                    AND NOT EXISTS (
                        SELECT 1 FROM step_task o WHERE o.execution_id = t.execution_id AND o.step_id = t.step_id AND o.id <> t.id
                            AND o.outcome IS NULL AND o.claimed_by IS NOT NULL AND o.claim_expires_at >= \(unescaped: Self.databaseNow))
                ORDER BY t.id LIMIT \(limit)
                FOR UPDATE SKIP LOCKED)
            RETURNING id, request, claims
            """, as: (Int64, String, Int).self)
        if rows.isEmpty {
            // Idle: outcomes of superseded attempts are nobody's.
            try await query("forget superseded attempts", "DELETE FROM step_task WHERE superseded AND outcome IS NOT NULL")
        }
        return try rows.sorted { $0.0 < $1.0 }.map { ClaimedStep(id: $0.0, step: try Self.decode(QueuedStep.self, $0.1), claims: $0.2) }
    }

    public func heartbeat(_ ids: Set<Int64>) async throws -> (lost: Set<Int64>, stop: Set<Int64>) {
        let me = node.id, seconds = leaseDuration.seconds
        try await query("renew the node's heartbeat", "UPDATE node SET heartbeat_at = \(unescaped: Self.databaseNow) WHERE id = \(me)")
        guard !ids.isEmpty else { return ([], []) }
        let list = Array(ids)
        let held = try await rows(
            "heartbeat claimed steps",
            """
            UPDATE step_task SET claim_expires_at = \(unescaped: Self.databaseNow) + \(seconds)
            WHERE id = ANY(\(list)::int8[]) AND claimed_by = \(me) AND outcome IS NULL RETURNING id, stop_requested
            """, as: (Int64, Bool).self)
        let kept = Set(held.map(\.0))
        return (ids.subtracting(kept), Set(held.filter(\.1).map(\.0)))
    }

    public func finish(_ outcomes: [(id: Int64, outcome: QueuedOutcome)]) async throws {
        guard !outcomes.isEmpty else { return }
        let me = node.id
        let ids = outcomes.map(\.id), texts = try outcomes.map { try Self.json($0.outcome) }
        try await transaction("write outcomes of queued steps") { connection in
            try await connection.execute(
                """
                UPDATE step_task t SET outcome = o.outcome, finished_at = \(unescaped: Self.databaseNow)
                FROM unnest(\(ids)::int8[], \(texts)::text[]) AS o(id, outcome)
                WHERE t.id = o.id AND t.claimed_by = \(me) AND t.outcome IS NULL
                """, logger: logger)
            try await connection.execute("SELECT pg_notify(\(Self.outcomeChannel), '')", logger: logger)
        }
    }

    public func release(_ ids: Set<Int64>) async throws {
        guard !ids.isEmpty else { return }
        let me = node.id, list = Array(ids)
        try await transaction("give queued steps back") { connection in
            try await connection.execute(
                "UPDATE step_task SET claimed_by = NULL, claim_expires_at = NULL WHERE id = ANY(\(list)::int8[]) AND claimed_by = \(me) AND outcome IS NULL",
                logger: logger)
            try await connection.execute("SELECT pg_notify(\(Self.stepChannel), '')", logger: logger)
        }
    }

    public func waitForSteps(upTo limit: Duration) async {
        await wait(on: Self.stepChannel, upTo: limit)
    }
}
