import Foundation
import Orchestration
import TestSupport
import Testing

/// `serve --retention`: what goes and what stays, the same in every store.
@Suite("Retention store conformance")
struct RetentionStoreConformanceTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func ended(_ id: String, at seconds: Double, status: ExecutionStatus = .completed) -> ExecutionRecord {
        var r = sampleRecord(id, status: status, at: seconds)
        if status.isTerminal { r.execution.finishedAt = t0.addingTimeInterval(seconds + 1) }
        return r
    }

    static func observation(_ id: String) -> ExecutionObservation {
        ExecutionObservation(executionID: id, workflowID: "w", version: "abc", status: .completed, startedAt: t0, seconds: 1, steps: [])
    }

    @Test(
        "old ended executions go, running and recent ones stay; read old events go, unread ones and the newest stay; observations go only once learned from and their execution is gone",
        arguments: StoreKind.allCases)
    func prunes(kind: StoreKind) async throws {
        let store = try await kind.make()
        let retention = Retention(age: .seconds(86_400))
        let now = Self.t0.addingTimeInterval(3 * 86_400)
        try await store.apply([
            .createExecution(Self.ended("old", at: 0)), .createExecution(Self.ended("unlearned", at: 10)),
            .createExecution(Self.ended("recent", at: 2.5 * 86_400)), .createExecution(Self.ended("running", at: 0, status: .running)),
        ])
        // Learned from: "old" (1) and "recent" (2); "unlearned" (3) is after the saved statistics.
        try await store.apply([
            .observation(Self.observation("old")), .observation(Self.observation("recent")), .observation(Self.observation("unlearned")),
        ])
        try await store.saveLearningSnapshot(workflowID: "w", Data(#"{"appliedSeq": 2, "window": 100}"#.utf8))
        _ = try await store.appendEvents(
            (0..<4).map { i in
                (type: "e\(i)", data: .null, source: "test", time: Self.t0.addingTimeInterval(i == 3 ? now.timeIntervalSince(Self.t0) : Double(i)))
            })
        try await store.saveCursor("consumer", 2)

        let report = try await retention.prune(store, now: now)
        #expect(report == Retention.Report(executions: 2, events: 2, observations: 1), "\(kind)")
        #expect(try await store.execution(id: "old") == nil)
        #expect(try await store.execution(id: "unlearned") == nil)
        #expect(try await store.execution(id: "recent") != nil)
        #expect(try await store.execution(id: "running") != nil)
        // Events 3 (old but unread) and 4 (new) stay; numbering goes on.
        #expect(try await store.events(after: 0, limit: 10).map(\.seq) == [3, 4])
        #expect(try await store.events(after: 3, limit: 10).map(\.seq) == [4])
        #expect(try await store.lastEventSeq() == 4)
        // What the learning engine reads after its statistics is all there.
        #expect(try await store.observations(workflowID: "w", after: 2, limit: 10).map(\.observation.executionID) == ["unlearned"])

        // Read to the end and long past: all but the newest event go, and the next is numbered after it.
        try await store.saveCursor("consumer", 4)
        let later = try await retention.prune(store, now: now.addingTimeInterval(30 * 86_400))
        #expect(later.events == 1 && later.executions == 1, "\(later)")
        #expect(try await store.events(after: 0, limit: 10).map(\.seq) == [4])
        #expect(try await store.appendEvents([(type: "next", data: .null, source: "test", time: now)]).map(\.seq) == [5])
        // Nothing left to prune: a pass deletes nothing.
        #expect(try await retention.prune(store, now: now.addingTimeInterval(30 * 86_400)).executions == 0)
    }
}
