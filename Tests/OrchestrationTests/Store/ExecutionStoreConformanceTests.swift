import Foundation
import GRDB
import Orchestration
import OrchestrationSQLite
import Testing

/// The stores every conformance test runs against.
enum StoreKind: String, CaseIterable, CustomTestStringConvertible {
    case memory, sqlite

    var testDescription: String { rawValue }

    func make() throws -> any ExecutionStore {
        switch self {
        case .memory: return InMemoryExecutionStore()
        case .sqlite: return try SQLiteExecutionStore(path: temporaryDatabasePath())
        }
    }
}

func temporaryDatabasePath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("novacron-\(UUID().uuidString)/novacron.db").path
}

func sampleRecord(_ id: String, workflow: String = "w", status: ExecutionStatus = .running, at seconds: Double = 0) -> ExecutionRecord {
    let created = Date(timeIntervalSince1970: 1_800_000_000 + seconds)
    return ExecutionRecord(
        execution: WorkflowExecution(id: id, workflowID: workflow, workflowVersion: "3", status: status, inputs: ["env": "prod"], startedAt: created),
        workflowHash: "abc", options: StoredOptions(maxParallelism: 4, debug: true, trigger: ["branch": "main"]), createdAt: created)
}

@Suite("Execution store conformance")
struct ExecutionStoreConformanceTests {
    @Test("workflow versions are content-hashed and read back the same", arguments: StoreKind.allCases)
    func workflows(kind: StoreKind) async throws {
        let store = try kind.make()
        let w = Workflow(name: "deploy", version: "3", steps: [WorkflowStep(id: "a", inputs: ["command": "echo ${secrets.T}"], timeout: .seconds(5))], timeout: .seconds(60))
        let v1 = try await store.saveWorkflow(w)
        #expect(try await store.saveWorkflow(w) == v1)
        var changed = w
        changed.steps[0].timeout = .seconds(6)
        let v2 = try await store.saveWorkflow(changed)
        #expect(v2 != v1)
        #expect(try await store.workflow(id: "deploy", version: v1) == w)
        #expect(try await store.workflow(id: "deploy", version: v2) == changed)
        #expect(try await store.workflow(id: "deploy", version: "nope") == nil)
        // The last version saved is the registered one; saving an older one again makes it current.
        #expect(try await store.registeredWorkflows() == [changed])
        _ = try await store.saveWorkflow(w)
        #expect(try await store.registeredWorkflows() == [w])
        #expect(try await store.workflowVersions(id: "deploy").map(\.version) == [v1, v2])
        #expect(try await store.unregisterWorkflow(id: "deploy"))
        #expect(try await store.registeredWorkflows().isEmpty)
        #expect(try await !store.unregisterWorkflow(id: "deploy"))
        // Versions stay for the executions that pinned them.
        #expect(try await store.workflow(id: "deploy", version: v1) == w)
    }

    @Test("an execution, its attempts, results and logs read back as written", arguments: StoreKind.allCases)
    func executionLifecycle(kind: StoreKind) async throws {
        let store = try kind.make()
        var record = sampleRecord("e1")
        try await store.createExecution(record)
        let t = Date(timeIntervalSince1970: 1_800_000_001)
        try await store.attemptStarted(AttemptRecord(executionID: "e1", stepID: "build", attempt: 1, status: .running, startedAt: t))
        try await store.attemptFinished(AttemptRecord(executionID: "e1", stepID: "build", attempt: 1, status: .failed, startedAt: t, finishedAt: t, error: "exit code 1", exitCode: 1))
        try await store.attemptStarted(AttemptRecord(executionID: "e1", stepID: "build", attempt: 2, status: .running, startedAt: t))
        let result = StepResult(stepID: "build", status: .success, outputs: ["image": "app:1", "n": 3], exitCode: 0, attempts: 2, startedAt: t, finishedAt: t, duration: .milliseconds(1500))
        try await store.stepFinished(executionID: "e1", result: result, attempt: AttemptRecord(executionID: "e1", stepID: "build", attempt: 2, status: .succeeded, startedAt: t, finishedAt: t, exitCode: 0), log: "built\n")
        record.execution.status = .completed
        record.execution.error = nil
        record.execution.finishedAt = t
        record.execution.metrics = ExecutionMetrics(stepCount: 1, successfulSteps: 1, retryCount: 1, optimizationGains: 1)
        try await store.updateExecution(record)

        let back = try #require(try await store.execution(id: "e1"))
        #expect(back.execution.status == .completed)
        #expect(back.execution.stepResults["build"] == result)
        #expect(back.execution.metrics == record.execution.metrics)
        #expect(back.options == record.options)
        #expect(back.workflowHash == "abc")
        #expect(try await store.log(executionID: "e1", stepID: "build") == "built\n")
        let attempts = try await store.attempts(executionID: "e1", stepID: "build")
        #expect(attempts.map(\.status) == [.failed, .succeeded])
        #expect(attempts.first?.error == "exit code 1")
        #expect(try await store.execution(id: "missing") == nil)
        await #expect(throws: (any Error).self) { try await store.createExecution(sampleRecord("e1")) }
    }

    @Test("lists are newest first, filter by workflow and status, and omit step results", arguments: StoreKind.allCases)
    func listing(kind: StoreKind) async throws {
        let store = try kind.make()
        try await store.createExecution(sampleRecord("a", workflow: "w1", status: .completed, at: 1))
        try await store.createExecution(sampleRecord("b", workflow: "w2", status: .failed, at: 2))
        var c = sampleRecord("c", workflow: "w1", status: .running, at: 3)
        c.execution.stepResults["x"] = StepResult(stepID: "x", status: .success)
        try await store.createExecution(c)
        try await store.createExecution(sampleRecord("d", workflow: "w1", status: .paused, at: 4))
        #expect(try await store.executions(workflowID: nil, status: nil, limit: 10).map(\.execution.id) == ["d", "c", "b", "a"])
        #expect(try await store.executions(workflowID: "w1", status: nil, limit: 2).map(\.execution.id) == ["d", "c"])
        #expect(try await store.executions(workflowID: nil, status: .failed, limit: 10).map(\.execution.id) == ["b"])
        #expect(try await store.executions(workflowID: "w1", status: .running, limit: 10).first?.execution.stepResults.isEmpty == true)
        let unfinished = try await store.unfinishedExecutions()
        #expect(unfinished.map(\.execution.id) == ["c", "d"])
        #expect(unfinished.first?.execution.stepResults["x"]?.status == .success)
    }

    @Test("attempts still running are marked interrupted, once", arguments: StoreKind.allCases)
    func interrupt(kind: StoreKind) async throws {
        let store = try kind.make()
        try await store.createExecution(sampleRecord("e"))
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.attemptStarted(AttemptRecord(executionID: "e", stepID: "a", attempt: 1, status: .running, startedAt: t))
        try await store.attemptStarted(AttemptRecord(executionID: "e", stepID: "b", attempt: 1, status: .running, startedAt: t))
        try await store.attemptFinished(AttemptRecord(executionID: "e", stepID: "b", attempt: 1, status: .succeeded, startedAt: t, finishedAt: t))
        let later = t.addingTimeInterval(5)
        let interrupted = try await store.interruptAttempts(executionID: "e", at: later)
        #expect(interrupted.map(\.stepID) == ["a"])
        #expect(interrupted.first?.status == .interrupted)
        #expect(try await store.interruptAttempts(executionID: "e", at: later).isEmpty)
        #expect(try await store.attempts(executionID: "e", stepID: "a").first?.finishedAt == later)
    }
}

extension ExecutionStoreConformanceTests {
    @Test("prune deletes executions that ended before the cutoff, keeps the rest and unfinished ones", arguments: StoreKind.allCases)
    func prune(kind: StoreKind) async throws {
        let store = try kind.make()
        var old = sampleRecord("old", status: .completed, at: 0)
        old.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_010)
        var recent = sampleRecord("recent", status: .failed, at: 100)
        recent.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_200)
        try await store.createExecution(old)
        try await store.createExecution(recent)
        try await store.createExecution(sampleRecord("running", status: .running, at: 0))
        try await store.stepFinished(executionID: "old", result: StepResult(stepID: "a", status: .success), attempt: AttemptRecord(executionID: "old", stepID: "a", attempt: 1, status: .succeeded, startedAt: Date()), log: "x")
        #expect(try await store.prune(endedBefore: Date(timeIntervalSince1970: 1_800_000_100)) == 1)
        #expect(try await store.execution(id: "old") == nil)
        #expect(try await store.attempts(executionID: "old", stepID: nil).isEmpty)
        #expect(try await store.log(executionID: "old", stepID: "a") == nil)
        #expect(try await store.execution(id: "recent") != nil)
        #expect(try await store.execution(id: "running") != nil)
    }
}

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("what was written survives closing and reopening the file; the file passes integrity_check")
    func reopen() async throws {
        let path = temporaryDatabasePath()
        do {
            let store = try SQLiteExecutionStore(path: path)
            try await store.createExecution(sampleRecord("kept"))
        }
        let again = try SQLiteExecutionStore(path: path, durability: .powerLoss)
        #expect(try await again.execution(id: "kept")?.execution.inputs == ["env": "prod"])
        #expect(try await again.integrityCheck() == ["ok"])
    }

    @Test("a file that is not SQLite, a foreign database and a newer schema are refused clearly")
    func badFiles() throws {
        let garbage = temporaryDatabasePath()
        try FileManager.default.createDirectory(atPath: (garbage as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: StoreError("\(garbage): not a NovaCron database (the file is not SQLite)")) {
            try SQLiteExecutionStore(path: garbage)
        }

        let foreign = temporaryDatabasePath()
        try FileManager.default.createDirectory(atPath: (foreign as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Self.sqlite(foreign, "CREATE TABLE customers (id INTEGER PRIMARY KEY); CREATE TABLE orders (id INTEGER PRIMARY KEY);")
        #expect(throws: StoreError("\(foreign): an SQLite database of another application (tables: customers, orders); give NovaCron its own file")) {
            try SQLiteExecutionStore(path: foreign)
        }

        let newer = temporaryDatabasePath()
        _ = try SQLiteExecutionStore(path: newer)
        try Self.sqlite(newer, "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future');")
        #expect(throws: StoreError("\(newer): written by a newer NovaCron (its schema has migrations this version does not know); upgrade NovaCron to use it")) {
            try SQLiteExecutionStore(path: newer)
        }
    }

    @Test("a database in a folder that cannot be created is a clear error")
    func unwritable() throws {
        let path = "/proc/novacron-cannot-exist/novacron.db"
        #expect(throws: StoreError.self) { try SQLiteExecutionStore(path: path) }
    }

    /// Runs SQL on the file outside the store, as another program would.
    static func sqlite(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }
}
