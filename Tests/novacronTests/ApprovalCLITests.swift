import Foundation
import TestSupport
import Testing

/// Approvals and signals across processes: a `novacron run` waits; another `novacron` approves
/// or signals through the store; the run goes on within a second.
@Suite("Approvals and signals with the novacron binary", .serialized)
struct ApprovalCLITests {
    @Test(
        "a run waiting for approval and a signal goes on when another process approves and signals it; a step not waiting is refused",
        arguments: ["sqlite", "postgres"])
    func acrossProcesses(kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, _) = try await CLI.store(kind)
        let file = folder + "/release.yaml"
        try """
        name: release
        steps:
          - {id: gate, type: approval, timeout: 1h, inputs: {message: "Ship it?"}}
          - {id: ci, type: wait, dependencies: [gate], timeout: 1h, inputs: {signal: ci-finished}}
          - {id: ship, dependencies: [ci], inputs: {command: 'echo "shipping build ${ci.payload.build}, approved by ${gate.approvedBy}: ${gate.comment}"'}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let running = try CLI.Running(["run", file] + store)
        #expect(await running.waitFor { $0.contains("step gate started") }, "\(running.seen)")
        let id = try #require(running.executionID)

        // A single-use callback for the waiting step, printed once; none for a step that does not wait.
        let callback = try await CLI.running(["executions", "callback", id, "gate"] + store)
        #expect(callback.status == 0 && callback.stdout.contains("POST /api/v1/callbacks/ncb_"), "\(callback.stdout)\(callback.stderr)")
        let notWaiting = try await CLI.running(["executions", "callback", id, "ci"] + store)
        #expect(notWaiting.status == 2 && notWaiting.stderr.contains("is not waiting for a decision or a signal"), "\(notWaiting.stderr)")
        let early = try await CLI.running(["executions", "approve", id, "ci"] + store)
        #expect(early.status == 2 && early.stderr.contains("step ci of execution \(id) is not waiting for approval"), "\(early.stderr)")
        // The signal comes before its step waits: it is kept.
        let signal = try await CLI.running(["executions", "signal", id, "ci-finished", "--data", #"{"build": 1234}"#] + store)
        #expect(signal.status == 0, "\(signal.stderr)")
        let approve = try await CLI.running(["executions", "approve", id, "gate", "--comment", "canary ok"] + store)
        #expect(approve.status == 0, "\(approve.stderr)")
        #expect(await running.ended() == 0, "\(running.seen)")
        #expect(running.seen.contains("step ship success"), "\(running.seen)")
        let logs = try await CLI.running(["executions", "logs", id, "--step", "ship"] + store)
        #expect(logs.stdout.contains("shipping build 1234, approved by cli: canary ok"), "\(logs.stdout)")
        let show = try await CLI.running(["executions", "show", id, "-o", "json"] + store)
        let steps = try #require((try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])?["steps"] as? [[String: Any]])
        #expect((steps.first?["outputs"] as? [String: Any])?["approved"] as? Bool == true)
        let done = try await CLI.running(["executions", "signal", id, "late"] + store)
        #expect(done.status == 2 && done.stderr.contains("already completed"), "\(done.stderr)")
    }
}
