import Foundation
import TestSupport
import Testing

/// `novacron backfill` against a real store: one execution per past tick, each with its tick.
@Suite("novacron backfill")
struct BackfillCLITests {
    @Test(
        "each tick in the range runs once with ${trigger.scheduledTime}; a second backfill skips them all; a dry run starts nothing; bad ranges exit 2",
        arguments: ["sqlite", "postgres"])
    func backfill(kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, _) = try await CLI.store(kind)
        let file = folder + "/report.yaml", ran = folder + "/ran"
        try """
        name: report
        triggers:
          - {id: hourly, type: schedule, schedule: "0 * * * *"}
        steps:
          - {id: stamp, inputs: {command: "echo ${trigger.scheduledTime} >> \(ran)"}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let range = ["--from", "2026-11-01T00:00:00Z", "--to", "2026-11-01T03:00:00Z"]

        let dry = try await CLI.running(["backfill", file] + range + ["--dry-run"] + store)
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains("4 ticks, 0 already run, 4 to run (dry run)"), "\(dry.stdout)")
        #expect(dry.stdout.contains("2026-11-01T03:00:00Z  would run"))
        #expect(!FileManager.default.fileExists(atPath: ran), "a dry run runs nothing")

        // Two at a time; the ticks 01:00 and 02:00 first, so the next run has some to skip.
        let first = try await CLI.running(["backfill", "report", "--from", "2026-11-01T01:00:00Z", "--to", "2026-11-01T02:00:00Z"] + store)
        #expect(first.status == 2, "report is not registered yet: \(first.stdout) \(first.stderr)")
        let partial = try await CLI.running(["backfill", file, "--from", "2026-11-01T01:00:00Z", "--to", "2026-11-01T02:00:00Z"] + store)
        #expect(partial.status == 0, "\(partial.stdout) \(partial.stderr)")
        let full = try await CLI.running(["backfill", "report"] + range + ["--max-parallel", "2", "-o", "json"] + store)
        #expect(full.status == 0, "\(full.stdout) \(full.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(full.stdout.utf8)) as? [String: Any])
        #expect(report["skipped"] as? [String] == ["2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z"])
        #expect(report["toRun"] as? [String] == ["2026-11-01T00:00:00Z", "2026-11-01T03:00:00Z"])
        let executions = try #require(report["executions"] as? [[String: Any]])
        #expect(executions.map { $0["status"] as? String } == ["completed", "completed"], "\(executions)")
        let lines = try String(contentsOfFile: ran, encoding: .utf8).split(separator: "\n").map(String.init).sorted()
        #expect(lines == ["2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z", "2026-11-01T03:00:00Z"], "each tick once")

        let again = try await CLI.running(["backfill", "report"] + range + store)
        #expect(again.status == 0)
        #expect(again.stdout.contains("4 ticks, 4 already run, 0 to run"), "\(again.stdout)")
        #expect(try String(contentsOfFile: ran, encoding: .utf8).split(separator: "\n").count == 4, "nothing ran twice")

        let reversed = try await CLI.running(["backfill", "report", "--from", "2026-11-02", "--to", "2026-11-01"] + store)
        #expect(reversed.status == 2 && reversed.stderr.contains("before it starts"), "\(reversed.stderr)")
        let garbled = try await CLI.running(["backfill", "report", "--from", "yesterday", "--to", "2026-11-01"] + store)
        #expect(garbled.status == 2 && garbled.stderr.contains("--from 'yesterday' is not a date"), "\(garbled.stderr)")
    }
}
