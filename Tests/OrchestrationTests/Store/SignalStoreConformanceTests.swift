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
}
