import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Sub-workflows through the real binary and store: `run --with`, and SIGKILL while the child runs.
@Suite("Sub-workflows with the novacron binary", .serialized)
struct SubWorkflowCLITests {
    static func files(in folder: String, trace: String) throws -> (parent: String, child: String) {
        let child = folder + "/child.yaml", parent = folder + "/parent.yaml"
        let line = "echo \"$NOVACRON_EXECUTION_ID $NOVACRON_STEP_ID $NOVACRON_ATTEMPT\" >> \(trace)"
        try """
        name: build-image
        variables: {service: api}
        outputs: {image: "registry/${service}:${work.tag}"}
        steps:
          - id: work
            inputs: {command: 'sleep 0.3; \(line); echo "{\\"tag\\": \\"7\\"}" > "$NOVACRON_OUTPUT"'}
        """.write(toFile: child, atomically: true, encoding: .utf8)
        try """
        name: release
        steps:
          - {id: build, workflow: build-image, inputs: {service: payments}}
          - {id: deploy, inputs: {command: 'echo "deploying ${build.image}"'}}
        """.write(toFile: parent, atomically: true, encoding: .utf8)
        return (parent, child)
    }

    @Test(
        "SIGKILL while the child runs: resuming the parent carries the same child on, and no second child starts",
        arguments: ["sqlite", "postgres"])
    func killDuringChild(kind: String) async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (store, _) = try await CLI.store(kind)
        let trace = folder + "/trace"
        let (parent, child) = try Self.files(in: folder, trace: trace)
        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        for round in 0..<3 {
            let delay = UInt32.random(in: 0...450_000, using: &rng)
            let killed = try await CLI.offPool { () -> Bool in
                let running = try CLI.Running(["run", parent, "--with", child] + store)
                let reached = running.read { $0.contains("step build started") }
                usleep(delay)
                if reached { kill(running.process.processIdentifier, SIGKILL) }
                _ = running.finish()
                return running.process.terminationReason == .uncaughtSignal
            }
            let listed = try await CLI.running(["executions", "list", "--limit", "100", "-o", "json"] + store)
            let all = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
            let parents = all.filter { $0["workflowID"] as? String == "release" }
            let id = try #require(parents.first?["id"] as? String)
            if killed, parents.first?["status"] as? String == "running" {
                let resumed = try await CLI.running(["executions", "resume", id] + store)
                #expect(resumed.status == 0, "seed \(seed) round \(round): \(resumed.stdout) \(resumed.stderr)")
            }
            let show = try await CLI.running(["executions", "show", id, "-o", "json"] + store)
            let execution = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
            #expect(execution["status"] as? String == "completed", "seed \(seed) round \(round): \(execution)")
            let steps = try #require(execution["steps"] as? [[String: Any]])
            let childID = try #require(steps.first?["childExecutionID"] as? String)
            #expect((steps.first?["outputs"] as? [String: Any])?["image"] as? String == "registry/payments:7")
            let again = try await CLI.running(["executions", "list", "--limit", "100", "-o", "json"] + store)
            let children = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [[String: Any]])
                .filter { $0["workflowID"] as? String == "build-image" && ($0["parent"] as? [String: Any])?["executionID"] as? String == id }
            let childShow = try await CLI.running(["executions", "show", childID, "-o", "json"] + store)
            let childExecution = try #require(try JSONSerialization.jsonObject(with: Data(childShow.stdout.utf8)) as? [String: Any])
            #expect((childExecution["parent"] as? [String: Any])?["executionID"] as? String == id, "seed \(seed) round \(round)")
            #expect(childExecution["status"] as? String == "completed")
            // One child per parent: its work ran once per attempt of its own (a killed one again as the next).
            let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").filter { $0.contains(" work ") }
            let childIDs = Set(lines.map { $0.split(separator: " ")[0] })
            #expect(children.count == 1, "one child per parent (seed \(seed) round \(round)): \(children.map { $0["id"] ?? "" })")
            #expect(childIDs.isSuperset(of: [Substring(childID)]), "seed \(seed) round \(round)")
            var perAttempt: [Substring: Int] = [:]
            for l in lines { perAttempt[l, default: 0] += 1 }
            #expect(perAttempt.values.allSatisfy { $0 == 1 }, "an attempt ran twice (seed \(seed))")
            try? FileManager.default.removeItem(atPath: trace)
        }
    }
}
