import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs the real `novacron` binary built next to this test bundle.
enum CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        if let explicit = ProcessInfo.processInfo.environment["NOVACRON_BIN"] { return URL(fileURLWithPath: explicit) }
        // The test runner lives in the build products folder, beside the executable.
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("novacron")
            if FileManager.default.isExecutableFile(atPath: candidate.path), !candidate.hasDirectoryPath { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/novacron")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// `novacron serve` on a free port with one admin token; returns it and its URL once it listens.
    static func serve(db: String, token: String) throws -> (Running, String) {
        let server = try Running(["serve", "--port", "0", "--db", db], environment: ["NOVACRON_API_TOKENS": "admin:\(token)"])
        guard server.read(until: { $0.contains("listening on 127.0.0.1:") && $0.hasSuffix("\n") }),
              let port = server.seen.components(separatedBy: "listening on 127.0.0.1:").last?.prefix(while: { $0.isNumber }), !port.isEmpty
        else {
            server.process.terminate()
            throw CLIError(message: "novacron serve did not start: \(server.seen)")
        }
        return (server, "http://127.0.0.1:\(port)")
    }

    struct CLIError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// A new empty folder under the temporary directory.
    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The store the CLI uses in these tests (never the user's ~/.novacron).
    static let database = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-cli-\(UUID().uuidString)/novacron.db").path

    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["NOVACRON_DB"] = database
        return env
    }

    static func run(_ arguments: String..., limitDataKiB: Int? = nil) throws -> Result {
        try run(arguments, limitDataKiB: limitDataKiB)
    }

    static func run(_ arguments: [String], limitDataKiB: Int? = nil, environment: [String: String] = CLI.environment, stdin: String? = nil) throws -> Result {
        let process = Process()
        if let stdin {
            // What a person would type, then the end of input.
            let input = Pipe()
            process.standardInput = input
            try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        process.environment = environment
        var arguments = arguments
        if arguments.first == "--as-nobody" {
            // As the unprivileged user 'nobody' (setpriv, from util-linux), for what root may always do.
            arguments.removeFirst()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary.path] + arguments
        } else if let limitDataKiB {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -d \(limitDataKiB) && exec \"$0\" \"$@\"", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let errData = ReadAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.wait(), as: UTF8.self))
    }

    /// A `novacron` process started in the background, whose output a test reads as it comes:
    /// the way to wait for an event ("step x started") before acting on the process.
    final class Running {
        let process = Process()
        private let out = Pipe()
        private(set) var seen = ""

        init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
            process.executableURL = CLI.binary
            process.arguments = arguments
            process.environment = CLI.environment.merging(extra) { _, new in new }
            process.currentDirectoryURL = CLI.root
            process.standardOutput = out
            // Standard error too (the server logs there), on the same pipe.
            process.standardError = out
            try process.run()
        }

        /// Reads output until `predicate` holds for all of it so far, or the output ends.
        @discardableResult
        func read(until predicate: (String) -> Bool) -> Bool {
            while !predicate(seen) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            return true
        }

        /// Reads the rest of the output and waits for the exit status.
        func finish() -> Int32 {
            seen += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// The id in "execution ID of … started".
        var executionID: String? {
            seen.split(separator: " ").drop { $0 != "execution" }.dropFirst().first.map(String.init)
        }
    }

    /// Reads a pipe to its end on a thread of its own.
    final class ReadAll: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)
        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }
        func wait() -> Data {
            done.wait()
            return data
        }
    }
}

@Suite("novacron command line")
struct CLITests {
    @Test("validate: exit 0 for valid files, 2 with FILE:LINE:COL errors on stderr for invalid ones")
    func validate() throws {
        let ok = try CLI.run("validate", "Examples/hello.yaml", "Examples/data-pipeline.yaml")
        #expect(ok.status == 0)
        #expect(ok.stdout == "Examples/hello.yaml: valid (2 steps)\nExamples/data-pipeline.yaml: valid (5 steps)\n")

        let bad = try CLI.run("validate", "Examples/hello.yaml", "Tests/Fixtures/invalid/cycle.yaml", "Tests/Fixtures/invalid/bad-duration.yaml")
        #expect(bad.status == 2)
        #expect(bad.stderr == """
            Tests/Fixtures/invalid/cycle.yaml:7:20: error: steps[0].dependencies[0]: dependency cycle: a -> b -> c -> a; each step waits for the one before it
            Tests/Fixtures/invalid/bad-duration.yaml:7:16: error: steps[0].timeout: invalid duration '10 minutes': durations are written without spaces, e.g. '10m' or '1h30m'
            Tests/Fixtures/invalid/bad-duration.yaml:8:25: error: steps[0].estimatedDuration: invalid duration '5mins': unknown unit 'mins'; units are ns, us, ms, s, m, h, d
            2 of 3 files invalid

            """)
        let missing = try CLI.run("validate", "no/such.yaml")
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("no/such.yaml:1:1: error: no such file\n"))
    }

    @Test("plan: the data pipeline's transforms run as one parallel stage, score 5/3")
    func planText() throws {
        let result = try CLI.run("plan", "Examples/data-pipeline.yaml")
        #expect(result.status == 0)
        #expect(result.stdout.contains("  2. transform-db1, transform-db2, transform-api   (parallel)\n"))
        #expect(result.stdout.contains("Estimated duration: 3s (serial 5s)\n"))
        #expect(result.stdout.contains("Optimization score: 1.67"))
        #expect(result.stdout.contains("Critical path: extract -> transform-db1 -> load (3s)"))
    }

    @Test("cron next prints fire times in the zone and in UTC, or JSON; bad input exits 2")
    func cronNext() throws {
        let json = try CLI.run("cron", "next", "30 2 * * *", "--timezone", "America/New_York", "--from", "2026-03-07T12:00:00Z", "--count", "2", "--output", "json")
        #expect(json.status == 0)
        #expect(json.stdout == #"["2026-03-08T07:00:00Z","2026-03-09T06:30:00Z"]"# + "\n")
        let text = try CLI.run("cron", "next", "@monthly", "--timezone", "Europe/Berlin", "--from", "2026-11-26T00:00:00Z", "--count", "2")
        #expect(text.stdout == "2026-12-01 00:00 GMT+1   2026-11-30T23:00:00Z\n2027-01-01 00:00 GMT+1   2026-12-31T23:00:00Z\n")
        let bad = try CLI.run("cron", "next", "0 25 * * *")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("hour"))
        let zone = try CLI.run("cron", "next", "* * * * *", "--timezone", "Mars/Olympus")
        #expect(zone.status == 2)
        #expect(zone.stderr.contains("unknown time zone 'Mars/Olympus'"))
        #expect(try CLI.run("cron", "next", "0 0 30 2 *").stdout.contains("never fires"))
    }

    @Test("plan lists the next five fire times of each schedule")
    func planSchedules() throws {
        let text = try CLI.run("plan", "Examples/data-pipeline.yaml", "--from", "2026-11-26T10:00:00Z")
        #expect(text.stdout.contains("Schedules (next 5 fire times):\n  nightly: 0 2 * * * (UTC)\n    2026-11-27 02:00 GMT\n"))
        #expect(text.stdout.contains("    2026-12-01 02:00 GMT\n"))
        let json = try CLI.run("plan", "Examples/data-pipeline.yaml", "--from", "2026-11-26T10:00:00Z", "-o", "json")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let schedules = object?["schedules"] as? [[String: Any]]
        #expect((schedules?.first?["next"] as? [String])?.first == "2026-11-27T02:00:00Z")
    }

    @Test("plan --output json|dot|mermaid, and warnings for steps without timeouts")
    func planFormats() throws {
        let json = try CLI.run("plan", "Examples/data-pipeline.yaml", "--output", "json")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["serialSeconds"] as? Double == 5)
        #expect(object?["estimatedSeconds"] as? Double == 3)
        #expect((object?["stages"] as? [[String: Any]])?[1]["parallel"] as? Bool == true)

        let dot = try CLI.run("plan", "Examples/parallel-build.yaml", "-o", "dot")
        #expect(dot.stdout.hasPrefix("digraph \"parallel-build\" {"))
        #expect(dot.stdout.contains(#""prepare" -> "link" [style=dashed, label="redundant"];"#))
        let mermaid = try CLI.run("plan", "Examples/data-pipeline.yaml", "-o", "mermaid")
        #expect(mermaid.stdout.hasPrefix("flowchart LR\n"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-notimeout-\(UUID()).yaml")
        try "name: nt\nsteps:\n  - id: a\n  - id: b\n    dependencies: [a]\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let warned = try CLI.run("plan", file.path)
        #expect(warned.status == 0)
        #expect(warned.stdout.contains("Warnings:\n  \(file.path):3:5: warning: steps[0]: 2 steps without a timeout: 'a', 'b'; nothing stops them if they hang"))

        let invalid = try CLI.run("plan", "Tests/Fixtures/invalid/unknown-dependency.yaml")
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("unknown-dependency.yaml:10:20: error: steps[1].dependencies[0]: unknown step 'biuld'; did you mean 'build'?"))
    }
}

@Suite("novacron run")
struct RunCommandTests {
    @Test("hello runs green: timestamped lines when piped, a summary, exit 0")
    func hello() throws {
        let result = try CLI.run("run", "Examples/hello.yaml", "--input", "who=NovaCron")
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(" step greet started") && $0.first?.isNumber == true })
        #expect(lines.contains { $0.contains(" step show success in ") })
        #expect(lines.last?.hasPrefix("hello completed in ") == true)
        #expect(lines.last?.contains("2 succeeded, 0 failed, 0 skipped") == true)
    }

    @Test("--output json prints the final execution as one object")
    func json() throws {
        let result = try CLI.run("run", "Examples/hello.yaml", "--output", "json", "--input", "who=a 'quoted' $(world)")
        #expect(result.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? String == "completed")
        #expect((object["id"] as? String)?.isEmpty == false)
        let metrics = try #require(object["metrics"] as? [String: Any])
        #expect(metrics["successfulSteps"] as? Int == 2)
        let steps = try #require(object["steps"] as? [[String: Any]])
        #expect(steps.map { $0["id"] as? String } == ["greet", "show"])
        #expect((steps[0]["outputs"] as? [String: Any])?["greeting"] as? String == "Hello, a 'quoted' $(world)!")
        #expect(steps[1]["attempts"] as? Int == 1)
        #expect(steps[1]["startedAt"] is String)
    }

    @Test("--inputs-file gives inputs, --input wins over it")
    func inputsFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-inputs-\(UUID()).yaml")
        try "who: file\nunused: 1\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try CLI.run("run", "Examples/hello.yaml", "--inputs-file", file.path, "-o", "json")
        #expect(fromFile.stdout.contains(#""greeting": "Hello, file!""#))
        let overridden = try CLI.run("run", "Examples/hello.yaml", "--inputs-file", file.path, "--input", "who=flag", "-o", "json")
        #expect(overridden.stdout.contains(#""greeting": "Hello, flag!""#))
    }

    @Test("every offline example runs as documented", arguments: [
        ("Examples/hello.yaml", Int32(0)), ("Examples/parallel-build.yaml", 0), ("Examples/flaky-retry.yaml", 0),
        ("Examples/rollback-demo.yaml", 1),
    ])
    func offlineExamples(file: String, status: Int32) throws {
        let result = try CLI.run("run", file, "--output", "json")
        #expect(result.status == status, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? String == (status == 0 ? "completed" : "failed"))
    }

    @Test("the rollback demo rolls back in reverse order and runs the alert step; exit 1")
    func rollbackDemo() throws {
        let result = try CLI.run("run", "Examples/rollback-demo.yaml")
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
        let order = lines.filter { $0.hasSuffix(" started") }
        #expect(order == ["step provision started", "step configure started", "step critical-step started", "step alert started",
                          "step configure.rollback started", "step provision.rollback started"])
        #expect(result.stdout.contains("rolled back: provision (success), configure (success)\nerror: step critical-step failed: exit code 3"))
    }

    @Test("flaky-retry recovers after two retries")
    func flaky() throws {
        let result = try CLI.run("run", "Examples/flaky-retry.yaml")
        #expect(result.status == 0)
        #expect(result.stdout.contains("step flaky failed: exit code 1; retrying in 200ms (attempt 2)"))
        #expect(result.stdout.contains("step flaky failed: exit code 1; retrying in 400ms (attempt 3)"))
        #expect(result.stdout.contains("2 retries"))
    }

    @Test("invalid files, inputs and missing secrets exit 2 with a clear message")
    func invalid() throws {
        let file = try CLI.run("run", "Tests/Fixtures/invalid/cycle.yaml")
        #expect(file.status == 2)
        #expect(file.stderr.contains("cycle.yaml:7:20: error: steps[0].dependencies[0]: dependency cycle"))
        let input = try CLI.run("run", "Examples/hello.yaml", "--input", "novalue")
        #expect(input.status == 2)
        #expect(input.stderr == "error: --input 'novalue': expected NAME=VALUE\n")
        let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-secret-\(UUID()).yaml")
        try "name: s\nsteps:\n  - {id: a, inputs: {command: 'echo ${secrets.API_TOKEN}'}}\n".write(to: secretFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secretFile) }
        let secret = try CLI.run("run", secretFile.path)
        #expect(secret.status == 2)
        #expect(secret.stderr == "error: workflow s needs secret API_TOKEN: set NOVACRON_SECRET_API_TOKEN or put it in a secrets file\n")
    }

    @Test("a step printing 1 GB runs in bounded memory")
    func hugeOutput() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-flood-\(UUID()).yaml")
        try """
            name: flood
            steps:
              - {id: flood, inputs: {command: 'head -c 1000000000 /dev/zero'}}
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        // Under a 384 MiB data limit (ulimit -d): keeping the output would need a gigabyte, and
        // an allocation past the limit fails. (Peak RSS from wait4 is no use here: a child
        // spawned by this large test process inherits its high-water mark.)
        let result = try CLI.run("run", file.path, "-o", "json", limitDataKiB: 384 * 1024)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""status": "completed""#))
    }

    @Test("Ctrl-C cancels the running step, rolls back and exits 1")
    func interrupt() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-interrupt-\(UUID()).yaml")
        try """
            name: interrupt
            steps:
              - {id: setup, inputs: {command: echo ready}, rollback: {type: task, inputs: {command: echo undone}}}
              - {id: long, dependencies: [setup], inputs: {command: sleep 300}}
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let running = try CLI.Running(["run", file.path, "--kill-grace", "1"])
        // Wait for the event "step long started" on the child's output, then interrupt it.
        running.read { $0.contains("step long started") }
        running.process.interrupt()
        #expect(running.finish() == 1)
        let seen = running.seen
        #expect(seen.contains("step long cancelled"))
        #expect(seen.contains("step setup.rollback success"))
        #expect(seen.contains("interrupt cancelled in "))
        #expect(seen.contains("error: interrupted (Ctrl-C)"))
    }
}

@Suite("novacron executions")
struct ExecutionsCommandTests {
    @Test("retry reuses what succeeded; prune deletes what ended; cancel stops a running execution and rolls back")
    func retryPruneCancel() throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        // Fails the first time (no marker yet), succeeds on retry.
        try """
            name: second-time
            steps:
              - {id: prepare, inputs: {command: 'echo prepared >> \(folder)/trace'}}
              - {id: flaky, dependencies: [prepare], inputs: {command: 'test -f \(folder)/marker || { touch \(folder)/marker; exit 1; }'}}
            """.write(toFile: folder + "/w.yaml", atomically: true, encoding: .utf8)
        let first = try CLI.run("run", folder + "/w.yaml", "--db", db, "-o", "json")
        #expect(first.status == 1)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let retry = try CLI.run("executions", "retry", id, "--db", db)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(!retry.stdout.contains("step prepare started"))
        #expect(try String(contentsOfFile: folder + "/trace", encoding: .utf8) == "prepared\n")
        let again = try CLI.run("executions", "retry", id, "--db", db)
        #expect(again.status == 0)

        let pruned = try CLI.run("executions", "prune", "--older-than", "0s", "--db", db)
        #expect(pruned.stdout.hasPrefix("deleted 3 executions that ended before "))
        #expect(try CLI.run("executions", "list", "--db", db).stdout == "no executions in \(db)\n")

        try """
            name: long
            steps:
              - {id: setup, inputs: {command: echo ready}, rollback: {type: task, inputs: {command: echo undone}}}
              - {id: wait, dependencies: [setup], inputs: {command: sleep 300}}
            """.write(toFile: folder + "/long.yaml", atomically: true, encoding: .utf8)
        let long = try CLI.Running(["run", folder + "/long.yaml", "--db", db, "--kill-grace", "1"])
        long.read { $0.contains("step wait started") }
        let running = try #require(long.executionID)
        let cancel = try CLI.run("executions", "cancel", running, "--db", db)
        #expect(cancel.stdout.hasPrefix("asked process \(long.process.processIdentifier), which runs \(running), to cancel it"))
        #expect(long.finish() == 1)
        #expect(long.seen.contains("step setup.rollback success"))
        #expect(try CLI.run("executions", "show", running, "--db", db).stdout.contains("long  cancelled"))
    }

    @Test("a disk that fills up mid-run fails the execution clearly and leaves the file sound")
    func diskFull() throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        #expect(try CLI.run("run", "Examples/hello.yaml", "--db", db).status == 0)
        var yaml = "name: noisy\nsteps:\n"
        for i in 0..<10 { yaml += "  - {id: s\(i), inputs: {command: 'head -c 100000 /dev/zero | tr \"\\\\0\" x | fold -w 100'}}\n" }
        try yaml.write(toFile: folder + "/noisy.yaml", atomically: true, encoding: .utf8)
        // The file-size limit (ulimit -f, 512-byte blocks; SIGXFSZ ignored so writes fail with
        // EFBIG) stands in for a full disk: the log tails outgrow it after a few steps.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f 600 && exec \"$0\" run \"$1\" --db \"$2\"", CLI.binary.path, folder + "/noisy.yaml", db]
        process.environment = CLI.environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.contains("error: the store failed: \(db): "), "\(text)")
        #expect(!text.contains("noisy completed"))
        // What was saved before is intact and the file is sound.
        let list = try CLI.run("executions", "list", "--db", db)
        #expect(list.stdout.contains("hello     completed"))
        #expect(try CrashTests.integrity(db: db) == "ok")
    }

    @Test("a read-only database is refused with a clear message")
    func readOnly() throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        #expect(try CLI.run("run", "Examples/hello.yaml", "--db", db).status == 0)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        // Read-only for whoever runs novacron: the file's mode for an ordinary user; root ignores
        // modes, so as root novacron runs as 'nobody' (setpriv), for whom the file is read-only.
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        var arguments = ["run", "Examples/hello.yaml", "--db", db]
        if getuid() == 0 { arguments = ["--as-nobody"] + arguments }
        let result = try CLI.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr == "error: \(db): the database is read-only; NovaCron needs to write to it\n")
    }

    @Test("events publish starts an event trigger's workflow; triggers list shows it fired; disable switches it off")
    func eventsAndTriggers() throws {
        let folder = try CLI.temporaryFolder()
        let (server, url) = try CLI.serve(db: folder + "/s.db", token: "t0k")
        defer { server.process.terminate(); _ = server.finish() }
        let workflow = folder + "/on-event.yaml"
        try """
            name: on-event
            triggers:
              - {id: deploys, type: event, event: "deployment.*", inputs: {service: "${trigger.data.service}"}}
            steps:
              - {id: say, inputs: {command: "echo deployed ${inputs.service}"}, timeout: 10s}
            """.write(toFile: workflow, atomically: true, encoding: .utf8)
        let register = Process()
        register.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        register.arguments = ["curl", "-fsS", "-o", "/dev/null", "-H", "Authorization: Bearer t0k", "-H", "Content-Type: application/yaml", "--data-binary", "@" + workflow, url + "/api/v1/workflows"]
        try register.run()
        register.waitUntilExit()
        #expect(register.terminationStatus == 0)
        let published = try CLI.run("events", "publish", "deployment.finished", "--data", #"{"service": "api"}"#, "--server", url, "--token", "t0k")
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains(#""type":"deployment.finished""#))
        let bad = try CLI.run("events", "publish", "not a type", "--server", url, "--token", "t0k")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("must be dot-separated words"))
        // The trigger fires once its consumer reads the event; ask until the status says so
        // (bounded: a few reads at most on a quiet machine).
        var fired = ""
        for _ in 0..<200 where !fired.contains(#""fireCount":1"#) {
            fired = try CLI.run("triggers", "list", "--output", "json", "--server", url, "--token", "t0k").stdout
        }
        #expect(fired.contains(#""fireCount":1"#))
        #expect(try CLI.run("triggers", "list", "--server", url, "--token", "t0k").stdout.contains("on-event/deploys"))
        let events = try CLI.run("events", "list", "--type", "execution.*", "--server", url, "--token", "t0k").stdout
        #expect(events.contains("execution.started"))
        let disabled = try CLI.run("triggers", "disable", "on-event", "deploys", "--server", url, "--token", "t0k")
        #expect(disabled.stdout.contains(#""enabled":false"#))
        let missing = try CLI.run("triggers", "disable", "on-event", "deploy", "--server", url, "--token", "t0k")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("did you mean 'deploys'?"))
    }

    @Test("list, show, logs, retry and cancel work against a running server with --server and --token")
    func remote() throws {
        let folder = try CLI.temporaryFolder()
        let (server, url) = try CLI.serve(db: folder + "/s.db", token: "t0k")
        defer { server.process.terminate(); _ = server.finish() }
        // Register and start through the API, as another tool would (Python's urllib).
        let post = """
            import json, sys, urllib.request
            def call(path, data):
                r = urllib.request.Request(sys.argv[1] + path, data=data, method="POST", headers={"Authorization": "Bearer t0k", "Content-Type": "application/yaml" if data else "application/json"})
                return json.load(urllib.request.urlopen(r))
            call("/api/v1/workflows", open(sys.argv[2], "rb").read())
            id = call("/api/v1/workflows/rollback-demo/executions", b"")["id"]
            # The event stream ends when the execution does.
            r = urllib.request.Request(sys.argv[1] + "/api/v1/executions/" + id + "/events", headers={"Authorization": "Bearer t0k"})
            urllib.request.urlopen(r).read()
            print(id)
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", post, url, CLI.root.appendingPathComponent("Examples/rollback-demo.yaml").path]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let id = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        python.waitUntilExit()
        #expect(!id.isEmpty)
        let unauthorized = try CLI.run("executions", "list", "--server", url)
        #expect(unauthorized.status == 2)
        #expect(unauthorized.stderr == "error: a bearer token is needed: Authorization: Bearer TOKEN\n")
        let show = try CLI.run("executions", "show", id, "--server", url, "--token", "t0k")
        #expect(show.stdout.contains("rollback-demo  failed"))
        #expect(show.stdout.contains("critical-step       failed   1"))
        #expect(try CLI.run("executions", "list", "--server", url, "--token", "t0k").stdout.contains("\(id)  rollback-demo  failed"))
        #expect(try CLI.run("executions", "logs", id, "--step", "alert", "--server", url, "--token", "t0k").stdout == "critical-step failed with exit code 3\n")
        #expect(try CLI.run("executions", "retry", id, "--server", url, "--token", "t0k").stdout.hasPrefix("started "))
        let cancel = try CLI.run("executions", "cancel", id, "--server", url, "--token", "t0k")
        #expect(cancel.status == 2)
        #expect(cancel.stderr == "error: execution \(id) already failed\n")
    }

    @Test("several processes starting on a new database at once all run")
    func concurrentFirstOpen() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-\(UUID().uuidString)/x.db").path
        let processes = try (0..<12).map { _ -> Process in
            let p = Process()
            p.executableURL = CLI.binary
            p.arguments = ["run", "Examples/hello.yaml", "--db", db, "-o", "json"]
            p.currentDirectoryURL = CLI.root
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes { p.waitUntilExit() }
        #expect(processes.map(\.terminationStatus) == Array(repeating: 0, count: 12))
        let list = try CLI.run("executions", "list", "--db", db, "-o", "json")
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.count == 12)
    }

    @Test("list, show and logs read what run saved")
    func listShowLogs() throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-\(UUID().uuidString)/x.db").path
        let run = try CLI.run("run", "Examples/rollback-demo.yaml", "--db", db, "-o", "json")
        #expect(run.status == 1)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let list = try CLI.run("executions", "list", "--db", db)
        #expect(list.status == 0)
        #expect(list.stdout.contains("\(id)  rollback-demo  failed"))
        let show = try CLI.run("executions", "show", id, "--db", db)
        #expect(show.stdout.contains("error: step critical-step failed: exit code 3"))
        #expect(show.stdout.contains("configure.rollback  success  1"))
        #expect(show.stdout.contains("critical-step       failed   1"))
        let logs = try CLI.run("executions", "logs", id, "--step", "alert", "--db", db)
        #expect(logs.stdout == "critical-step failed with exit code 3\n")
        // On an ended execution, --follow prints every log once and returns.
        let followed = try CLI.run("executions", "logs", id, "--follow", "--db", db)
        #expect(followed.status == 0)
        #expect(followed.stdout.contains("==> critical-step (failed) <==\nmigration failed\n"))
        #expect(followed.stdout.contains("==> provision.rollback (success) <==\ndeprovisioned\n"))
        let missing = try CLI.run("executions", "show", "nope", "--db", db)
        #expect(missing.status == 2)
        #expect(missing.stderr == "error: no execution 'nope' in \(db)\n")
        let done = try CLI.run("executions", "resume", id, "--db", db)
        #expect(done.status == 2)
        #expect(done.stderr == "error: execution \(id) already failed; nothing to resume\n")
    }

    @Test("an execution whose process was killed with SIGKILL is carried on by resume, without re-running what finished")
    func resumeAfterKill() throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        let file = folder + "/w.yaml"
        try """
            name: resumable
            steps:
              - {id: first, inputs: {command: 'echo first >> \(folder)/trace'}}
              - {id: slow, dependencies: [first], inputs: {command: 'echo $$ > \(folder)/pgid; if [ "$NOVACRON_ATTEMPT" = 1 ]; then sleep 300; fi; echo slow >> \(folder)/trace'}}
              - {id: last, dependencies: [slow], inputs: {command: 'echo last >> \(folder)/trace'}}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let running = try CLI.Running(["run", file, "--db", db])
        running.read { $0.contains("step slow started") }
        kill(running.process.processIdentifier, SIGKILL)
        _ = running.finish()
        let id = try #require(running.executionID)
        let resumed = try CLI.run("executions", "resume", id, "--db", db)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("step slow started (attempt 2)"))
        #expect(try String(contentsOfFile: folder + "/trace", encoding: .utf8) == "first\nslow\nlast\n")
        let show = try CLI.run("executions", "show", id, "--db", db)
        #expect(show.stdout.contains("resumable  completed"))
    }

    @Test("kill -9 of novacron run in the middle of 'sleep 3; echo x >> file', resumed at once: the killed attempt's processes are gone and the file gets one line, not two")
    func killedStepDoesNotRunTwice() throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        let file = folder + "/w.yaml"
        // The first attempt tells the test its process group through a FIFO once it runs, so the
        // kill lands in the middle of the step, not before it started.
        let fifo = folder + "/running"
        #expect(mkfifo(fifo, 0o600) == 0)
        try """
            name: once
            steps:
              - {id: append, inputs: {command: 'if [ "$NOVACRON_ATTEMPT" = 1 ]; then echo $$ > \(fifo); fi; sleep 3; echo x >> \(folder)/file'}}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let running = try CLI.Running(["run", file, "--db", db])
        let reader = try #require(FileHandle(forReadingAtPath: fifo))  // opens once the step does
        let pgid = try #require(Int32(String(decoding: reader.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(running.process.processIdentifier, SIGKILL)
        _ = running.finish()
        let id = try #require(running.executionID)
        let resumed = try CLI.run("executions", "resume", id, "--db", db)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("step append started (attempt 2)"))
        #expect(try String(contentsOfFile: folder + "/file", encoding: .utf8) == "x\n")
        // The killed attempt's group did not outlive its novacron.
        #expect(kill(-pgid, 0) != 0, "process group \(pgid) still runs")
    }
}

@Suite("novacron export and sync")
struct ExportCLITests {
    @Test("export writes the document to stdout or --out; what a target cannot express exits 2 with every problem")
    func export() throws {
        let argo = try CLI.run("export", "Examples/hello.yaml", "--target", "argo")
        #expect(argo.status == 0, "\(argo.stderr)")
        #expect(argo.stdout.hasPrefix("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n"))
        let folder = try CLI.temporaryFolder()
        let out = folder + "/hello.yaml"
        let written = try CLI.run("export", "Examples/hello.yaml", "--target", "argo", "--argo-template", "--out", out)
        #expect(written.status == 0)
        #expect(written.stdout.isEmpty)
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("kind: WorkflowTemplate"))
        let aws = try CLI.run("export", "Examples/hello.yaml", "--target", "aws")
        #expect(aws.status == 2)
        #expect(aws.stdout.isEmpty)
        #expect(aws.stderr == """
            Examples/hello.yaml: cannot export to AWS Step Functions: 2 problems
              step 'greet': a task step runs a shell command on the machine running NovaCron, which AWS Step Functions cannot do; make it a container, api or lambda step
              step 'show': a task step runs a shell command on the machine running NovaCron, which AWS Step Functions cannot do; make it a container, api or lambda step

            """)
    }

    @Test("sync without credentials says which variable to set and exits 1")
    func syncWithoutCredentials() throws {
        let file = try CLI.temporaryFolder() + "/fn.yaml"
        try "name: fn\nsteps:\n  - {id: call, type: lambda, inputs: {function_name: f}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        var environment = CLI.environment
        for key in environment.keys where key.hasPrefix("AWS_") { environment[key] = nil }
        environment["HOME"] = try CLI.temporaryFolder()
        let run = try CLI.run(["sync", file, "--provider", "aws"], environment: environment)
        #expect(run.status == 1)
        #expect(run.stderr == "novacron: aws: no AWS region: set AWS_REGION (e.g. eu-west-1)\n")
        environment["AWS_REGION"] = "eu-west-1"
        let keys = try CLI.run(["sync", file, "--provider", "aws"], environment: environment)
        #expect(keys.stderr.hasPrefix("novacron: aws: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put profile 'default' in "))
        environment["AWS_REGION"] = "europe"
        let region = try CLI.run(["sync", file, "--provider", "aws"], environment: environment)
        #expect(region.stderr == "novacron: aws: 'europe' is not an AWS region name like eu-west-1\n")
        // Several providers (the guide's SyncWorkflow with a list): every export comes first, so one
        // a target cannot express stops all of them before anything is deployed…
        let first = try CLI.run(["sync", file, "--provider", "aws,gcp"], environment: environment)
        #expect(first.status == 2)
        #expect(first.stderr.contains("cannot export to GCP Workflows") && !first.stderr.contains("novacron: aws:"), "\(first.stderr)")
        // …then each provider is tried and reported in order; one failing does not stop the next.
        let hook = try CLI.temporaryFolder() + "/hook.yaml"
        try "name: hook\nsteps:\n  - {id: call, type: api, inputs: {url: 'https://example.com/hook', method: POST}, timeout: 30s}\n".write(toFile: hook, atomically: true, encoding: .utf8)
        for key in environment.keys where key.hasPrefix("AZURE_") || key.hasPrefix("GOOGLE_") || key.hasPrefix("CLOUDSDK_") { environment[key] = nil }
        environment["AWS_REGION"] = "eu-west-1"
        let several = try CLI.run(["sync", hook, "--provider", "aws,azure", "--provider", "gcp,aws", "--aws-connection-arn", "arn:aws:events:eu-west-1:123456789012:connection/x/y"], environment: environment)
        #expect(several.status == 1)
        let lines = several.stderr.split(separator: "\n").map { $0.prefix(while: { $0 != ":" }) + ":" + $0.dropFirst("novacron: ".count).prefix(while: { $0 != ":" }) }
        #expect(lines == ["novacron:aws", "novacron:azure", "novacron:gcp"], "\(several.stderr)")
        let unknown = try CLI.run(["sync", file, "--provider", "aws,oracle"], environment: environment)
        #expect(unknown.status == 64 && unknown.stderr.contains("unknown provider 'oracle'; expected aws, azure or gcp"), "\(unknown.status) \(unknown.stderr)")
    }
}

@Suite("novacron export --learned")
struct ExportLearnedCLITests {
    @Test("the parallelism lost to waves is reported with the durations learned from past runs")
    func learned() throws {
        let folder = try CLI.temporaryFolder()
        let file = folder + "/n.yaml"
        // The N shape: d waits for a and b, c for a only. Not series-parallel, so AWS runs it in two waves.
        try """
            name: n-shape
            steps:
              - {id: a, type: wait, action: sleep, inputs: {duration: 2ms}}
              - {id: b, type: wait, action: sleep, inputs: {duration: 50ms}}
              - {id: c, type: wait, action: sleep, inputs: {duration: 50ms}, dependencies: [a]}
              - {id: d, type: wait, action: sleep, inputs: {duration: 2ms}, dependencies: [a, b]}
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let db = folder + "/runs.db"
        let before = try CLI.run("export", file, "--target", "aws", "--learned", "--db", db)
        #expect(before.status == 0)
        #expect(before.stderr.hasPrefix("warning: nothing learned yet about 'n-shape' in \(db) (a step needs 10 executions); using the estimates\n"), "\(before.stderr)")
        for _ in 0..<10 {
            let run = try CLI.run("run", file, "--db", db)
            try #require(run.status == 0, "\(run.stderr)")
        }
        let estimated = try CLI.run("export", file, "--target", "aws")
        #expect(estimated.stderr.contains("estimated 2s as a DAG, 2s in waves"), "\(estimated.stderr)")
        let learned = try CLI.run("export", file, "--target", "aws", "--learned", "--db", db)
        #expect(learned.status == 0, "\(learned.stderr)")
        // About 52 ms as a DAG (a then c, or b then d) and 100 ms in waves (b, then c).
        let numbers = learned.stderr.split(separator: "estimated ").last.map { text in
            text.split(separator: " ").compactMap { word -> Double? in
                let w = word.trimmingCharacters(in: CharacterSet(charactersIn: ","))
                if w.hasSuffix("ms") { return Double(w.dropLast(2)).map { $0 / 1000 } }
                if w.hasSuffix("s") { return Double(w.dropLast()) }
                return nil
            }
        } ?? []
        try #require(numbers.count == 2, "\(learned.stderr)")
        #expect(numbers[0] >= 0.05 && numbers[0] < 0.5)
        #expect(numbers[1] > numbers[0] * 1.5)
    }
}
