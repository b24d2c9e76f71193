import Foundation
import Orchestration
import PostgresNIO

extension PostgresStore {
    /// Named, append-only migrations: never edit one that shipped; add the next. Times are seconds
    /// since 1970 (`double precision`), as in SQLite; JSON is kept as text, exactly as written.
    static let migrations: [(name: String, sql: [String])] = [
        (
            "v1: workflows, executions, steps, attempts, cache, events, triggers, subscriptions, learning",
            [
                """
                CREATE TABLE workflow_version (
                    workflow_id text NOT NULL, version text NOT NULL, definition text NOT NULL,
                    created_at double precision NOT NULL, ord bigint GENERATED ALWAYS AS IDENTITY,
                    PRIMARY KEY (workflow_id, version))
                """,
                """
                CREATE TABLE registered_workflow (
                    workflow_id text PRIMARY KEY, version text NOT NULL, registered_at double precision NOT NULL)
                """,
                """
                CREATE TABLE execution (
                    id text PRIMARY KEY, workflow_id text NOT NULL, workflow_version text NOT NULL, status text NOT NULL,
                    record text NOT NULL, created_at double precision NOT NULL, ord bigint GENERATED ALWAYS AS IDENTITY)
                """,
                "CREATE INDEX execution_by_workflow ON execution (workflow_id, created_at)",
                "CREATE INDEX execution_by_status ON execution (status, created_at)",
                """
                CREATE TABLE step_result (
                    execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE, step_id text NOT NULL,
                    result text NOT NULL, log text NOT NULL DEFAULT '', PRIMARY KEY (execution_id, step_id))
                """,
                """
                CREATE TABLE attempt (
                    execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE, step_id text NOT NULL,
                    attempt integer NOT NULL, status text NOT NULL, started_at double precision NOT NULL,
                    finished_at double precision, error text, exit_code integer, process text,
                    ord bigint GENERATED ALWAYS AS IDENTITY, PRIMARY KEY (execution_id, step_id, attempt))
                """,
                "CREATE INDEX attempt_running ON attempt (execution_id, status)",
                "CREATE TABLE cache_entry (key text PRIMARY KEY, outputs text NOT NULL, expires_at double precision NOT NULL)",
                """
                CREATE TABLE event (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, type text NOT NULL, payload text NOT NULL,
                    created_at double precision NOT NULL)
                """,
                """
                CREATE TABLE trigger_state (
                    workflow_id text NOT NULL, trigger_id text NOT NULL, state text NOT NULL, PRIMARY KEY (workflow_id, trigger_id))
                """,
                """
                CREATE TABLE webhook_delivery (
                    source text NOT NULL, id text NOT NULL, received_at double precision NOT NULL, PRIMARY KEY (source, id))
                """,
                "CREATE INDEX webhook_delivery_age ON webhook_delivery (received_at)",
                "CREATE TABLE consumer_cursor (name text PRIMARY KEY, seq bigint NOT NULL)",
                "CREATE TABLE event_subscription (id text PRIMARY KEY, record text NOT NULL, created_at double precision NOT NULL)",
                """
                CREATE TABLE dead_letter (
                    subscription_id text NOT NULL, seq bigint NOT NULL, record text NOT NULL, PRIMARY KEY (subscription_id, seq))
                """,
                """
                CREATE TABLE learning_observation (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, workflow_id text NOT NULL, execution_id text NOT NULL,
                    observation text NOT NULL)
                """,
                "CREATE INDEX learning_observation_workflow ON learning_observation (workflow_id, seq)",
                "CREATE TABLE learning_snapshot (workflow_id text PRIMARY KEY, statistics text NOT NULL)",
                """
                CREATE TABLE optimization_audit (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, workflow_id text NOT NULL, record text NOT NULL)
                """,
                "CREATE INDEX optimization_audit_workflow ON optimization_audit (workflow_id, seq)",
            ]
        ),
        (
            "v2: nodes and execution leases",
            [
                """
                CREATE TABLE node (
                    id text PRIMARY KEY, host text NOT NULL, pid integer NOT NULL, role text NOT NULL, queues text NOT NULL DEFAULT '',
                    started_at double precision NOT NULL, heartbeat_at double precision NOT NULL)
                """,
                """
                ALTER TABLE execution ADD COLUMN owner_node text, ADD COLUMN lease_epoch bigint NOT NULL DEFAULT 0,
                    ADD COLUMN lease_expires_at double precision NOT NULL DEFAULT 0
                """,
                "CREATE INDEX execution_lease ON execution (lease_expires_at) WHERE status IN ('pending', 'running', 'paused')",
                "CREATE INDEX execution_owner ON execution (owner_node) WHERE status IN ('pending', 'running', 'paused')",
            ]
        ),
        (
            "v3: commands for the node holding an execution",
            [
                """
                CREATE TABLE execution_command (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE,
                    command text NOT NULL, created_at double precision NOT NULL)
                """,
                "CREATE INDEX execution_command_execution ON execution_command (execution_id)",
            ]
        ),
        (
            "v4: each node's lease length, to tell live nodes from gone ones",
            ["ALTER TABLE node ADD COLUMN lease_seconds double precision NOT NULL DEFAULT 5"]
        ),
        (
            "v5: steps queued for workers",
            [
                """
                CREATE TABLE step_task (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, queue text NOT NULL,
                    execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE, step_id text NOT NULL, attempt integer NOT NULL,
                    request text NOT NULL, owner_node text, enqueued_at double precision NOT NULL,
                    claimed_by text, claim_expires_at double precision, claims integer NOT NULL DEFAULT 0,
                    stop_requested boolean NOT NULL DEFAULT false, superseded boolean NOT NULL DEFAULT false,
                    outcome text, finished_at double precision)
                """,
                "CREATE INDEX step_task_ready ON step_task (queue, id) WHERE outcome IS NULL",
                "CREATE INDEX step_task_step ON step_task (execution_id, step_id)",
            ]
        ),
        (
            "v6: idempotency keys of execution starts, and which node delivers for each event consumer",
            [
                """
                CREATE TABLE start_key (
                    key text PRIMARY KEY, fingerprint text NOT NULL, execution_id text NOT NULL, created_at double precision NOT NULL)
                """,
                "CREATE INDEX start_key_age ON start_key (created_at)",
                "CREATE TABLE consumer_hold (name text PRIMARY KEY, node text NOT NULL, held_until double precision NOT NULL)",
            ]
        ),
        (
            "v7: signals and approval decisions sent to executions",
            [
                """
                CREATE TABLE signal (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE, kind text NOT NULL, name text NOT NULL,
                    payload text NOT NULL, sender text NOT NULL, sent_at double precision NOT NULL)
                """,
                "CREATE INDEX signal_execution ON signal (execution_id, seq)",
            ]
        ),
        (
            "v8: concurrency keys: who holds each and who waits",
            [
                """
                CREATE TABLE concurrency_slot (
                    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, key text NOT NULL,
                    execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE, step_id text NOT NULL,
                    holding boolean NOT NULL, since double precision NOT NULL, seen_at double precision NOT NULL,
                    UNIQUE (execution_id, step_id, key))
                """,
                "CREATE INDEX concurrency_slot_key ON concurrency_slot (key, seq)",
            ]
        ),
        (
            "v9: single-use callbacks of waiting steps (their tokens' digests)",
            [
                """
                CREATE TABLE callback (
                    digest text PRIMARY KEY, execution_id text NOT NULL REFERENCES execution (id) ON DELETE CASCADE,
                    step_id text NOT NULL, signal text, created_at double precision NOT NULL, expires_at double precision NOT NULL,
                    used_at double precision, minted_by text NOT NULL)
                """,
                "CREATE INDEX callback_execution ON callback (execution_id)",
            ]
        ),
    ]

    /// The advisory lock key that serializes migrations across nodes ("NovaCron" in ASCII).
    static let migrationLock: Int64 = 0x4E6F_7661_4372_6F6E

    /// Refuses a database of another application or of a newer NovaCron, then applies the
    /// migrations it lacks, in one transaction under an advisory lock: nodes starting together
    /// wait for one another, and the first migrates.
    func migrate() async throws(StoreError) {
        let known = Self.migrations.map(\.name)
        let location = self.location
        try await transaction("migrate the database") { connection in
            // Holds no execution's lock: the short idle limit of node sessions (a lease) does not
            // apply, so a process starting on a busy machine is not cut off mid-migration.
            try await connection.execute("SET LOCAL idle_in_transaction_session_timeout = 0", logger: logger)
            try await connection.execute("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
            let tables = try await connection.rows(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()", logger: logger,
                as: String.self)
            let ours = Set(tables)
            var applied: [String] = []
            if ours.contains("novacron_migration") {
                applied = try await connection.rows("SELECT name FROM novacron_migration ORDER BY applied_at, name", logger: logger, as: String.self)
            } else if !ours.isEmpty {
                throw StoreError(
                    "\(location): a database of another application (tables: \(tables.sorted().prefix(5).joined(separator: ", "))); give NovaCron its own database"
                )
            } else {
                try await connection.execute(
                    "CREATE TABLE novacron_migration (name text PRIMARY KEY, applied_at double precision NOT NULL)", logger: logger)
            }
            if let unknown = applied.first(where: { !known.contains($0) }) {
                throw StoreError(
                    "\(location): written by a newer NovaCron (migration '\(unknown)' is unknown to this version); upgrade NovaCron to use it")
            }
            for migration in Self.migrations where !applied.contains(migration.name) {
                for statement in migration.sql { try await connection.execute(PostgresQuery(unsafeSQL: statement), logger: logger) }
                let now = Date().timeIntervalSince1970
                try await connection.execute("INSERT INTO novacron_migration (name, applied_at) VALUES (\(migration.name), \(now))", logger: logger)
            }
        }
    }
}
