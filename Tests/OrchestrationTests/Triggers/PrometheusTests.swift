import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import Synchronization
import Testing

/// A real Prometheus (Debian's `prometheus`, which scripts/test installs) scraping a metric this
/// test controls, every second.
final class PrometheusServer: Sendable {
    let process: Process
    let url: String
    let folder: String

    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    init(scraping target: String) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-prom-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        try """
            global: {scrape_interval: 1s, evaluation_interval: 1s}
            scrape_configs:
              - job_name: test
                static_configs: [{targets: ["\(target)"]}]
            """.write(toFile: folder + "/prometheus.yml", atomically: true, encoding: .utf8)
        let port = try Self.freePort()
        url = "http://127.0.0.1:\(port)"
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["prometheus", "--config.file=\(folder)/prometheus.yml", "--storage.tsdb.path=\(folder)/data", "--web.listen-address=127.0.0.1:\(port)"]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
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
            let prometheus = try PrometheusServer(scraping: "127.0.0.1:\(exporter.port)")
            defer { prometheus.stop() }
            let down = try PrometheusServer.freePort()
            var executors = ExecutorRegistry()
            for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
            let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]))
            try await engine.registerWorkflow(try workflowDocument("""
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
            let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0, prometheusURL: prometheus.url))
            try await app.test(.live) { client in
                let events = engine.events()
                var starts = 0
                var iterator = events.makeAsyncIterator()
                func nextStart() async -> String? {
                    while let event = await iterator.next() {
                        if case .executionStarted(let id, _, _) = event { starts += 1; return id }
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
