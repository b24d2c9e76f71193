import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

/// The scheduler's saved trigger states are read once, at first use; what happens while that
/// read is slow (a busy store at start-up). Found in a full test run: a trigger disabled through
/// the API while the event-trigger service's first read was under way came back enabled.
@Suite("Trigger states read while the scheduler is in use")
struct TriggerStateLoadTests {
    /// Saved states whose read waits until the test lets it end.
    final class HeldReadStore: TriggerStore {
        let saved: [TriggerState]
        let reading = Doorbell(), release = Doorbell()
        init(saved: [TriggerState]) { self.saved = saved }
        func triggerStates(workflowID: String?) async throws -> [TriggerState] {
            reading.ring()
            await release.wait()
            return saved
        }
        func saveTriggerState(_ state: TriggerState) async throws {}
        func recordDelivery(source: String, id: String, at: Date) async throws -> Bool { true }
    }

    @Test("changes asked for during the first read wait for it: a trigger disabled meanwhile stays disabled, and what was saved is kept")
    func changesWaitForTheRead() async throws {
        // Saved before: the trigger was switched off, and its last error noted.
        let store = HeldReadStore(saved: [TriggerState(workflowID: "tick", triggerID: "every15", enabled: false, lastError: "earlier", fireCount: 3)])
        try await withScriptedEngine(ScriptedExecutor()) { engine in
            try await engine.registerWorkflow(try workflowDocument(TriggerSchedulerTests.workflow()))
            let scheduler = TriggerScheduler(engine: engine, store: store, seed: 7)
            // The first use starts the read (as the event-trigger service's does at start-up).
            let first = Task { await scheduler.enabledTriggers(.schedule) }
            await store.reading.wait()
            // Asked while the read is held: an error noted, then the trigger switched on and off.
            let changes = Task {
                await scheduler.recordError("tick", "every15", "now")
                try await scheduler.setEnabled(workflowID: "tick", triggerID: "every15", true)
                try await scheduler.setEnabled(workflowID: "tick", triggerID: "every15", false)
            }
            store.release.ring()
            _ = await first.value
            try await changes.value
            let status = try #require(await scheduler.status(workflowID: "tick").first)
            #expect(status.enabled == false)
            #expect(status.state.lastError == "now")
            #expect(status.state.fireCount == 3, "the saved count was lost: \(status.state)")
        }
    }
}
