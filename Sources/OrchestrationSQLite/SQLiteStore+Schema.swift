import Foundation
import GRDB
import Orchestration

extension SQLiteStore {
    /// Named, append-only migrations: never edit one that shipped; add the next.
    package static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: workflows, executions, steps, attempts, cache, events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE workflow_version (
                        workflow_id TEXT NOT NULL,
                        version TEXT NOT NULL,
                        definition TEXT NOT NULL,
                        created_at REAL NOT NULL,
                        PRIMARY KEY (workflow_id, version)
                    );
                    CREATE TABLE registered_workflow (
                        workflow_id TEXT PRIMARY KEY,
                        version TEXT NOT NULL,
                        registered_at REAL NOT NULL
                    );
                    CREATE TABLE execution (
                        id TEXT PRIMARY KEY,
                        workflow_id TEXT NOT NULL,
                        workflow_version TEXT NOT NULL,
                        status TEXT NOT NULL,
                        record TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX execution_by_workflow ON execution(workflow_id, created_at);
                    CREATE INDEX execution_by_status ON execution(status, created_at);
                    CREATE TABLE step_result (
                        execution_id TEXT NOT NULL REFERENCES execution(id) ON DELETE CASCADE,
                        step_id TEXT NOT NULL,
                        result TEXT NOT NULL,
                        log TEXT NOT NULL DEFAULT '',
                        PRIMARY KEY (execution_id, step_id)
                    );
                    CREATE TABLE attempt (
                        execution_id TEXT NOT NULL REFERENCES execution(id) ON DELETE CASCADE,
                        step_id TEXT NOT NULL,
                        attempt INTEGER NOT NULL,
                        status TEXT NOT NULL,
                        started_at REAL NOT NULL,
                        finished_at REAL,
                        error TEXT,
                        exit_code INTEGER,
                        PRIMARY KEY (execution_id, step_id, attempt)
                    );
                    CREATE INDEX attempt_running ON attempt(execution_id, status);
                    CREATE TABLE cache_entry (
                        key TEXT PRIMARY KEY,
                        outputs TEXT NOT NULL,
                        expires_at REAL NOT NULL
                    );
                    CREATE TABLE event (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        type TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    """)
        }
        m.registerMigration("v2: trigger state, webhook deliveries, event consumers") { db in
            try db.execute(
                sql: """
                    CREATE TABLE trigger_state (
                        workflow_id TEXT NOT NULL,
                        trigger_id TEXT NOT NULL,
                        state TEXT NOT NULL,
                        PRIMARY KEY (workflow_id, trigger_id)
                    );
                    CREATE TABLE webhook_delivery (
                        source TEXT NOT NULL,
                        id TEXT NOT NULL,
                        received_at REAL NOT NULL,
                        PRIMARY KEY (source, id)
                    );
                    CREATE INDEX webhook_delivery_age ON webhook_delivery(received_at);
                    CREATE TABLE consumer_cursor (
                        name TEXT PRIMARY KEY,
                        seq INTEGER NOT NULL
                    );
                    CREATE TABLE event_subscription (
                        id TEXT PRIMARY KEY,
                        record TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE TABLE dead_letter (
                        subscription_id TEXT NOT NULL,
                        seq INTEGER NOT NULL,
                        record TEXT NOT NULL,
                        PRIMARY KEY (subscription_id, seq)
                    );
                    """)
        }
        m.registerMigration("v3: learning observations, snapshots, optimization audit") { db in
            try db.execute(
                sql: """
                    CREATE TABLE learning_observation (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        workflow_id TEXT NOT NULL,
                        execution_id TEXT NOT NULL,
                        observation TEXT NOT NULL
                    );
                    CREATE INDEX learning_observation_workflow ON learning_observation(workflow_id, seq);
                    CREATE TABLE learning_snapshot (
                        workflow_id TEXT PRIMARY KEY,
                        statistics TEXT NOT NULL
                    );
                    CREATE TABLE optimization_audit (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        workflow_id TEXT NOT NULL,
                        record TEXT NOT NULL
                    );
                    CREATE INDEX optimization_audit_workflow ON optimization_audit(workflow_id, seq);
                    """)
        }
        m.registerMigration("v4: the process group of each attempt") { db in
            try db.execute(sql: "ALTER TABLE attempt ADD COLUMN process TEXT")
        }
        m.registerMigration("v5: idempotency keys of execution starts") { db in
            try db.execute(
                sql: """
                    CREATE TABLE start_key (
                        key TEXT PRIMARY KEY,
                        fingerprint TEXT NOT NULL,
                        execution_id TEXT NOT NULL,
                        created_at REAL NOT NULL
                    );
                    CREATE INDEX start_key_age ON start_key(created_at);
                    """)
        }
        m.registerMigration("v6: signals and approval decisions sent to executions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE signal (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        execution_id TEXT NOT NULL,
                        kind TEXT NOT NULL,
                        name TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        sender TEXT NOT NULL,
                        sent_at REAL NOT NULL
                    );
                    CREATE INDEX signal_execution ON signal(execution_id, seq);
                    """)
        }
        m.registerMigration("v7: concurrency keys: who holds each and who waits") { db in
            try db.execute(
                sql: """
                    CREATE TABLE concurrency_slot (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        key TEXT NOT NULL,
                        execution_id TEXT NOT NULL,
                        step_id TEXT NOT NULL,
                        holding INTEGER NOT NULL,
                        since REAL NOT NULL,
                        seen_at REAL NOT NULL,
                        UNIQUE (execution_id, step_id, key)
                    );
                    CREATE INDEX concurrency_slot_key ON concurrency_slot(key, seq);
                    """)
        }
        m.registerMigration("v8: single-use callbacks of waiting steps (their tokens' digests)") { db in
            try db.execute(
                sql: """
                    CREATE TABLE callback (
                        digest TEXT PRIMARY KEY,
                        execution_id TEXT NOT NULL,
                        step_id TEXT NOT NULL,
                        signal TEXT,
                        created_at REAL NOT NULL,
                        expires_at REAL NOT NULL,
                        used_at REAL,
                        minted_by TEXT NOT NULL
                    );
                    CREATE INDEX callback_execution ON callback(execution_id);
                    """)
        }
        m.registerMigration("v9: no index of attempts by status (the primary key finds an execution's)") { db in
            // Every attempt's start and end rewrote this index: a third of the pages a step's
            // commit wrote. Running attempts are looked up per execution, which the key does.
            try db.execute(sql: "DROP INDEX attempt_running")
        }
        m.registerMigration("v10: attempts in their step's row") { db in
            // A step's end and the next one's start become two statements on one table instead
            // of three on two (SQLiteStore+Attempts.swift). Attempts of steps without a row yet
            // (a rollback running) get a row with an empty result, which readers skip.
            try db.execute(
                sql: """
                    ALTER TABLE step_result ADD COLUMN attempts TEXT NOT NULL DEFAULT '{}';
                    INSERT INTO step_result (execution_id, step_id, result)
                        SELECT DISTINCT execution_id, step_id, '' FROM attempt a
                        WHERE NOT EXISTS (SELECT 1 FROM step_result s WHERE s.execution_id = a.execution_id AND s.step_id = a.step_id);
                    UPDATE step_result SET attempts = (
                        SELECT json_group_object(
                            CAST(a.attempt AS TEXT),
                            json_object(
                                'status', a.status, 'startedAt', a.started_at, 'finishedAt', a.finished_at, 'error', a.error,
                                'exitCode', a.exit_code, 'process', json(a.process)))
                        FROM attempt a WHERE a.execution_id = step_result.execution_id AND a.step_id = step_result.step_id)
                    WHERE EXISTS (SELECT 1 FROM attempt a WHERE a.execution_id = step_result.execution_id AND a.step_id = step_result.step_id);
                    DROP TABLE attempt;
                    """)
        }
        return m
    }

    /// Refuses a database of another application or of a newer NovaCron, then migrates.
    ///
    /// Several processes may open a new file at once; one migrates, and the others, finding the
    /// work done (or their attempt collide with it), check again.
    static func checkAndMigrate(_ pool: DatabasePool, path: String) throws(StoreError) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                try checkAndMigrateOnce(pool, path: path)
                return
            } catch {
                if error.message.contains("another application") || error.message.contains("newer NovaCron") || attempt >= 5 { throw error }
            }
        }
    }

    static func checkAndMigrateOnce(_ pool: DatabasePool, path: String) throws(StoreError) {
        let migrator = Self.migrator
        do {
            let (tables, superseded) = try pool.read { db -> ([String], Bool) in
                let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
                let ours = tables.contains("grdb_migrations") && tables.contains("execution")
                return (tables, ours ? try migrator.hasBeenSuperseded(db) : false)
            }
            // Only grdb_migrations: another process is creating the schema right now.
            if !tables.isEmpty, tables != ["grdb_migrations"], !(tables.contains("grdb_migrations") && tables.contains("execution")) {
                throw StoreError(
                    "\(path): an SQLite database of another application (tables: \(tables.sorted().prefix(5).joined(separator: ", "))); give NovaCron its own file"
                )
            }
            if superseded {
                throw StoreError(
                    "\(path): written by a newer NovaCron (its schema has migrations this version does not know); upgrade NovaCron to use it")
            }
            try migrator.migrate(pool)
        } catch let e as StoreError {
            throw e
        } catch {
            throw describe(error, path: path, doing: "migrate the database", opening: true)
        }
    }
}
