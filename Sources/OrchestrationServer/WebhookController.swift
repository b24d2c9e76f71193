import Foundation
import Hummingbird
import NIOCore
import Orchestration

/// `POST /api/v1/webhooks/{source}`: deliveries from GitHub, GitLab or any HMAC-signing sender.
/// Senders authenticate with the trigger's secret, not with API tokens. Every enabled webhook
/// trigger of that source whose secret verifies the delivery and whose conditions match starts
/// its workflow; a delivery id seen before starts nothing (senders redeliver).
struct WebhookController<Context: RequestContext>: Sendable {
    let engine: WorkflowEngine
    let store: (any ExecutionStore)?
    let scheduler: TriggerScheduler
    /// Delivery ids seen, when the server runs without a store.
    let seen = InMemoryExecutionStore()

    func addRoutes(to group: RouterGroup<Context>) {
        group.post("webhooks/:source", use: receive)
    }

    func receive(_ request: Request, context: Context) async throws -> Response {
        let source = try context.parameters.require("source").lowercased()
        let candidates = await scheduler.enabledTriggers(.webhook).filter { ($0.trigger.source ?? "generic").lowercased() == source }
        guard !candidates.isEmpty else {
            throw Problem(.notFound, "no enabled webhook trigger has source '\(source)'")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Webhook.bodyLimit) } catch {
            throw Problem(.contentTooLarge, "a delivery may be at most \(Webhook.bodyLimit) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let delivery = Webhook.Delivery(source: source, headers: headers, body: Array(buffer: body))
        // Whose secret verifies it. A trigger without a secret takes nothing: unsigned deliveries
        // could come from anyone.
        var verified: [(workflowID: String, trigger: WorkflowTrigger)] = []
        for candidate in candidates {
            guard let secret = engine.secrets.resolve(candidate.trigger.secret) else {
                await scheduler.recordError(candidate.workflowID, candidate.trigger.id, "no secret (or its ${secrets.…} is not set): deliveries are refused")
                continue
            }
            if Webhook.verify(delivery, secret: secret) { verified.append(candidate) }
        }
        guard !verified.isEmpty else {
            for c in candidates { await scheduler.recordError(c.workflowID, c.trigger.id, "refused a delivery whose signature does not verify") }
            throw Problem(.unauthorized, source == "gitlab" ? "X-Gitlab-Token does not match" : "the signature does not verify (\(source == "github" ? "X-Hub-Signature-256" : "X-Signature-256"): sha256=HMAC-SHA256 of the body with the trigger's secret)")
        }
        let payload: JSONValue
        do { payload = try Webhook.payload(of: delivery) } catch {
            throw Problem(.badRequest, "the delivery cannot be read: \(error.description)")
        }
        if let id = delivery.deliveryID {
            let isNew = try await (store ?? seen).recordDelivery(source: source, id: id, at: Date())
            if !isNew {
                return JSONValue.object(["delivery": .string(id), "duplicate": true, "executions": []]).response(.ok)
            }
        }
        var started: [JSONValue] = []
        var skipped: [JSONValue] = []
        for (workflowID, trigger) in verified {
            guard Webhook.matches(trigger.conditions, payload: payload) else {
                skipped.append(["workflow": .string(workflowID), "trigger": .string(trigger.id), "reason": "the conditions do not match"])
                continue
            }
            do {
                let execution = try await scheduler.fire(workflowID: workflowID, trigger: trigger, payload: payload)
                started.append(["workflow": .string(workflowID), "trigger": .string(trigger.id), "execution": .string(execution.id)])
            } catch {
                skipped.append(["workflow": .string(workflowID), "trigger": .string(trigger.id), "reason": .string("\(error)")])
            }
        }
        var answer: [String: JSONValue] = ["duplicate": false, "executions": .array(started), "skipped": .array(skipped)]
        if let id = delivery.deliveryID { answer["delivery"] = .string(id) }
        return JSONValue.object(answer).response(.accepted)
    }
}
