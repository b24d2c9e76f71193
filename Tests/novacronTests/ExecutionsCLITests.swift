import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

@Suite("novacron executions")
struct ExecutionsCommandTests {
    @Test("retry reuses what succeeded; prune deletes what ended; cancel stops a running execution and rolls back")
    func retryPruneCancel() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        // Fails the first time (no marker yet), succeeds on retry.
        try """
        name: second-time
        steps:
          - {id: prepare, inputs: {command: 'echo prepared >> \(folder)/trace'}}
          - {id: flaky, dependencies: [prepare], inputs: {command: 'test -f \(folder)/marker || { touch \(folder)/marker; exit 1; }'}}
        """.write(toFile: folder + "/w.yaml", atomically: true, encoding: .utf8)
        let first = try await CLI.run("run", folder + "/w.yaml", "--db", db, "-o", "json")
        #expect(first.status == 1)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let retry = try await CLI.run("executions", "retry", id, "--db", db)
        #expect(retry.status == 0, "\(retry.stderr)")
        #expect(!retry.stdout.contains("step prepare started"))
        #expect(try String(contentsOfFile: folder + "/trace", encoding: .utf8) == "prepared\n")
        let again = try await CLI.run("executions", "retry", id, "--db", db)
        #expect(again.status == 0)

        let pruned = try await CLI.run("executions", "prune", "--older-than", "0s", "--db", db)
        #expect(pruned.stdout.hasPrefix("deleted 3 executions that ended before "))
        #expect(try await CLI.run("executions", "list", "--db", db).stdout == "no executions in \(db)\n")

        try """
        name: long
        steps:
          - {id: setup, inputs: {command: echo ready}, rollback: {type: task, inputs: {command: echo undone}}}
          - {id: wait, dependencies: [setup], inputs: {command: sleep 300}}
        """.write(toFile: folder + "/long.yaml", atomically: true, encoding: .utf8)
        let long = try CLI.Running(["run", folder + "/long.yaml", "--db", db, "--kill-grace", "1"])
        await long.waitFor { $0.contains("step wait started") }
        let running = try #require(long.executionID)
        let cancel = try await CLI.run("executions", "cancel", running, "--db", db)
        #expect(cancel.stdout.hasPrefix("asked process \(long.process.processIdentifier), which runs \(running), to cancel it"))
        #expect(await long.ended() == 1)
        #expect(long.seen.contains("step setup.rollback success"))
        #expect(try await CLI.run("executions", "show", running, "--db", db).stdout.contains("long  cancelled"))
    }

    @Test("a disk that fills up mid-run fails the execution clearly and leaves the file sound")
    func diskFull() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        #expect(try await CLI.run("run", "Examples/hello.yaml", "--db", db).status == 0)
        var yaml = "name: noisy\nsteps:\n"
        for i in 0..<10 { yaml += "  - {id: s\(i), inputs: {command: 'head -c 100000 /dev/zero | tr \"\\\\0\" x | fold -w 100'}}\n" }
        try yaml.write(toFile: folder + "/noisy.yaml", atomically: true, encoding: .utf8)
        // The file-size limit (ulimit -f, 512-byte blocks; SIGXFSZ ignored so writes fail with
        // EFBIG) stands in for a full disk: the log tails outgrow it after a few steps.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "trap '' XFSZ; ulimit -f 600 && exec \"$0\" run \"$1\" --db \"$2\"", CLI.binary.path, folder + "/noisy.yaml", db]
        process.environment = CLI.environment
        process.standardError = FileHandle.nullDevice
        let text = String(decoding: try await process.runForOutput(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(text.contains("error: the store failed: \(db): "), "\(text)")
        #expect(!text.contains("noisy completed"))
        // What was saved before is intact and the file is sound.
        let list = try await CLI.run("executions", "list", "--db", db)
        #expect(list.stdout.contains("hello     completed"))
        #expect(try await CrashTests.integrity(db: db) == "ok")
    }

    @Test("a read-only database is refused with a clear message")
    func readOnly() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        #expect(try await CLI.run("run", "Examples/hello.yaml", "--db", db).status == 0)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: db + suffix) }
        // Read-only for whoever runs novacron: the file's mode for an ordinary user; root ignores
        // modes, so as root novacron runs as 'nobody' (setpriv), for whom the file is read-only.
        try FileManager.default.setAttributes([.posixPermissions: 0o444], ofItemAtPath: db)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder)
        var arguments = ["run", "Examples/hello.yaml", "--db", db]
        if getuid() == 0 { arguments = ["--as-nobody"] + arguments }
        let result = try await CLI.run(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr == "error: \(db): the database is read-only; NovaCron needs to write to it\n")
    }

    @Test("events publish starts an event trigger's workflow; triggers list shows it fired; disable switches it off")
    func eventsAndTriggers() async throws {
        let folder = try CLI.temporaryFolder()
        let (server, url) = try await CLI.serve(db: folder + "/s.db", token: "t0k")
        defer { server.terminateWithoutWaiting() }
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
        register.arguments = [
            "curl", "-fsS", "-o", "/dev/null", "-H", "Authorization: Bearer t0k", "-H", "Content-Type: application/yaml", "--data-binary",
            "@" + workflow, url + "/api/v1/workflows",
        ]
        try register.run()
        await register.exited()
        #expect(register.terminationStatus == 0)
        let published = try await CLI.run(
            "events", "publish", "deployment.finished", "--data", #"{"service": "api"}"#, "--server", url, "--token", "t0k")
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains(#""type":"deployment.finished""#))
        let bad = try await CLI.run("events", "publish", "not a type", "--server", url, "--token", "t0k")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("must be dot-separated words"))
        // The trigger fires once its consumer reads the event; ask until the status says so
        // (bounded: a few reads at most on a quiet machine).
        var fired = ""
        for _ in 0..<200 where !fired.contains(#""fireCount":1"#) {
            fired = try await CLI.run("triggers", "list", "--output", "json", "--server", url, "--token", "t0k").stdout
        }
        #expect(fired.contains(#""fireCount":1"#))
        #expect(try await CLI.run("triggers", "list", "--server", url, "--token", "t0k").stdout.contains("on-event/deploys"))
        let events = try await CLI.run("events", "list", "--type", "execution.*", "--server", url, "--token", "t0k").stdout
        #expect(events.contains("execution.started"))
        let disabled = try await CLI.run("triggers", "disable", "on-event", "deploys", "--server", url, "--token", "t0k")
        #expect(disabled.stdout.contains(#""enabled":false"#))
        let missing = try await CLI.run("triggers", "disable", "on-event", "deploy", "--server", url, "--token", "t0k")
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("did you mean 'deploys'?"))
    }

    @Test("list, show, logs, retry and cancel work against a running server with --server and --token", arguments: ["sqlite", "postgres"])
    func remote(store kind: String) async throws {
        let (server, url) = try await CLI.serve(store: try await CLI.store(kind).options, token: "t0k")
        defer { server.terminateWithoutWaiting() }
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
        let id = String(decoding: try await python.runForOutput(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!id.isEmpty)
        let unauthorized = try await CLI.run("executions", "list", "--server", url)
        #expect(unauthorized.status == 2)
        #expect(unauthorized.stderr == "error: a bearer token is needed: Authorization: Bearer TOKEN\n")
        let show = try await CLI.run("executions", "show", id, "--server", url, "--token", "t0k")
        #expect(show.stdout.contains("rollback-demo  failed"))
        #expect(show.stdout.contains("critical-step       failed   1"))
        #expect(try await CLI.run("executions", "list", "--server", url, "--token", "t0k").stdout.contains("\(id)  rollback-demo  failed"))
        #expect(
            try await CLI.run("executions", "logs", id, "--step", "alert", "--server", url, "--token", "t0k").stdout
                == "critical-step failed with exit code 3\n")
        #expect(try await CLI.run("executions", "retry", id, "--server", url, "--token", "t0k").stdout.hasPrefix("started "))
        let cancel = try await CLI.run("executions", "cancel", id, "--server", url, "--token", "t0k")
        #expect(cancel.status == 2)
        #expect(cancel.stderr == "error: execution \(id) already failed\n")
    }

    @Test("several processes starting on a new database at once all run", arguments: ["sqlite", "postgres"])
    func concurrentFirstOpen(store kind: String) async throws {
        let store = try await CLI.store(kind).options
        let processes = try (0..<12).map { _ -> Process in
            let p = Process()
            p.executableURL = CLI.binary
            p.arguments = ["run", "Examples/hello.yaml", "-o", "json"] + store
            p.currentDirectoryURL = CLI.root
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        for p in processes { await p.exited() }
        #expect(processes.map(\.terminationStatus) == Array(repeating: 0, count: 12))
        let list = try await CLI.running(["executions", "list", "-o", "json"] + store)
        #expect((try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [Any])?.count == 12)
    }

    @Test("list, show and logs read what run saved", arguments: ["sqlite", "postgres"])
    func listShowLogs(store kind: String) async throws {
        let (store, location) = try await CLI.store(kind)
        let run = try await CLI.running(["run", "Examples/rollback-demo.yaml", "-o", "json"] + store)
        #expect(run.status == 1)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let list = try await CLI.running(["executions", "list"] + store)
        #expect(list.status == 0)
        #expect(list.stdout.contains("\(id)  rollback-demo  failed"))
        let show = try await CLI.running(["executions", "show", id] + store)
        #expect(show.stdout.contains("error: step critical-step failed: exit code 3"))
        #expect(show.stdout.contains("configure.rollback  success  1"))
        #expect(show.stdout.contains("critical-step       failed   1"))
        let logs = try await CLI.running(["executions", "logs", id, "--step", "alert"] + store)
        #expect(logs.stdout == "critical-step failed with exit code 3\n")
        // On an ended execution, --follow prints every log once and returns.
        let followed = try await CLI.running(["executions", "logs", id, "--follow"] + store)
        #expect(followed.status == 0)
        #expect(followed.stdout.contains("==> critical-step (failed) <==\nmigration failed\n"))
        #expect(followed.stdout.contains("==> provision.rollback (success) <==\ndeprovisioned\n"))
        let missing = try await CLI.running(["executions", "show", "nope"] + store)
        #expect(missing.status == 2)
        #expect(missing.stderr == "error: no execution 'nope' in \(location)\n")
        let done = try await CLI.running(["executions", "resume", id] + store)
        #expect(done.status == 2)
        #expect(done.stderr == "error: execution \(id) already failed; nothing to resume\n")
    }

    @Test("a PostgreSQL database that cannot be used is said at once and plainly, without its password")
    func unusableDatabase() async throws {
        let unreachable = try await CLI.run("executions", "list", "--database-url", "postgres://novacron:hunter2@127.0.0.1:1/novacron")
        #expect(unreachable.status == 2)
        #expect(unreachable.stderr.hasPrefix("error: postgres://novacron:***@127.0.0.1:1/novacron: cannot connect: the database is unreachable"))
        #expect(!unreachable.stderr.contains("hunter2"))
        let url = try await TestPostgres.shared.database()
        let missing = try await CLI.run("executions", "list", "--database-url", url.replacingOccurrences(of: "/t", with: "/missing_t"))
        #expect(missing.stderr.contains("cannot connect: database \"missing_t"))
        let malformed = try await CLI.run("run", "Examples/hello.yaml", "--database-url", "mysql://x@y/z")
        #expect(malformed.status == 2)
        #expect(malformed.stderr == "error: the database URL must look like postgres://user:password@host:5432/database\n")
        let both = try await CLI.run("executions", "list", "--database-url", url, "--db", "/tmp/x.db")
        #expect(both.status == 64)
        #expect(both.stderr.contains("--database-url excludes --db"))
    }

    @Test("an execution whose process was killed with SIGKILL is carried on by resume, without re-running what finished")
    func resumeAfterKill() async throws {
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
        await running.waitFor { $0.contains("step slow started") }
        kill(running.process.processIdentifier, SIGKILL)
        _ = await running.ended()
        // From the store: the line naming it may not have been written before the kill.
        let listed = try await CLI.run(["executions", "list", "--db", db, "-o", "json"])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let resumed = try await CLI.run("executions", "resume", id, "--db", db)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("step slow started (attempt 2)"))
        #expect(try String(contentsOfFile: folder + "/trace", encoding: .utf8) == "first\nslow\nlast\n")
        let show = try await CLI.run("executions", "show", id, "--db", db)
        #expect(show.stdout.contains("resumable  completed"))
    }

    @Test(
        "kill -9 of novacron run in the middle of 'sleep 3; echo x >> file', resumed at once: the killed attempt's processes are gone and the file gets one line, not two"
    )
    func killedStepDoesNotRunTwice() async throws {
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
        // Opens once the step does; novacron is killed as soon as the step wrote.
        let written = try #require(try await CLI.readFIFO(fifo, thenKill: running.process.processIdentifier))
        let pgid = try #require(Int32(written.trimmingCharacters(in: .whitespacesAndNewlines)))
        _ = await running.ended()
        // From the store: the line naming it may not have been written before the kill.
        let listed = try await CLI.run(["executions", "list", "--db", db, "-o", "json"])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let resumed = try await CLI.run("executions", "resume", id, "--db", db)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("step append started (attempt 2)"))
        #expect(try String(contentsOfFile: folder + "/file", encoding: .utf8) == "x\n")
        // The killed attempt's group did not outlive its novacron.
        #expect(kill(-pgid, 0) != 0, "process group \(pgid) still runs")
    }
}
