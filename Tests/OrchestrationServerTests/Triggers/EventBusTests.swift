import Foundation
import Orchestration
import OrchestrationServer
import OrchestrationSQLite
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Event bus")
struct EventBusTests {
    /// Runs `body` with a bus on `store` whose commit loop runs beside it.
    func withBus<R: Sendable>(_ store: any EventLogStore & SubscriptionStore, _ body: (EventBus) async throws -> R) async throws -> R {
        let bus = EventBus(store: store)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await bus.run() }
            defer { group.cancelAll() }
            return try await body(bus)
        }
    }

    @Test(
        "type patterns",
        arguments: [
            ("deployment.*", "deployment.finished", true), ("deployment.*", "deployment.canary.started", true),
            ("deployment.*", "deployments.finished", false), ("deployment.*", "deployment", false),
            ("*", "anything.at.all", true), ("*.failed", "step.failed", true), ("*.failed", "step.success", false),
            ("step.fail*", "step.failed", true), ("execution.completed", "execution.completed", true),
            ("execution.completed", "execution.failed", false),
        ])
    func patterns(pattern: String, type: String, expected: Bool) {
        #expect(BusEvent.matches(type: type, pattern: pattern) == expected)
    }

    @Test("published events are saved with increasing sequence numbers, replayed from any of them, and handed to in-process subscribers")
    func publishAndReplay() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await withBus(store) { bus in
            let seen = LockedBox<[String]>([])
            bus.subscribe("deployment.*") { event in seen.update { $0.append(event.type) } }
            // Many at once: they are committed in batches, each publisher gets its own event back.
            let events = try await withThrowingTaskGroup(of: BusEvent.self) { group in
                for i in 0..<300 {
                    group.addTask { try await bus.publish(i % 3 == 0 ? "deployment.finished" : "build.done", data: ["n": .number(Double(i))]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(events.map(\.seq)) == Set(1...300))
            for e in events { #expect(e.data["n"] != nil) }
            let replay = try await bus.events(after: 250, limit: 1000)
            #expect(replay.map(\.seq) == Array(251...300))
            #expect(try await bus.lastSeq == 300)
            // Subscribers see every matching event once it is saved (the last batch may still be on its way).
            await bus.waitForEvents(after: 299)
            _ = try await bus.publish("deployment.marker")
            #expect(seen.update { $0.filter { $0 == "deployment.finished" }.count } == 100)
            await #expect(throws: EngineError.self) { try await bus.publish("bad type!") }
        }
        // Saved: a new process reads them back.
        let reopened = try SQLiteStore(path: store.path)
        #expect(try await reopened.lastEventSeq() == 301)
    }

    @Test("a reader's wait that is cancelled (its heartbeat came due) ends alone; the other readers wait on for events")
    func cancelledWaitEndsAlone() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        try await withBus(store) { bus in
            let last = try await bus.lastSeq
            let stays = Task { await bus.waitForEvents(after: last) }
            let leaves = Task { await bus.waitForEvents(after: last) }
            while bus.waitingReaders < 2 { await Task.yield() }
            leaves.cancel()
            await leaves.value
            #expect(bus.waitingReaders == 1, "the other reader was woken too")
            _ = try await bus.publish("wake.up")
            await stays.value
            #expect(bus.waitingReaders == 0)
        }
    }

    @Test("a durable consumer gets each matching event once, in order; after a crash it is handed what it had not finished")
    func durableConsumer() async throws {
        let store = try SQLiteStore(path: temporaryDatabasePath())
        _ = try await store.appendEvents([("old.event", [:], "test", Date())])
        // As if the consumer had run before and got as far as the old event.
        try await store.saveCursor("audit", 1)
        let got = LockedBox<[Int64]>([])
        try await withBus(store) { bus in
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Delivery of event 4 "crashes": the consumer is stopped while handling it.
                let stopAt = AsyncStream<Void>.makeStream()
                group.addTask {
                    await bus.consume(name: "audit", pattern: "audit.*") { event in
                        if event.data["crash"] == .bool(true) {
                            stopAt.continuation.yield()
                            // Parked until cancelled, as a process that died mid-delivery (Task.sleep
                            // returns at once on cancellation; nothing waits for time to pass).
                            try? await Task.sleep(for: .seconds(86_400))
                            return true
                        }
                        got.update { $0.append(event.seq) }
                        return true
                    }
                }
                for data: JSONValue in [["n": 1], ["n": 2], ["crash": true]] { try await bus.publish("audit.entry", data: data) }
                try await bus.publish("other.entry")
                var it = stopAt.stream.makeAsyncIterator()
                _ = await it.next()
                group.cancelAll()
            }
        }
        #expect(got.update { $0 } == [2, 3])
        #expect(try await store.cursor("audit") == 3)
        // The next process delivers event 4 again (at least once), then goes on.
        let again = LockedBox<[Int64]>([])
        try await withBus(store) { bus in
            try await withThrowingTaskGroup(of: Void.self) { group in
                let done = AsyncStream<Void>.makeStream()
                group.addTask {
                    await bus.consume(name: "audit", pattern: "audit.*") { event in
                        again.update { $0.append(event.seq) }
                        if event.seq == 6 { done.continuation.yield() }
                        return true
                    }
                }
                try await bus.publish("audit.entry", data: ["n": 6])
                var it = done.stream.makeAsyncIterator()
                _ = await it.next()
                group.cancelAll()
            }
        }
        #expect(again.update { $0 } == [4, 6])
    }
}

@Suite("Event triggers and outbound webhooks")
struct EventTriggerTests {
    static let workflow = """
        name: on-deploy
        triggers:
          - id: prod-deploys
            type: event
            event: deployment.*
            conditions: {environment: production}
            inputs: {service: "${trigger.data.service}", seq: "${trigger.seq}"}
          - id: own-failures
            type: event
            event: execution.*
        steps:
          - {id: smoke, timeout: 1m}
        """

    @Test(
        "an event trigger starts its workflow for matching events with the event as ${trigger.…}; data filters apply; its own lifecycle does not loop"
    )
    func eventTrigger() async throws {
        let executor = ScriptedExecutor()
        let store = InMemoryStore()
        try await withScriptedEngine(executor, store: store) { engine in
            try await engine.registerWorkflow(try workflowDocument(Self.workflow))
            let bus = EventBus(store: store)
            let scheduler = TriggerScheduler(engine: engine, store: store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await bus.run() }
                group.addTask { await scheduler.runEventTriggers(bus: bus) }
                // The consumer starts at the newest event; wait until it has saved its cursor.
                while try await store.cursor("event-triggers") == nil { await Task.yield() }
                let executions = engine.events()
                try await bus.publish("deployment.finished", data: ["environment": "staging", "service": "web"])
                let prod = try await bus.publish("deployment.finished", data: ["environment": "production", "service": "api"])
                var started: [String] = []
                for await event in executions {
                    if case .executionStarted(let id, _, _) = event {
                        started.append(id)
                        break
                    }
                }
                let execution = try await engine.getExecution(try #require(started.first))
                #expect(execution.inputs["service"] == "api")
                #expect(execution.inputs["seq"] == .number(Double(prod.seq)))
                // The execution's own lifecycle events, as the server posts them, do not start it again.
                try await bus.publish(
                    "execution.completed", data: ["workflowID": "on-deploy", "executionID": .string(execution.id)], source: "engine")
                let marker = try await bus.publish("deployment.finished", data: ["environment": "production", "service": "db"])
                for await event in executions {
                    if case .executionStarted = event { break }
                }
                // In order: the staging event started nothing; the engine's event started nothing; the last one did.
                let all = await engine.listExecutions(workflowID: "on-deploy", limit: 10)
                #expect(all.count == 2)
                #expect(all.first?.inputs["seq"] == .number(Double(marker.seq)))
                group.cancelAll()
            }
        }
    }

    @Test("an event trigger without an inputs mapping passes the event's data as the execution's inputs, as the guide's subscriber does")
    func eventDataAsInputs() async throws {
        let executor = ScriptedExecutor()
        let store = InMemoryStore()
        try await withScriptedEngine(executor, store: store) { engine in
            try await engine.registerWorkflow(
                try workflowDocument(
                    """
                    name: on-order
                    triggers:
                      - {type: event, event: order.placed}
                    steps:
                      - {id: ship, timeout: 1m}
                    """))
            let bus = EventBus(store: store)
            let scheduler = TriggerScheduler(engine: engine, store: store)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await bus.run() }
                group.addTask { await scheduler.runEventTriggers(bus: bus) }
                while try await store.cursor("event-triggers") == nil { await Task.yield() }
                let executions = engine.events()
                try await bus.publish("order.placed", data: ["order": 7, "customer": "ada", "items": ["a", "b"]])
                var started: String?
                for await event in executions {
                    if case .executionStarted(let id, _, _) = event {
                        started = id
                        break
                    }
                }
                let execution = try await engine.getExecution(try #require(started))
                #expect(execution.inputs == ["order": 7, "customer": "ada", "items": ["a", "b"]])
                group.cancelAll()
            }
        }
    }

    @Test("outbound webhooks: events are POSTed in order, signed; a failing receiver is retried with backoff, then dead-lettered")
    func outbound() async throws {
        let store = InMemoryStore()
        let clock = ManualClock()
        try await TestHTTPServer.with({ request, n in
            // The second event fails every time; the others go through.
            request.body.contains("\"n\":2") ? .init(status: 500, body: "boom") : .init(status: 204)
        }) { receiver in
            let bus = EventBus(store: store)
            let outbound = OutboundWebhooks(bus: bus, secrets: SecretProvider(environment: [:], values: ["HOOK": "s3cret"]), time: TimeSource(clock))
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await bus.run() }
                _ = try await bus.publish("boot")
                try await store.saveSubscription(
                    EventSubscription(
                        id: "sub-1", url: receiver.url + "/hook", events: "order.*", secret: "${secrets.HOOK}", maxAttempts: 3, createdAt: Date()))
                try await store.saveCursor("subscription:sub-1", 1)
                group.addTask { try await outbound.run() }
                for n in 1...3 { try await bus.publish("order.placed", data: ["n": .number(Double(n))]) }
                try await bus.publish("other.thing")
                await receiver.waitForRequests(2)  // event 1, then the first try of event 2
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(1))  // backoff 1 s
                await receiver.waitForRequests(3)
                await clock.waitForSleepers(1)
                clock.advance(by: .seconds(2))  // backoff 2 s, then the third and last try
                await receiver.waitForRequests(5)  // …and event 3
                let requests = receiver.requests
                #expect(requests.count == 5)
                #expect(requests.map { $0.body.contains("\"n\":2") } == [false, true, true, true, false])
                let first = try #require(requests.first)
                #expect(first.header("X-NovaCron-Event") == "order.placed")
                #expect(first.header("X-Signature-256") == "sha256=" + Hex.encode(Webhook.signature(Array(first.body.utf8), secret: "s3cret")))
                #expect(!requests.contains { $0.body.contains("other.thing") })
                // The last answer arrived; let the deliverer record it before stopping.
                while try await store.subscriptions().first?.delivered != 2 { await Task.yield() }
                group.cancelAll()
            }
        }
        let letters = try await store.deadLetters(subscriptionID: "sub-1", limit: 10)
        #expect(letters.map(\.seq) == [3])
        #expect(letters.first?.attempts == 3)
        #expect(letters.first?.error == "HTTP 500")
        let subscription = try #require(try await store.subscriptions().first)
        #expect(subscription.delivered == 2)
        #expect(subscription.deadLettered == 1)
    }
}
