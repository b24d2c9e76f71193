import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting

/// `novacron-bench triggers [--events 100000] [--publishers 64] [--deliveries 2000]`:
/// - events/s through the bus on a durable SQLite store (every event committed before `publish`
///   returns; `--publishers` tasks publish at once);
/// - webhook latency: a signed GitHub delivery POSTed to `novacron serve` (in this process, on
///   127.0.0.1) until the workflow's first step starts, one delivery at a time; p50/p99.
enum TriggerBenchmark {
    static func run(_ arguments: [String]) async throws {
        let events = Int(option("events", in: arguments) ?? "") ?? 100_000
        let publishers = Int(option("publishers", in: arguments) ?? "") ?? 64
        let deliveries = Int(option("deliveries", in: arguments) ?? "") ?? 2_000
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await busThroughput(path: folder.appendingPathComponent("bus.db").path, events: events, publishers: publishers)
        try await webhookLatency(path: folder.appendingPathComponent("hook.db").path, deliveries: deliveries)
    }

    static func busThroughput(path: String, events: Int, publishers: Int) async throws {
        let store = try SQLiteStore(path: path)
        let bus = EventBus(store: store)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await bus.run() }
            try await withThrowingTaskGroup(of: Void.self) { publishing in
                for p in 0..<publishers {
                    publishing.addTask {
                        var i = p
                        while i < events {
                            try await bus.publish("bench.event", data: ["n": .number(Double(i))])
                            i += publishers
                        }
                    }
                }
                try await publishing.waitForAll()
            }
            group.cancelAll()
        }
        let elapsed = ContinuousClock.now - start
        let saved = try await store.lastEventSeq()
        guard saved == Int64(events) else { throw BenchmarkError(message: "saved \(saved) events, expected \(events)") }
        let seconds = elapsed.seconds
        print(
            #"{"benchmark":"bus","events":\#(events),"publishers":\#(publishers),"seconds":\#(String(format: "%.3f", seconds)),"eventsPerSecond":\#(Int(Double(events) / seconds))}"#
        )
    }

    static func webhookLatency(path: String, deliveries: Int) async throws {
        var executors = ExecutorRegistry()
        let executor = ScriptedExecutor()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let store = try SQLiteStore(path: path)
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:], values: ["HOOK": "bench-secret"]), store: store)
        try await engine.registerWorkflow(
            try WorkflowLoader.load(
                source: """
                    name: hooked
                    triggers:
                      - {id: push, type: webhook, source: github, secret: "${secrets.HOOK}", conditions: {branch: main}}
                    steps:
                      - {id: first, timeout: 1m}
                    """, file: "bench.yaml"))
        let port = 20_000 + Int.random(in: 0..<20_000)
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: port))
        var latencies: [Double] = []  // microseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            let client = HTTPClient.shared
            // Until the server answers.
            var up = false
            while !up {
                up = (try? await client.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/readyz"), timeout: .seconds(1)).status) == .ok
                if !up { await Task.yield() }
            }
            for i in 0..<(deliveries + 100) {
                let body = #"{"ref": "refs/heads/main", "after": "c\#(i)"}"#
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/api/v1/webhooks/github")
                request.method = .POST
                request.headers.add(
                    name: "X-Hub-Signature-256", value: "sha256=" + Hex.encode(Webhook.signature(Array(body.utf8), secret: "bench-secret")))
                request.headers.add(name: "X-GitHub-Event", value: "push")
                request.headers.add(name: "X-GitHub-Delivery", value: "bench-\(i)")
                request.body = .bytes(ByteBuffer(string: body))
                let started = i + 1
                let sent = ContinuousClock.now
                let response = try await client.execute(request, timeout: .seconds(10))
                guard response.status == .accepted else { throw BenchmarkError(message: "delivery \(i): HTTP \(response.status.code)") }
                _ = try await response.body.collect(upTo: 1 << 20)
                await executor.waitForStarts(started)
                let latency = ContinuousClock.now - sent
                // The first hundred warm the connection and the caches.
                if i >= 100 { latencies.append(latency.seconds * 1e6) }
            }
            group.cancelAll()
        }
        latencies.sort()
        let p50 = Int(EngineBenchmark.percentile(latencies, 0.50)), p99 = Int(EngineBenchmark.percentile(latencies, 0.99))
        print(
            #"{"benchmark":"webhook-to-first-step","deliveries":\#(deliveries),"p50Us":\#(p50),"p99Us":\#(p99),"maxUs":\#(Int(latencies.last ?? 0))}"#
        )
    }
}
