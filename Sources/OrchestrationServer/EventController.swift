import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import OpenAPIRuntime
import Orchestration
import OrchestrationAPI
import ServiceLifecycle

/// The event bus over HTTP: publish, replay (a page, or Server-Sent Events that go on live), and
/// outbound webhook subscriptions with their dead letters.
struct EventController<Context: RequestContext>: Sendable {
    let bus: EventBus
    let outbound: OutboundWebhooks
    let control: AccessControl
    let gate: StreamGate

    func addRoutes(to api: Routes<Context>) {
        api.post("events", .role(.operator), use: publish)
        api.get("events", .role(.viewer), use: list)
        api.get("events/stream", .role(.viewer), use: stream)
        // Outbound webhooks make the server call other hosts: admins only.
        api.post("subscriptions", .role(.admin), use: subscribe)
        api.get("subscriptions", .role(.viewer)) { _, _ in
            try APIBody.response(Components.Schemas.SubscriptionList(subscriptions: try await self.bus.store.subscriptions().map { .init($0) }))
        }
        api.get("subscriptions/:id", .role(.viewer)) { _, context in
            try APIBody.response(Components.Schemas.Subscription(try await self.subscription(try context.parameters.require("id"))))
        }
        api.delete("subscriptions/:id", .role(.admin)) { _, context -> Response in
            let id = try context.parameters.require("id")
            guard try await self.bus.store.deleteSubscription(id: id) else { throw Problem(.notFound, "no subscription '\(id)'") }
            await self.outbound.stop(id)
            return Response(status: .noContent)
        }
        api.get("subscriptions/:id/dead-letters", .role(.viewer)) { request, context in
            let id = try context.parameters.require("id")
            _ = try await self.subscription(id)
            let letters = try await self.bus.store.deadLetters(subscriptionID: id, limit: 1000)
            return try APIBody.response(Components.Schemas.DeadLetterList(deadLetters: letters.map { .init($0) }))
        }
    }

    func subscription(_ id: String) async throws -> EventSubscription {
        guard let s = try await bus.store.subscriptions().first(where: { $0.id == id }) else { throw Problem(.notFound, "no subscription '\(id)'") }
        return s
    }

    /// `{"type": "deployment.finished", "data": {…}}` → 201 with the saved event.
    func publish(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 256 << 10)
        let given = try APIBody.decode(
            Components.Schemas.EventRequest.self, from: body, expected: #"a JSON object: {"type": "deployment.finished", "data": {…}}"#)
        let data = JSONValue(any: given.data?.value ?? [:])
        let source = given.source ?? "api"
        guard !source.isEmpty, source.count <= 100 else { throw Problem(.badRequest, "source must be text of at most 100 characters") }
        guard source != "engine" else { throw Problem(.badRequest, "the source 'engine' is the engine's own") }
        let event = try await bus.publish(given._type, data: data, source: source)
        return try APIBody.response(Components.Schemas.Event(event), .created)
    }

    struct Query {
        /// Where to start: `?after=`, else `Last-Event-ID`, else `nil` (the page starts at the
        /// oldest event, the stream at the newest).
        var after: Int64?
        var limit = 100
        var pattern = "*"

        init(_ request: Request) throws {
            let q = request.uri.queryParameters
            if let a = q.get("after") {
                guard let v = Int64(a), v >= 0 else { throw Problem(.badRequest, "after must be a sequence number ≥ 0") }
                after = v
            } else if let last = request.headers[HTTPField.Name("Last-Event-ID")!] {
                guard let v = Int64(last), v >= 0 else { throw Problem(.badRequest, "Last-Event-ID must be a sequence number ≥ 0") }
                after = v
            }
            if let l = q.get("limit") {
                guard let v = Int(l), (1...1000).contains(v) else { throw Problem(.badRequest, "limit must be a number from 1 to 1000") }
                limit = v
            }
            if let t = q.get("type"), !t.isEmpty { pattern = String(t) }
        }
    }

    /// `?after=N&limit=&type=PATTERN` → `{"events": […], "lastSeq": n}`: replay, oldest first.
    func list(_ request: Request, context: Context) async throws -> Response {
        let query = try Query(request)
        var out: [Components.Schemas.Event] = []
        var cursor = query.after ?? 0
        // Filtering by type may skip many; read on until the page is full or the log ends.
        while out.count < query.limit {
            let batch = try await bus.events(after: cursor, limit: 1000)
            guard let last = batch.last else { break }
            for e in batch where BusEvent.matches(type: e.type, pattern: query.pattern) {
                out.append(.init(e))
                if out.count == query.limit { break }
            }
            cursor = last.seq
        }
        return try APIBody.response(Components.Schemas.EventList(events: out, lastSeq: Int(try await bus.lastSeq)))
    }

    /// Server-Sent Events from `?after=N` (or `Last-Event-ID`), else from now: the saved events
    /// after that point, then new ones as they are saved, each with `id: seq` so a client can resume
    /// where it stopped. At most ``StreamLimits`` streams are open; a client that stops reading is
    /// dropped after the stall timeout instead of being buffered for.
    func stream(_ request: Request, context: Context) async throws -> Response {
        let query = try Query(request)
        let ticket = try gate.enter(control.callerName(of: request))
        let start: Int64
        if let after = query.after { start = after } else { start = try await bus.lastSeq }
        let bus = self.bus
        let stallTimeout = gate.limits.stallTimeout, heartbeat = gate.limits.heartbeat
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                // Until the client leaves, the server shuts down (a graceful shutdown would
                // otherwise wait for this stream forever), or the client stalls.
                try await streamEvents(to: &writer, stallTimeout: stallTimeout) { send in
                    _ = ticket  // the stream holds its place until it ends
                    _ = try? await cancelWhenGracefulShutdown {
                        var cursor = start
                        // A heartbeat goes when nothing was written for that long, however often
                        // events this stream's filter leaves out wake it.
                        var written = ContinuousClock.now
                        while !Task.isCancelled, !bus.isStopped {
                            let batch = try await bus.events(after: cursor, limit: 64)
                            guard let last = batch.last else {
                                let quiet = written.duration(to: .now)
                                if quiet >= heartbeat {
                                    try await send(": heartbeat\n\n")
                                    written = .now
                                    continue
                                }
                                let seen = cursor
                                _ = await withTimeLimit(heartbeat - quiet) { () -> Bool? in
                                    await bus.waitForEvents(after: seen)
                                    return true
                                }
                                continue
                            }
                            // Written in chunks of about 64 KiB, so one stream holds at most that much
                            // beyond what the connection buffers.
                            var text = ""
                            for e in batch where BusEvent.matches(type: e.type, pattern: query.pattern) {
                                text += "id: \(e.seq)\nevent: \(e.type)\ndata: \(try APIBody.text(Components.Schemas.Event(e)))\n\n"
                                if text.utf8.count >= 64 << 10 {
                                    try await send(text)
                                    (text, written) = ("", .now)
                                }
                            }
                            cursor = last.seq
                            if !text.isEmpty {
                                try await send(text)
                                written = .now
                            }
                        }
                    }
                }
                try await writer.finish(nil)
            })
    }

    /// `{"url", "events": "deployment.*", "secret"?, "maxAttempts"?}` → 201. The secret is never
    /// shown again; `${secrets.NAME}` keeps it out of the store too.
    func subscribe(_ request: Request, context: Context) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 << 10)
        let given = try APIBody.decode(
            Components.Schemas.SubscriptionRequest.self, from: body,
            expected: #"a JSON object: {"url": "https://…", "events": "deployment.*", "secret": "…"}"#)
        let url = given.url
        guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil else {
            throw Problem(.badRequest, "url must be an http or https address")
        }
        let pattern = given.events ?? "*"
        guard !pattern.isEmpty, pattern.count <= 200 else { throw Problem(.badRequest, "events must be a type pattern like deployment.* or *") }
        let secret = given.secret
        let attempts = given.maxAttempts ?? 5
        guard (1...20).contains(attempts) else { throw Problem(.badRequest, "maxAttempts must be a whole number from 1 to 20") }
        let subscription = EventSubscription(
            id: "sub-" + UUID().uuidString.prefix(8).lowercased(), url: url, events: pattern, secret: secret, maxAttempts: attempts, createdAt: Date()
        )
        try await bus.store.saveSubscription(subscription)
        await outbound.start(subscription.id)
        return try APIBody.response(Components.Schemas.Subscription(subscription), .created)
    }
}
