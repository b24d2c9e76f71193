import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration
import OrchestrationExecutors

/// Delivers the event bus to outbound webhook subscriptions: one durable consumer per
/// subscription, in order, each event POSTed as JSON and signed with the subscription's secret
/// (`X-Signature-256: sha256=HMAC-SHA256(secret, body)`), retried with exponential backoff (1 s,
/// 2 s, 4 s, … at most 60 s), and dead-lettered after `maxAttempts` failures so one bad event
/// does not hold back the rest.
public actor OutboundWebhooks {
    let bus: EventBus
    let secrets: SecretProvider
    let clock: any Clock<Duration>
    let client: HTTPClient
    var running: [String: Task<Void, Never>] = [:]
    var stopped = false

    public init(bus: EventBus, secrets: SecretProvider, clock: any Clock<Duration> = ContinuousClock(), client: HTTPClient = HTTPExecutor.sharedClient) {
        self.bus = bus
        self.secrets = secrets
        self.clock = clock
        self.client = client
    }

    /// Starts a consumer for every saved subscription; stops them all when cancelled.
    public func run() async {
        if let saved = try? await bus.store.subscriptions() {
            for subscription in saved { start(subscription.id) }
        }
        // Parked until the server stops (Task.sleep returns at once when cancelled).
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        stopped = true
        let tasks = running.values
        running = [:]
        for t in tasks { t.cancel() }
        for t in tasks { await t.value }
    }

    /// A subscription was created (or the server started): deliver to it.
    public func start(_ id: String) {
        guard !stopped, running[id] == nil else { return }
        running[id] = Task { [bus] in
            guard let subscription = try? await bus.store.subscriptions().first(where: { $0.id == id }) else { return }
            await bus.consume(name: "subscription:" + id, pattern: subscription.events) { event in
                await self.deliver(event, to: id)
                return true
            }
        }
    }

    /// A subscription was deleted: stop delivering to it.
    public func stop(_ id: String) async {
        guard let task = running.removeValue(forKey: id) else { return }
        task.cancel()
        await task.value
    }

    func deliver(_ event: BusEvent, to id: String) async {
        guard var subscription = try? await bus.store.subscriptions().first(where: { $0.id == id }) else { return }
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
                do { try await clock.sleep(for: delay, tolerance: nil) } catch { return }   // cancelled: redelivered at next start
            }
        }
        guard !Task.isCancelled else { return }
        subscription.deadLettered += 1
        try? await bus.store.saveSubscription(subscription)
        try? await bus.store.addDeadLetter(DeadLetter(subscriptionID: id, seq: event.seq, type: event.type, attempts: attempt, error: lastError, at: Date()))
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
