import Foundation
import Orchestration
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Stopping `novacron serve` the way an operator does: SIGTERM drains (running steps get the
/// grace), and a second SIGTERM, or Ctrl-C, during the drain hands back what still runs at once.
@Suite("novacron serve: SIGTERM, then SIGTERM again")
struct ServeDrainCLITests {
    @Test(
        "a second SIGTERM during the drain ends it at once: the server exits 0, the step's processes are gone, and the execution is carried on from the store",
        arguments: [SIGTERM, SIGINT])
    func secondSignal(_ second: Int32) async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        let workflow = folder + "/slow.yaml"
        try """
        name: slow
        steps:
          - {id: wait, inputs: {command: "echo $$ > \(folder)/pid; exec sleep 600"}}
        """.write(toFile: workflow, atomically: true, encoding: .utf8)
        // A grace far longer than the test: only the second signal can end the drain.
        let (server, base) = try await CLI.serve(store: ["--db", db, "--drain-grace", "10m"], token: "t0k")
        let start = Process()
        start.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        start.arguments = [
            "python3", "-c",
            """
            import sys, urllib.request
            def call(path, body, kind):
                r = urllib.request.Request(sys.argv[1] + path, data=body, method="POST",
                    headers={"Authorization": "Bearer t0k", "Content-Type": kind})
                return urllib.request.urlopen(r, timeout=30).read()
            call("/api/v1/workflows", open(sys.argv[2], "rb").read(), "application/yaml")
            call("/api/v1/workflows/slow/executions", b"{}", "application/json")
            """,
            base, workflow,
        ]
        _ = try await start.runForOutput()
        #expect(start.terminationStatus == 0)
        let pidFile = folder + "/pid"
        let stepPID = try #require(
            await OwnThread.run { () -> Int32? in
                for _ in 0..<3000 {
                    if let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
                        let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
                    {
                        return pid
                    }
                    usleep(10_000)
                }
                return nil
            }, "the step never started")

        kill(server.process.processIdentifier, SIGTERM)
        // Draining: the step runs on, and would for the whole grace. (A signal sent before the
        // first was taken would merge with it: Unix does not queue them.)
        #expect(await server.waitFor { $0.contains("draining: nothing new starts") })
        #expect(Self.alive(stepPID))
        kill(server.process.processIdentifier, second)
        #expect(await server.ended() == 0)
        #expect(server.seen.contains("again while draining: handing back what still runs now"), "\(server.seen)")
        #expect(!Self.alive(stepPID), "the step's process outlived the server")
        // Handed back, not ended: the next process carries it on.
        let listed = try await CLI.run(["executions", "list", "--db", db, "-o", "json"])
        let status = (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.first?["status"] as? String
        #expect(status == "running", "\(listed.stdout)")
    }

    /// Whether `pid` runs (a zombie waiting for a reaper does not).
    static func alive(_ pid: Int32) -> Bool {
        guard kill(pid, 0) == 0, let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return false }
        return !(stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") ?? false)
    }
}
