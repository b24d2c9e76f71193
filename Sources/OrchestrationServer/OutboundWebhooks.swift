import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration
import OrchestrationExecutors
import ServiceLifecycle
import Synchronization

/// Delivers the event bus to outbound webhook subscriptions: one durable consumer per
/// subscription, in order, each event POSTed as JSON and signed with the subscription's secret
/// (`X-Signature-256: sha256=HMAC-SHA256(secret, body)`), retried with exponential backoff (1 s,
/// 2 s, 4 s, … at most 60 s), and dead-lettered after `maxAttempts` failures so one bad event
/// does not hold back the rest.
///
/// A service: a consumer per subscription runs as a child task of ``run()``; ``start(_:)`` and
/// ``stop(_:)`` add and remove them while it runs, and graceful shutdown stops them all.
public final class OutboundWebhooks: Service, Sendable {
    let bus: EventBus
    let secrets: SecretProvider
    let time: TimeSource
    let client: HTTPClient

    /// One subscription's consumer: told to stop, and says when it has.
    final class Consumer: Sendable {
        let stop = OneShotSignal()
        let done = OneShotSignal()
    }

    private struct State {
        /// By subscription id; `started` once ``run()`` took it.
        var consumers: [String: (consumer: Consumer, started: Bool)] = [:]
        var stopped = false
    }

    private let state = Mutex(State())
    private let starts: AsyncStream<(String, Consumer)>
    private let startSink: AsyncStream<(String, Consumer)>.Continuation

    public init(bus: EventBus, secrets: SecretProvider, time: TimeSource = .system, client: HTTPClient = HTTPExecutor.sharedClient) {
        self.bus = bus
        self.secrets = secrets
        self.time = time
        self.client = client
        (starts, startSink) = AsyncStream.makeStream()
    }

    /// Delivers to every saved subscription and to those started later, until graceful shutdown
    /// or cancellation; then stops them all.
    public func run() async throws {
        if let saved = try? await bus.store.subscriptions() {
            for subscription in saved { start(subscription.id) }
        }
        await withDiscardingTaskGroup { group in
            for await (id, consumer) in starts.cancelOnGracefulShutdown() {
                let take = state.withLock { s -> Bool in
                    guard s.consumers[id]?.consumer === consumer else { return false }
                    s.consumers[id]?.started = true
                    return true
                }
                if take { group.addTask { await self.consume(id, consumer) } }
            }
            state.withLock { $0.stopped = true }
            group.cancelAll()
        }
    }

    /// A subscription was created (or the server started): deliver to it.
    public func start(_ id: String) {
        let consumer = Consumer()
        let added = state.withLock { s -> Bool in
            guard !s.stopped, s.consumers[id] == nil else { return false }
            s.consumers[id] = (consumer, false)
            return true
        }
        if added { startSink.yield((id, consumer)) }
    }

    /// A subscription was deleted: stop delivering to it; returns once its consumer stopped.
    public func stop(_ id: String) async {
        guard let entry = state.withLock({ $0.consumers.removeValue(forKey: id) }), entry.started else { return }
        entry.consumer.stop.fire()
        await entry.consumer.done.wait()
    }

    /// Hands the subscription its events until it is stopped or the service is.
    private func consume(_ id: String, _ consumer: Consumer) async {
        defer {
            // Ended on its own (the subscription is gone, the store failed) or stopped: a later
            // start(id) may begin again.
            state.withLock { s in if s.consumers[id]?.consumer === consumer { s.consumers[id] = nil } }
            consumer.done.fire()
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [bus] in
                guard let subscription = try? await bus.store.subscriptions().first(where: { $0.id == id }) else { return }
                await bus.consume(name: "subscription:" + id, pattern: subscription.events) { event in
                    await self.deliver(event, to: id)
                    return true
                }
            }
            group.addTask { await consumer.stop.wait() }
            await group.next()
            group.cancelAll()
        }
    }

    func deliver(_ event: BusEvent, to id: String) async {
        guard var subscription = try? await bus.store.subscriptions().first(where: { $0.id == id }) else { return }
        // One node at a time delivers for a subscription (the bus's consumer holds): no claim per event.
        let body = Array(event.json.jsonText.utf8)
        var attempt = 0
        var lastError = ""
        while attempt < subscription.maxAttempts, !Task.isCancelled {
            attempt += 1
            do {
                try await post(body, event: event, to: subscription)
                subscription.delivered += 1
                subscription.lastDeliveredSeq = event.seq
                subscription.lastError = nil
                try? await bus.store.saveSubscription(subscription)
                return
            } catch {
                lastError = "\(error)"
                subscription.lastError = "event \(event.seq), attempt \(attempt): \(lastError)"
                try? await bus.store.saveSubscription(subscription)
                guard attempt < subscription.maxAttempts else { break }
                let delay = Duration.seconds(min(60, 1 << (attempt - 1)))
                do { try await time.sleep(for: delay) } catch { return }  // cancelled: redelivered at next start
            }
        }
        guard !Task.isCancelled else { return }
        subscription.deadLettered += 1
        try? await bus.store.saveSubscription(subscription)
        try? await bus.store.addDeadLetter(
            DeadLetter(subscriptionID: id, seq: event.seq, type: event.type, attempts: attempt, error: lastError, at: time.now()))
    }

    struct DeliveryFailed: Error, CustomStringConvertible {
        var description: String
    }

    func post(_ body: [UInt8], event: BusEvent, to subscription: EventSubscription) async throws {
        var request = HTTPClientRequest(url: subscription.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "NovaCron-Webhooks")
        request.headers.add(name: "X-NovaCron-Event", value: event.type)
        request.headers.add(name: "X-NovaCron-Delivery", value: "\(subscription.id)-\(event.seq)")
        if let secret = secrets.resolve(subscription.secret) {
            request.headers.add(name: "X-Signature-256", value: "sha256=" + Hex.encode(Webhook.signature(body, secret: secret)))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: .seconds(10))
        _ = try? await response.body.collect(upTo: 64 << 10)
        guard (200..<300).contains(response.status.code) else {
            throw DeliveryFailed(description: "HTTP \(response.status.code)")
        }
    }
}
