import Foundation
import Orchestration
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Durable concurrency groups")
struct DurableConcurrencyTests {
    static let deploy = """
        name: deploy
        concurrency: deploy-prod
        steps:
          - {id: ship, inputs: {command: ship}}
        """

    @Test("after a crash the holder keeps its slot and runs again, the waiter keeps its place and runs after it; nothing runs beside the holder")
    func recoverHolderAndWaiter() async throws {
        let path = temporaryDatabasePath()
        let crashable = CrashableStore(try SQLiteStore(path: path))
        let first = ScriptedExecutor()
        first.hold("ship")
        let (holder, waiter) = try await withScriptedEngine(first, store: crashable) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.deploy))
            let holder = try await engine.executeWorkflow("deploy")
            let waiter = try await engine.executeWorkflow("deploy")
            await first.waitForStarts(1)
            crashable.crash()
            return (holder.id, waiter.id)
        }
        #expect(first.started.count == 1)

        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.execution(id: waiter)?.execution.status == .pending)
        let second = ScriptedExecutor()
        second.hold("ship")
        try await withScriptedEngine(second, store: reopened, seed: 2) { engine in
            let carried = try await engine.recover()
            #expect(Set(carried.map(\.id)) == [holder, waiter])
            #expect(carried.first { $0.id == waiter }?.status == .pending)
            await second.waitForStarts(1)
            #expect(second.requests.map(\.executionID) == [holder], "the holder runs again; the waiter still waits")
            second.release("ship")
            #expect(try await engine.waitForExecution(holder).status == .completed)
            #expect(try await engine.waitForExecution(waiter).status == .completed)
        }
        #expect(second.requests.map(\.executionID) == [holder, waiter])
        #expect(try await reopened.concurrencySlots(key: "deploy-prod").isEmpty)
    }
}
