import Crypto
import Foundation

/// Incident deliveries from PagerDuty (v3 webhooks) and Prometheus Alertmanager, read into one
/// shape so an `incident` trigger matches both the same way. Pure; the server does the I/O.
///
/// | source | authenticity | one delivery carries | occurrence id (deduplication) |
/// |---|---|---|---|
/// | `pagerduty` | `X-PagerDuty-Signature: v1=HMAC-SHA256(secret, body)[,v1=…]` | one event | `event.id` |
/// | `alertmanager` | `Authorization: Bearer secret` (the receiver's `http_config.authorization`) | a group of alerts | fingerprint, start, status |
///
/// Every occurrence becomes a payload (`${trigger.…}`) with the same fields whatever sent it:
/// `source`, `event` (`incident.triggered`, `incident.resolved`, … — Alertmanager's `firing` is
/// `incident.triggered`), `incident_id`, `title`, `status`, `severity`, `service`, `url`,
/// `triggered_by`, plus the sender's own fields (`urgency`, `priority`, `labels`, `annotations`, …).
package enum Incident {
    /// Where incidents come from.
    package static let sources = ["pagerduty", "alertmanager"]

    /// The event types an incident trigger matches when it names none: a new incident.
    package static let defaultEvent = "incident.triggered"

    /// One incident event read from a delivery.
    package struct Occurrence: Sendable, Hashable {
        /// Unique per event: a redelivery has the same one.
        package var id: String
        package var payload: JSONValue
    }

    /// Whether `delivery` was sent by someone who knows `secret`. Compared in constant time.
    package static func verify(_ delivery: Webhook.Delivery, secret: String) -> Bool {
        switch delivery.source {
        case "pagerduty":
            // Several signatures while PagerDuty rotates a secret; one that verifies is enough.
            guard let header = delivery.headers["x-pagerduty-signature"] else { return false }
            let expected = Webhook.signature(delivery.body, secret: secret)
            var verified = false
            for part in header.split(separator: ",") {
                let item = part.trimmingCharacters(in: .whitespaces)
                guard item.hasPrefix("v1="), let given = Hex.decode(item.dropFirst(3)) else { continue }
                if Hex.constantTimeEqual(given, expected) { verified = true }
            }
            return verified
        case "alertmanager":
            guard let header = delivery.headers["authorization"] else { return false }
            let given: String
            if header.lowercased().hasPrefix("bearer ") {
                given = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            } else if header.lowercased().hasPrefix("basic "),
                let data = Data(base64Encoded: String(header.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
                let pair = String(data: data, encoding: .utf8), let colon = pair.firstIndex(of: ":")
            {
                // basic_auth: any user name, the secret as password.
                given = String(pair[pair.index(after: colon)...])
            } else {
                return false
            }
            return Webhook.sameSecret(given, secret)
        default:
            return false
        }
    }

    /// The incident events a delivery carries: one for PagerDuty, one per alert for Alertmanager.
    package static func occurrences(of delivery: Webhook.Delivery) throws(Webhook.Malformed) -> [Occurrence] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(delivery.body)) else {
            throw Webhook.Malformed(description: "the body is not JSON")
        }
        guard case .object(let body) = value else { throw Webhook.Malformed(description: "the body must be a JSON object") }
        switch delivery.source {
        case "pagerduty": return [try pagerDuty(body)]
        case "alertmanager": return try alertmanager(body)
        default: throw Webhook.Malformed(description: "'\(delivery.source)' is not an incident source")
        }
    }

    static func pagerDuty(_ body: [String: JSONValue]) throws(Webhook.Malformed) -> Occurrence {
        guard case .object(let event)? = body["event"] else {
            throw Webhook.Malformed(description: "a PagerDuty v3 delivery has an 'event' object")
        }
        guard case .string(let id)? = event["id"], case .string(let type)? = event["event_type"] else {
            throw Webhook.Malformed(description: "the PagerDuty event has no 'id' or 'event_type'")
        }
        let data = event["data"] ?? .null
        // Incident events carry the incident as `data`; notes, responders and status updates refer to it.
        let incident = data["incident"] ?? data
        var payload: [String: JSONValue] = [
            "source": "pagerduty", "event": .string(type), "delivery": .string(id), "triggered_by": "pagerduty",
            "data": data,
        ]
        payload["incident_id"] = incident["id"]
        payload["title"] = incident["title"] ?? incident["summary"]
        payload["status"] = data["status"]
        payload["urgency"] = data["urgency"]
        payload["priority"] = data["priority"]?["summary"]
        // PagerDuty incidents have an urgency rather than a severity.
        payload["severity"] = data["urgency"]
        payload["service"] = data["service"]?["summary"]
        payload["service_id"] = data["service"]?["id"]
        payload["url"] = incident["html_url"]
        payload["occurred_at"] = event["occurred_at"]
        payload["number"] = data["number"]
        return Occurrence(id: id, payload: .object(payload.filter { $0.value != .null }))
    }

    static func alertmanager(_ body: [String: JSONValue]) throws(Webhook.Malformed) -> [Occurrence] {
        guard case .array(let alerts)? = body["alerts"] else {
            throw Webhook.Malformed(description: "an Alertmanager delivery has an 'alerts' list")
        }
        var out: [Occurrence] = []
        for (i, alert) in alerts.enumerated() {
            guard case .object(let fields) = alert else { throw Webhook.Malformed(description: "alerts[\(i)] is not an object") }
            let labels = fields["labels"] ?? .object([:])
            let annotations = fields["annotations"] ?? .object([:])
            let status = fields["status"]?.text ?? "firing"
            let fingerprint = fields["fingerprint"]?.text ?? Hex.encode(Array(SHA256.hash(data: Array(canonical(labels).utf8))).prefix(8))
            let startsAt = fields["startsAt"]?.text ?? ""
            var payload: [String: JSONValue] = [
                "source": "alertmanager", "triggered_by": "alertmanager",
                "event": .string(status == "firing" ? "incident.triggered" : "incident.\(status)"),
                "status": .string(status), "incident_id": .string(fingerprint), "fingerprint": .string(fingerprint),
                "labels": labels, "annotations": annotations,
            ]
            payload["alertname"] = labels["alertname"]
            payload["title"] = annotations["summary"] ?? annotations["title"] ?? labels["alertname"]
            payload["severity"] = labels["severity"]
            payload["service"] = labels["service"]
            payload["startsAt"] = fields["startsAt"]
            payload["endsAt"] = fields["endsAt"]
            payload["url"] = fields["generatorURL"]
            payload["receiver"] = body["receiver"]
            payload["groupKey"] = body["groupKey"]
            payload["externalURL"] = body["externalURL"]
            payload["commonLabels"] = body["commonLabels"]
            // One alert occurrence fires once; Alertmanager repeats firing alerts in later notifications.
            out.append(Occurrence(id: "\(fingerprint)@\(startsAt):\(status)", payload: .object(payload.filter { $0.value != .null })))
        }
        return out
    }

    static func canonical(_ labels: JSONValue) -> String {
        guard case .object(let o) = labels else { return labels.text }
        return o.keys.sorted().map { "\($0)=\(o[$0]!.text)" }.joined(separator: ",")
    }

    /// The event type pattern a trigger matches: `event`, `conditions.event`, else `incident.triggered`.
    package static func eventPattern(of trigger: WorkflowTrigger) -> String {
        trigger.event ?? trigger.conditions["event"]?.text ?? defaultEvent
    }

    /// Whether `trigger` takes this occurrence: its event type matches the trigger's pattern,
    /// `severity` and `service` (a name or a list, compared without case) match, and any other
    /// condition holds as a payload path. A PagerDuty incident's severity is its urgency (`high`,
    /// `low`) or its priority (`P1`…); its service is the service's name or id.
    package static func matches(_ trigger: WorkflowTrigger, payload: JSONValue) -> Bool {
        guard BusEvent.matches(type: payload["event"]?.text ?? "", pattern: eventPattern(of: trigger)) else { return false }
        if let wanted = trigger.conditions["severity"] {
            guard matchesAny(wanted, [payload["severity"], payload["priority"]]) else { return false }
        }
        if let wanted = trigger.conditions["service"] {
            guard matchesAny(wanted, [payload["service"], payload["service_id"]]) else { return false }
        }
        var rest = trigger.conditions
        for key in ["event", "severity", "service"] { rest[key] = nil }
        return Webhook.matches(rest, payload: payload)
    }

    static func matchesAny(_ wanted: JSONValue, _ actual: [JSONValue?]) -> Bool {
        let options: [String] = if case .array(let items) = wanted { items.map { $0.text.lowercased() } } else { [wanted.text.lowercased()] }
        return actual.contains { value in value.map { options.contains($0.text.lowercased()) } ?? false }
    }
}
