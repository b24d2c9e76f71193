import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Real `novacron serve` processes sharing one PostgreSQL database, killed with SIGKILL.
@Suite("A cluster of novacron serve processes", .serialized)
struct ClusterCLITests {
    /// One request to a node's API (Python's urllib: a client we did not write); the JSON answer.
    static func call(_ base: String, _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json") throws -> Any {
        let script = """
            import json, sys, urllib.request
            data = sys.argv[4].encode() if len(sys.argv) > 4 else None
            r = urllib.request.Request(sys.argv[1] + sys.argv[2], data=data, method=sys.argv[3],
                headers={"Authorization": "Bearer t0k", "Content-Type": sys.argv[5] if len(sys.argv) > 5 else "application/json"})
            print(urllib.request.urlopen(r, timeout=30).read().decode())
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, base, path, method] + (body.map { [$0, contentType] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLI.CLIError(message: "\(method) \(base)\(path) failed") }
        return try JSONSerialization.jsonObject(with: data)
    }

    @Test(
        "nodes killed with SIGKILL at random moments and PostgreSQL restarted once: every execution completes, no step that succeeded ran again, every side effect belongs to a recorded attempt"
    )
    func killNodes() async throws {
        let postgres = TestPostgres()  // restarted below: a server of its own
        let url = try await postgres.database()
        let folder = try CLI.temporaryFolder()
        let trace = folder + "/trace"
        let node = ["--database-url", url, "--lease-duration", "1s"]
        var nodes: [(running: CLI.Running, url: String)] = []
        func startNode() throws {
            let started = try CLI.serve(store: node, token: "t0k")
            started.0.drainInBackground()
            nodes.append((started.0, started.1))
        }
        defer {
            for n in nodes {
                kill(n.running.process.processIdentifier, SIGKILL)
                n.running.process.waitUntilExit()
            }
        }
        for _ in 0..<3 { try startNode() }

        // A chain of six steps, each appending "execution step attempt" to the trace, then working a while.
        let line = "echo \\\"$NOVACRON_EXECUTION_ID $NOVACRON_STEP_ID $NOVACRON_ATTEMPT\\\" >> \(trace); sleep 0.3"
        var yaml = "name: chaos\nsteps:\n  - {id: s0, inputs: {command: \"\(line)\"}}\n"
        for i in 1..<6 { yaml += "  - {id: s\(i), dependencies: [s\(i - 1)], inputs: {command: \"\(line)\"}}\n" }
        _ = try Self.call(nodes[0].url, "POST", "/api/v1/workflows", body: yaml, contentType: "application/yaml")
        var ids: [String] = []
        for i in 0..<9 {
            let started = try Self.call(nodes[i % nodes.count].url, "POST", "/api/v1/workflows/chaos/executions")
            ids.append(try #require((started as? [String: Any])?["id"] as? String))
        }

        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        for round in 0..<4 {
            // A random moment: what runs then is what the kill interrupts.
            usleep(UInt32.random(in: 200_000...900_000, using: &rng))
            let victim = nodes.remove(at: Int.random(in: 0..<nodes.count, using: &rng))
            kill(victim.running.process.processIdentifier, SIGKILL)
            victim.running.process.waitUntilExit()
            if round == 1 { try await postgres.restart() }
            try startNode()
        }

        // Every execution ends: polled from the database (the nodes' leases run out in a second).
        var records: [[String: Any]] = []
        for _ in 0..<600 {
            let list = try CLI.run(["executions", "list", "--limit", "100", "-o", "json"] + ["--database-url", url])
            records = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
            if records.count == ids.count, records.allSatisfy({ ["completed", "failed", "cancelled"].contains($0["status"] as? String) }) { break }
            usleep(200_000)
        }
        #expect(records.count == ids.count, "seed \(seed)")
        #expect(records.allSatisfy { $0["status"] as? String == "completed" }, "seed \(seed): \(records.map { $0["status"] ?? "" })")

        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        var count: [String: Int] = [:]
        for l in lines { count[l, default: 0] += 1 }
        #expect(count.values.allSatisfy { $0 == 1 }, "an attempt ran twice (seed \(seed))")
        let statuses = Dictionary(
            uniqueKeysWithValues: try await TestPostgres.psql(
                url, "SELECT execution_id || ' ' || step_id || ' ' || attempt || '|' || status FROM attempt"
            )
            .split(separator: "\n").map { $0.split(separator: "|").map(String.init) }.map { ($0[0], $0[1]) })
        for l in lines {
            #expect(statuses[l] == "succeeded" || statuses[l] == "interrupted", "\(l): \(statuses[l] ?? "not recorded") (seed \(seed))")
        }
        // The kills did land mid-step: some attempts were interrupted and run again elsewhere.
        #expect(statuses.values.contains("interrupted"), "seed \(seed)")
        for id in ids {
            for step in 0..<6 {
                // The attempt that succeeded wrote its line once; no later attempt ran after it.
                let succeeded = statuses.filter { $0.key.hasPrefix("\(id) s\(step) ") && $0.value == "succeeded" }
                #expect(succeeded.count == 1, "\(id) s\(step): \(succeeded) (seed \(seed))")
                if let attempt = succeeded.keys.first { #expect(count[attempt] == 1, "\(attempt) (seed \(seed))") }
            }
        }
    }
}
