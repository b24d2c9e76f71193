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

    static func callOffPool(_ base: String, _ method: String, _ path: String, body: String? = nil, contentType: String = "application/json")
        async throws -> [String: Any]
    {
        let text = try await CLI.offPool { () -> String in
            let answer = try call(base, method, path, body: body, contentType: contentType)
            return String(decoding: try JSONSerialization.data(withJSONObject: answer), as: UTF8.self)
        }
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
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
        func startNode() async throws {
            let started = try await CLI.serve(store: node, token: "t0k")
            started.0.drainInBackground()
            nodes.append((started.0, started.1))
        }
        defer {
            for n in nodes {
                kill(n.running.process.processIdentifier, SIGKILL)
                n.running.process.waitUntilExit()
            }
        }
        for _ in 0..<3 { try await startNode() }

        // A chain of ten steps, each appending "execution step attempt" to the trace, then working a while.
        let steps = 10
        let line = "echo \\\"$NOVACRON_EXECUTION_ID $NOVACRON_STEP_ID $NOVACRON_ATTEMPT\\\" >> \(trace); sleep 0.5"
        var yaml = "name: chaos\nsteps:\n  - {id: s0, inputs: {command: \"\(line)\"}}\n"
        for i in 1..<steps { yaml += "  - {id: s\(i), dependencies: [s\(i - 1)], inputs: {command: \"\(line)\"}}\n" }
        _ = try await Self.callOffPool(nodes[0].url, "POST", "/api/v1/workflows", body: yaml, contentType: "application/yaml")
        // Twelve executions, started on the three nodes in turn by one client.
        let starter = """
            import json, sys, urllib.request
            for i in range(12):
                r = urllib.request.Request(sys.argv[1 + i % 3] + "/api/v1/workflows/chaos/executions", data=b"", method="POST",
                    headers={"Authorization": "Bearer t0k", "Content-Type": "application/json"})
                print(json.load(urllib.request.urlopen(r, timeout=30))["id"])
            """
        let bases = nodes.map(\.url)
        let started = try await ExternalTool.run(["python3", "-c", starter] + bases)
        let ids = started.output.split(separator: "\n").map(String.init)
        #expect(started.status == 0 && ids.count == 12, "\(started.output)")

        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        func traced() -> Int { ((try? String(contentsOfFile: trace, encoding: .utf8)) ?? "").reduce(0) { $1 == "\n" ? $0 + 1 : $0 } }
        for round in 0..<4 {
            // A random moment while steps run: after 3 to 12 more of them started.
            let target = min(traced() + Int.random(in: 3...12, using: &rng), ids.count * steps)
            for _ in 0..<1500 where traced() < target { try await Task.sleep(for: .milliseconds(20)) }
            let victim = nodes.remove(at: Int.random(in: 0..<nodes.count, using: &rng))
            kill(victim.running.process.processIdentifier, SIGKILL)
            try await CLI.offPool { victim.running.process.waitUntilExit() }
            if round == 1 { try await postgres.restart() }
            try await startNode()
        }

        // Every execution ends: polled from the database (the nodes' leases run out in a second).
        var records: [[String: Any]] = []
        for _ in 0..<600 {
            let list = try await CLI.running(["executions", "list", "--limit", "100", "-o", "json"] + ["--database-url", url])
            records = (try? JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]]) ?? []
            if records.count == ids.count, records.allSatisfy({ ["completed", "failed", "cancelled"].contains($0["status"] as? String) }) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(records.count == ids.count, "seed \(seed)")
        let unfinished = records.filter { $0["status"] as? String != "completed" }.map {
            "\($0["id"] ?? "") \($0["status"] ?? ""): \($0["error"] ?? "")"
        }
        if !unfinished.isEmpty {
            // Who holds what, for the one reading the failure.
            let leases = try? await TestPostgres.psql(
                url,
                """
                SELECT e.id, e.status, e.owner_node, e.lease_epoch, round((e.lease_expires_at - extract(epoch from clock_timestamp()))::numeric, 2),
                    n.pid, round((extract(epoch from clock_timestamp()) - n.heartbeat_at)::numeric, 2)
                FROM execution e LEFT JOIN node n ON n.id = e.owner_node WHERE e.status NOT IN ('completed')
                """)
            let live = nodes.map { "\($0.running.process.processIdentifier)" }.joined(separator: " ")
            Issue.record(
                "seed \(seed): \(unfinished)\nlive node pids: \(live)\n(id|status|owner|epoch|lease left s|owner pid|heartbeat age s)\n\(leases ?? "")"
            )
            // And what the live nodes logged.
            for n in nodes {
                kill(n.running.process.processIdentifier, SIGKILL)
                let log = try await CLI.offPool { n.running.drainedOutput() }
                Issue.record("node \(n.running.process.processIdentifier) logged:\n\(log.split(separator: "\n").suffix(80).joined(separator: "\n"))")
            }
        }

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
            for step in 0..<steps {
                // The attempt that succeeded wrote its line once; no later attempt ran after it.
                let succeeded = statuses.filter { $0.key.hasPrefix("\(id) s\(step) ") && $0.value == "succeeded" }
                #expect(succeeded.count == 1, "\(id) s\(step): \(succeeded) (seed \(seed))")
                if let attempt = succeeded.keys.first { #expect(count[attempt] == 1, "\(attempt) (seed \(seed))") }
            }
        }
    }

    @Test("cluster status lists the nodes, what they hold and whether they are live; a run leaves when done; a node killed shows as gone")
    func status() async throws {
        let url = try await TestPostgres.shared.database()
        let (server, base) = try await CLI.serve(store: ["--database-url", url, "--lease-duration", "1s"], token: "t0k")
        server.drainInBackground()
        defer {
            kill(server.process.processIdentifier, SIGKILL)
            server.process.waitUntilExit()
        }
        #expect(!base.isEmpty)
        #expect(try await CLI.running(["run", "Examples/hello.yaml", "--database-url", url]).status == 0)
        func nodes() async throws -> [[String: Any]] {
            let status = try await CLI.running(["cluster", "status", "--database-url", url, "-o", "json"])
            return try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["nodes"] as? [[String: Any]])
        }
        let live = try await nodes()
        #expect(live.map { $0["role"] as? String } == ["serve"], "the run left: \(live)")
        #expect(live.first?["live"] as? Bool == true)
        #expect(live.first?["pid"] as? Int == Int(server.process.processIdentifier))
        let text = try await CLI.running(["cluster", "status", "--database-url", url])
        #expect(text.stdout.contains("serve") && text.stdout.contains("executions waiting for a node: 0"))

        kill(server.process.processIdentifier, SIGKILL)
        try await CLI.offPool { server.process.waitUntilExit() }
        var gone = false
        for _ in 0..<100 where !gone {
            gone = try await nodes().first?["live"] as? Bool == false
            if !gone { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(gone, "a killed node shows as not live once its lease has run out")
        let sqlite = try await CLI.running(["cluster", "status", "--db", "/tmp/none.db"])
        #expect(sqlite.status == 2)
        #expect(sqlite.stderr.contains("give --database-url"))
    }
}
