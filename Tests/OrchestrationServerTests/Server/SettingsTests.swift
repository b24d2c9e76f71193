import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Server settings and readiness")
struct SettingsTests {
    func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-settings-\(UUID().uuidString).yaml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("flags beat the environment, the environment beats the file, the file beats the defaults")
    func precedence() async throws {
        let path = try file("host: 0.0.0.0\nport: 9000\ndrainGrace: 45s\nmaxParallel: 8\ndb: /var/file.db\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let s = try await ServeSettings.resolve(
            flags: [.port: "9002"],
            environment: ["NOVACRON_PORT": "9001", "NOVACRON_DRAIN_GRACE": "2m", "PORT": "1", "NOVACRON_DB": "/var/env.db"],
            configFile: path)
        #expect(s.port == 9002)
        #expect(s.drainGrace == .seconds(120))
        #expect(s.db == "/var/env.db")
        #expect(s.host == "0.0.0.0")
        #expect(s.maxParallel == 8)
        #expect(s.durability == .processCrash)
        let defaults = try await ServeSettings.resolve(flags: [:], environment: [:], configFile: nil)
        #expect(defaults == ServeSettings())
        #expect(defaults.port == 8080 && defaults.drainGrace == .seconds(30))
        // NOVACRON_CONFIG names the file when no flag does.
        let viaEnv = try await ServeSettings.resolve(flags: [:], environment: ["NOVACRON_CONFIG": path], configFile: nil)
        #expect(viaEnv.port == 9000)
    }

    @Test("the store is chosen by the first source that names one: a --database-url flag beats NOVACRON_DB, the environment beats the file")
    func storeChoice() async throws {
        let path = try file("databaseURL: postgres://file@db/novacron\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let flag = try await ServeSettings.resolve(
            flags: [.databaseURL: "postgres://flag@db/novacron"], environment: ["NOVACRON_DB": "/var/env.db"], configFile: path)
        #expect(flag.databaseURL == "postgres://flag@db/novacron" && flag.db == nil)
        let env = try await ServeSettings.resolve(flags: [:], environment: ["NOVACRON_DB": "/var/env.db"], configFile: path)
        #expect(env.db == "/var/env.db" && env.databaseURL == nil)
        let envURL = try await ServeSettings.resolve(flags: [:], environment: ["NOVACRON_DATABASE_URL": "postgres://env@db/n"], configFile: nil)
        #expect(envURL.databaseURL == "postgres://env@db/n")
        let file = try await ServeSettings.resolve(flags: [:], environment: [:], configFile: path)
        #expect(file.databaseURL == "postgres://file@db/novacron")
        await #expect(throws: EngineError.self) {
            try await ServeSettings.resolve(flags: [.db: "/x.db", .databaseURL: "postgres://a@b/c"], environment: [:], configFile: nil)
        }
    }

    @Test("retention: an age from the file or NOVACRON_RETENTION, none by default or with 'none'")
    func retention() async throws {
        let path = try file("retention: 30d\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try await ServeSettings.resolve(flags: [:], environment: [:], configFile: path).retention == .seconds(30 * 86_400))
        #expect(try await ServeSettings.resolve(flags: [:], environment: ["NOVACRON_RETENTION": "none"], configFile: path).retention == nil)
        #expect(try await ServeSettings.resolve(flags: [:], environment: [:], configFile: nil).retention == nil)
        let configuration = try await ServeSettings.resolve(flags: [.retention: "2h"], environment: [:], configFile: nil).serverConfiguration(
            tokens: APITokens())
        #expect(configuration.retention == Retention(age: .seconds(7200)))
        // A pass every twelfth of the age, at most an hour apart: a 2h store holds at most 2h10m.
        #expect(configuration.retention?.interval == .seconds(600))
        #expect(Retention(age: .seconds(3600)).interval == .seconds(300))
        #expect(Retention(age: .seconds(30 * 86_400)).interval == .seconds(3600))
    }

    @Test(
        "bad settings say where and what",
        arguments: [
            ("port: 9000\nhots: x\n", [:], ":2:1: unknown setting 'hots'; did you mean 'host'?"),
            ("drainGrace: soon\n", [:], "drainGrace: "),
            ("port: 1\n", ["NOVACRON_PORT": "eighty"], "port: 'eighty' is not a whole number from 0 to 65535"),
            ("maxParallel: [1, 2]\n", [:], ":1:14: maxParallel must be a single value"),
            ("- port\n", [:], "must be a mapping"),
            ("db: x.db\nmemory: true\n", [:], "db and memory exclude each other"),
            ("retention: 10m\n", [:], "retention: '10m' is shorter than 1h"),
            ("retention: forever\n", [:], "retention: "),
        ] as [(String, [String: String], String)])
    func errors(text: String, environment: [String: String], expected: String) async throws {
        let path = try file(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let error = await #expect(throws: EngineError.self) {
            try await ServeSettings.resolve(flags: [:], environment: environment, configFile: path)
        }
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test("/readyz answers 200 once recovery is done, and 503 with a problem document while draining")
    func readiness() async throws {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(ScriptedExecutor(), for: type) }
        let engine = WorkflowEngine(executors: executors, secrets: SecretProvider(environment: [:]))
        let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0))
        try await app.test(.router) { client in
            // Recovery runs beside the server; until it is done /readyz answers 503 (bounded: it is fast).
            var status = HTTPResponse.Status.serviceUnavailable
            for _ in 0..<10_000 where status != .ok {
                status = try await client.execute(uri: "/readyz", method: .get) { $0.status }
                if status != .ok { await Task.yield() }
            }
            #expect(status == .ok)
            await engine.drain(grace: .zero)
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType] == "application/problem+json")
                #expect(String(buffer: response.body).contains("shutting down"))
            }
            try await client.execute(uri: "/healthz", method: .get) { #expect($0.status == .ok) }
        }
    }
}
