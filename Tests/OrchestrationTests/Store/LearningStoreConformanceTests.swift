import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Learning store conformance")
struct LearningStoreConformanceTests {
    static func observation(_ id: String, workflow: String, seconds: Double = 1) -> ExecutionObservation {
        ExecutionObservation(
            executionID: id, workflowID: workflow, version: "abc", status: .completed, startedAt: Date(timeIntervalSince1970: 1_800_000_000),
            seconds: seconds,
            steps: [StepObservation(stepID: "a", status: .success, attempts: [AttemptObservation(outcome: .succeeded, seconds: seconds)])])
    }

    @Test("observations are numbered across workflows and read per workflow, after a number, in pages, or by number", arguments: StoreKind.allCases)
    func observations(kind: StoreKind) async throws {
        let store = try await kind.make()
        let written = [
            Self.observation("e1", workflow: "w"), Self.observation("e2", workflow: "v"), Self.observation("e3", workflow: "w", seconds: 3),
        ]
        try await store.apply(written.map { .observation($0) })
        #expect(try await store.observations(workflowID: "w", after: 0, limit: 10).map(\.seq) == [1, 3])
        #expect(try await store.observations(workflowID: "w", after: 0, limit: 10).map(\.observation) == [written[0], written[2]])
        #expect(try await store.observations(workflowID: "w", after: 1, limit: 10).map(\.seq) == [3])
        #expect(try await store.observations(workflowID: "w", after: 0, limit: 1).map(\.seq) == [1])
        #expect(try await store.observationIDs(workflowID: "w", after: 0).map(\.executionID) == ["e1", "e3"])
        #expect(try await store.observationIDs(workflowID: "v", after: 0).map(\.seq) == [2])
        #expect(try await store.observations(seqs: [3, 2, 99]).map(\.seq) == [2, 3])
        #expect(try await store.observations(seqs: []).isEmpty)
    }

    @Test("learned statistics are kept per workflow and replaced", arguments: StoreKind.allCases)
    func snapshots(kind: StoreKind) async throws {
        let store = try await kind.make()
        #expect(try await store.learningSnapshot(workflowID: "w") == nil)
        try await store.saveLearningSnapshot(workflowID: "w", Data(#"{"n":1}"#.utf8))
        try await store.saveLearningSnapshot(workflowID: "w", Data(#"{"n":2}"#.utf8))
        #expect(try await store.learningSnapshot(workflowID: "w") == Data(#"{"n":2}"#.utf8))
        #expect(try await store.learningSnapshot(workflowID: "v") == nil)
    }

    @Test("the optimization audit trail is per workflow, oldest first", arguments: StoreKind.allCases)
    func audit(kind: StoreKind) async throws {
        let store = try await kind.make()
        func record(_ workflow: String, _ action: OptimizationRecord.Action, _ after: String) -> OptimizationRecord {
            OptimizationRecord(
                workflowID: workflow, action: action, suggestionID: "s1", kind: .addRetries, by: "alice", reason: "flaky",
                confidence: 0.9, beforeVersion: "v1", afterVersion: after, patch: [JSONPatchOperation(.add, "/steps/0/retry", ["maxAttempts": 3])],
                evidence: ["failures": 4], at: Date(timeIntervalSince1970: 1_800_000_000))
        }
        let applied = record("w", .applied, "v2")
        let reverted = record("w", .reverted, "v1")
        try await store.appendOptimizationRecord(applied)
        try await store.appendOptimizationRecord(record("other", .applied, "v9"))
        try await store.appendOptimizationRecord(reverted)
        #expect(try await store.optimizationRecords(workflowID: "w") == [applied, reverted])
        #expect(try await store.optimizationRecords(workflowID: "none").isEmpty)
    }
}
