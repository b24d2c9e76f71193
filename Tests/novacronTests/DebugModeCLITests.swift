import Foundation
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// `novacron run --debug` and `--break-at`: the guide's debug mode, typed at a real binary.
@Suite("novacron run --debug")
struct DebugModeCLITests {
    /// Three steps; b reads a's output, c a secret. Each leaves a file behind when it runs.
    static func workflow(in folder: String) throws -> String {
        let file = folder + "/w.yaml"
        try """
        name: stepped
        steps:
          - {id: a, inputs: {command: 'touch \(folder)/a; echo out=hello >> "$NOVACRON_OUTPUT"'}}
          - {id: b, dependencies: [a], inputs: {command: 'touch \(folder)/b; echo ${a.out}'}}
          - {id: c, dependencies: [b], inputs: {command: 'touch \(folder)/c; curl -H "Authorization: ${secrets.TOKEN}" x || true'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    static var environment: [String: String] {
        var env = CLI.environment
        env["NOVACRON_SECRET_TOKEN"] = "s3cr3t-token"
        return env
    }

    @Test("each step waits for Enter and shows its resolved inputs first; a secret shows as ***")
    func stepThrough() async throws {
        let folder = try CLI.temporaryFolder()
        let file = try Self.workflow(in: folder)
        let run = try await CLI.run(["run", file, "--debug"], environment: Self.environment, stdin: "\n\n\n")
        #expect(run.status == 0, "\(run.stderr)")
        for step in ["a", "b", "c"] { #expect(run.stderr.contains("paused before step \(step)")) }
        // b's command reads a's output through a variable, shown with its value.
        #expect(run.stderr.contains("$NOVACRON_REF_0 = hello"), "\(run.stderr)")
        #expect(run.stderr.contains("$NOVACRON_REF_0 = ***"), "\(run.stderr)")
        #expect(!run.stderr.contains("s3cr3t") && !run.stdout.contains("s3cr3t"))
        #expect(run.stdout.contains("stepped completed"), "\(run.stdout)")
    }

    @Test("--break-at runs the steps before it without stopping; q cancels before the step runs")
    func breakAtAndQuit() async throws {
        let folder = try CLI.temporaryFolder()
        let file = try Self.workflow(in: folder)
        let run = try await CLI.run(["run", file, "--break-at", "c"], environment: Self.environment, stdin: "q\n")
        #expect(run.status == 1)
        #expect(!run.stderr.contains("paused before step a") && !run.stderr.contains("paused before step b"))
        #expect(run.stderr.contains("paused before step c"))
        // a and b ran; c never started.
        #expect(FileManager.default.fileExists(atPath: folder + "/b"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/c"))
        #expect(run.stdout.contains("cancelled"), "\(run.stdout)")
        let unknown = try await CLI.run(["run", file, "--break-at", "cc"], environment: Self.environment)
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "error: --break-at cc: no such step in stepped; did you mean 'c'?\n")
    }

    @Test("c continues without stopping")
    func continueWithoutStopping() async throws {
        let folder = try CLI.temporaryFolder()
        let file = try Self.workflow(in: folder)
        let run = try await CLI.run(["run", file, "--debug"], environment: Self.environment, stdin: "c\n")
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("paused before step a") && !run.stderr.contains("paused before step b"))
        #expect(FileManager.default.fileExists(atPath: folder + "/c"))
    }
}

@Suite("novacron run --resume --debug")
struct ResumeDebugCLITests {
    @Test("a killed execution resumed with --debug pauses before the step it carries on, before that step runs again")
    func resumeInDebugMode() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db", file = folder + "/w.yaml", fifo = folder + "/running"
        #expect(mkfifo(fifo, 0o600) == 0)
        try """
        name: resumed
        steps:
          - {id: slow, inputs: {command: 'if [ "$NOVACRON_ATTEMPT" = 1 ]; then echo $$ > \(fifo); sleep 30; fi; echo done >> \(folder)/trace'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let running = try CLI.Running(["run", file, "--db", db])
        _ = try #require(try await CLI.readFIFO(fifo, thenKill: running.process.processIdentifier))
        _ = await running.ended()
        // From the store: the line naming it may not have been written before the kill.
        let listed = try await CLI.run(["executions", "list", "--db", db, "-o", "json"])
        let id = try #require((try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        let resumed = try await CLI.run(["run", "--resume", id, "--db", db, "--debug"], stdin: "\n")
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(resumed.stderr.contains("paused before step slow"), "\(resumed.stderr)")
        #expect(try String(contentsOfFile: folder + "/trace", encoding: .utf8) == "done\n")
    }
}
