import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Signal store conformance")
struct SignalStoreConformanceTests {
    @Test("signals are kept per execution in send order, read after a sequence number, and go with their execution", arguments: StoreKind.allCases)
    func signals(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createExecution(sampleRecord("e1"))
        try await store.createExecution(sampleRecord("e2"))
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let first = try await store.addSignal(
            ExecutionSignal(executionID: "e1", kind: .signal, name: "ci-finished", payload: ["build": 7], sender: "ci", sentAt: t))
        _ = try await store.addSignal(ExecutionSignal(executionID: "e2", kind: .approve, name: "gate", payload: .null, sender: "bob", sentAt: t))
        let second = try await store.addSignal(
            ExecutionSignal(
                executionID: "e1", kind: .reject, name: "gate", payload: ["comment": "no"], sender: "alice", sentAt: t.addingTimeInterval(1)))
        #expect(first.seq > 0 && second.seq > first.seq)
        let all = try await store.signals(executionID: "e1", after: 0)
        #expect(all == [first, second])
        #expect(all.map(\.payload) == [["build": 7], ["comment": "no"]])
        #expect(try await store.signals(executionID: "e1", after: first.seq) == [second])
        #expect(try await store.signals(executionID: "e3", after: 0).isEmpty)
        // Pruned with their execution.
        var ended = sampleRecord("e1", status: .completed)
        ended.execution.finishedAt = t
        try await store.updateExecution(ended)
        _ = try await store.prune(endedBefore: t.addingTimeInterval(10))
        #expect(try await store.signals(executionID: "e1", after: 0).isEmpty)
    }

    @Test("a callback is kept by its digest, works once and not after it expires, and goes with its execution", arguments: StoreKind.allCases)
    func callbacks(kind: StoreKind) async throws {
        let store = try await kind.make()
        try await store.createExecution(sampleRecord("e1"))
        let t = Date(timeIntervalSince1970: 1_800_000_000)
        let gate = CallbackToken(
            digest: "aa", executionID: "e1", stepID: "gate", signal: nil, createdAt: t, expiresAt: t.addingTimeInterval(60), mintedBy: "alice")
        let ci = CallbackToken(
            digest: "bb", executionID: "e1", stepID: "ci", signal: "ci-finished", createdAt: t, expiresAt: t.addingTimeInterval(60))
        try await store.addCallback(gate)
        try await store.addCallback(ci)
        #expect(try await store.callback(digest: "aa") == gate)
        #expect(try await store.callback(digest: "bb")?.signal == "ci-finished")
        #expect(try await store.callback(digest: "cc") == nil)
        let decision = ExecutionSignal(executionID: "e1", kind: .approve, name: "gate", sender: "callback (minted by alice)", sentAt: t)
        #expect(try await store.useCallback(digest: "aa", now: t.addingTimeInterval(1), sending: decision))
        #expect(try await store.useCallback(digest: "aa", now: t.addingTimeInterval(2), sending: decision) == false, "once only")
        #expect(try await store.signals(executionID: "e1", after: 0).map(\.sender) == ["callback (minted by alice)"], "saved with the use, once")
        #expect(try await store.callback(digest: "aa")?.usedAt == t.addingTimeInterval(1))
        #expect(try await store.useCallback(digest: "bb", now: t.addingTimeInterval(60), sending: nil) == false, "expired")
        #expect(try await store.useCallback(digest: "cc", now: t, sending: nil) == false)
        var ended = sampleRecord("e1", status: .completed)
        ended.execution.finishedAt = t
        try await store.updateExecution(ended)
        _ = try await store.prune(endedBefore: t.addingTimeInterval(10))
        #expect(try await store.callback(digest: "bb") == nil)
    }
}
