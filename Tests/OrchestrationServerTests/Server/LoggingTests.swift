import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// Log lines kept in memory, for tests.
final class CapturedLog: Sendable {
    let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])

    var logger: Logger {
        let capture = self
        return Logger(label: "test", factory: { _ in CapturingHandler(log: capture) })
    }

    struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .info
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt)
        {
            log.lines.withLock { $0.append((level, message.description, self.metadata.merging(metadata ?? [:]) { $1 })) }
        }
    }
}

@Suite("Logging")
struct LoggingTests {
    @Test("an execution's and its steps' lifecycle are logged with execution, workflow, step and attempt; a failed step at error")
    func lifecycle() async throws {
        let log = CapturedLog()
        let executor = ScriptedExecutor()
        executor.script("b", [.failure("connection reset"), .success()])
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        let clock = ManualClock()
        try await WorkflowEngine.withEngine(executors: executors, configuration: EngineConfiguration(logger: log.logger), clock: clock) { engine in
            try await engine.registerWorkflow(
                try WorkflowLoader.load(
                    source: """
                        name: logged
                        steps:
                          - {id: a, inputs: {command: x}}
                          - {id: b, dependencies: [a], inputs: {command: x}, retryPolicy: {maxAttempts: 2, initialDelay: 1s, jitter: none}}
                        """, file: "logged.yaml"
                ).workflow)
            let started = try await engine.executeWorkflow("logged")
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(1))
            let done = try await engine.waitForExecution(started.id)
            #expect(done.status == .completed)
            let lines = log.lines.withLock { $0 }
            let mine = lines.filter { $0.metadata["execution"]?.description == started.id }
            #expect(
                mine.map(\.message) == [
                    "execution started", "step started", "step success", "step started", "step retrying", "step started", "step success",
                    "execution completed",
                ])
            let retry = try #require(mine.first { $0.message == "step retrying" })
            #expect(
                retry.level == .warning && retry.metadata["step"] == "b" && retry.metadata["attempt"] == "2"
                    && retry.metadata["error"] == "connection reset")
            #expect(mine.first?.metadata["workflow"] == "logged")
        }
    }

    @Test("the text and JSON formats: one line per event, values quoted where needed, secrets redacted even where nothing else redacted them")
    func formats() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-log-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let text = try LogSettings(level: .info, format: .text, file: file).makeLogger(secrets: ["hunter2"])
        text.info("deploy failed", metadata: ["execution": "e1", "error": "auth with hunter2 refused"])
        text.debug("not shown")
        let json = try LogSettings(level: .debug, format: .json, file: file).makeLogger(secrets: ["hunter2"])
        json.debug("token hunter2 seen", metadata: ["step": "s"])
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix(#" info deploy failed error="auth with *** refused" execution=e1"#), "\(lines[0])")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: String])
        #expect(object["level"] == "debug" && object["message"] == "token *** seen" && object["step"] == "s" && object["time"] != nil)
        #expect(!lines.joined().contains("hunter2"))
        // No value forges a line or sends a terminal escape.
        let forged = try LogSettings(level: .info, format: .text, file: file).makeLogger()
        forged.warning("refused\nfake line", metadata: ["reason": "a\r\u{1B}[31mred\tb"])
        let last = try #require(try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").last)
        #expect(last.hasSuffix(#"warning refused\nfake line reason="a\r\u001b[31mred\tb""#), "\(last)")
        #expect(throws: EngineError.self) { try LogSettings.resolve(level: "loud", format: nil, file: nil, defaultLevel: .info) }
        #expect(throws: EngineError.self) { try LogSettings.resolve(level: nil, format: "xml", file: nil, defaultLevel: .info) }
    }

    @Test("serve's logging settings come from flags, NOVACRON_LOG_* or the settings file")
    func settings() async throws {
        let fromEnvironment = try await ServeSettings.resolve(
            flags: [:], environment: ["NOVACRON_LOG_LEVEL": "debug", "NOVACRON_LOG_FORMAT": "json"], configFile: nil)
        #expect(fromEnvironment.log == LogSettings(level: .debug, format: .json))
        let flagWins = try await ServeSettings.resolve(flags: [.logLevel: "error"], environment: ["NOVACRON_LOG_LEVEL": "debug"], configFile: nil)
        #expect(flagWins.log.level == .error)
        #expect(try await ServeSettings.resolve(flags: [:], environment: [:], configFile: nil).log == LogSettings(level: .info, format: .text))
    }

    @Test("a refused webhook delivery is logged with its source, status and reason, never its signature")
    func webhookRefusal() async throws {
        let log = CapturedLog()
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let engine = WorkflowEngine(
            executors: executors, configuration: EngineConfiguration(logger: log.logger),
            secrets: SecretProvider(environment: [:], values: ["HOOK": "s3cret"]))
        try await engine.registerWorkflow(
            try WorkflowLoader.load(
                source: """
                    name: hooked
                    triggers:
                      - {id: push, type: webhook, source: github, secret: "${secrets.HOOK}"}
                    steps:
                      - {id: a, inputs: {command: x}}
                    """, file: "hooked.yaml"
            ).workflow)
        let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0))
        try await app.test(.router) { client in
            try await client.execute(
                uri: "/api/v1/webhooks/github", method: .post,
                headers: [
                    .contentType: "application/json", HTTPField.Name("X-Hub-Signature-256")!: "sha256=deadbeef",
                    HTTPField.Name("X-GitHub-Delivery")!: "d1",
                ],
                body: ByteBuffer(string: #"{"ref": "refs/heads/main"}"#)
            ) { #expect($0.status == .unauthorized) }
        }
        let refused = try #require(log.lines.withLock { $0 }.first { $0.message == "webhook delivery refused" })
        #expect(refused.level == .warning && refused.metadata["source"] == "github" && refused.metadata["status"] == "401")
        #expect(!"\(refused.metadata)".contains("deadbeef") && !"\(refused.metadata)".contains("s3cret"))
    }
}
