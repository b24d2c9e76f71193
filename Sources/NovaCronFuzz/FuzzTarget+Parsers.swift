import Foundation
import Orchestration

extension FuzzTarget {
    static func workflow(_ text: String) {
        do {
            let document = try WorkflowLoader.load(source: text, file: "fuzz.yaml")
            // What loads can be planned.
            _ = Planner().plan(document.graph)
        } catch {
            if error.errors.isEmpty { broken("a refused workflow without an error to say why") }
            for e in error.errors where e.message.isEmpty { broken("an empty error message at \(e.location?.description ?? "?")") }
        }
    }

    /// The values a condition may refer to: strings, numbers, lists and objects, and nothing else.
    static func resolve(_ reference: Reference) throws -> JSONValue? {
        guard case .key(let first)? = reference.components.first else { return .number(0) }
        switch first {
        case "missing": return nil
        case "n": return .number(3)
        case "list": return ["a", 1, true, .null]
        case "object": return ["status": "success", "exitCode": 0, "nested": ["x": 1.5]]
        default: return .string(reference.description)
        }
    }

    static func expression(_ text: String) {
        guard let expression = try? Expression.parse(text) else { return }
        if let value = try? ExpressionEvaluator.evaluate(expression, resolve: resolve) { mustEncode(value, "the value of '\(text)'") }
        _ = try? ExpressionEvaluator.evaluateCondition(expression, resolve: resolve)
    }

    static func template(_ text: String) {
        guard let template = try? Template(text) else { return }
        if let value = try? template.render(resolve: resolve) { mustEncode(value, "the rendering of '\(text)'") }
    }

    static func cron(_ text: String) {
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        let (zone, expression) = lines.count == 2 ? (String(lines[0]), String(lines[1])) : (nil, text)
        guard let schedule = try? CronSchedule(expression, timeZone: zone) else { return }
        var previous = Date(timeIntervalSince1970: 1_795_000_000)
        for tick in schedule.upcoming(after: previous, count: 5) {
            if !(tick > previous) { broken("'\(expression)' went back or stood still at \(tick)") }
            previous = tick
        }
    }

    static func jsonPatch(_ text: String) {
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard lines.count == 2,
            let document = try? JSONDecoder().decode(JSONValue.self, from: Data(lines[0].utf8)),
            let patch = try? JSONDecoder().decode([JSONPatchOperation].self, from: Data(lines[1].utf8))
        else { return }
        if let patched = try? JSONPatch.apply(patch, to: document) { mustEncode(patched, "a patched document") }
    }

    static let sources = ["github", "gitlab", "generic", "stripe", "slack", "standard", "pagerduty", "opsgenie", "alertmanager"]

    /// The first byte picks the source, the second the headers; the rest is the body.
    static func delivery(_ bytes: [UInt8]) -> Webhook.Delivery? {
        guard bytes.count >= 2 else { return nil }
        let source = sources[Int(bytes[0]) % sources.count]
        let headers: [String: String] =
            bytes[1] % 2 == 0
            ? ["X-Hub-Signature-256": "sha256=00", "X-GitHub-Delivery": "d1", "X-GitHub-Event": "push", "Content-Type": "application/json"]
            : ["webhook-id": "msg_1", "webhook-timestamp": "1795000000", "webhook-signature": "v1,AAAA", "X-Gitlab-Token": "t"]
        return Webhook.Delivery(source: source, headers: headers, body: Array(bytes.dropFirst(2)))
    }

    static func webhook(_ bytes: [UInt8]) {
        guard let delivery = delivery(bytes) else { return }
        _ = Webhook.verify(delivery, secret: "s3cret")
        _ = Webhook.staleness(delivery, now: Date(timeIntervalSince1970: 1_795_000_000))
        if let payload = try? Webhook.payload(of: delivery) {
            mustEncode(payload, "a webhook payload")
            _ = Webhook.matches(["ref": "refs/heads/main"], payload: payload)
        }
    }

    static func incident(_ bytes: [UInt8]) {
        guard let delivery = delivery(bytes) else { return }
        _ = Incident.verify(delivery, secret: "s3cret")
        guard let occurrences = try? Incident.occurrences(of: delivery) else { return }
        for occurrence in occurrences { mustEncode(occurrence.payload, "an incident's payload") }
    }

    static func traceparent(_ text: String) {
        let lines = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        guard let headers = TraceHeaders(traceparent: String(lines[0]), tracestate: lines.count == 2 ? String(lines[1]) : nil) else { return }
        // Kept means well formed: read again, it is the same.
        if TraceHeaders(traceparent: headers.traceparent, tracestate: headers.tracestate) != headers {
            broken("'\(headers.traceparent)' changed when read again")
        }
    }
}
