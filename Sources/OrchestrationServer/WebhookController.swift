import Crypto
import Foundation
import Logging
import Hummingbird
import NIOCore
import Orchestration
import OrchestrationAPI

/// `POST /api/v1/webhooks/{source}`: deliveries from GitHub, GitLab or any HMAC-signing sender,
/// and incidents from PagerDuty and Alertmanager (`incident` triggers).
/// Senders authenticate with the trigger's secret, not with API tokens. Every enabled webhook
/// trigger of that source whose secret verifies the delivery and whose conditions match starts
/// its workflow; a delivery id seen before starts nothing (senders redeliver).
struct WebhookController<Context: RequestContext>: Sendable {
    let engine: WorkflowEngine
    let store: (any TriggerStore)?
    let scheduler: TriggerScheduler
    /// What delivery times and timestamps' staleness are read against.
    let time: TimeSource
    /// Delivery ids seen, when the server runs without a store.
    let seen: any TriggerStore = InMemoryStore()

    func addRoutes(to api: Routes<Context>) {
        // Senders prove themselves with the trigger's secret, not with a token.
        api.post("webhooks/:source", .signed, accepts: MediaType.json, use: receive)
    }

    /// A refused delivery is logged (source, status, reason; never its body or signature).
    func receive(_ request: Request, context: Context) async throws -> Response {
        do {
            return try await accept(request, context: context)
        } catch let problem as Problem {
            engine.logger.warning(
                "webhook delivery refused",
                metadata: [
                    "source": "\(context.parameters.get("source") ?? "")", "status": "\(problem.status.code)", "reason": "\(problem.detail)",
                ])
            throw problem
        }
    }

    func accept(_ request: Request, context: Context) async throws -> Response {
        let source = try context.parameters.require("source").lowercased()
        let isIncident = Incident.sources.contains(source)
        let candidates = await scheduler.enabledTriggers(isIncident ? .incident : .webhook).filter {
            ($0.trigger.source ?? "generic").lowercased() == source
        }
        guard !candidates.isEmpty else {
            throw Problem(.notFound, "no enabled \(isIncident ? "incident" : "webhook") trigger has source '\(source)'")
        }
        let body: ByteBuffer
        do { body = try await request.body.collect(upTo: Webhook.bodyLimit) } catch {
            throw Problem(.contentTooLarge, "a delivery may be at most \(Webhook.bodyLimit) bytes")
        }
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        let delivery = Webhook.Delivery(source: source, headers: headers, body: Array(buffer: body))
        let verified = try await verifiedTriggers(delivery, candidates: candidates)
        if isIncident { return try await receiveIncident(delivery, triggers: verified, traceParent: request.traceHeaders) }
        let payload: JSONValue
        do { payload = try Webhook.payload(of: delivery) } catch {
            throw Problem(.badRequest, "the delivery cannot be read: \(error.description)")
        }
        // Replays: the sender's delivery id is required, a seen one starts nothing, and so does a
        // seen body where only the body is signed (its id could be swapped); a signed timestamp
        // must be recent.
        guard let id = delivery.deliveryID else {
            throw Problem(
                .badRequest, "the delivery has no delivery id (\(delivery.deliveryHeader)); without one a captured delivery could be replayed")
        }
        if let stale = Webhook.staleness(delivery, now: time.now()) {
            throw Problem(.unauthorized, "refused a replayed or delayed delivery: \(stale)")
        }
        let deliveries = store ?? seen
        var isNew = try await deliveries.recordDelivery(source: source, id: id, at: time.now())
        if isNew, delivery.signsBodyOnly {
            isNew = try await deliveries.recordDelivery(
                source: source, id: "sha256:" + Hex.encode(Array(SHA256.hash(data: delivery.body))), at: time.now())
        }
        if !isNew {
            return try APIBody.response(Components.Schemas.WebhookResult(delivery: id, duplicate: true, executions: []), .ok)
        }
        var started: Components.Schemas.WebhookResult.ExecutionsPayload = []
        var skipped: Components.Schemas.WebhookResult.SkippedPayload = []
        for (workflowID, trigger) in verified {
            guard Webhook.matches(trigger.conditions, payload: payload) else {
                skipped.append(.init(workflow: workflowID, trigger: trigger.id, reason: "the conditions do not match"))
                continue
            }
            do {
                let execution = try await scheduler.fire(
                    workflowID: workflowID, trigger: trigger, payload: payload, traceParent: request.traceHeaders)
                started.append(.init(workflow: workflowID, trigger: trigger.id, execution: execution.id))
            } catch {
                skipped.append(.init(workflow: workflowID, trigger: trigger.id, reason: "\(error)"))
            }
        }
        return try APIBody.response(
            Components.Schemas.WebhookResult(delivery: id, duplicate: false, executions: started, skipped: skipped), .accepted)
    }

    /// The candidates whose secret verifies the delivery. A trigger without a secret takes
    /// nothing: unsigned deliveries could come from anyone. None at all is a 401.
    func verifiedTriggers(_ delivery: Webhook.Delivery, candidates: [(workflowID: String, trigger: WorkflowTrigger)]) async throws -> [(
        workflowID: String, trigger: WorkflowTrigger
    )] {
        let isIncident = Incident.sources.contains(delivery.source)
        var verified: [(workflowID: String, trigger: WorkflowTrigger)] = []
        for candidate in candidates {
            guard let secret = engine.secrets.resolve(candidate.trigger.secret) else {
                await scheduler.recordError(
                    candidate.workflowID, candidate.trigger.id, "no secret (or its ${secrets.…} is not set): deliveries are refused")
                continue
            }
            let ok = isIncident ? Incident.verify(delivery, secret: secret) : Webhook.verify(delivery, secret: secret)
            if ok { verified.append(candidate) }
        }
        guard verified.isEmpty else { return verified }
        for c in candidates { await scheduler.recordError(c.workflowID, c.trigger.id, "refused a delivery whose signature does not verify") }
        let how =
            switch delivery.source {
            case "gitlab": "X-Gitlab-Token does not match"
            case "pagerduty": "the signature does not verify (X-PagerDuty-Signature: v1=HMAC-SHA256 of the body with the trigger's secret)"
            case "alertmanager": "the credentials do not match (Authorization: Bearer with the trigger's secret)"
            case "github": "the signature does not verify (X-Hub-Signature-256: sha256=HMAC-SHA256 of the body with the trigger's secret)"
            default: "the signature does not verify (X-Signature-256: sha256=HMAC-SHA256 of the body with the trigger's secret)"
            }
        throw Problem(.unauthorized, how)
    }

    /// PagerDuty and Alertmanager: each incident event in the delivery (Alertmanager groups
    /// alerts) starts every verified trigger it matches, once per occurrence id.
    func receiveIncident(
        _ delivery: Webhook.Delivery, triggers: [(workflowID: String, trigger: WorkflowTrigger)], traceParent: TraceHeaders?
    ) async throws -> Response {
        let occurrences: [Incident.Occurrence]
        do { occurrences = try Incident.occurrences(of: delivery) } catch {
            throw Problem(.badRequest, "the delivery cannot be read: \(error.description)")
        }
        var started: Components.Schemas.WebhookResult.ExecutionsPayload = []
        var skipped: Components.Schemas.WebhookResult.SkippedPayload = []
        var duplicates: [String] = []
        for occurrence in occurrences {
            guard try await (store ?? seen).recordDelivery(source: delivery.source, id: occurrence.id, at: time.now()) else {
                duplicates.append(occurrence.id)
                continue
            }
            for (workflowID, trigger) in triggers {
                guard Incident.matches(trigger, payload: occurrence.payload) else {
                    skipped.append(.init(workflow: workflowID, trigger: trigger.id, reason: "the incident does not match", incident: occurrence.id))
                    continue
                }
                do {
                    let execution = try await scheduler.fire(
                        workflowID: workflowID, trigger: trigger, payload: occurrence.payload, traceParent: traceParent)
                    started.append(.init(workflow: workflowID, trigger: trigger.id, execution: execution.id, incident: occurrence.id))
                } catch {
                    skipped.append(.init(workflow: workflowID, trigger: trigger.id, reason: "\(error)", incident: occurrence.id))
                }
            }
        }
        let duplicate = started.isEmpty && skipped.isEmpty && !duplicates.isEmpty
        return try APIBody.response(
            Components.Schemas.WebhookResult(duplicate: duplicate, executions: started, skipped: skipped, duplicates: duplicates),
            duplicate ? .ok : .accepted)
    }
}
