import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Concurrency store conformance")
struct ConcurrencyStoreConformanceTests {
    let t = Date(timeIntervalSince1970: 1_800_000_000)

    func ask(_ store: any Store, _ id: String, step: String = "", key: String = "deploy-prod", limit: Int = 1, queue: Bool = true, at s: Double = 0)
        async throws -> ConcurrencySlot?
    {
        let slots = try await store.acquireSlot(SlotRequest(key: key, executionID: id, stepID: step, limit: limit, queue: queue), now: t + s)
        return slots.first { $0.executionID == id && $0.stepID == step }
    }

    @Test("one holds the key, the rest queue in order and keep their place; a release lets the first in line take it", arguments: StoreKind.allCases)
    func queueInOrder(kind: StoreKind) async throws {
        let store = try await kind.make()
        for id in ["e1", "e2", "e3"] { try await store.createExecution(sampleRecord(id)) }
        #expect(try await ask(store, "e1")?.holding == true)
        let e2 = try #require(try await ask(store, "e2", at: 1))
        #expect(!e2.holding)
        #expect(try await ask(store, "e3", at: 2)?.holding == false)
        // Asking again keeps the place.
        #expect(try await ask(store, "e2", at: 3)?.seq == e2.seq)
        let slots = try await store.concurrencySlots(key: "deploy-prod")
        #expect(slots.map(\.executionID) == ["e1", "e2", "e3"])
        #expect(slots.map(\.holding) == [true, false, false])
        // The holder's end frees it; e3 asks first but e2 queued earlier and is alive.
        try await store.apply([.releaseSlots(executionID: "e1", stepID: nil)])
        #expect(try await ask(store, "e3", at: 4)?.holding == false)
        #expect(try await ask(store, "e2", at: 4)?.holding == true)
        #expect(try await ask(store, "e3", at: 5)?.holding == false)
        #expect(try await store.concurrencySlots(key: "other").isEmpty)
    }

    @Test(
        "a limit of 2 lets two hold; steps of one execution hold separately; a request that may not queue leaves nothing",
        arguments: StoreKind.allCases)
    func limitAndSteps(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createExecution(sampleRecord("e1"))
        #expect(try await ask(store, "e1", step: "a", limit: 2)?.holding == true)
        #expect(try await ask(store, "e1", step: "b", limit: 2)?.holding == true)
        #expect(try await ask(store, "e1", step: "c", limit: 2, queue: false) == nil)
        #expect(try await store.concurrencySlots(key: "deploy-prod").count == 2)
        try await store.apply([.releaseSlots(executionID: "e1", stepID: "a")])
        #expect(try await store.concurrencySlots(key: "deploy-prod").map(\.stepID) == ["b"])
        #expect(try await ask(store, "e1", step: "c", limit: 2, queue: false)?.holding == true)
    }

    @Test(
        "the slot of an execution that ended without releasing it is free; a waiter that stopped asking is passed over", arguments: StoreKind.allCases
    )
    func staleSlots(kind: StoreKind) async throws {
        let store = try await kind.make()
        for id in ["e1", "e2", "e3", "e4"] { try await store.createExecution(sampleRecord(id)) }
        #expect(try await ask(store, "e1")?.holding == true)
        #expect(try await ask(store, "e2", at: 1)?.holding == false)
        // e1 ends some other way (cancelled by a CLI while its process was dead).
        var ended = sampleRecord("e1", status: .cancelled)
        ended.execution.finishedAt = t
        try await store.updateExecution(ended)
        #expect(try await ask(store, "e2", at: 2)?.holding == true)
        #expect(try await ask(store, "e3", at: 3)?.holding == false)
        try await store.apply([.releaseSlots(executionID: "e2", stepID: nil)])
        // e3 stopped asking (its engine died) more than 30 s ago: e4 goes first. PostgreSQL reads
        // the database's clock instead (nodes' clocks differ): e3 asked a moment ago there.
        let latecomer = try await ask(store, "e4", at: 3 + ConcurrencySlot.staleAfter + 1)
        #expect(latecomer?.holding == (kind != .postgres))
        // Pruned with their execution.
        var e4 = sampleRecord("e4", status: .completed)
        e4.execution.finishedAt = t
        try await store.updateExecution(e4)
        _ = try await store.prune(endedBefore: t.addingTimeInterval(100))
        #expect(try await store.concurrencySlots(key: "deploy-prod").map(\.executionID) == ["e3"])
    }
}
