import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@testable import OrchestrationPostgres

/// The connection dropping after the server committed but before the client heard so: the store
/// cannot know whether the batch landed and tries it again, and the second try must change
/// nothing the first did (an execution created twice, its end counted twice by the learning
/// engine). A loopback proxy, Tests/Fixtures/postgres/commit_dropper.py, loses the answers.
@Suite("PostgreSQL commits whose answer is lost")
struct LostCommitTests {
    /// The proxy in front of a new database of the shared server.
    final class CommitDropper: Sendable {
        let process = Process()
        /// The database through the proxy, and past it (for the test's own reads).
        let url: String
        let direct: String
        let log: String
        private let input = Pipe()

        /// Loses the answer to the first COMMIT of a transaction that sent `match`, then to every
        /// `every`-th such COMMIT after it; with `seed`, to each at random, a chance of 1 in `every`.
        init(match: String, every: Int, seed: UInt64? = nil) async throws {
            direct = try await TestPostgres.shared.database()
            let pgPort = try await TestPostgres.shared.port()
            log = NSTemporaryDirectory() + "/novacron-drops-\(UUID().uuidString).log"
            FileManager.default.createFile(atPath: log, contents: nil)
            let output = Pipe()
            // It exits when this pipe closes: with this process, however it ends.
            process.standardInput = input
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments =
                ["python3", Repository.path("Tests/Fixtures/postgres/commit_dropper.py"), "\(pgPort)", match, "\(every)", log]
                + (seed.map { ["\($0)"] } ?? [])
            process.standardOutput = output
            try process.run()
            let line = await output.fileHandleForReading.nextLine()
            guard line.hasPrefix("listening "), let port = Int(line.dropFirst("listening ".count)) else {
                process.terminate()
                throw TestPostgres.Failure("the commit-dropping proxy did not start: \(line.isEmpty ? "no output" : line)")
            }
            url = direct.replacingOccurrences(of: ":\(pgPort)/", with: ":\(port)/")
        }

        /// The answers it lost so far: the number of each COMMIT, and its transaction's first statement.
        var dropped: [Substring] { ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n") }
        var drops: Int { dropped.count }

        func stop() {
            if process.isRunning { process.terminate() }
            try? FileManager.default.removeItem(atPath: log)
        }

        deinit { stop() }
    }

    static func count(_ url: String, _ sql: String) async throws -> Int {
        Int(try await TestPostgres.psql(url, sql).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }

    @Test("a batch whose COMMIT answer is lost is tried again: the execution is there once, its end observed once")
    func batchTriedAgain() async throws {
        let proxy = try await CommitDropper(match: "INSERT INTO execution", every: 2)
        defer { proxy.stop() }
        let store = try await PostgresStore(url: proxy.url, maximumConnections: 2, leaseDuration: .seconds(20), role: "serve")
        let observation = ExecutionObservation(
            executionID: "e", workflowID: "w", version: "abc", status: .completed, startedAt: Date(timeIntervalSince1970: 1_800_000_000), seconds: 2,
            steps: [])
        var ended = sampleRecord("e", status: .completed)
        ended.execution.finishedAt = Date(timeIntervalSince1970: 1_800_000_002)
        try await store.apply([.createExecution(sampleRecord("e")), .updateExecution(ended), .observation(observation)])
        #expect(proxy.drops == 1, "the proxy lost the first try's answer")
        #expect(try await store.execution(id: "e")?.execution.status == .completed)
        #expect(try await Self.count(proxy.direct, "SELECT count(*) FROM execution") == 1)
        #expect(try await Self.count(proxy.direct, "SELECT count(*) FROM learning_observation WHERE execution_id = 'e'") == 1)
        await store.close()
    }

    @Test("taking a queued step's outcome whose delete goes unanswered still returns the outcome, once")
    func outcomeTakenOnce() async throws {
        let proxy = try await CommitDropper(match: "statement:DELETE FROM step_task", every: 2)
        defer { proxy.stop() }
        let owner = try await PostgresStore(url: proxy.url, maximumConnections: 2, leaseDuration: .seconds(60), role: "serve")
        let worker = try await PostgresStore(url: proxy.direct, maximumConnections: 2, leaseDuration: .seconds(60), role: "worker")
        try await owner.apply([.createExecution(sampleRecord("e"))])
        let request = StepRequest(executionID: "e", workflowID: "w", stepID: "a", attempt: 1, type: .task, action: nil, inputs: [:])
        let id = try await owner.enqueue(QueuedStep(queue: "gpu", request: request))
        #expect(try await worker.claimSteps(queues: ["gpu"], limit: 1).map(\.id) == [id])
        let outcome = QueuedOutcome(ending: "succeeded", outputs: ["n": 1], error: nil, exitCode: 0, log: "ran", worker: worker.nodeID)
        try await worker.finish([(id, outcome)])
        #expect(try await owner.takeOutcomes([id]) == [id: outcome], "answers lost: \(proxy.dropped)")
        #expect(proxy.drops == 1)
        #expect(try await owner.takeOutcomes([id]).isEmpty, "taken once")
        #expect(try await Self.count(proxy.direct, "SELECT count(*) FROM step_task") == 0)
        await owner.close()
        await worker.close()
    }

    @Test(
        "an engine that hears no answer to a third of its commits (at random, seeded) loses nothing and repeats nothing: every execution completes, every step ran once"
    )
    func engineUnderLostCommits() async throws {
        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        let proxy = try await CommitDropper(match: "", every: 3, seed: seed)
        defer { proxy.stop() }
        let store = try await PostgresStore(url: proxy.url, maximumConnections: 4, leaseDuration: .seconds(20), role: "serve")
        let executor = ScriptedExecutor()
        let document = try workflowDocument(
            """
            name: chain
            steps:
              - {id: a, inputs: {command: "true"}}
              - {id: b, dependencies: [a], inputs: {command: "true"}}
              - {id: c, dependencies: [b], inputs: {command: "true"}}
            """)
        let executions = 12
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        // With the learning engine, whose observation of each execution's end must be kept once.
        try await WorkflowEngine.withEngine(executors: executors, clock: ManualClock(), store: store, learning: LearningEngine(store: store)) {
            engine in
            // As a client would: a request that fails is sent again (registering is idempotent).
            var registered = false
            for _ in 0..<20 where !registered { registered = (try? await engine.registerWorkflow(document)) != nil }
            try #require(registered, "seed \(seed): registering failed twenty times")
            var ids: [String] = []
            for n in 0..<executions {
                // A start that fails is sent again with the same key.
                var options = ExecutionOptions()
                options.idempotencyKey = "start-\(n)"
                var started: WorkflowExecution?
                var errors: [String] = []
                for _ in 0..<20 where started == nil {
                    do { started = try await engine.startExecution("chain", inputs: [:], options: options).execution } catch {
                        errors.append("\(error)")
                    }
                }
                ids.append(try #require(started, "seed \(seed): start \(n) failed twenty times: \(errors); answers lost: \(proxy.dropped)").id)
            }
            // Bounded: an execution the engine gave up on would otherwise be waited for forever.
            let all = ids
            let finals = try await withThrowingTaskGroup(of: [WorkflowExecution]?.self) { group in
                group.addTask {
                    var finals: [WorkflowExecution] = []
                    for id in all { finals.append(try await engine.waitForExecution(id)) }
                    return finals
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(120))
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
            let ended = try #require(finals, "seed \(seed): not every execution ended within 120 s; answers lost: \(proxy.dropped)")
            for final in ended { #expect(final.status == .completed, "seed \(seed): \(final.id): \(final.error ?? "")") }
        }
        #expect(proxy.drops >= executions / 2, "seed \(seed): the proxy lost \(proxy.drops) answers")
        let started = executor.started
        for step in ["a", "b", "c"] {
            #expect(started.filter { $0 == step }.count == executions, "seed \(seed): \(step) ran \(started.filter { $0 == step }.count) times")
        }
        #expect(try await Self.count(proxy.direct, "SELECT count(*) FROM execution") == executions)
        #expect(try await Self.count(proxy.direct, "SELECT count(*) FROM execution WHERE status = 'completed'") == executions)
        let observed = try await Self.count(proxy.direct, "SELECT count(*) FROM learning_observation")
        #expect(observed == executions, "seed \(seed): \(observed) observations of \(executions) executions")
        #expect(try await Self.count(proxy.direct, "SELECT count(*) FROM attempt WHERE status <> 'succeeded'") == 0)
        await store.close()
    }
}
