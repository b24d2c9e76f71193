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
                #expect(heard?.message.contains("no longer run by this node (this node's lease on it ran out)") == true)
                // Asked later (a backfill that waits after its start), A says the same, not "no execution".
                let later = await #expect(throws: EngineError.self) { try await a.waitForExecution(id) }
                #expect(later?.code == .conflict && later?.message == heard?.message, "\(String(describing: later))")
                let shown = await #expect(throws: EngineError.self) { try await a.getExecution(id) }
                #expect(shown?.code == .conflict)
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

    @Test("a workflow registered, changed or unregistered on one node is what another node runs")
    func sharedRegistry() async throws {
        let url = try await TestPostgres.shared.database()
        let storeA = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let storeB = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let v1 = try workflowDocument("name: shared\nsteps:\n  - {id: one, inputs: {command: \"true\"}}\n")
        let v2 = try workflowDocument(
            "name: shared\nsteps:\n  - {id: one, inputs: {command: \"true\"}}\n  - {id: two, inputs: {command: \"true\"}}\n")
        try await withScriptedEngine(ScriptedExecutor(), store: storeA) { a in
            try await withScriptedEngine(ScriptedExecutor(), store: storeB) { b in
                try await a.registerWorkflow(v1)
                // Unknown on B a moment ago: B looks in the store before saying no.
                let started = try await b.executeWorkflow("shared")
                #expect(try await b.waitForExecution(started.id).stepResults.keys.sorted() == ["one"])
                try await a.registerWorkflow(v2)
                try await b.syncWorkflows()
                #expect(await b.workflow("shared")?.steps.map(\.id) == ["one", "two"])
                try await a.unregisterWorkflow("shared")
                try await b.syncWorkflows()
                await #expect(throws: EngineError.self) { try await b.executeWorkflow("shared") }
            }
        }
    }

    @Test("a schedule every node runs starts one execution per tick")
    func scheduleOnce() async throws {
        let url = try await TestPostgres.shared.database()
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        let document = try workflowDocument(
            """
            name: every-minute
            triggers: [{id: tick, type: schedule, schedule: "* * * * *"}]
            steps: [{id: one, inputs: {command: "true"}}]
            """)
        var stores: [PostgresStore] = []
        for _ in 0..<3 { stores.append(try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")) }
        let clocks = [ManualClock(), ManualClock(), ManualClock()]
        // Seeded apart, as separate processes are: execution ids differ.
        try await withScriptedEngine(ScriptedExecutor(), clock: clocks[0], store: stores[0], seed: 1) { a in
            try await withScriptedEngine(ScriptedExecutor(), clock: clocks[1], store: stores[1], seed: 2) { b in
                try await withScriptedEngine(ScriptedExecutor(), clock: clocks[2], store: stores[2], seed: 3) { c in
                    let engines = [a, b, c]
                    var schedulers: [TriggerScheduler] = []
                    for (i, engine) in engines.enumerated() {
                        try await engine.registerWorkflow(document)
                        schedulers.append(TriggerScheduler(engine: engine, store: stores[i], time: TimeSource(clocks[i], origin: start), seed: 1))
                    }
                    for scheduler in schedulers { _ = await scheduler.fireDue() }
                    for minute in 1...3 {
                        for clock in clocks { clock.advance(by: .seconds(60)) }
                        for scheduler in schedulers { _ = await scheduler.fireDue() }
                        let started = try await stores[0].executions(workflowID: "every-minute", status: nil, limit: 100)
                        #expect(started.count == minute, "after minute \(minute): \(started.count) executions")
                    }
                }
            }
        }
    }

    @Test("pause, resume and cancel sent from another node reach the node running the execution")
    func commandsFromAnotherNode() async throws {
        let url = try await TestPostgres.shared.database()
        let storeA = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let storeB = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let onA = ScriptedExecutor()
        onA.hold("slow")
        let document = try workflowDocument(
            """
            name: remote-control
            steps:
              - {id: slow, inputs: {command: "true"}}
              - {id: next, dependencies: [slow], inputs: {command: "true"}}
            """)
        try await withScriptedEngine(onA, store: storeA, seed: 1) { a in
            try await withScriptedEngine(ScriptedExecutor(), store: storeB, seed: 2) { b in
                try await a.registerWorkflow(document)
                let id = try await a.executeWorkflow("remote-control").id
                await onA.waitForStarts(1)
                let events = a.events()
                #expect(try await b.send(.pause, to: id) == false)
                for await event in events { if case .executionPaused = event { break } }
                #expect(try await storeB.execution(id: id)?.execution.status == .paused)
                #expect(try await b.send(.resume, to: id) == false)
                #expect(try await b.send(.cancel(reason: "stopped from node b"), to: id) == false)
                let final = try await a.waitForExecution(id)
                #expect(final.status == .cancelled)
                #expect(final.error?.contains("stopped from node b") == true)
                #expect(onA.started == ["slow"])
                // Ended: nothing to send any more.
                await #expect(throws: EngineError.self) { try await b.send(.cancel(reason: "again"), to: id) }
            }
        }
    }

    @Test("the database restarting loses nothing: what ends while it is down is saved once it is back, and the execution completes")
    func databaseRestart() async throws {
        let server = TestPostgres()  // its own server: the shared one serves tests running beside this one
        let url = try await server.database()
        let store = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(20), role: "serve")
        let executor = ScriptedExecutor()
        executor.hold("during")
        let document = try workflowDocument(
            """
            name: outage
            steps:
              - {id: during, inputs: {command: "true"}}
              - {id: after, dependencies: [during], inputs: {command: "true"}}
            """)
        try await withScriptedEngine(executor, store: store) { engine in
            try await engine.registerWorkflow(document)
            let id = try await engine.executeWorkflow("outage").id
            await executor.waitForStarts(1)
            // Stopped, then released while it is down (the restart ends before the write is retried
            // or while it is), then started again.
            try await server.stop()
            executor.release("during")
            try await server.start()
            let final = try await engine.waitForExecution(id)
            #expect(final.status == .completed)
            let saved = try await store.execution(id: id)
            #expect(saved?.execution.status == .completed)
            #expect(try await store.attempts(executionID: id, stepID: nil).map(\.status) == [.succeeded, .succeeded])
        }
    }
}
