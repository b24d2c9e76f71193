import Foundation
import Orchestration
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// The wall clock jumping under a running scheduler (an NTP step, an administrator, a VM
/// resumed): an hour forward is an hour of missed ticks, handled by the trigger's `missedTicks`
/// policy; an hour back fires nothing twice.
@Suite("Schedule triggers when the wall clock jumps")
struct TriggerSchedulerClockJumpTests {
    static func date(_ text: String) throws -> Date { try Date("2026-11-26T\(text)Z", strategy: .iso8601) }

    @Test(
        "an hour forward: the missed ticks follow missedTicks, not a burst; an hour back: no tick fires twice, and the schedule carries on",
        arguments: [("skip", 0), ("one", 1), ("all", 60)])
    func jumps(policy: String, afterForward: Int) async throws {
        let wall = Mutex(try Self.date("10:00:30"))
        let time = TimeSource(clock: ManualClock(), now: { wall.withLock { $0 } })
        let definition = TriggerSchedulerTests.workflow(schedule: "* * * * *")
            .replacingOccurrences(of: "    inputs:", with: "    missedTicks: \(policy)\n    inputs:")
        try await withScriptedEngine(ScriptedExecutor()) { engine in
            try await engine.registerWorkflow(try workflowDocument(definition))
            let scheduler = TriggerScheduler(engine: engine, store: InMemoryStore(), time: time, seed: 7)
            func fired(at text: String) async throws -> [String] {
                wall.withLock { $0 = try! Self.date(text) }
                _ = await scheduler.fireDue()
                return await engine.listExecutions(workflowID: "tick", limit: 1000).reversed().map { $0.inputs["scheduled"]?.text ?? "?" }
            }
            #expect(try await fired(at: "10:00:30").isEmpty)  // counts from now
            #expect(try await fired(at: "10:01:00") == ["2026-11-26T10:01:00Z"])
            #expect(try await fired(at: "10:02:05").count == 2)

            // Forward an hour: 10:03 to 11:02 were missed.
            let forward = try await fired(at: "11:02:10")
            #expect(forward.count == 2 + afterForward, "\(forward.suffix(3))")
            if policy == "one" {
                #expect(forward.last == "2026-11-26T11:02:00Z")
                #expect(await engine.listExecutions(workflowID: "tick", limit: 1).first?.inputs["missed"] == .number(60))
            }
            if policy == "all" { #expect(forward.suffix(60).first == "2026-11-26T10:03:00Z" && forward.last == "2026-11-26T11:02:00Z") }
            #expect(try await fired(at: "11:03:00").last == "2026-11-26T11:03:00Z")
            let before = try await fired(at: "11:03:20")

            // Back an hour, then forward through the hour again: nothing fires until after 11:03.
            for moment in ["10:03:30", "10:04:00", "10:30:00", "11:02:59", "11:03:50"] {
                #expect(try await fired(at: moment) == before, "at \(moment)")
            }
            let after = try await fired(at: "11:04:00")
            #expect(after == before + ["2026-11-26T11:04:00Z"])
            #expect(Set(after).count == after.count, "a tick fired twice")
            let status = try #require(await scheduler.status(workflowID: "tick").first)
            #expect(status.nextFireAt == (try Self.date("11:05:00")))
        }
    }
}
