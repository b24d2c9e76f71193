import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Trigger store conformance")
struct TriggerStoreConformanceTests {
    @Test("a trigger's state is replaced whole and listed by workflow and trigger id", arguments: StoreKind.allCases)
    func states(kind: StoreKind) async throws {
        let store = try await kind.make()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        try await store.saveTriggerState(TriggerState(workflowID: "w2", triggerID: "nightly", enabled: false))
        try await store.saveTriggerState(TriggerState(workflowID: "w1", triggerID: "push", lastFiredAt: t, fireCount: 1))
        let fired = TriggerState(
            workflowID: "w1", triggerID: "cron", lastFiredAt: t, lastTick: t, lastError: "prometheus down", lastErrorAt: t, fireCount: 3)
        try await store.saveTriggerState(fired)
        #expect(try await store.triggerStates(workflowID: nil).map { "\($0.workflowID)/\($0.triggerID)" } == ["w1/cron", "w1/push", "w2/nightly"])
        #expect(try await store.triggerStates(workflowID: "w1").first == fired)
        // Saving again replaces, including fields set back to nil.
        let cleared = TriggerState(workflowID: "w1", triggerID: "cron", fireCount: 4)
        try await store.saveTriggerState(cleared)
        #expect(try await store.triggerStates(workflowID: "w1").first == cleared)
        #expect(try await store.triggerStates(workflowID: "none").isEmpty)
    }

    @Test("a delivery id is new once per source, and forgotten after 30 days", arguments: StoreKind.allCases)
    func deliveries(kind: StoreKind) async throws {
        let store = try await kind.make()
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try await store.recordDelivery(source: "github", id: "d1", at: t))
        #expect(try await !store.recordDelivery(source: "github", id: "d1", at: t.addingTimeInterval(60)))
        #expect(try await store.recordDelivery(source: "gitlab", id: "d1", at: t))
        #expect(try await store.recordDelivery(source: "github", id: "d1", at: t.addingTimeInterval(31 * 86_400)))
    }
}
