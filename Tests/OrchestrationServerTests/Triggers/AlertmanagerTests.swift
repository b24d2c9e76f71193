import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import NIOHTTP1
import Synchronization
import TestSupport
import Testing

/// A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`, which scripts/test
/// installs) whose one receiver is the server under test.
final class AlertmanagerServer: Sendable {
    let process: Process
    let url: String
    let folder: String

    init(webhook: String, token: String) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-am-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/data", withIntermediateDirectories: true)
        try """
        route:
          receiver: novacron
          group_by: [alertname]
          group_wait: 0s
          group_interval: 1s
          repeat_interval: 1h
        receivers:
          - name: novacron
            webhook_configs:
              - url: \(webhook)
                send_resolved: true
                http_config:
                  authorization: {type: Bearer, credentials: \(token)}
        """.write(toFile: folder + "/alertmanager.yml", atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "prometheus-alertmanager", "--config.file=\(folder)/alertmanager.yml", "--storage.path=\(folder)/data",
            "--web.listen-address=127.0.0.1:0", "--cluster.listen-address=",
        ]
        let log = Pipe()
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = log
        try process.run()
        // Ready once it logs that it listens; the rest of its log is read and dropped so it never blocks.
        let seen = Mutex<(text: String, waiter: CheckedContinuation<Bool, Never>?, done: Bool)>(("", nil, false))
        let settle: @Sendable (Bool) -> Void = { ready in
            let waiter = seen.withLock { s -> CheckedContinuation<Bool, Never>? in
                guard !s.done else { return nil }
                s.done = true
                defer { s.waiter = nil }
                return s.waiter
            }
            waiter?.resume(returning: ready)
        }
        log.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                settle(false)
                return
            }
            let listening = seen.withLock { s -> Bool in
                guard !s.done else { return false }
                s.text += String(decoding: data, as: UTF8.self)
                return ListeningPort.from(s.text, after: Self.listening) != nil
            }
            if listening { settle(true) }
        }
        let ready = await withCheckedContinuation { continuation in
            let already = seen.withLock { s -> Bool? in
                if s.done { return ListeningPort.from(s.text, after: Self.listening) != nil }
                s.waiter = continuation
                return nil
            }
            if let already { continuation.resume(returning: already) }
        }
        guard ready, let port = ListeningPort.from(seen.withLock({ $0.text }), after: Self.listening) else {
            throw AlertmanagerFailed(message: "prometheus-alertmanager exited before listening: \(seen.withLock { $0.text })")
        }
        // Bound to port 0, it logs the port it got.
        url = "http://127.0.0.1:\(port)"
    }

    static let listening = #"msg="Listening on" address=127.0.0.1:"#

    struct AlertmanagerFailed: Error { var message: String }

    /// Posts alerts to Alertmanager's v2 API.
    func post(_ alerts: String) async throws {
        var request = HTTPClientRequest(url: url + "/api/v2/alerts")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: alerts))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        guard response.status == .ok else { throw AlertmanagerFailed(message: "Alertmanager answered \(response.status)") }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

@Suite("Incident triggers against a real Alertmanager", .serialized)
struct AlertmanagerTests {
    @Test(
        "a critical api-server alert starts the response once; other alerts start nothing; its resolution starts the follow-up",
        .timeLimit(.minutes(2)))
    func alerts() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:], values: ["AM_TOKEN": "am-token"]))
        for document in [
            """
            name: respond
            triggers:
              - {id: alert, type: incident, source: alertmanager, secret: "${secrets.AM_TOKEN}", conditions: {severity: [critical, high], service: api-server}}
            steps:
              - {id: page, timeout: 1m}
            """,
            """
            name: follow-up
            triggers:
              - {id: resolved, type: incident, source: alertmanager, secret: "${secrets.AM_TOKEN}", event: incident.resolved, conditions: {service: api-server}}
            steps:
              - {id: postmortem, timeout: 1m}
            """,
        ] { try await engine.registerWorkflow(try workflowDocument(document)) }
        let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0))
        try await app.test(.live) { client in
            let events = engine.events()
            var iterator = events.makeAsyncIterator()
            func nextStart() async -> (id: String, workflow: String)? {
                while let event = await iterator.next() {
                    if case .executionStarted(let id, let workflow, _) = event { return (id, workflow) }
                }
                return nil
            }
            let alertmanager = try await AlertmanagerServer(
                webhook: "http://127.0.0.1:\(try #require(client.port))/api/v1/webhooks/alertmanager", token: "am-token")
            defer { alertmanager.stop() }
            let start = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
            func alert(severity: String, service: String, endsAt: String? = nil) -> String {
                let end = endsAt.map { #", "endsAt": "\#($0)""# } ?? ""
                return
                    #"{"labels": {"alertname": "HighErrorRate", "severity": "\#(severity)", "service": "\#(service)"}, "annotations": {"summary": "errors on \#(service)"}, "startsAt": "\#(start)"\#(end), "generatorURL": "http://127.0.0.1:9090/graph"}"#
            }
            try await alertmanager.post(
                "[\(alert(severity: "critical", service: "api-server")), \(alert(severity: "warning", service: "api-server")), \(alert(severity: "critical", service: "web"))]"
            )
            let first = try #require(await nextStart())
            #expect(first.workflow == "respond")
            let response = try await engine.getExecution(first.id)
            #expect(response.inputs["severity"] == "critical")
            #expect(response.inputs["service"] == "api-server")
            #expect(response.inputs["title"] == "errors on api-server")
            #expect(response.inputs["triggered_by"] == "alertmanager")
            let incident = try #require(response.inputs["incident_id"]?.text)

            // Resolving it: Alertmanager sends the group again, this alert now resolved.
            let now = ISO8601DateFormatter().string(from: Date())
            try await alertmanager.post("[\(alert(severity: "critical", service: "api-server", endsAt: now))]")
            let second = try #require(await nextStart())
            #expect(second.workflow == "follow-up")
            #expect(try await engine.getExecution(second.id).inputs["incident_id"]?.text == incident)
            // The notifications carried the warning and the web alert too: neither started anything, and
            // nothing started the response a second time.
            #expect(await engine.listExecutions(workflowID: "respond", limit: 10).count == 1)
            #expect(await engine.listExecutions(workflowID: "follow-up", limit: 10).count == 1)
        }
    }
}
