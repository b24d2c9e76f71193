import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Workflow store conformance")
struct WorkflowStoreConformanceTests {
    @Test("workflow versions are content-hashed and read back the same", arguments: StoreKind.allCases)
    func workflows(kind: StoreKind) async throws {
        let store = try await kind.make()
        let w = Workflow(
            name: "deploy", version: "3", steps: [WorkflowStep(id: "a", inputs: ["command": "echo ${secrets.T}"], timeout: .seconds(5))],
            timeout: .seconds(60))
        let v1 = try await store.saveWorkflow(w)
        #expect(try await store.saveWorkflow(w) == v1)
        var changed = w
        changed.steps[0].timeout = .seconds(6)
        let v2 = try await store.saveWorkflow(changed)
        #expect(v2 != v1)
        #expect(try await store.workflow(id: "deploy", version: v1) == w)
        #expect(try await store.workflow(id: "deploy", version: v2) == changed)
        #expect(try await store.workflow(id: "deploy", version: "nope") == nil)
        // The last version saved is the registered one; saving an older one again makes it current.
        #expect(try await store.registeredWorkflows() == [changed])
        #expect(try await store.registeredVersions() == ["deploy": v2])
        _ = try await store.saveWorkflow(w)
        #expect(try await store.registeredWorkflows() == [w])
        #expect(try await store.registeredVersions() == ["deploy": v1])
        #expect(try await store.workflowVersions(id: "deploy").map(\.version) == [v1, v2])
        #expect(try await store.unregisterWorkflow(id: "deploy"))
        #expect(try await store.registeredWorkflows().isEmpty)
        #expect(try await store.registeredVersions().isEmpty)
        #expect(try await !store.unregisterWorkflow(id: "deploy"))
        // Versions stay for the executions that pinned them.
        #expect(try await store.workflow(id: "deploy", version: v1) == w)
    }
}
