import Foundation
import Orchestration
import OrchestrationPostgres
import OrchestrationTesting
import Synchronization
import TestSupport
import Testing

/// What must happen once however many nodes share the database: a start under an idempotency key,
/// and each event delivered by a durable consumer.
@Suite("Once across nodes")
struct OnceAcrossNodesTests {
    @Test("starts racing under one idempotency key on two nodes make one execution, which every one of them returns")
    func idempotentStarts() async throws {
        let url = try await TestPostgres.shared.database()
        let storeA = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let storeB = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let document = try workflowDocument("name: deploy\nsteps:\n  - {id: one, inputs: {command: \"true\"}}\n")
        try await withScriptedEngine(ScriptedExecutor(), store: storeA, seed: 1) { a in
            try await withScriptedEngine(ScriptedExecutor(), store: storeB, seed: 2) { b in
                try await a.registerWorkflow(document)
                let options = ExecutionOptions(idempotencyKey: "release-1.4.2")
                let results = try await withThrowingTaskGroup(of: (String, Bool).self) { group in
                    for i in 0..<16 {
                        let engine = i.isMultiple(of: 2) ? a : b
                        group.addTask {
                            // One of them may find the winner's start still being saved: it is told to try again.
                            while true {
                                do {
                                    let started = try await engine.startExecution("deploy", inputs: ["v": "1.4.2"], options: options)
                                    return (started.execution.id, started.replayed)
                                } catch let error as EngineError where error.code == .conflict && error.message.contains("still in progress") {
                                    await Task.yield()
                                }
                            }
                        }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(Set(results.map(\.0)).count == 1, "\(results)")
                #expect(results.filter { !$0.1 }.count == 1, "one start started it: \(results)")
                #expect(try await storeA.executions(workflowID: "deploy", status: nil, limit: 100).count == 1)
                // The same key asking for something else is refused on either node.
                await #expect(throws: EngineError.self) {
                    try await b.startExecution("deploy", inputs: ["v": "2.0.0"], options: options)
                }
            }
        }
    }

    @Test(
        "a durable consumer delivers on one node at a time; when its hold is lost another node carries on from the saved cursor and no event is lost or delivered twice"
    )
    func consumerHolds() async throws {
        let url = try await TestPostgres.shared.database()
        // Long enough that a busy machine does not make the holder miss a renewal (which would hand
        // the consumer over and deliver an event twice, as at-least-once allows); the test takes the
        // hold away itself below.
        let lease = Duration.seconds(3)
        let storeA = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: lease, role: "serve")
        let storeB = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: lease, role: "serve")
        let busA = EventBus(store: storeA), busB = EventBus(store: storeB)
        final class Deliveries: Sendable { let list = Mutex<[(node: String, seq: Int64)]>([]) }
        let deliveries = Deliveries()
        let bell = Doorbell()
        func consumer(_ bus: EventBus, _ node: String) -> Task<Void, Never> {
            Task { [deliveries, bell] in
                await bus.consume(name: "audit", pattern: "deploy.*") { event in
                    deliveries.list.withLock { $0.append((node, event.seq)) }
                    bell.ring()
                    return true
                }
            }
        }
        let runA = Task { await busA.run() }, runB = Task { await busB.run() }
        let consumers = [consumer(busA, "a"), consumer(busB, "b")]
        defer {
            for task in consumers + [runA, runB] { task.cancel() }
        }
        /// Waits until `count` deliveries were seen (or fails after a minute).
        func waitForDeliveries(_ count: Int) async {
            for _ in 0..<600 where deliveries.list.withLock({ $0.count }) < count { await bell.wait(upTo: .milliseconds(100)) }
        }
        // The consumer starts at the newest event: it must have saved where it starts before events count.
        func sql(_ query: String) async throws -> String {
            try await TestPostgres.psql(url, query).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        for _ in 0..<600 where try await sql("SELECT count(*) FROM consumer_cursor WHERE name = 'audit'") != "1" {
            await bell.wait(upTo: .milliseconds(100))
        }
        var published: [Int64] = []
        for i in 0..<20 {
            published.append(try await (i.isMultiple(of: 2) ? busA : busB).publish("deploy.finished", data: ["n": .number(Double(i))]).seq)
        }
        _ = try await busA.publish("other.thing")
        await waitForDeliveries(20)
        let first = deliveries.list.withLock { $0 }
        #expect(first.map(\.seq) == published, "every event once, in order")
        #expect(Set(first.map(\.node)).count == 1, "one node delivers: \(first.map(\.node))")
        let holder = try #require(first.first?.node)

        // The holder loses its hold: it stops delivering at its next renewal, and once the other
        // hold runs out a live node holds the consumer again and carries on from the saved cursor.
        // (Another node holds it for a lease, then stops renewing.)
        _ = try await sql(
            "UPDATE consumer_hold SET node = 'gone', held_until = extract(epoch from clock_timestamp()) + 3 WHERE name = 'audit'")
        // Events published meanwhile are delivered once, whoever holds the consumer by then.
        for i in 20..<30 {
            published.append(try await (i.isMultiple(of: 2) ? busA : busB).publish("deploy.finished", data: ["n": .number(Double(i))]).seq)
        }
        var holder2 = "gone"
        for _ in 0..<300 where holder2 == "gone" {
            await bell.wait(upTo: .milliseconds(100))
            holder2 = try await sql("SELECT node FROM consumer_hold WHERE name = 'audit'")
        }
        #expect(holder2 != "gone" && !holder2.isEmpty, "a live node holds the consumer again")
        for i in 30..<40 {
            published.append(try await (i.isMultiple(of: 2) ? busA : busB).publish("deploy.finished", data: ["n": .number(Double(i))]).seq)
        }
        await waitForDeliveries(40)
        let all = deliveries.list.withLock { $0 }
        #expect(all.map(\.seq) == published, "nothing lost, nothing twice (holder was \(holder)): \(all.map(\.seq))")
    }
}
