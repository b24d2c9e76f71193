import Foundation
import TestSupport
import Testing

/// Concurrency keys across processes: a second `novacron run` of a workflow whose key the first
/// holds waits, pending, and runs once the first ends.
@Suite("Concurrency keys with the novacron binary", .serialized)
struct ConcurrencyCLITests {
    @Test("a second run of the same key waits for the first to end, shows in `executions concurrency`, then runs", arguments: ["sqlite", "postgres"])
    func secondRunWaits(kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, _) = try await CLI.store(kind)
        let file = folder + "/deploy.yaml"
        try """
        name: deploy
        variables: {env: prod, hold: false}
        concurrency: {key: "deploy-${inputs.env}", onConflict: queue}
        steps:
          - {id: hold, type: wait, condition: "${inputs.hold} == true", timeout: 1h, inputs: {signal: go}}
          - {id: ship, dependencies: [hold], condition: "${hold.status} != 'failed'", inputs: {command: 'echo shipped to ${env}'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let first = try CLI.Running(["run", file, "--input", "hold=true"] + store)
        // A failed expectation below must not leave a run waiting forever.
        defer { if first.process.isRunning { first.process.terminate() } }
        #expect(await first.waitFor { $0.contains("waits for signal go") }, "\(first.seen)")
        let firstID = try #require(first.executionID)

        let second = try CLI.Running(["run", file] + store)
        defer { if second.process.isRunning { second.process.terminate() } }
        #expect(await second.waitFor { $0.contains("waits for its turn on concurrency key deploy-prod") }, "\(second.seen)")
        let secondID = try #require(second.executionID)
        let show = try await CLI.running(["executions", "show", secondID] + store)
        #expect(show.stdout.contains("pending") && show.stdout.contains("waiting for its turn on concurrency key deploy-prod"), "\(show.stdout)")
        let slots = try await CLI.running(["executions", "concurrency", "deploy-prod"] + store)
        let lines = slots.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3 && lines[1].hasPrefix(firstID) && lines[1].contains("holding"), "\(slots.stdout)")
        #expect(lines.count == 3 && lines[2].hasPrefix(secondID) && lines[2].contains("waiting"), "\(slots.stdout)")

        let go = try await CLI.running(["executions", "signal", firstID, "go"] + store)
        #expect(go.status == 0, "\(go.stderr)")
        #expect(await first.ended() == 0, "\(first.seen)")
        #expect(await second.ended() == 0, "\(second.seen)")
        #expect(second.seen.contains("step ship success"), "\(second.seen)")
        let done = try await CLI.running(["executions", "concurrency", "deploy-prod"] + store)
        #expect(done.stdout.contains("nobody holds or waits for concurrency key deploy-prod"), "\(done.stdout)")
        // The second started only after the first ended.
        func times(_ id: String) async throws -> (start: String, end: String) {
            let json = try await CLI.running(["executions", "show", id, "-o", "json"] + store)
            let o = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
            return (o["startedAt"] as? String ?? "", o["finishedAt"] as? String ?? "")
        }
        let (a, b) = (try await times(firstID), try await times(secondID))
        #expect(!a.end.isEmpty && b.start >= a.end, "first \(a), second \(b)")
    }
}
