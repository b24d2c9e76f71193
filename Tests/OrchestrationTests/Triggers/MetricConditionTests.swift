import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Metric trigger conditions")
struct MetricConditionTests {
    static let trigger = WorkflowTrigger(
        id: "queue", type: .metric, source: "prometheus",
        conditions: ["query": "sum(queue_depth)", "operator": "gt", "threshold": 100, "duration": "2m", "interval": "30s"])

    @Test("fires once when the condition has held for the duration, and again only after it clears")
    func breaches() throws {
        let condition = try #require(MetricCondition(trigger: Self.trigger))
        #expect(condition.query == "sum(queue_depth)" && condition.interval == .seconds(30) && condition.duration == .seconds(120))
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        var state = MetricCondition.State()
        let at = { (s: Double) in t0.addingTimeInterval(s) }
        #expect(condition.observe([50], at: at(0), state: &state) == nil)
        #expect(condition.observe([150], at: at(30), state: &state) == nil)  // breach starts
        #expect(condition.observe([50, 180], at: at(90), state: &state) == nil)  // any series; 60 s so far
        #expect(condition.observe([170], at: at(150), state: &state) == 170)  // 120 s: fires
        #expect(condition.observe([300], at: at(180), state: &state) == nil)  // same breach: not again
        #expect(condition.observe([10], at: at(210), state: &state) == nil)  // clears: re-armed
        #expect(condition.observe([101], at: at(240), state: &state) == nil)
        #expect(condition.observe([101], at: at(360), state: &state) == 101)  // a new breach, held 120 s
    }

    @Test("operators by name or symbol; a blip shorter than the duration does not fire")
    func operators() throws {
        #expect(MetricCondition.Operator(text: "lte")?.holds(3, 3) == true)
        #expect(MetricCondition.Operator(text: "!=")?.holds(3, 3) == false)
        #expect(MetricCondition.Operator(text: "above") == nil)
        let condition = try #require(MetricCondition(trigger: Self.trigger))
        var state = MetricCondition.State()
        let t0 = Date(timeIntervalSince1970: 0)
        _ = condition.observe([500], at: t0, state: &state)
        _ = condition.observe([5], at: t0.addingTimeInterval(60), state: &state)
        #expect(condition.observe([500], at: t0.addingTimeInterval(130), state: &state) == nil)
        #expect(MetricCondition(trigger: WorkflowTrigger(id: "x", type: .schedule)) == nil)
    }
}
