import Foundation
import GRDB
import Orchestration
import OrchestrationSQLite
import TestSupport
import Testing

@Suite("SQLite attempts in their step's row (migration v10)")
struct AttemptsMigrationTests {
    @Test("a database written before v10 opens with every attempt, its process group and its order kept, and carries on")
    func migratesAttempts() async throws {
        let path = temporaryDatabasePath()
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let queue = try DatabaseQueue(path: path)
        try SQLiteStore.migrator.migrate(queue, upTo: "v9: no index of attempts by status (the primary key finds an execution's)")
        let process = ProcessHandle(host: "h", bootID: "b", processGroup: 4242, startTicks: 99, session: 7)
        let processJSON = String(decoding: try JSONEncoder().encode(process), as: UTF8.self)
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO execution (id, workflow_id, workflow_version, status, record, created_at) VALUES ('e', 'w', 'h', 'running', '{}', 1);
                    INSERT INTO step_result (execution_id, step_id, result, log) VALUES ('e', 'a', '{}', 'a says hi'), ('e', 'b', '{}', '');
                    INSERT INTO attempt (execution_id, step_id, attempt, status, started_at, finished_at, error, exit_code, process) VALUES
                        ('e', 'b', 1, 'failed', 1800000001.25, 1800000002, 'exit 3: "bad"', 3, NULL),
                        ('e', 'a', 1, 'succeeded', 1800000000.5, 1800000001, NULL, 0, NULL),
                        ('e', 'b', 2, 'running', 1800000003, NULL, NULL, NULL, ?),
                        ('e', 'undo-a', 1, 'running', 1800000004, NULL, NULL, NULL, NULL);
                    """, arguments: [processJSON])
        }
        try queue.close()

        let store = try SQLiteStore(path: path)
        let t = { (s: Double) in Date(timeIntervalSince1970: s) }
        let before = [
            AttemptRecord(
                executionID: "e", stepID: "a", attempt: 1, status: .succeeded, startedAt: t(1_800_000_000.5), finishedAt: t(1_800_000_001),
                exitCode: 0),
            AttemptRecord(
                executionID: "e", stepID: "b", attempt: 1, status: .failed, startedAt: t(1_800_000_001.25), finishedAt: t(1_800_000_002),
                error: "exit 3: \"bad\"", exitCode: 3),
            AttemptRecord(executionID: "e", stepID: "b", attempt: 2, status: .running, startedAt: t(1_800_000_003), process: process),
            AttemptRecord(executionID: "e", stepID: "undo-a", attempt: 1, status: .running, startedAt: t(1_800_000_004)),
        ]
        #expect(try await store.attempts(executionID: "e", stepID: nil) == before)
        #expect(try await store.log(executionID: "e", stepID: "a") == "a says hi")
        // The rollback's row holds only its attempts: it is not a step result, and has no log.
        #expect(try await store.log(executionID: "e", stepID: "undo-a") == nil)

        // It carries on: the running attempt ends, keeping its process group; the rest are interrupted.
        var ended = before[2]
        ended.status = .succeeded
        ended.finishedAt = t(1_800_000_005)
        ended.process = nil
        try await store.apply([.attempt(ended)])
        let interrupted = try await store.interruptAttempts(executionID: "e", at: t(1_800_000_006))
        #expect(interrupted.map(\.stepID) == ["undo-a"])
        let after = try await store.attempts(executionID: "e", stepID: "b")
        #expect(after.map(\.status) == [.failed, .succeeded])
        #expect(after.last?.process == process)
        #expect(try await store.integrityCheck() == ["ok"])
    }
}
