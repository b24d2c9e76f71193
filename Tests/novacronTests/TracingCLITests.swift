import Foundation
import Orchestration
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// OpenTelemetry traces from the real binary to a real OTLP receiver, decoded by the official
/// opentelemetry-proto package (docs/observability.md).
@Suite("Traces over OTLP", .serialized)
struct TracingCLITests {
    /// The caller's span, as a CI job that runs `novacron run` would pass it.
    static let callerTrace = "0af7651916cd43dd8448eb211c80319c"
    static let callerSpan = "b7ad6b7169203331"

    static func workflows(in folder: String, hook: String) throws -> (parent: String, child: String) {
        let child = folder + "/child.yaml", parent = folder + "/parent.yaml"
        try """
        name: traced-child
        steps:
          - {id: inner, inputs: {command: 'echo "traceparent=$TRACEPARENT" >> "$NOVACRON_OUTPUT"'}}
        """.write(toFile: child, atomically: true, encoding: .utf8)
        try """
        name: traced
        steps:
          - id: build
            inputs: {command: 'echo "traceparent=$TRACEPARENT" >> "$NOVACRON_OUTPUT"; echo "tracestate=$TRACESTATE" >> "$NOVACRON_OUTPUT"'}
          - id: flaky
            retryPolicy: {maxAttempts: 2, initialDelay: 1s, maxDelay: 1s, backoffStrategy: fixed, jitter: none}
            inputs: {command: '[ "$NOVACRON_ATTEMPT" -ge 2 ] || exit 3'}
          - {id: call, type: api, inputs: {url: '\(hook)', method: POST, json: {a: 1}}, timeout: 10s}
          - {id: sub, workflow: traced-child}
          - {id: gate, type: approval, timeout: 1h, dependencies: [build]}
          - {id: fan, forEach: [a, b, c], inputs: {command: 'echo "traceparent=$TRACEPARENT" >> "$NOVACRON_OUTPUT"'}}
        """.write(toFile: parent, atomically: true, encoding: .utf8)
        return (parent, child)
    }

    @Test(
        "novacron run sends one trace: the execution under the caller's span, a span per attempt, wait and child execution, the context handed to processes and HTTP calls",
        arguments: ["http/protobuf"])
    func runSendsATrace(wire: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = try await OTLPReceiver(folder: folder)
        defer { receiver.stop() }
        let (parent, child) = try Self.workflows(in: folder, hook: receiver.endpoint + "/hook")
        let db = folder + "/t.db"
        let running = try CLI.Running(
            ["run", parent, "--with", child, "--db", db],
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_EXPORTER_OTLP_PROTOCOL": wire, "OTEL_SERVICE_NAME": "novacron-test",
                "TRACEPARENT": "00-\(Self.callerTrace)-\(Self.callerSpan)-01", "TRACESTATE": "vendor=x",
            ])
        #expect(await running.waitFor { $0.contains("step gate started") }, "\(running.seen)")
        let id = try #require(running.executionID)
        let approve = try await CLI.running(["executions", "approve", id, "gate", "--db", db])
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(await running.ended() == 0, "\(running.seen)")

        let spans = try receiver.spans()
        #expect(spans.allSatisfy { $0.wire == wire.dropFirst(5) && $0.service == "novacron-test" && $0.traceID == Self.callerTrace }, "\(spans)")
        func named(_ name: String) -> [OTLPReceiver.Span] { spans.filter { $0.name == name } }
        let root = try #require(named("execution traced").first, "\(spans)")
        #expect(root.parentSpanID == Self.callerSpan && root.status == "STATUS_CODE_UNSET" && root.text("novacron.execution.id") == id)
        #expect(root.text("novacron.status") == "completed")
        for span in spans where span.name.hasPrefix("step ") || span.name.hasPrefix("wait ") {
            // Every span lies within the execution's.
            #expect(root.start <= span.start && span.start <= span.end && span.end <= root.end, "\(span)")
        }

        // Each attempt a child of the execution; the process got its own span's context.
        let build = try #require(named("step build").first)
        #expect(build.parentSpanID == root.spanID && build.text("novacron.step.id") == "build" && build.attributes["process.exit.code"] == 0)
        let show = try await CLI.running(["executions", "show", id, "-o", "json", "--db", db])
        let steps = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
        let outputs = try #require(steps.first { $0["id"] as? String == "build" }?["outputs"] as? [String: Any])
        #expect(outputs["traceparent"] as? String == "00-\(Self.callerTrace)-\(build.spanID)-01", "\(outputs)")

        // A failed attempt is an error with its exit code and the delay before the next.
        let flaky = named("step flaky").sorted { $0.start < $1.start }
        try #require(flaky.count == 2, "\(spans)")
        #expect(flaky[0].status == "STATUS_CODE_ERROR" && flaky[0].statusMessage == "exit code 3" && flaky[0].attributes["process.exit.code"] == 3)
        #expect(flaky[0].attributes["novacron.retry.delay_ms"] == 1000 && flaky[0].attributes["novacron.attempt"] == 1)
        #expect(flaky[1].status == "STATUS_CODE_UNSET" && flaky[1].attributes["novacron.attempt"] == 2 && flaky[1].parentSpanID == root.spanID)

        // The HTTP call carried its span as traceparent.
        let call = try #require(named("step call").first)
        let hook = try #require(try receiver.records().first { $0["request"] as? String == "/hook" }?["headers"] as? [String: String])
        #expect(hook["traceparent"] == "00-\(Self.callerTrace)-\(call.spanID)-01", "\(hook)")

        // The child execution hangs under its parent's step; the approval is a wait span.
        let sub = try #require(named("step sub").first)
        let childRoot = try #require(named("execution traced-child").first)
        #expect(childRoot.parentSpanID == sub.spanID)
        #expect(named("step inner").first?.parentSpanID == childRoot.spanID)
        let gate = try #require(named("wait gate").first)
        #expect(gate.parentSpanID == root.spanID && gate.text("novacron.wait") == "approval" && gate.text("novacron.status") == "success")

        // A forEach step is a span of its own, its items' attempts under it, each process given its item's span.
        let fan = try #require(named("step fan").first, "\(spans)")
        #expect(fan.parentSpanID == root.spanID && fan.attributes["novacron.items"] == 3 && fan.text("novacron.status") == "success", "\(fan)")
        // The step's outputs list its items' outputs in order.
        let fanResult = try #require(steps.first { $0["id"] as? String == "fan" }, "\(steps)")
        let items = try #require((fanResult["outputs"] as? [String: Any])?["results"] as? [[String: Any]], "\(fanResult)")
        try #require(items.count == 3, "\(items)")
        for index in 0..<3 {
            let item = try #require(named("step fan[\(index)]").first, "\(spans)")
            #expect(item.parentSpanID == fan.spanID && fan.start <= item.start && item.end <= fan.end, "\(item)")
            #expect(items[index]["traceparent"] as? String == "00-\(Self.callerTrace)-\(item.spanID)-01", "\(items)")
        }
    }

    @Test("without OTEL settings nothing is traced: steps get no TRACEPARENT; settings it cannot honour are refused plainly")
    func offAndRefused() async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/w.yaml"
        try """
        name: plain
        steps:
          - {id: a, inputs: {command: 'echo "traceparent=$TRACEPARENT" >> "$NOVACRON_OUTPUT"'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        var environment = CLI.environment
        for key in environment.keys where key.hasPrefix("OTEL_") || key == "TRACEPARENT" { environment[key] = nil }
        let plain = try await CLI.run(["run", file, "-o", "json", "--memory"], environment: environment)
        #expect(plain.status == 0 && plain.stdout.contains(#""traceparent": """#), "\(plain.stdout)\(plain.stderr)")

        let refusals = [
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTLP over gRPC is not built into novacron: use http/protobuf"),
            (
                "OTEL_EXPORTER_OTLP_PROTOCOL", "http/json",
                "http/json is not offered (the exporter writes span ids in base64 where OTLP/JSON wants hex"
            ),
            ("OTEL_TRACES_EXPORTER", "zipkin", "OTEL_TRACES_EXPORTER: 'zipkin' is not supported"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318", "OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' is not an http:// or https:// URL"),
            // What swift-otel would stop the process on, spin on, or read otherwise than it looks.
            ("OTEL_PROPAGATORS", "tracecontext,baggage", "OTEL_PROPAGATORS: 'tracecontext,baggage' is not supported"),
            ("OTEL_TRACES_SAMPLER", "xray", "OTEL_TRACES_SAMPLER: 'xray' is not one of always_on"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0' is not a whole number of at least 1"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set to '': give it a value without spaces"),
        ]
        for (key, value, message) in refusals {
            var bad = environment
            bad[key] = value
            if key != "OTEL_EXPORTER_OTLP_ENDPOINT" { bad["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:1" }
            let run = try await CLI.run(["run", file, "--memory"], environment: bad)
            #expect(run.status == 2 && run.stderr.contains(message), "\(key)=\(value): \(run.stderr)")
        }
    }

    @Test("novacron serve: a start carrying traceparent continues the caller's trace, the JSON log names the trace, spans are sent by shutdown")
    func serveContinuesTheCaller() async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = try await OTLPReceiver(folder: folder)
        defer { receiver.stop() }
        let (server, url) = try await CLI.serve(
            store: ["--db", folder + "/s.db"], token: "t0k",
            environment: [
                "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "NOVACRON_LOG_FORMAT": "json", "NOVACRON_LOG_LEVEL": "debug",
                // A collector's key, which swift-otel's own diagnostics would print.
                "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=s3cr3t-collector-key", "OTEL_LOG_LEVEL": "debug",
            ])
        defer { server.terminateWithoutWaiting() }
        let file = folder + "/w.yaml"
        try """
        name: served
        steps:
          - {id: a, inputs: {command: 'true'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let script = """
            import json, sys, urllib.request
            def call(path, data, headers={}):
                h = {"Authorization": "Bearer t0k", "Content-Type": "application/yaml" if data else "application/json"}
                h.update(headers)
                return json.load(urllib.request.urlopen(urllib.request.Request(sys.argv[1] + path, data=data, method="POST", headers=h)))
            call("/api/v1/workflows", open(sys.argv[2], "rb").read())
            # A tracestate that is not a list of key=value members is dropped; the traceparent still counts.
            id = call("/api/v1/workflows/served/executions", b"", {"traceparent": sys.argv[3], "tracestate": "not a list member"})["id"]
            urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/api/v1/executions/" + id + "/events", headers={"Authorization": "Bearer t0k"})).read()
            # A malformed traceparent is ignored, not stored: the execution starts a trace of its own.
            call("/api/v1/workflows/served/executions", b"", {"traceparent": "00-zz-\\u00e9-01"})
            print(id)
            """
        let client = try await ExternalTool.run(["python3", "-c", script, url, file, "00-\(Self.callerTrace)-\(Self.callerSpan)-01"])
        #expect(client.status == 0, "\(client.output)")
        let id = client.output.trimmingCharacters(in: .whitespacesAndNewlines)
        server.process.terminate()
        #expect(await server.ended() == 0, "\(server.seen)")

        let spans = try receiver.spans()
        let root = try #require(spans.first { $0.name == "execution served" && $0.text("novacron.execution.id") == id }, "\(spans)")
        #expect(root.traceID == Self.callerTrace && root.parentSpanID == Self.callerSpan)
        #expect(spans.first { $0.name == "step a" && $0.traceID == Self.callerTrace }?.parentSpanID == root.spanID)
        #expect(spans.filter { $0.name == "execution served" }.count == 2)
        #expect(spans.contains { $0.name == "execution served" && $0.traceID != Self.callerTrace && $0.parentSpanID.isEmpty })
        let lines = server.seen.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        let mine = lines.filter { $0["execution"] == id }
        #expect(!mine.isEmpty && mine.allSatisfy { $0["trace_id"] == Self.callerTrace }, "\(mine)")
        #expect(!server.seen.contains("s3cr3t-collector-key"), "\(server.seen)")
    }
}

/// The trace across processes: a worker node, and a process that carries an execution on after a crash.
@Suite("Traces across processes", .serialized)
struct TracingAcrossProcessesTests {
    static let caller = "00-\(TracingCLITests.callerTrace)-\(TracingCLITests.callerSpan)-01"

    @Test("a step run by a worker node is a span there under the attempt's span on the execution's node, and its process gets the worker's span")
    func workerContinuesTheTrace() async throws {
        let url = try await TestPostgres.shared.database()
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = try await OTLPReceiver(folder: folder)
        defer { receiver.stop() }
        let file = folder + "/wf.yaml"
        try """
        name: queued-traced
        steps:
          - {id: train, queue: gpu, inputs: {command: 'echo "traceparent=$TRACEPARENT" >> "$NOVACRON_OUTPUT"'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let otel = ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint]
        let worker = try await WorkerCLITests.worker(
            url, queues: ["gpu"], secret: "w", environment: otel.merging(["OTEL_SERVICE_NAME": "novacron-worker"]) { _, new in new })
        var environment = CLI.environment.merging(otel) { _, new in new }
        environment["TRACEPARENT"] = Self.caller
        let run = try await CLI.running(["run", file, "--database-url", url, "-o", "json"], environment: environment)
        // Stopping the worker sends what it recorded.
        await WorkerCLITests.stop(worker)
        #expect(run.status == 0, "\(run.stderr)")
        let spans = try receiver.spans()
        let attempt = try #require(spans.first { $0.name == "step train" }, "\(spans)")
        let ran = try #require(spans.first { $0.name == "run train" }, "\(spans)")
        #expect(ran.traceID == TracingCLITests.callerTrace && ran.parentSpanID == attempt.spanID && ran.kind == "SPAN_KIND_CONSUMER")
        #expect(ran.service == "novacron-worker" && attempt.service == "novacron" && ran.text("novacron.status") == "succeeded")
        #expect(attempt.start <= ran.start && ran.end <= attempt.end)
        #expect(run.stdout.contains(#""traceparent": "00-\#(TracingCLITests.callerTrace)-\#(ran.spanID)-01""#), "\(run.stdout)")
    }

    /// Runs `file` traced until step `step` started, then kills the process with SIGKILL; the
    /// execution's id.
    static func killedRun(_ file: String, db: String, environment: [String: String], once step: String) async throws -> String {
        let first = try CLI.Running(["run", file, "--db", db], environment: environment)
        #expect(await first.waitFor { $0.contains("step \(step) started") }, "\(first.seen)")
        let id = try #require(first.executionID)
        kill(first.process.processIdentifier, SIGKILL)
        _ = await first.ended()
        return id
    }

    @Test("after SIGKILL, the process that carries the execution on sends its spans into the same trace, under the root saved with it")
    func resumedAfterACrash() async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = try await OTLPReceiver(folder: folder)
        defer { receiver.stop() }
        let file = folder + "/wf.yaml", db = folder + "/t.db", gate = folder + "/gate"
        // `slow` waits for a file the test never writes until the first process is gone.
        try """
        name: crashy
        steps:
          - {id: slow, inputs: {command: 'while [ ! -e \(gate) ]; do sleep 0.05; done'}}
          - {id: after, dependencies: [slow], inputs: {command: 'true'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let otel = ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "TRACEPARENT": Self.caller]
        let id = try await Self.killedRun(file, db: db, environment: otel, once: "slow")
        FileManager.default.createFile(atPath: gate, contents: nil)
        let resumed = try await CLI.running(
            ["executions", "resume", id, "--db", db],
            environment: CLI.environment.merging(otel.merging(["NOVACRON_LOG_FORMAT": "json"]) { _, new in new }) { _, new in new })
        #expect(resumed.status == 0, "\(resumed.stderr)")
        // Every line about the execution names its trace: the recovery's (and, when the killed
        // process had saved its step's process group, the line about stopping what is left of it)
        // as well as the lifecycle's.
        let lines = resumed.stderr.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String] }
        let mine = lines.filter { $0["execution"] == id }
        #expect(mine.contains { $0["message"] == "execution recovered" }, "\(resumed.stderr)")
        #expect(!mine.isEmpty && mine.allSatisfy { $0["trace_id"] == TracingCLITests.callerTrace }, "\(mine)")

        let spans = try receiver.spans()
        let carried = try #require(spans.first { $0.name == "execution crashy resumed" }, "\(spans)")
        #expect(carried.traceID == TracingCLITests.callerTrace && carried.text("novacron.status") == "completed")
        // The root itself died with the first process; its id, saved with the execution, is still every span's parent.
        #expect(carried.parentSpanID != TracingCLITests.callerSpan && !carried.parentSpanID.isEmpty)
        for name in ["step slow", "step after"] {
            let step = try #require(spans.first { $0.name == name }, "\(spans)")
            #expect(step.traceID == TracingCLITests.callerTrace && step.parentSpanID == carried.parentSpanID, "\(step)")
        }
    }

    @Test("cancelling an execution whose process was killed continues its trace: the cancel and the rollback are spans under the root saved with it")
    func cancelledAfterACrash() async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let receiver = try await OTLPReceiver(folder: folder)
        defer { receiver.stop() }
        let file = folder + "/wf.yaml", db = folder + "/t.db"
        try """
        name: abandoned
        steps:
          - {id: made, inputs: {command: 'true'}, rollback: {type: task, inputs: {command: 'true'}}}
          - {id: stuck, dependencies: [made], inputs: {command: 'sleep 600'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let otel = ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "TRACEPARENT": Self.caller]
        let id = try await Self.killedRun(file, db: db, environment: otel, once: "stuck")
        let cancelled = try await CLI.running(
            ["executions", "cancel", id, "--db", db], environment: CLI.environment.merging(otel) { _, new in new })
        #expect(cancelled.status == 0 && cancelled.stdout.contains("cancelled"), "\(cancelled.stdout)\(cancelled.stderr)")

        let spans = try receiver.spans()
        let carried = try #require(spans.first { $0.name == "execution abandoned resumed" }, "\(spans)")
        #expect(carried.traceID == TracingCLITests.callerTrace && carried.text("novacron.status") == "cancelled", "\(carried)")
        #expect(carried.status == "STATUS_CODE_ERROR" && carried.statusMessage.contains("cancelled by user"), "\(carried)")
        let rollback = try #require(spans.first { $0.name == "rollback made.rollback" }, "\(spans)")
        #expect(rollback.traceID == TracingCLITests.callerTrace && rollback.parentSpanID == carried.parentSpanID, "\(rollback)")
    }
}
