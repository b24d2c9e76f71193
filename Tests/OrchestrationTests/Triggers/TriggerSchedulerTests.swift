import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Schedule triggers on the manual clock")
struct TriggerSchedulerTests {
    static func workflow(schedule: String = "*/15 * * * *", extra: String = "") -> String {
        """
        name: tick
        triggers:
          - id: every15
            type: schedule
            schedule: "\(schedule)"
            inputs: {scheduled: "${trigger.scheduledAt}", missed: "${trigger.missedTicks}"}
        \(extra)
        steps:
          - {id: work, timeout: 1m}
        """
    }

    static let epoch = try! Date("2026-11-26T10:07:00Z", strategy: .iso8601)

    /// An engine and a running scheduler whose wall clock is `start` plus the manual clock's time.
    func withScheduler(
        _ definition: String, start: Date = epoch, store: any Store = InMemoryStore(),
        _ body: @Sendable (WorkflowEngine, TriggerScheduler, ManualClock) async throws -> Void
    ) async throws {
        let clock = ManualClock()
        let executor = ScriptedExecutor()
        try await withScriptedEngine(executor, clock: clock, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(definition))
            let scheduler = TriggerScheduler(
                engine: engine, store: store, time: TimeSource(clock, origin: start), seed: 7,
                maximumSleep: .seconds(3600))
            let running = Task { await scheduler.run() }
            do {
                try await body(engine, scheduler, clock)
            } catch {
                running.cancel()
                throw error
            }
            running.cancel()
            await running.value
        }
    }

    /// The `scheduled` input of every execution so far, oldest first, once there are `count`.
    func scheduledTimes(_ engine: WorkflowEngine, count: Int) async throws -> [String] {
        let events = engine.events()
        var executions = await engine.listExecutions(workflowID: "tick", limit: 1000)
        if executions.count < count {
            for await event in events {
                if case .executionStarted = event {
                    executions = await engine.listExecutions(workflowID: "tick", limit: 1000)
                    if executions.count >= count { break }
                }
            }
        }
        return executions.reversed().map { $0.inputs["scheduled"]?.text ?? "?" }
    }

    @Test("a schedule fires at each tick of the wall clock, with the tick as ${trigger.scheduledAt}")
    func fires() async throws {
        try await withScheduler(Self.workflow()) { engine, scheduler, clock in
            await clock.waitForSleepers(1)
            let status = await scheduler.status(workflowID: "tick")
            #expect(status.first?.nextFireAt?.formatted(.iso8601) == "2026-11-26T10:15:00Z")
            clock.advance(by: .seconds(8 * 60))
            #expect(try await scheduledTimes(engine, count: 1) == ["2026-11-26T10:15:00Z"])
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(15 * 60))
            #expect(try await scheduledTimes(engine, count: 2) == ["2026-11-26T10:15:00Z", "2026-11-26T10:30:00Z"])
            await clock.waitForSleepers(1)
            let after = try #require(await scheduler.status(workflowID: "tick").first)
            #expect(after.state.fireCount == 2)
            #expect(after.nextFireAt?.formatted(.iso8601) == "2026-11-26T10:45:00Z")
            #expect(after.state.lastFiredAt?.formatted(.iso8601) == "2026-11-26T10:30:00Z")
        }
    }

    @Test(
        "ticks missed while down are handled by the policy",
        arguments: [
            ("skip", [String]()),
            ("one", ["2026-11-26T11:15:00Z"]),
            ("all", ["2026-11-26T10:30:00Z", "2026-11-26T10:45:00Z", "2026-11-26T11:00:00Z", "2026-11-26T11:15:00Z"]),
        ])
    func missedTicks(policy: String, expected: [String]) async throws {
        let store = InMemoryStore()
        // The last process handled the 10:15 tick; this one starts at 11:20.
        await store.saveTriggerState(
            TriggerState(workflowID: "tick", triggerID: "every15", lastTick: try Date("2026-11-26T10:15:00Z", strategy: .iso8601)))
        let start = try Date("2026-11-26T11:20:00Z", strategy: .iso8601)
        let definition = Self.workflow().replacingOccurrences(of: "    inputs:", with: "    missedTicks: \(policy)\n    inputs:")
        try await withScheduler(definition, start: start, store: store) { engine, scheduler, clock in
            await clock.waitForSleepers(1)  // catch-up is done before the first sleep
            let times = try await scheduledTimes(engine, count: expected.count)
            #expect(times == expected)
            if policy == "one" {
                #expect(await engine.listExecutions(workflowID: "tick", limit: 10).first?.inputs["missed"] == .number(4))
            }
            // And then on schedule again.
            clock.advance(by: .seconds(10 * 60))
            let later = try await scheduledTimes(engine, count: expected.count + 1)
            #expect(later.last == "2026-11-26T11:30:00Z")
        }
    }

    @Test("a disabled trigger does not fire; enabled again it counts from now; the switch is saved")
    func disable() async throws {
        let store = InMemoryStore()
        try await withScheduler(Self.workflow(), store: store) { engine, scheduler, clock in
            await clock.waitForSleepers(1)
            try await scheduler.setEnabled(workflowID: "tick", triggerID: "every15", false)
            #expect(await scheduler.status(workflowID: "tick").first?.enabled == false)
            #expect(await scheduler.status(workflowID: "tick").first?.nextFireAt == nil)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(30 * 60))  // 10:37: the 10:15 and 10:30 ticks pass
            await clock.waitForSleepers(1)
            #expect(await engine.listExecutions(workflowID: "tick", limit: 10).isEmpty)
            try await scheduler.setEnabled(workflowID: "tick", triggerID: "every15", true)
            await clock.waitForSleepers(1)
            clock.advance(by: .seconds(8 * 60))
            #expect(try await scheduledTimes(engine, count: 1) == ["2026-11-26T10:45:00Z"])
            await #expect(throws: EngineError.self) { try await scheduler.setEnabled(workflowID: "tick", triggerID: "every51", false) }
        }
        #expect(try await store.triggerStates(workflowID: "tick").first?.enabled == true)
    }

    @Test("jitter delays a tick by a random amount within the bound; ${trigger.scheduledAt} stays the tick")
    func jitter() async throws {
        let definition = Self.workflow().replacingOccurrences(of: "    inputs:", with: "    jitter: 5m\n    inputs:")
        try await withScheduler(definition) { engine, scheduler, clock in
            await clock.waitForSleepers(1)
            let tick = try Date("2026-11-26T10:15:00Z", strategy: .iso8601)
            let at = try #require(await scheduler.status(workflowID: "tick").first?.nextFireAt)
            #expect(at > tick && at < tick.addingTimeInterval(300))
            clock.advance(by: .seconds(Self.epoch.distance(to: at).rounded(.up)))
            #expect(try await scheduledTimes(engine, count: 1) == ["2026-11-26T10:15:00Z"])
        }
    }
}
