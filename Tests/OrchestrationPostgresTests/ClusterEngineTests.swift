import Foundation
import Orchestration
import OrchestrationPostgres
import OrchestrationTesting
import TestSupport
import Testing

/// Two engines on one database, as two nodes: what one node runs, another carries on once the
/// first one's lease ran out, and the first one's late writes change nothing.
@Suite("Engines sharing PostgreSQL")
struct ClusterEngineTests {
    @Test(
        "a node whose lease ran out is taken over: the other node interrupts its attempt, runs the step again and finishes; the first node's result is refused and its waiters are told"
    )
    func takeover() async throws {
        let url = try await TestPostgres.shared.database()
        // Long leases: nothing runs out unless the test says so.
        let storeA = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let storeB = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let onA = ScriptedExecutor(), onB = ScriptedExecutor()
        onA.hold("work")
        let document = try workflowDocument(
            """
            name: handover
            steps:
              - {id: first, inputs: {command: "true"}}
              - {id: work, dependencies: [first], inputs: {command: "true"}}
              - {id: after, dependencies: [work], inputs: {command: "true"}}
            """)
        try await withScriptedEngine(onA, store: storeA) { a in
            try await withScriptedEngine(onB, store: storeB) { b in
                try await a.registerWorkflow(document)
                try await b.registerWorkflow(document)
                let id = try await a.executeWorkflow("handover").id
                await onA.waitForStarts(2)
                let waiting = Task { try await a.waitForExecution(id) }
                // A holds it: B finds nothing to take.
                #expect(try await b.recover().isEmpty)

                _ = try await TestPostgres.psql(url, "UPDATE execution SET lease_expires_at = 0")
                #expect(try await b.recover().map(\.id) == [id])
                let final = try await b.waitForExecution(id)
                #expect(final.status == .completed)

                // A's attempt ends late: its result is refused, A stops, its waiter hears why.
                onA.release("work")
                let heard = await #expect(throws: EngineError.self) { try await waiting.value }
                #expect(heard?.message.contains("taken over by another node") == true)
                #expect(onA.started == ["first", "work"])
                #expect(onB.started == ["work", "after"])
                let attempts = try await storeB.attempts(executionID: id, stepID: "work")
                #expect(attempts.map(\.status) == [.interrupted, .succeeded])
                #expect(
                    try await storeA.execution(id: id)?.execution.stepResults.mapValues(\.status) == [
                        "first": .success, "work": .success, "after": .success,
                    ])
            }
        }
    }
}
