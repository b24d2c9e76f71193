import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

@Suite("Crash safety", .serialized)
struct CrashTests {
    /// Starts `novacron` with `arguments`, reads its output until `kills` "started" events went
    /// by (or it ends), then kills it with SIGKILL. Returns whether it was killed.
    static func runAndKill(_ arguments: [String], afterStarts kills: Int) throws -> Bool {
        let running = try CLI.Running(arguments)
        let reached = running.read { $0.components(separatedBy: " started").count - 1 >= kills }
        if reached { kill(running.process.processIdentifier, SIGKILL) }
        _ = running.finish()
        return reached && running.process.terminationReason == .uncaughtSignal
    }

    @Test(
        "SIGKILL at random moments, 20+ times: every execution completes, no finished step runs twice, the store stays sound",
        arguments: ["sqlite", "postgres"])
    func killRepeatedly(store kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/crash.db", trace = folder + "/trace", file = folder + "/w.yaml"
        // The store's options for every command, and an independent reader of its tables.
        let url = kind == "postgres" ? try await TestPostgres.shared.database() : nil
        let store = url.map { ["--database-url", $0] } ?? ["--db", db]
        func query(_ sql: String) async throws -> String {
            if let url { return try await TestPostgres.psql(url, sql) }
            return try await Self.sqlite(db, sql)
        }
        // A diamond of 12 steps, each appending "execution step attempt" to the trace.
        var yaml = "name: crashy\nmaxParallelism: 3\nsteps:\n"
        let line = "echo \"$NOVACRON_EXECUTION_ID $NOVACRON_STEP_ID $NOVACRON_ATTEMPT\" >> \(trace)"
        yaml += "  - {id: s0, inputs: {command: '\(line)'}}\n"
        for i in 1...10 { yaml += "  - {id: s\(i), dependencies: [s\(i < 4 ? 0 : i - 3)], inputs: {command: '\(line)'}}\n" }
        yaml += "  - {id: s11, dependencies: [s8, s9, s10], inputs: {command: '\(line)'}}\n"
        try yaml.write(toFile: file, atomically: true, encoding: .utf8)

        // Seeded, and the seed is in every failure message: NOVACRON_PROPERTY_SEED replays a run.
        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        var kills = 0, completed = 0, rounds = 0
        while (kills < 20 || completed < 4) && rounds < 200 {
            rounds += 1
            let running = try await CLI.running(["executions", "list", "--status", "running", "-o", "json"] + store)
            let unfinished =
                (try JSONSerialization.jsonObject(with: Data(running.stdout.utf8)) as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            let arguments = (unfinished.first.map { ["executions", "resume", $0] } ?? ["run", file]) + store
            // Kill after 1–12 step starts: sometimes before the first finishes, sometimes late.
            let starts = Int.random(in: 1...12, using: &rng)
            if try await CLI.offPool({ try Self.runAndKill(arguments, afterStarts: starts) }) {
                kills += 1
            } else {
                completed += 1
            }
        }
        #expect(kills >= 20, "seed \(seed)")

        // Finish whatever the last kill left running.
        let left = try await CLI.running(["executions", "list", "--status", "running", "-o", "json"] + store)
        for id in (try JSONSerialization.jsonObject(with: Data(left.stdout.utf8)) as? [[String: Any]])?.compactMap({ $0["id"] as? String }) ?? [] {
            #expect(try await CLI.running(["executions", "resume", id] + store).status == 0)
        }

        let all = try await CLI.running(["executions", "list", "--limit", "1000", "-o", "json"] + store)
        let executions = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(executions.allSatisfy { $0["status"] as? String == "completed" }, "seed \(seed)")

        // Lines per (execution, step, attempt) in the trace.
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").map(String.init)
        var count: [String: Int] = [:]
        for l in lines { count[l, default: 0] += 1 }
        #expect(count.values.allSatisfy { $0 == 1 }, "an attempt ran twice (seed \(seed))")
        for execution in executions {
            let id = try #require(execution["id"] as? String)
            let show = try await CLI.running(["executions", "show", id, "-o", "json"] + store)
            let steps = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
            #expect(steps.count == 12)
            for step in steps {
                let stepID = try #require(step["id"] as? String)
                let attempts = try #require(step["attempts"] as? Int)
                // The attempt that succeeded wrote its line exactly once.
                #expect(count["\(id) \(stepID) \(attempts)"] == 1, "\(id) \(stepID) attempt \(attempts)")
            }
        }
        // Every line in the trace is an attempt the store knows: the one that succeeded, or one
        // in flight at a kill, recorded as interrupted. And no step failed.
        let statuses = Dictionary(
            uniqueKeysWithValues: try await query(Self.attemptStatusesSQL(postgres: url != nil))
                .split(separator: "\n").map { $0.split(separator: "|").map(String.init) }.map { ($0[0], $0[1]) })
        for l in lines {
            #expect(statuses[l] == "succeeded" || statuses[l] == "interrupted", "\(l): \(statuses[l] ?? "not recorded")")
        }
        #expect(Set(statuses.values).isSubset(of: ["succeeded", "interrupted"]), "\(Set(statuses.values))")
        #expect(statuses.values.contains("interrupted"))
        if url == nil { #expect(try await Self.integrity(db: db) == "ok") }
    }

    static func integrity(db: String) async throws -> String {
        try await sqlite(db, "PRAGMA integrity_check").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `execution step attempt|status`, one line per attempt, in each store's own tables (SQLite
    /// keeps attempts in their step's row).
    static func attemptStatusesSQL(postgres: Bool) -> String {
        postgres
            ? "SELECT execution_id || ' ' || step_id || ' ' || attempt || '|' || status FROM attempt"
            : "SELECT s.execution_id || ' ' || s.step_id || ' ' || a.key || '|' || json_extract(a.value, '$.status') FROM step_result s, json_each(s.attempts) a"
    }

    /// Reads the file with the python3 sqlite3 module: an independent reader.
    static func sqlite(_ db: String, _ sql: String) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c", "import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nfor r in c.execute(sys.argv[2]): print(r[0])", db, sql,
        ]
        return String(decoding: try await process.runForOutput(), as: UTF8.self)
    }
}
