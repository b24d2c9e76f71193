import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Live status of an execution another node runs, through the node a client asked.
@Suite("Live events across nodes", .serialized)
struct RemoteEventsCLITests {
    @Test("a node streams the events of an execution another node runs: the steps as they start and finish, then the end")
    func eventsFromAnotherNode() async throws {
        let url = try await TestPostgres.shared.database()
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let node = ["--database-url", url, "--lease-duration", "5s"]
        let (a, baseA) = try await CLI.serve(store: node, token: "t0k")
        a.drainInBackground()
        let (b, baseB) = try await CLI.serve(store: node, token: "t0k")
        b.drainInBackground()
        defer {
            for n in [a, b] {
                kill(n.process.processIdentifier, SIGKILL)
                n.process.waitUntilExit()
            }
        }
        // The first two steps wait for the test to say go, so what the client sees after its
        // snapshot does not depend on how fast it connected.
        let go1 = folder + "/go1", go2 = folder + "/go2"
        let yaml = """
            name: gated
            steps:
              - {id: one, inputs: {command: "while [ ! -f \(go1) ]; do sleep 0.05; done"}}
              - {id: gate, dependencies: [one], inputs: {command: "while [ ! -f \(go2) ]; do sleep 0.05; done"}}
              - {id: last, dependencies: [gate], inputs: {command: "true"}}
            """
        // Whatever happens to the test, the waiting steps end with it.
        defer {
            FileManager.default.createFile(atPath: go1, contents: Data())
            FileManager.default.createFile(atPath: go2, contents: Data())
        }
        _ = try await ClusterCLITests.callOffPool(baseA, "POST", "/api/v1/workflows", body: yaml, contentType: "application/yaml")
        let started = try await ClusterCLITests.callOffPool(baseA, "POST", "/api/v1/workflows/gated/executions", body: "{}")
        let id = try #require(started["id"] as? String)

        // A client of node B (which does not run it) follows the stream: event names and step ids, a line each.
        let follower = Process()
        follower.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        follower.arguments = [
            "python3", "-u", "-c",
            """
            import json, signal, sys, urllib.request
            signal.alarm(120)  # a stream that never ends fails the test instead of hanging it
            r = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer t0k"})
            event = None
            for raw in urllib.request.urlopen(r, timeout=60):
                line = raw.decode().rstrip("\\n")
                if line.startswith("event: "): event = line[7:]
                elif line.startswith("data: "):
                    data = json.loads(line[6:])
                    name = data.get("stepID") or (data.get("step") or {}).get("id") or (data.get("execution") or {}).get("status")
                    print(event, name or data.get("status") or "", flush=True)
            """,
            "\(baseB)/api/v1/executions/\(id)/events",
        ]
        let out = Pipe()
        follower.standardOutput = out
        try follower.run()
        defer { if follower.isRunning { follower.terminate() } }
        /// Reads the follower's lines until one is `line` or its output ends.
        @Sendable func read(until line: String) -> String {
            var text = ""
            while !text.split(separator: "\n").contains(Substring(line)) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            return text
        }
        var seen = try await CLI.offPool { read(until: "execution running") }
        #expect(seen.hasPrefix("execution running"), "the stream opens with the execution as it is: \(seen)")
        FileManager.default.createFile(atPath: go1, contents: Data())
        seen += try await CLI.offPool { read(until: "stepStarted gate") }
        #expect(seen.contains("stepStarted gate"), "\(seen)")
        #expect(!seen.contains("stepFinished gate"))
        FileManager.default.createFile(atPath: go2, contents: Data())
        seen += try await CLI.offPool { String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) }
        let lines = seen.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("execution") == true, "\(lines)")
        for expected in [
            "stepFinished one", "stepStarted gate", "stepFinished gate", "stepStarted last", "stepFinished last", "executionFinished completed",
        ] {
            #expect(lines.contains(expected), "\(expected) in \(lines)")
        }
        #expect(lines.last == "executionFinished completed", "\(lines)")
    }
}
