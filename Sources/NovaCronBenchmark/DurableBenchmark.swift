import Foundation
import GRDB
import Orchestration
import OrchestrationExecutors
import OrchestrationSQLite

/// The durable path beside its floor, in one run on one machine: how many small transactions
/// SQLite commits per second with the store's settings (WAL, `synchronous=NORMAL`, one row of
/// about a step result's size each, through a prepared statement), alone and as one GRDB write
/// each; the store's own writes for a chain without the engine; and how many no-op steps per
/// second a chain runs on the SQLite store, where each step's result must be saved before the
/// next step starts. The chain's rate over SQLite's alone is the figure docs/performance.md
/// tracks (it does not depend on how fast the machine is); over the store's alone, what the
/// engine adds.
///
/// `durable [--steps 3000] [--rounds 3]`: one JSON line per round, then the medians.
enum DurableBenchmark {
    static func run(_ arguments: [String]) async throws {
        let steps = option("steps", in: arguments).flatMap(Int.init) ?? 3000
        let rounds = option("rounds", in: arguments).flatMap(Int.init) ?? 3
        var floors: [Double] = [], grdbs: [Double] = [], stores: [Double] = [], chains: [Double] = []
        for round in 1...rounds {
            let floor = try sqliteCommitsPerSecond(count: steps * 2, perWrite: false)
            let grdb = try sqliteCommitsPerSecond(count: steps * 2, perWrite: true)
            let store = try await storeStepsPerSecond(steps: steps)
            let chain = try await chainStepsPerSecond(steps: steps)
            floors.append(floor)
            grdbs.append(grdb)
            stores.append(store)
            chains.append(chain.stepsPerSecond)
            let line: [String: Any] = [
                "benchmark": "durable", "round": round, "steps": steps, "sqliteCommitsPerSecond": Int(floor),
                "grdbWritesPerSecond": Int(grdb), "storeStepsPerSecond": Int(store), "chainStepsPerSecond": Int(chain.stepsPerSecond),
                "chainCommits": chain.commits, "ratio": ratio(chain.stepsPerSecond, floor), "storeRatio": ratio(chain.stepsPerSecond, store),
            ]
            emit(line)
        }
        let (floor, grdb, store, chain) = (median(floors), median(grdbs), median(stores), median(chains))
        let summary: [String: Any] = [
            "benchmark": "durable-median", "rounds": rounds, "steps": steps, "sqliteCommitsPerSecond": Int(floor),
            "grdbWritesPerSecond": Int(grdb), "storeStepsPerSecond": Int(store), "chainStepsPerSecond": Int(chain),
            "ratio": ratio(chain, floor), "storeRatio": ratio(chain, store),
        ]
        emit(summary)
    }

    /// Transactions of one insert each through a prepared statement. `perWrite`: each one its own
    /// GRDB write on the calling thread, as the store writes; otherwise all in one GRDB write
    /// (SQLite alone: its commit cost without GRDB's per-write locking).
    static func sqliteCommitsPerSecond(count: Int, perWrite: Bool) throws -> Double {
        let path = temporaryPath("floor")
        defer { removeDatabase(path) }
        var configuration = Configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { db in try db.execute(sql: "CREATE TABLE result (id INTEGER PRIMARY KEY, execution TEXT, step TEXT, body TEXT)") }
        let body = String(repeating: "x", count: 200)
        func insert(_ db: Database, _ i: Int) throws {
            try db.inTransaction {
                try db.cachedStatement(sql: "INSERT INTO result (execution, step, body) VALUES (?, ?, ?)").execute(arguments: [
                    "bench", "s\(i)", body,
                ])
                return .commit
            }
        }
        let start = ContinuousClock.now
        if perWrite {
            for i in 0..<count { try pool.writeWithoutTransaction { db in try insert(db, i) } }
        } else {
            try pool.writeWithoutTransaction { db in for i in 0..<count { try insert(db, i) } }
        }
        return Double(count) / (ContinuousClock.now - start).seconds
    }

    /// The store's own writes for a chain of `steps` steps, without the engine: per step, one
    /// transaction holding what the engine writes between two steps of a chain (the step's
    /// result with its finished attempt, and the next step's attempt as running), each through
    /// ``SQLiteStore/apply(_:)`` as the engine calls it. The engine cannot beat this; the chain's
    /// rate over it is how much the engine adds.
    static func storeStepsPerSecond(steps: Int) async throws -> Double {
        let path = temporaryPath("store")
        defer { removeDatabase(path) }
        let store = try SQLiteStore(path: path)
        let id = UUID().uuidString
        let now = Date()
        let execution = WorkflowExecution(id: id, workflowID: "chain", status: .running, startedAt: now)
        try await store.apply([.createExecution(ExecutionRecord(execution: execution, workflowHash: "h", options: StoredOptions(), createdAt: now))])
        func running(_ i: Int) -> StoreWrite {
            .attempt(AttemptRecord(executionID: id, stepID: "s\(i)", attempt: 1, status: .running, startedAt: now))
        }
        try await store.apply([running(0)])
        let start = ContinuousClock.now
        for i in 0..<steps {
            let finished = Date()
            let result = StepResult(
                stepID: "s\(i)", status: .success, attempts: 1, startedAt: now, finishedAt: finished, duration: .microseconds(40))
            let attempt = AttemptRecord(executionID: id, stepID: "s\(i)", attempt: 1, status: .succeeded, startedAt: now, finishedAt: finished)
            try await store.apply([.stepFinished(executionID: id, result: result, attempt: attempt, log: ""), running(i + 1)])
        }
        return Double(steps) / (ContinuousClock.now - start).seconds
    }

    /// A chain of `steps` no-op steps on a new SQLite store.
    static func chainStepsPerSecond(steps: Int) async throws -> (stepsPerSecond: Double, commits: Int) {
        let path = temporaryPath("chain")
        defer { removeDatabase(path) }
        let store = try SQLiteStore(path: path)
        let workflow = try EngineBenchmark.generate(shape: "chain", steps: steps)
        var executors = ExecutorRegistry.standard()
        executors.register(NoopExecutor(), forAction: "noop")
        return try await WorkflowEngine.withEngine(executors: executors, store: store) { engine in
            try await engine.registerWorkflow(workflow)
            let start = ContinuousClock.now
            let started = try await engine.executeWorkflow(workflow.id)
            let final = try await engine.waitForExecution(started.id)
            let elapsed = ContinuousClock.now - start
            guard final.status == .completed else { throw BenchmarkError(message: "the chain ended \(final.status.rawValue)") }
            return (Double(steps) / elapsed.seconds, engine.storeCommits)
        }
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("novacron-bench-\(name)-\(UUID().uuidString).db").path
    }

    static func removeDatabase(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }

    /// `part ÷ whole` to three decimals.
    static func ratio(_ part: Double, _ whole: Double) -> Double { (part / whole * 1000).rounded() / 1000 }

    static func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
}
