import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration
import OrchestrationExecutors
import OrchestrationPostgres
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `novacron-bench cluster --database-url URL [--nodes 1,2,3] [--steps 3000] [--lease 2s]`:
/// durable no-op steps through 1, 2, 3 nodes sharing one PostgreSQL database (engines in this
/// process, each with its own connection pool and lease), commits per step and scheduling
/// latency; then the failover time of real `novacron serve` processes. One JSON line each.
enum ClusterBenchmark {
    static func run(_ arguments: [String]) async throws {
        guard let url = option("database-url", in: arguments) else {
            throw BenchmarkError(message: "cluster: give --database-url (scripts/bench-cluster starts a throwaway PostgreSQL)")
        }
        let counts = (option("nodes", in: arguments) ?? "1,2,3").split(separator: ",").compactMap { Int($0) }
        let steps = option("steps", in: arguments).flatMap(Int.init) ?? 3000
        for nodes in counts { try await throughput(url: url, nodes: nodes, steps: steps) }
        let workers = (option("workers", in: arguments) ?? "1,2,3").split(separator: ",").compactMap { Int($0) }
        for count in workers { try await queued(url: url, workers: count, steps: steps) }
        let lease = option("lease", in: arguments) ?? "2s"
        for how in ["kill", "stop"] { try await failover(url: url, lease: lease, how: how) }
    }

    /// One `diamond` execution of `steps` no-op steps on each node at once.
    static func throughput(url: String, nodes: Int, steps: Int) async throws {
        let workflow = try EngineBenchmark.generate(shape: "diamond", steps: steps)
        var stores: [PostgresStore] = []
        for _ in 0..<nodes { stores.append(try await PostgresStore(url: url, maximumConnections: 8, role: "bench")) }
        let recorders = (0..<nodes).map { _ in Recorder(count: steps) }
        let engines = (0..<nodes).map { i in
            var executors = ExecutorRegistry.standard()
            executors.register(RecordingNoop(recorder: recorders[i]), forAction: "noop")
            return WorkflowEngine(executors: executors, store: stores[i])
        }
        let elapsed = try await withThrowingTaskGroup(of: Void.self) { group -> Duration in
            for engine in engines { group.addTask { await engine.run() } }
            defer { group.cancelAll() }
            for engine in engines { try await engine.registerWorkflow(workflow) }
            let start = ContinuousClock.now
            for r in recorders { r.origin = start }
            try await withThrowingTaskGroup(of: Void.self) { runs in
                for engine in engines {
                    runs.addTask {
                        let id = try await engine.executeWorkflow(workflow.id).id
                        let final = try await engine.waitForExecution(id)
                        guard final.status == .completed else { throw BenchmarkError(message: "cluster: execution \(final.status.rawValue)") }
                    }
                }
                try await runs.waitForAll()
            }
            return ContinuousClock.now - start
        }
        let latencies = recorders.flatMap { $0.latencies(workflow: workflow) }.sorted()
        let commits = engines.reduce(0) { $0 + $1.storeCommits }
        for store in stores { await store.close() }
        emit([
            "benchmark": "cluster-noop", "nodes": nodes, "steps": nodes * steps, "shape": "diamond",
            "stepsPerSecond": Int(Double(nodes * steps) / max(elapsed.seconds, 1e-9)),
            "commits": commits, "commitsPerStep": (Double(commits) / Double(nodes * steps) * 1000).rounded() / 1000,
            "schedulingLatencyUs": [
                "p50": EngineBenchmark.percentile(latencies, 0.5), "p99": EngineBenchmark.percentile(latencies, 0.99),
                "max": latencies.last ?? 0,
            ],
        ])
    }

    /// One node running a `diamond` execution whose no-op steps all name a queue, and `workers`
    /// workers (in this process, each with its own pool) serving it.
    static func queued(url: String, workers count: Int, steps: Int) async throws {
        var workflow = try EngineBenchmark.generate(shape: "diamond", steps: steps)
        for i in workflow.steps.indices { workflow.steps[i].queue = "bench" }
        let store = try await PostgresStore(url: url, maximumConnections: 8, role: "bench")
        let recorder = Recorder(count: steps)
        var executors = ExecutorRegistry.standard()
        executors.register(RecordingNoop(recorder: recorder), forAction: "noop")
        var workerStores: [PostgresStore] = []
        for _ in 0..<count { workerStores.append(try await PostgresStore(url: url, maximumConnections: 4, role: "worker")) }
        let workers = workerStores.map { StepWorker(queue: $0, queues: ["bench"], maxParallel: 64, executors: executors) }
        let engine = WorkflowEngine(executors: executors, store: store)
        let elapsed = try await withThrowingTaskGroup(of: Void.self) { group -> Duration in
            group.addTask { await engine.run() }
            for w in workers { group.addTask { await w.run() } }
            defer { group.cancelAll() }
            try await engine.registerWorkflow(workflow)
            let start = ContinuousClock.now
            recorder.origin = start
            let id = try await engine.executeWorkflow(workflow.id).id
            let final = try await engine.waitForExecution(id)
            guard final.status == .completed else { throw BenchmarkError(message: "cluster: queued execution \(final.status.rawValue)") }
            return ContinuousClock.now - start
        }
        let latencies = recorder.latencies(workflow: workflow).sorted()
        let commits = engine.storeCommits
        for s in workerStores + [store] { await s.close() }
        emit([
            "benchmark": "cluster-queued", "nodes": 1, "workers": count, "steps": steps, "shape": "diamond",
            "stepsPerSecond": Int(Double(steps) / max(elapsed.seconds, 1e-9)),
            "ownerCommitsPerStep": (Double(commits) / Double(steps) * 1000).rounded() / 1000,
            "schedulingLatencyUs": [
                "p50": EngineBenchmark.percentile(latencies, 0.5), "p99": EngineBenchmark.percentile(latencies, 0.99), "max": latencies.last ?? 0,
            ],
        ])
    }

    /// Two `novacron serve` nodes; the one running a long step is killed (`kill`: SIGKILL, so the
    /// other node sees its pid gone) or frozen (`stop`: SIGSTOP, so only its lease running out
    /// tells); the time until the other node starts the step's next attempt.
    static func failover(url: String, lease: String, how: String) async throws {
        let a = try Node(url: url, lease: lease), b = try Node(url: url, lease: lease)
        defer {
            for node in [a, b] {
                kill(node.process.processIdentifier, SIGKILL)
                node.process.waitUntilExit()
            }
        }
        let store = try await PostgresStore(url: url, maximumConnections: 2)
        defer { Task { await store.close() } }
        let name = "failover-\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await a.post("/api/v1/workflows", "name: \(name)\nsteps:\n  - {id: long, inputs: {command: 'sleep 60'}}\n", yaml: true)
        let started = try await a.post("/api/v1/workflows/\(name)/executions", "")
        guard let id = (try JSONSerialization.jsonObject(with: Data(started.utf8)) as? [String: Any])?["id"] as? String else {
            throw BenchmarkError(message: "cluster: no execution started: \(started)")
        }
        try await until { try await store.attempts(executionID: id, stepID: "long").first?.status == .running }
        let killed = ContinuousClock.now
        kill(a.process.processIdentifier, how == "kill" ? SIGKILL : SIGSTOP)
        try await until { try await store.attempts(executionID: id, stepID: "long").count >= 2 }
        let failover = ContinuousClock.now - killed
        emit([
            "benchmark": "cluster-failover", "owner": how == "kill" ? "SIGKILL (pid gone)" : "SIGSTOP (lease runs out)", "lease": lease,
            "failoverMs": Int(failover.seconds * 1000),
        ])
    }

    static func until(_ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while try await !condition() {
            guard ContinuousClock.now < deadline else { throw BenchmarkError(message: "cluster: timed out") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// A `novacron serve` process beside this benchmark, on a free port.
    final class Node: Sendable {
        let process: Process
        let base: String

        init(url: String, lease: String) throws {
            let binary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
                .appendingPathComponent("novacron")
            let process = Process()
            process.executableURL = binary
            process.arguments = ["serve", "--port", "0", "--database-url", url, "--lease-duration", lease]
            var environment = ProcessInfo.processInfo.environment
            environment["NOVACRON_API_TOKENS"] = "admin:bench-token"
            process.environment = environment
            let out = Pipe()
            process.standardOutput = out
            process.standardError = out
            try process.run()
            var seen = ""
            while !(seen.contains("listening on 127.0.0.1:") && seen.hasSuffix("\n")) {
                let chunk = out.fileHandleForReading.availableData
                guard !chunk.isEmpty else { throw BenchmarkError(message: "cluster: novacron serve did not start: \(seen)") }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            let port = seen.components(separatedBy: "listening on 127.0.0.1:").last?.prefix { $0.isNumber } ?? ""
            self.process = process
            base = "http://127.0.0.1:\(port)"
            // Keep reading, so the node never blocks on a full pipe.
            Thread.detachNewThread { _ = out.fileHandleForReading.readDataToEndOfFile() }
        }

        func post(_ path: String, _ body: String, yaml: Bool = false) async throws -> String {
            var request = HTTPClientRequest(url: base + path)
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer bench-token")
            request.headers.add(name: "Content-Type", value: yaml ? "application/yaml" : "application/json")
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return String(buffer: bytes)
        }
    }
}
