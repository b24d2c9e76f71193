import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Backfill plans")
struct BackfillTests {
    static let hourly = """
        name: report
        triggers:
          - {id: hourly, type: schedule, schedule: "0 * * * *"}
          - {id: manual, type: manual}
        steps:
          - {id: one, inputs: {command: "true"}}
        """

    func time(_ text: String) throws -> Date { try Date(text, strategy: .iso8601) }

    @Test("every tick from the start to the end, both included, oldest first, each with its scheduledTime and a key of its own")
    func ticks() throws {
        let workflow = try workflowDocument(Self.hourly).workflow
        let plan = try Backfill(workflow: workflow, triggerID: nil, from: time("2026-11-01T00:00:00Z"), to: time("2026-11-01T03:00:00Z"))
        #expect(plan.trigger.id == "hourly")
        #expect(plan.ticks.map(TimeText.format) == ["2026-11-01T00:00:00Z", "2026-11-01T01:00:00Z", "2026-11-01T02:00:00Z", "2026-11-01T03:00:00Z"])
        #expect(plan.payload(plan.ticks[1])["scheduledTime"] == "2026-11-01T01:00:00Z")
        #expect(Backfill.tick(of: plan.payload(plan.ticks[1])) == "2026-11-01T01:00:00Z")
        #expect(Set(plan.ticks.map(plan.key)).count == 4)
        // Between ticks: none.
        let empty = try Backfill(workflow: workflow, triggerID: "hourly", from: time("2026-11-01T00:10:00Z"), to: time("2026-11-01T00:50:00Z"))
        #expect(empty.ticks.isEmpty)
    }

    @Test("no schedule, an unknown or unnamed one among several, a range that ends first and one too long are refused saying so", .ownThread)
    func refused() throws {
        let start = try time("2026-11-01T00:00:00Z"), end = try time("2026-11-02T00:00:00Z")
        let manual = try workflowDocument("name: m\nsteps:\n  - {id: one, inputs: {command: \"true\"}}\n").workflow
        #expect(throws: EngineError(.invalidInput, "workflow m has no schedule trigger to backfill")) {
            try Backfill(workflow: manual, triggerID: nil, from: start, to: end)
        }
        let two = try workflowDocument(
            """
            name: two
            triggers:
              - {id: hourly, type: schedule, schedule: "0 * * * *"}
              - {id: nightly, type: schedule, schedule: "0 2 * * *"}
            steps:
              - {id: one, inputs: {command: "true"}}
            """
        ).workflow
        #expect(throws: EngineError(.invalidInput, "workflow two has 2 schedule triggers (hourly, nightly); say which with --trigger")) {
            try Backfill(workflow: two, triggerID: nil, from: start, to: end)
        }
        let hinted = #expect(throws: EngineError.self) { try Backfill(workflow: two, triggerID: "nighty", from: start, to: end) }
        #expect(hinted?.message.contains("no schedule trigger 'nighty'") == true && hinted?.message.contains("nightly") == true)
        #expect(try Backfill(workflow: two, triggerID: "nightly", from: start, to: end).ticks.map(TimeText.format) == ["2026-11-01T02:00:00Z"])
        let reversed = #expect(throws: EngineError.self) { try Backfill(workflow: two, triggerID: "hourly", from: end, to: start) }
        #expect(reversed?.message.contains("ends") == true)
        let everyMinute = try workflowDocument(
            "name: busy\ntriggers:\n  - {id: often, type: schedule, schedule: \"* * * * *\"}\nsteps:\n  - {id: one, inputs: {command: \"true\"}}\n"
        ).workflow
        let long = #expect(throws: EngineError.self) {
            try Backfill(workflow: everyMinute, triggerID: nil, from: start, to: start.addingTimeInterval(30 * 86_400))
        }
        #expect(long?.message.contains("more than 10000 ticks") == true)
    }
}
