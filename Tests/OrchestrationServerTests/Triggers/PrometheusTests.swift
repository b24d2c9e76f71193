import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// A real Prometheus (Debian's `prometheus`, which scripts/test installs) scraping a metric this
/// test controls, every second.
final class PrometheusServer: Sendable {
    let process: Process
    let url: String
    let folder: String

    private init(process: Process, url: String, folder: String) {
        self.process = process
        self.url = url
        self.folder = folder
    }

    /// Starts Prometheus on port 0; returns once it logs the port it got.
    static func start(scraping target: String) async throws -> PrometheusServer {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        try """
        global: {scrape_interval: 1s, evaluation_interval: 1s}
        scrape_configs:
          - job_name: test
            static_configs: [{targets: ["\(target)"]}]
        """.write(toFile: folder + "/prometheus.yml", atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "prometheus", "--config.file=\(folder)/prometheus.yml", "--storage.tsdb.path=\(folder)/data", "--web.listen-address=127.0.0.1:0",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        let log = Pipe()
        process.standardError = log
        let seen = Mutex<(text: String, continuation: CheckedContinuation<Int, any Error>?)>(("", nil))
        let port = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            seen.withLock { $0.continuation = continuation }
            log.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { handle.readabilityHandler = nil }
                seen.withLock { state in
                    guard let waiting = state.continuation else { return }  // ready: the rest is read and dropped
                    if data.isEmpty {
                        waiting.resume(
                            throwing: CocoaError(
                                .fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "prometheus exited before listening:\n\(state.text)"]))
                        state.continuation = nil
                        return
                    }
                    state.text += String(decoding: data, as: UTF8.self)
                    if let port = ListeningPort.from(state.text, after: #"msg="Listening on" address=127.0.0.1:"#) {
                        waiting.resume(returning: port)
                        state.continuation = nil
                    }
                }
            }
            do { try process.run() } catch {
                seen.withLock { $0.continuation = nil }
                continuation.resume(throwing: error)
            }
        }
        return PrometheusServer(process: process, url: "http://127.0.0.1:\(port)", folder: folder)
    }

    func stop() {
        // SIGKILL: children of Foundation's Process here have SIGTERM blocked.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

@Suite("Metric triggers against a real Prometheus", .serialized)
struct PrometheusTests {
    @Test("a query above its threshold for 2 s fires once per breach; a Prometheus that is down shows on the status", .timeLimit(.minutes(2)))
    func breach() async throws {
        let depth = Mutex<Int>(50)
        try await TestHTTPServer.with({ _, _ in
            .init(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4")], body: "novacron_test_queue_depth \(depth.withLock { $0 })\n")
        }) { exporter in
            let prometheus = try await PrometheusServer.start(scraping: "127.0.0.1:\(exporter.port)")
            defer { prometheus.stop() }
            let reserved = try ListeningPort.Reserved()
            defer { withExtendedLifetime(reserved) {} }
            let down = reserved.port
            var executors = ExecutorRegistry()
            for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
            let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]))
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: drain-queue
                    triggers:
                      - id: deep-queue
                        type: metric
                        source: prometheus
                        conditions: {query: "max(novacron_test_queue_depth)", operator: ">", threshold: 10, duration: 2s, interval: 250ms}
                        inputs: {depth: "${trigger.value}"}
                      - id: elsewhere
                        type: metric
                        source: prometheus
                        conditions: {metric: up, operator: "<", threshold: 1, url: "http://127.0.0.1:\(down)", interval: 250ms}
                    steps:
                      - {id: scale-up, timeout: 1m}
                    """))
            let app = try await buildApplication(
                // The test's one connection waits on scrapes before and between requests: longer than
                // the default idle and header timeouts when the machine is busy.
                engine: engine, store: nil,
                configuration: {
                    var c = ServerConfiguration(port: 0, prometheusURL: prometheus.url, idleTimeout: .seconds(600))
                    c.headerTimeout = .seconds(600)
                    return c
                }())
            try await app.test(.live) { client in
                let events = engine.events()
                var starts = 0
                var iterator = events.makeAsyncIterator()
                func nextStart() async -> String? {
                    while let event = await iterator.next() {
                        if case .executionStarted(let id, _, _) = event {
                            starts += 1
                            return id
                        }
                    }
                    return nil
                }
                // The exporter reports 50 from the start: once Prometheus has it and it has held 2 s, one execution.
                let first = try #require(await nextStart())
                #expect(try await engine.getExecution(first).inputs["depth"] == .number(50))
                // Still high for several more scrapes: the same breach does not fire again.
                let scraped = exporter.requests.count
                await exporter.waitForRequests(scraped + 3)
                #expect(await engine.listExecutions(workflowID: "drain-queue", limit: 10).count == 1)
                // It clears (Prometheus scrapes the low value for 3 s while the trigger polls every 250 ms)…
                depth.withLock { $0 = 2 }
                await exporter.waitForRequests(exporter.requests.count + 4)
                // …and a new breach fires again.
                depth.withLock { $0 = 70 }
                let second = try #require(await nextStart())
                #expect(try await engine.getExecution(second).inputs["depth"] == .number(70))
                #expect(await engine.listExecutions(workflowID: "drain-queue", limit: 10).count == 2)
                // The trigger pointed at a port where nothing listens says so on its status.
                let status = try await client.execute(uri: "/api/v1/workflows/drain-queue/triggers", method: .get) { String(buffer: $0.body) }
                #expect(status.contains("cannot read Prometheus at http://127.0.0.1:\(down)"), "\(status)")
                #expect(status.contains(#""fireCount":2"#))
            }
        }
    }
}
