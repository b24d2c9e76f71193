import Foundation
import Testing
#if canImport(Glibc)
    import Glibc
#endif

@Suite("novacron command line")
struct CLITests {
    @Test("validate: exit 0 for valid files, 2 with FILE:LINE:COL errors on stderr for invalid ones")
    func validate() async throws {
        let ok = try await CLI.run("validate", "Examples/hello.yaml", "Examples/data-pipeline.yaml")
        #expect(ok.status == 0)
        #expect(ok.stdout == "Examples/hello.yaml: valid (2 steps)\nExamples/data-pipeline.yaml: valid (5 steps)\n")

        let bad = try await CLI.run(
            "validate", "Examples/hello.yaml", "Tests/Fixtures/invalid/cycle.yaml", "Tests/Fixtures/invalid/bad-duration.yaml")
        #expect(bad.status == 2)
        #expect(
            bad.stderr == """
                Tests/Fixtures/invalid/cycle.yaml:7:20: error: steps[0].dependencies[0]: dependency cycle: a -> b -> c -> a; each step waits for the one before it
                Tests/Fixtures/invalid/bad-duration.yaml:7:16: error: steps[0].timeout: invalid duration '10 minutes': durations are written without spaces, e.g. '10m' or '1h30m'
                Tests/Fixtures/invalid/bad-duration.yaml:8:25: error: steps[0].estimatedDuration: invalid duration '5mins': unknown unit 'mins'; units are ns, us, ms, s, m, h, d
                2 of 3 files invalid

                """)
        let missing = try await CLI.run("validate", "no/such.yaml")
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("no/such.yaml:1:1: error: no such file\n"))
    }

    @Test("plan: the data pipeline's transforms run as one parallel stage, score 5/3")
    func planText() async throws {
        let result = try await CLI.run("plan", "Examples/data-pipeline.yaml")
        #expect(result.status == 0)
        #expect(result.stdout.contains("  2. transform-db1, transform-db2, transform-api   (parallel)\n"))
        #expect(result.stdout.contains("Estimated duration: 3s (serial 5s)\n"))
        #expect(result.stdout.contains("Optimization score: 1.67"))
        #expect(result.stdout.contains("Critical path: extract -> transform-db1 -> load (3s)"))
    }

    @Test("cron next prints fire times in the zone and in UTC, or JSON; bad input exits 2")
    func cronNext() async throws {
        let json = try await CLI.run(
            "cron", "next", "30 2 * * *", "--timezone", "America/New_York", "--from", "2026-03-07T12:00:00Z", "--count", "2", "--output", "json")
        #expect(json.status == 0)
        #expect(json.stdout == #"["2026-03-08T07:00:00Z","2026-03-09T06:30:00Z"]"# + "\n")
        let text = try await CLI.run("cron", "next", "@monthly", "--timezone", "Europe/Berlin", "--from", "2026-11-26T00:00:00Z", "--count", "2")
        #expect(text.stdout == "2026-12-01 00:00 GMT+1   2026-11-30T23:00:00Z\n2027-01-01 00:00 GMT+1   2026-12-31T23:00:00Z\n")
        let bad = try await CLI.run("cron", "next", "0 25 * * *")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("hour"))
        let zone = try await CLI.run("cron", "next", "* * * * *", "--timezone", "Mars/Olympus")
        #expect(zone.status == 2)
        #expect(zone.stderr.contains("unknown time zone 'Mars/Olympus'"))
        #expect(try await CLI.run("cron", "next", "0 0 30 2 *").stdout.contains("never fires"))
    }

    @Test("plan lists the next five fire times of each schedule")
    func planSchedules() async throws {
        let text = try await CLI.run("plan", "Examples/data-pipeline.yaml", "--from", "2026-11-26T10:00:00Z")
        #expect(text.stdout.contains("Schedules (next 5 fire times):\n  nightly: 0 2 * * * (UTC)\n    2026-11-27 02:00 GMT\n"))
        #expect(text.stdout.contains("    2026-12-01 02:00 GMT\n"))
        let json = try await CLI.run("plan", "Examples/data-pipeline.yaml", "--from", "2026-11-26T10:00:00Z", "-o", "json")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let schedules = object?["schedules"] as? [[String: Any]]
        #expect((schedules?.first?["next"] as? [String])?.first == "2026-11-27T02:00:00Z")
    }

    @Test("plan --output json|dot|mermaid, and warnings for steps without timeouts")
    func planFormats() async throws {
        let json = try await CLI.run("plan", "Examples/data-pipeline.yaml", "--output", "json")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["serialSeconds"] as? Double == 5)
        #expect(object?["estimatedSeconds"] as? Double == 3)
        #expect((object?["stages"] as? [[String: Any]])?[1]["parallel"] as? Bool == true)

        let dot = try await CLI.run("plan", "Examples/parallel-build.yaml", "-o", "dot")
        #expect(dot.stdout.hasPrefix("digraph \"parallel-build\" {"))
        #expect(dot.stdout.contains(#""prepare" -> "link" [style=dashed, label="redundant"];"#))
        let mermaid = try await CLI.run("plan", "Examples/data-pipeline.yaml", "-o", "mermaid")
        #expect(mermaid.stdout.hasPrefix("flowchart LR\n"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-notimeout-\(UUID()).yaml")
        try "name: nt\nsteps:\n  - id: a\n  - id: b\n    dependencies: [a]\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let warned = try await CLI.run("plan", file.path)
        #expect(warned.status == 0)
        #expect(
            warned.stdout.contains(
                "Warnings:\n  \(file.path):3:5: warning: steps[0]: 2 steps without a timeout: 'a', 'b'; nothing stops them if they hang"))

        let invalid = try await CLI.run("plan", "Tests/Fixtures/invalid/unknown-dependency.yaml")
        #expect(invalid.status == 2)
        #expect(
            invalid.stderr.contains("unknown-dependency.yaml:10:20: error: steps[1].dependencies[0]: unknown step 'biuld'; did you mean 'build'?"))
    }
}

@Suite("novacron run")
struct RunCommandTests {
    @Test("hello runs green: timestamped lines when piped, a summary, exit 0")
    func hello() async throws {
        let result = try await CLI.run("run", "Examples/hello.yaml", "--input", "who=NovaCron")
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasSuffix(" step greet started") && $0.first?.isNumber == true })
        #expect(lines.contains { $0.contains(" step show success in ") })
        #expect(lines.last?.hasPrefix("hello completed in ") == true)
        #expect(lines.last?.contains("2 succeeded, 0 failed, 0 skipped") == true)
    }

    @Test("--output json prints the final execution as one object")
    func json() async throws {
        let result = try await CLI.run("run", "Examples/hello.yaml", "--output", "json", "--input", "who=a 'quoted' $(world)")
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
    func inputsFile() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-inputs-\(UUID()).yaml")
        try "who: file\nunused: 1\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let fromFile = try await CLI.run("run", "Examples/hello.yaml", "--inputs-file", file.path, "-o", "json")
        #expect(fromFile.stdout.contains(#""greeting": "Hello, file!""#))
        let overridden = try await CLI.run("run", "Examples/hello.yaml", "--inputs-file", file.path, "--input", "who=flag", "-o", "json")
        #expect(overridden.stdout.contains(#""greeting": "Hello, flag!""#))
    }

    @Test(
        "every offline example runs as documented",
        arguments: [
            ("Examples/hello.yaml", Int32(0)), ("Examples/parallel-build.yaml", 0), ("Examples/flaky-retry.yaml", 0),
            ("Examples/rollback-demo.yaml", 1),
        ])
    func offlineExamples(file: String, status: Int32) async throws {
        let result = try await CLI.run("run", file, "--output", "json")
        #expect(result.status == status, "\(result.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["status"] as? String == (status == 0 ? "completed" : "failed"))
    }

    @Test("the rollback demo rolls back in reverse order and runs the alert step; exit 1")
    func rollbackDemo() async throws {
        let result = try await CLI.run("run", "Examples/rollback-demo.yaml")
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1).last.map(String.init) ?? "" }
        let order = lines.filter { $0.hasSuffix(" started") }
        #expect(
            order == [
                "step provision started", "step configure started", "step critical-step started", "step alert started",
                "step configure.rollback started", "step provision.rollback started",
            ])
        #expect(result.stdout.contains("rolled back: provision (success), configure (success)\nerror: step critical-step failed: exit code 3"))
    }

    @Test("flaky-retry recovers after two retries")
    func flaky() async throws {
        let result = try await CLI.run("run", "Examples/flaky-retry.yaml")
        #expect(result.status == 0)
        #expect(result.stdout.contains("step flaky failed: exit code 1; retrying in 200ms (attempt 2)"))
        #expect(result.stdout.contains("step flaky failed: exit code 1; retrying in 400ms (attempt 3)"))
        #expect(result.stdout.contains("2 retries"))
    }

    @Test("invalid files, inputs and missing secrets exit 2 with a clear message")
    func invalid() async throws {
        let file = try await CLI.run("run", "Tests/Fixtures/invalid/cycle.yaml")
        #expect(file.status == 2)
        #expect(file.stderr.contains("cycle.yaml:7:20: error: steps[0].dependencies[0]: dependency cycle"))
        let input = try await CLI.run("run", "Examples/hello.yaml", "--input", "novalue")
        #expect(input.status == 2)
        #expect(input.stderr == "error: --input 'novalue': expected NAME=VALUE\n")
        let secretFile = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-secret-\(UUID()).yaml")
        try "name: s\nsteps:\n  - {id: a, inputs: {command: 'echo ${secrets.API_TOKEN}'}}\n".write(to: secretFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: secretFile) }
        let secret = try await CLI.run("run", secretFile.path)
        #expect(secret.status == 2)
        #expect(secret.stderr == "error: workflow s needs secret API_TOKEN: set NOVACRON_SECRET_API_TOKEN or put it in a secrets file\n")
    }

    @Test("a step printing 1 GB runs in bounded memory")
    func hugeOutput() async throws {
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
        let result = try await CLI.run("run", file.path, "-o", "json", limitDataKiB: 384 * 1024)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""status": "completed""#))
    }

    @Test("Ctrl-C cancels the running step, rolls back and exits 1")
    func interrupt() async throws {
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
        await running.waitFor { $0.contains("step long started") }
        running.process.interrupt()
        #expect(await running.ended() == 1)
        let seen = running.seen
        #expect(seen.contains("step long cancelled"))
        #expect(seen.contains("step setup.rollback success"))
        #expect(seen.contains("interrupt cancelled in "))
        #expect(seen.contains("error: interrupted (Ctrl-C)"))
    }
}
