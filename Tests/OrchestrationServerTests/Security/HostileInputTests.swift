import Foundation
import HummingbirdTesting
import Orchestration
import OrchestrationExecutors
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

/// Bodies an attacker sends to a live server: numbers that trap, alias bombs, oversized and
/// broken bodies, half requests. The server answers each with a 4xx and keeps serving.
@Suite("Hostile request bodies and clients", .serialized)
struct HostileInputTests {
    static func register(_ port: Int, _ yaml: String) async throws -> (status: Int, text: String) {
        try await RawHTTP.request(port: port, method: "POST", path: "/api/v1/workflows", headers: ["Content-Type": "application/yaml"], body: yaml)
    }

    @Test(
        "infinite, huge and NaN numbers in a definition are located 422s, and the server keeps answering",
        arguments: [
            ("timeout: .inf", "timeout"), ("timeout: 1e400", "timeout"), ("timeout: 1e21", "timeout"), ("timeout: -5", "timeout"),
            ("variables: {big: 1e400}", "variables.big"), ("variables: {n: .nan}", "variables.n"), ("maxParallelism: 1e21", "maxParallelism"),
            ("retryPolicy: {maxAttempts: 2, initialDelay: .inf}", "retryPolicy.initialDelay"),
        ])
    func numbers(field: String, path: String) async throws {
        try await withLiveServer { port, _ in
            let (status, text) = try await Self.register(port, "name: n\n\(field)\nsteps:\n  - {id: s, inputs: {command: x}}\n")
            #expect(status == 422, "\(field): \(status) \(text.suffix(300))")
            #expect(text.contains(#""path":"\#(path)"#), "\(text.suffix(400))")
            #expect(text.contains(#""line":2"#))
            let answer1 = try await RawHTTP.request(port: port, method: "GET", path: "/healthz").status
            #expect(answer1 == 200)
        }
    }

    static let waits = """
        name: waits
        variables: {pause: 1ms}
        steps:
          - {id: first, type: task, inputs: {command: x}}
          - {id: w, type: wait, dependencies: [first], inputs: {duration: "${pause}"}}
        """

    static func executors(_ scripted: ScriptedExecutor) -> ExecutorRegistry {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(scripted, for: type) }
        executors.register(WaitExecutor(), for: .wait)
        return executors
    }

    @Test(
        "a wait of \"nan\" (or inf, or 1e400 s) given at run time fails its step with the reason instead of killing the server",
        arguments: ["nan", "inf", "1e400", "-1", "1e21"])
    func runTimeDuration(pause: String) async throws {
        try await withLiveServer(executors: Self.executors(ScriptedExecutor())) { port, engine in
            let registered = try await Self.register(port, Self.waits).status
            #expect(registered == 201)
            let (status, text) = try await RawHTTP.request(
                port: port, method: "POST", path: "/api/v1/workflows/waits/executions", headers: ["Content-Type": "application/json"],
                body: #"{"inputs": {"pause": "\#(pause)"}}"#)
            #expect(status == 201, "\(text.suffix(300))")
            let id = try #require(text.firstMatch(of: /"id":"([^"]+)"/)?.1)
            let execution = try await engine.waitForExecution(String(id))
            #expect(execution.status == .failed)
            #expect(execution.stepResults["w"]?.error?.contains("is not a duration") == true, "\(execution.stepResults["w"]?.error ?? "")")
            let answer2 = try await RawHTTP.request(port: port, method: "GET", path: "/healthz").status
            #expect(answer2 == 200)
        }
    }

    @Test("after a crash, an execution whose wait is \"nan\" fails with the reason and the other executions carry on")
    func poisonedRecovery() async throws {
        let path = temporaryDatabasePath()
        let first = ScriptedExecutor()
        // (The scripted executor holds one attempt per step id, so the two executions use two workflows.)
        first.hold("first")
        first.hold("begin")
        let steady = Self.waits.replacingOccurrences(of: "name: waits", with: "name: steady").replacingOccurrences(of: "first", with: "begin")
        let crashable = CrashableStore(try SQLiteStore(path: path))
        let (poisoned, healthy) = try await WorkflowEngine.withEngine(
            executors: Self.executors(first), secrets: SecretProvider(environment: [:]), store: crashable
        ) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.waits))
            try await engine.registerWorkflow(try workflowDocument(steady))
            let poisoned = try await engine.executeWorkflow("waits", inputs: ["pause": "nan"])
            let healthy = try await engine.executeWorkflow("steady", inputs: ["pause": "1ms"])
            await first.waitForStarts(2)
            crashable.crash()  // the process dies here: nothing more reaches the store
            return (poisoned.id, healthy.id)
        }
        // A new process on the same store carries on what the first one left.
        let (bad, good) = try await WorkflowEngine.withEngine(
            executors: Self.executors(ScriptedExecutor()), secrets: SecretProvider(environment: [:]), store: try SQLiteStore(path: path)
        ) { engine in
            try await engine.restoreWorkflows()
            let carried = try await engine.recover()
            #expect(Set(carried.map(\.id)) == [poisoned, healthy])
            return (try await engine.waitForExecution(poisoned), try await engine.waitForExecution(healthy))
        }
        #expect(bad.status == .failed)
        #expect(bad.stepResults["w"]?.error?.contains("'nan' is not a duration") == true)
        #expect(good.status == .completed)
    }

    @Test("a body over the limit (maxDefinitionBytes) is 413 with no internal error names; an alias bomb is refused at once")
    func sizes() async throws {
        try await withLiveServer(configure: { $0.maxDefinitionBytes = 256 * 1024 }) { port, _ in
            let big = String(repeating: "# padding\n", count: 30_000)
            let (status, text) = try await Self.register(port, big)
            #expect(status == 413)
            #expect(
                text.contains("the definition is larger than 262144 bytes (256 KiB), this server's limit (maxDefinitionBytes)"), "\(text.suffix(300))"
            )
            #expect(!text.contains("NIO") && !text.contains("Error"), "\(text.suffix(300))")
            var bomb = "name: bomb\nvariables:\n  a: &a [x,x,x,x,x,x,x,x,x]\n"
            for (prev, name) in zip("abcdefgh", "bcdefghi") {
                bomb += "  \(name): &\(name) [*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev),*\(prev)]\n"
            }
            bomb += "steps:\n  - {id: s, inputs: {command: x}}\n"
            let started = ContinuousClock.now
            let answer = try await Self.register(port, bomb)
            #expect(answer.status == 422)
            #expect(answer.text.contains("through its aliases"))
            // Four at once do not stall the health check.
            let bombText = bomb
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<4 { group.addTask { try await Self.register(port, bombText).status } }
                for try await s in group { #expect(s == 422) }
            }
            let answer3 = try await RawHTTP.request(port: port, method: "GET", path: "/healthz").status
            #expect(answer3 == 200)
            _ = started
        }
    }

    @Test("invalid UTF-8 is refused, not stored lossily; the id 'executions' is reserved and a saved one can still be deleted")
    func namesAndIDs() async throws {
        try await withLiveServer { port, engine in
            let client = try RawHTTP(port: port)
            let body: [UInt8] = Array("name: caf".utf8) + [0xC3, 0x28] + Array("\nsteps:\n  - {id: s, inputs: {command: x}}\n".utf8)
            try await client.send(
                "POST /api/v1/workflows HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/yaml\r\nContent-Length: \(body.count)\r\n\r\n"
            )
            try await client.send(body)
            let (status, text) = try await client.head()
            #expect(status == 400, "\(text)")
            #expect(await engine.registeredWorkflows().isEmpty)
            let (reserved, why) = try await Self.register(port, "name: executions\nsteps:\n  - {id: s, inputs: {command: x}}\n")
            #expect(reserved == 422)
            #expect(why.contains("reserved"))
            // One saved before the reservation: readable and deletable at its own path.
            try await engine.registerWorkflow(try workflowDocument("name: executions\nsteps:\n  - {id: s, inputs: {command: x}}\n"))
            let answer4 = try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/workflows/executions").status
            #expect(answer4 == 200)
            let answer5 = try await RawHTTP.request(port: port, method: "DELETE", path: "/api/v1/workflows/executions").status
            #expect(answer5 == 204)
            #expect(await engine.workflow("executions") == nil)
        }
    }

    @Test(
        "200 clients dripping a request head a byte at a time are each closed at the header timeout, though never idle for long; /healthz answers meanwhile"
    )
    func slowDrip() async throws {
        try await withLiveServer(configure: {
            $0.headerTimeout = .seconds(1)
            $0.idleTimeout = .seconds(120)
        }) { port, _ in
            var clients: [RawHTTP] = []
            for _ in 0..<200 {
                // A read that waits longer than this fails the test: only the header timeout closes them in time.
                let c = try RawHTTP(port: port, timeout: 15)
                try await c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ")
                clients.append(c)
            }
            let dripping = clients
            // A byte each every 100 ms for 3 s: never idle, never done (a closed one refuses the byte).
            for _ in 0..<30 {
                try await offPool { for c in dripping { try? c.sendNow("x") } }
                #expect(try await RawHTTP.request(port: port, method: "GET", path: "/healthz").status == 200)
                try await Task.sleep(for: .milliseconds(100))
            }
            for c in clients {
                let rest = try await c.readToEnd()
                #expect(!rest.contains("200 OK"), "a dripped head was answered")
            }
        }
    }

    @Test("a client that sends half a request head and stalls is disconnected after the idle timeout; others are served meanwhile")
    func slowloris() async throws {
        try await withLiveServer(configure: { $0.idleTimeout = .milliseconds(300) }) { port, _ in
            var stalled: [RawHTTP] = []
            for _ in 0..<20 {
                let c = try RawHTTP(port: port)
                try await c.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                stalled.append(c)
            }
            let answer6 = try await RawHTTP.request(port: port, method: "GET", path: "/healthz").status
            #expect(answer6 == 200)
            // Each stalled connection is closed by the server (the read ends), not kept open.
            for c in stalled {
                let rest = try await c.readToEnd()
                #expect(rest.isEmpty)
            }
        }
    }

    @Test(
        "a NUL (%00) in a path or a query is a 400 on every store, not the store failing (PostgreSQL refuses NUL in text)",
        arguments: StoreKind.allCases)
    func nulInPathOrQuery(kind: StoreKind) async throws {
        let store = try await kind.make()
        let engine = WorkflowEngine(executors: Self.executors(ScriptedExecutor()), store: store)
        let app = try await buildApplication(engine: engine, store: store, configuration: ServerConfiguration(port: 0))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            for path in ["/api/v1/executions?workflow=%00", "/api/v1/executions/a%00b", "/api/v1/workflows/%00", "/api/v1/executions?status=%00"] {
                let (status, text) = try await RawHTTP.request(port: port, method: "GET", path: path)
                #expect(status == 400, "\(kind) \(path): \(status) \(text.suffix(300))")
                #expect(text.contains("NUL"), "\(text.suffix(300))")
            }
            let healthy = try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/executions?workflow=x").status
            #expect(healthy == 200)
        }
    }
}
