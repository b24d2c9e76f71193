import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Real `novacron worker` processes beside `novacron run` on one PostgreSQL database.
@Suite("novacron worker and step queues", .serialized)
struct WorkerCLITests {
    /// A worker serving `queues`, once it says it is serving them.
    static func worker(_ url: String, queues: [String], secret: String, environment: [String: String] = [:]) async throws -> CLI.Running {
        try await CLI.offPool {
            let w = try CLI.Running(
                ["worker", "--database-url", url, "--claim-duration", "3s"] + queues.flatMap { ["--queue", $0] },
                environment: environment.merging(["NOVACRON_SECRET_WHERE": secret]) { _, new in new })
            guard w.read(until: { $0.contains("serving") && $0.hasSuffix("\n") }) else {
                throw CLI.CLIError(message: "novacron worker did not start: \(w.seen)")
            }
            w.drainInBackground()
            return w
        }
    }

    /// Sends the worker `signal` and waits until it has exited.
    static func stop(_ process: CLI.Running, _ signal: Int32 = SIGTERM) async {
        kill(process.process.processIdentifier, signal)
        await process.process.exited()
    }

    static func lines(_ file: String) -> [String] {
        ((try? String(contentsOfFile: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test(
        "a step naming a queue runs on a worker serving it, with the worker's own secret; the others run where the execution runs; nothing stays queued"
    )
    func queuedStepRunsOnWorker() async throws {
        let url = try await TestPostgres.shared.database()
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let trace = folder + "/trace", file = folder + "/wf.yaml"
        let line = "echo \\\"$NOVACRON_STEP_ID ${secrets.WHERE}\\\" >> \(trace); echo said ${secrets.WHERE}"
        try """
        name: queued
        steps:
          - {id: prep, inputs: {command: "\(line)"}}
          - {id: train, queue: gpu, dependencies: [prep], inputs: {command: "\(line)"}}
          - {id: report, dependencies: [train], inputs: {command: "\(line)"}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let cpu = try await Self.worker(url, queues: ["cpu"], secret: "on-the-cpu-worker")
        let gpu = try await Self.worker(url, queues: ["gpu", "other"], secret: "on-the-gpu-worker")
        defer { for w in [cpu, gpu] { w.terminateWithoutWaiting() } }

        var env = CLI.environment
        env["NOVACRON_SECRET_WHERE"] = "on-the-owner"
        let result = try await CLI.running(["run", file, "--database-url", url], environment: env)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(Self.lines(trace) == ["prep on-the-owner", "train on-the-gpu-worker", "report on-the-owner"])
        #expect(try await TestPostgres.psql(url, "SELECT count(*) FROM step_task").trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // cluster status names the workers and the queues they serve.
        let status = try await CLI.running(["cluster", "status", "--database-url", url, "-o", "json"])
        let nodes = (try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["nodes"] as? [[String: Any]] ?? []
        let workers = nodes.filter { $0["role"] as? String == "worker" }.compactMap { $0["queues"] as? [String] }.sorted { $0.count < $1.count }
        #expect(workers == [["cpu"], ["gpu", "other"]], "\(status.stdout)")
        // The log kept for the step is the worker's, with the worker's secret redacted.
        let log = try await TestPostgres.psql(url, "SELECT log FROM step_result WHERE step_id = 'train'")
        #expect(log.contains("said ***") && !log.contains("on-the-gpu-worker"), "\(log)")
    }

    @Test(
        "a worker killed with SIGKILL mid-step: once its claim lapses another worker runs the step and the execution completes; a step on a queue nobody serves times out saying so"
    )
    func deadWorker() async throws {
        let url = try await TestPostgres.shared.database()
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let trace = folder + "/trace", file = folder + "/wf.yaml"
        try """
        name: long
        steps:
          - {id: train, queue: gpu, inputs: {command: "echo \\\"$NOVACRON_ATTEMPT $$\\\" >> \(trace); sleep 3"}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let first = try await Self.worker(url, queues: ["gpu"], secret: "w1")
        let run = try await CLI.offPool { try CLI.Running(["run", file, "--database-url", url]) }
        // Killed once the step has started on it.
        var waited = 0
        while Self.lines(trace).isEmpty, waited < 3000 {
            try await Task.sleep(for: .milliseconds(10))
            waited += 1
        }
        #expect(Self.lines(trace).count == 1)
        await Self.stop(first, SIGKILL)
        let second = try await Self.worker(url, queues: ["gpu"], secret: "w2")
        defer { second.terminateWithoutWaiting() }
        let status = try await CLI.offPool { run.finish() }
        #expect(status == 0, "\(run.seen)")
        let runs = Self.lines(trace)
        #expect(runs.count == 2, "\(runs)")
        #expect(runs.allSatisfy { $0.hasPrefix("1 ") })

        try """
        name: unserved
        steps:
          - {id: lonely, queue: nobody-serves-this, timeout: 1s, inputs: {command: "true"}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let unserved = try await CLI.offPool { try CLI.Running(["run", file, "--database-url", url]) }
        // While it waits, cluster status counts it in its queue.
        var depth = ""
        for _ in 0..<500 where !depth.contains("queue nobody-serves-this: 1 waiting, 0 running") {
            depth = try await CLI.running(["cluster", "status", "--database-url", url]).stdout
        }
        #expect(depth.contains("queue nobody-serves-this: 1 waiting, 0 running"), "\(depth)")
        #expect(try await CLI.offPool { unserved.finish() } != 0)
        #expect(unserved.seen.contains("before a worker serving queue 'nobody-serves-this' took it"), "\(unserved.seen)")
    }

    @Test("without PostgreSQL a step naming a queue fails saying what it needs; a bad queue name is refused where it is written")
    func needsACluster() async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/wf.yaml"
        try "name: q\nsteps:\n  - {id: a, queue: gpu, inputs: {command: \"true\"}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let result = try await CLI.running(["run", file, "--db", folder + "/db.sqlite"])
        #expect(result.status != 0)
        #expect((result.stdout + result.stderr).contains("only a store several nodes share has queues"))

        try "name: q\nsteps:\n  - id: a\n    queue: \"gpu pool\"\n    inputs: {command: \"true\"}\n".write(
            toFile: file, atomically: true, encoding: .utf8)
        let invalid = try await CLI.running(["validate", file])
        #expect(invalid.status != 0)
        #expect(invalid.stderr.contains("wf.yaml:4:") && invalid.stderr.contains("queue 'gpu pool' must be"), "\(invalid.stderr)")
        let flag = try await CLI.running(["worker", "--database-url", "postgres://x@127.0.0.1:1/x", "--queue", "a b"])
        #expect(flag.status != 0)
        #expect(flag.stderr.contains("--queue 'a b'"))
    }
}
