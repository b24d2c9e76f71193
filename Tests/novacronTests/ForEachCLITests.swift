import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// forEach through the real binary and a real store: items as their own results, attempts and
/// logs; and SIGKILL in the middle of a fan: no finished item runs again.
@Suite("forEach with the novacron binary", .serialized)
struct ForEachCLITests {
    @Test("each item runs once with its value; show, logs and JSON report the items", arguments: ["sqlite", "postgres"])
    func itemsEndToEnd(kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, _) = try await CLI.store(kind)
        let file = folder + "/fan.yaml"
        try """
        name: fan
        steps:
          - id: list
            inputs: {command: 'echo "{\\"files\\": [\\"a.txt\\", \\"b.txt\\", \\"c.txt\\"]}" > "$NOVACRON_OUTPUT"'}
          - id: convert
            forEach: ${list.files}
            maxConcurrency: 2
            toleratedFailures: 1
            inputs: {command: 'echo "converting ${item} as item ${itemIndex}"; test ${item} != b.txt && echo "{\\"pdf\\": \\"${item}.pdf\\"}" > "$NOVACRON_OUTPUT"'}
          - id: report
            inputs: {command: 'echo "${convert.itemCount} items, ${convert.failedItems} failed: ${convert.results}"'}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let run = try await CLI.running(["run", file, "-o", "json"] + store)
        #expect(run.status == 0, "\(run.stdout) \(run.stderr)")
        let execution = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let id = try #require(execution["id"] as? String)
        let steps = try #require(execution["steps"] as? [[String: Any]])
        #expect(steps.map { $0["id"] as? String } == ["list", "convert", "report"], "items are not steps")
        let convert = steps[1]
        #expect(convert["status"] as? String == "success")
        #expect(convert["itemCount"] as? Int == 3)
        let counts = try #require(convert["items"] as? [String: Int])
        #expect(counts == ["total": 3, "pending": 0, "running": 0, "succeeded": 2, "failed": 1, "cancelled": 0])

        let show = try await CLI.running(["executions", "show", id] + store)
        #expect(show.stdout.contains("3 items: 2 succeeded, 1 failed"), "\(show.stdout)")
        let logs = try await CLI.running(["executions", "logs", id, "--step", "convert[1]"] + store)
        #expect(logs.stdout.contains("converting b.txt as item 1"), "\(logs.stdout) \(logs.stderr)")
        let report = try await CLI.running(["executions", "logs", id, "--step", "report"] + store)
        #expect(
            report.stdout.contains(#"3 items, 1 failed: [{"pdf":"a.txt.pdf"},{"error":"exit code 1","status":"failed"},{"pdf":"c.txt.pdf"}]"#),
            "\(report.stdout)")
    }

    @Test("SIGKILL during a fan, again and again: every execution completes and no finished item runs again", arguments: ["sqlite", "postgres"])
    func killDuringFan(kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, _) = try await CLI.store(kind)
        func query(_ sql: String) async throws -> String {
            if kind == "postgres" { return try await TestPostgres.psql(store[1], sql) }
            return try await CrashTests.sqlite(store[1], sql)
        }
        let file = folder + "/fan.yaml", trace = folder + "/trace"
        let line = "echo \"$NOVACRON_EXECUTION_ID $NOVACRON_STEP_ID $NOVACRON_ATTEMPT\" >> \(trace)"
        try """
        name: fan
        variables: {n: [\((0..<24).map(String.init).joined(separator: ", "))]}
        steps:
          - id: fan
            forEach: ${n}
            maxConcurrency: 3
            inputs: {command: 'sleep 0.02; \(line)'}
          - {id: after, dependencies: [fan], inputs: {command: '\(line)'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        var kills = 0, completed = 0, rounds = 0
        while (kills < 8 || completed < 2) && rounds < 60 {
            rounds += 1
            let listed = try await CLI.running(["executions", "list", "--status", "running", "-o", "json"] + store)
            let unfinished =
                (try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])?.compactMap { $0["id"] as? String } ?? []
            let arguments = (unfinished.first.map { ["executions", "resume", $0] } ?? ["run", file]) + store
            // A random moment once the fan has started: before, between and during its items.
            let delay = UInt32.random(in: 0...300_000, using: &rng)
            let killed = try await CLI.offPool { () -> Bool in
                let running = try CLI.Running(arguments)
                let reached = running.read { $0.contains("step fan started") || $0.contains("execution") && $0.contains(" completed") }
                usleep(delay)
                if reached { kill(running.process.processIdentifier, SIGKILL) }
                _ = running.finish()
                return running.process.terminationReason == .uncaughtSignal
            }
            if killed { kills += 1 } else { completed += 1 }
        }
        #expect(kills >= 8, "seed \(seed)")
        let left = try await CLI.running(["executions", "list", "--status", "running", "-o", "json"] + store)
        for id in (try JSONSerialization.jsonObject(with: Data(left.stdout.utf8)) as? [[String: Any]])?.compactMap({ $0["id"] as? String }) ?? [] {
            #expect(try await CLI.running(["executions", "resume", id] + store).status == 0)
        }
        let all = try await CLI.running(["executions", "list", "--limit", "1000", "-o", "json"] + store)
        let executions = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(executions.allSatisfy { $0["status"] as? String == "completed" }, "seed \(seed)")
        var count: [String: Int] = [:]
        for l in try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n") { count[String(l), default: 0] += 1 }
        #expect(count.values.allSatisfy { $0 == 1 }, "an attempt ran twice (seed \(seed)): \(count.filter { $0.value > 1 })")
        for execution in executions {
            let id = try #require(execution["id"] as? String)
            let show = try await CLI.running(["executions", "show", id, "-o", "json"] + store)
            let steps = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
            let fan = try #require(steps.first)
            #expect(fan["itemCount"] as? Int == 24, "seed \(seed)")
            #expect((fan["items"] as? [String: Int])?["succeeded"] == 24, "seed \(seed): \(fan)")
        }
        // Every line in the trace is an attempt the store knows: the one that succeeded, or one in
        // flight at a kill, recorded as interrupted; and each item succeeded exactly once.
        let rows = try await query(CrashTests.attemptStatusesSQL(postgres: kind == "postgres"))
        let statuses = Dictionary(
            uniqueKeysWithValues: rows.split(separator: "\n").map { $0.split(separator: "|").map(String.init) }.map { ($0[0], $0[1]) })
        for l in count.keys {
            #expect(statuses[l] == "succeeded" || statuses[l] == "interrupted", "\(l): \(statuses[l] ?? "not recorded") (seed \(seed))")
        }
        var succeeded: [String: Int] = [:]
        for (key, status) in statuses where status == "succeeded" {
            succeeded[String(key.split(separator: " ").dropLast().joined(separator: " ")), default: 0] += 1
        }
        #expect(succeeded.count == executions.count * 25, "seed \(seed)")
        #expect(succeeded.values.allSatisfy { $0 == 1 }, "an item or step succeeded twice (seed \(seed))")
    }
}
