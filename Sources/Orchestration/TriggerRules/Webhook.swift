import Crypto
import Foundation

/// Webhook deliveries (`POST /api/v1/webhooks/{source}`): checking who sent them, reading them
/// into a trigger payload, and matching a trigger's conditions. Pure; the server does the I/O.
///
/// | source | authenticity | event | delivery id |
/// |---|---|---|---|
/// | `github` | `X-Hub-Signature-256: sha256=HMAC-SHA256(secret, body)` | `X-GitHub-Event` | `X-GitHub-Delivery` |
/// | `gitlab` | `X-Gitlab-Token: secret` | `X-Gitlab-Event` | `X-Gitlab-Event-UUID` |
/// | anything else (generic) | [Standard Webhooks](https://www.standardwebhooks.com): `webhook-signature: v1,base64(HMAC-SHA256(key, "id.timestamp.body"))`, or `X-Signature-256: sha256=HMAC-SHA256(secret, body)` | `X-Event` or the body's `event` | `webhook-id`, or `X-Delivery-ID` |
///
/// Replays: every delivery must carry its sender's delivery id, and a delivery id seen before
/// starts nothing. Where only the body is signed (GitHub, `X-Signature-256`), the id could be
/// changed by whoever captured a delivery, so a body seen before starts nothing either. Standard
/// Webhooks signs the id and a timestamp: a delivery older (or newer) than ``timestampTolerance``
/// is refused. GitLab sends its secret in clear, so a captured delivery gives the secret away;
/// only TLS keeps it.
package enum Webhook {
    /// How far a signed timestamp may be from now (Standard Webhooks' recommendation: 5 minutes).
    package static let timestampTolerance: Double = 300

    /// The largest body accepted (GitHub caps its payloads at 25 MB; most are far smaller).
    package static let bodyLimit = 1 << 20

    /// A delivery as received.
    package struct Delivery: Sendable {
        package var source: String
        /// Header names in lower case.
        package var headers: [String: String]
        package var body: [UInt8]

        package init(source: String, headers: [String: String], body: [UInt8]) {
            self.source = source.lowercased()
            self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            self.body = body
        }

        /// The sender's id of this delivery, for deduplication (`nil` when it sent none).
        package var deliveryID: String? {
            switch source {
            case "github": headers["x-github-delivery"]
            case "gitlab": headers["x-gitlab-event-uuid"] ?? headers["idempotency-key"]
            default: headers["webhook-id"] ?? headers["x-delivery-id"] ?? headers["idempotency-key"]
            }
        }

        /// Where the sender puts its delivery id, for messages.
        package var deliveryHeader: String {
            switch source {
            case "github": "X-GitHub-Delivery"
            case "gitlab": "X-Gitlab-Event-UUID"
            default: "webhook-id (Standard Webhooks) or X-Delivery-ID"
            }
        }

        /// Whether the signature covers only the body, so the delivery id could be swapped:
        /// then a body seen before is a replay too.
        package var signsBodyOnly: Bool {
            source == "github" || (source != "gitlab" && headers["webhook-signature"] == nil)
        }
    }

    /// Why a delivery is too old or too new to take (Standard Webhooks' signed timestamp), or
    /// `nil` when it has none or it is within ``timestampTolerance`` of `now`.
    package static func staleness(_ delivery: Delivery, now: Date) -> String? {
        guard delivery.headers["webhook-signature"] != nil else { return nil }
        guard let text = delivery.headers["webhook-timestamp"], let seconds = Double(text), seconds.isFinite else {
            return "webhook-timestamp is missing or not a number of seconds since 1970"
        }
        let skew = now.timeIntervalSince1970 - seconds
        guard abs(skew) <= timestampTolerance else {
            return
                "webhook-timestamp is \(Int(abs(skew).rounded())) s \(skew > 0 ? "old" : "in the future"); at most \(Int(timestampTolerance)) s is accepted"
        }
        return nil
    }

    /// Whether `delivery` was sent by someone who knows `secret`. Compared in constant time.
    package static func verify(_ delivery: Delivery, secret: String) -> Bool {
        switch delivery.source {
        case "gitlab":
            guard let token = delivery.headers["x-gitlab-token"] else { return false }
            return sameSecret(token, secret)
        case let source where source != "github" && delivery.headers["webhook-signature"] != nil:
            return verifyStandard(delivery, secret: secret)
        default:
            let header = delivery.source == "github" ? "x-hub-signature-256" : "x-signature-256"
            guard let value = delivery.headers[header], value.hasPrefix("sha256="), let given = Hex.decode(value.dropFirst(7)) else { return false }
            return Hex.constantTimeEqual(given, signature(delivery.body, secret: secret))
        }
    }

    /// Standard Webhooks: `webhook-signature` lists `v1,<base64>` signatures (several during a
    /// key rotation) of `"<webhook-id>.<webhook-timestamp>.<body>"`, keyed with the base64 after
    /// `whsec_` (or the secret's own bytes when it has no such prefix).
    static func verifyStandard(_ delivery: Delivery, secret: String) -> Bool {
        guard let id = delivery.headers["webhook-id"], let timestamp = delivery.headers["webhook-timestamp"],
            let header = delivery.headers["webhook-signature"]
        else { return false }
        let key: [UInt8]
        if secret.hasPrefix("whsec_") {
            guard let decoded = Data(base64Encoded: String(secret.dropFirst(6))) else { return false }
            key = Array(decoded)
        } else {
            key = Array(secret.utf8)
        }
        let signed = Array("\(id).\(timestamp).".utf8) + delivery.body
        let expected = Array(HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: key)))
        var ok = false
        for entry in header.split(separator: " ") where entry.hasPrefix("v1,") {
            if let given = Data(base64Encoded: String(entry.dropFirst(3))), Hex.constantTimeEqual(Array(given), expected) { ok = true }
        }
        return ok
    }

    /// Whether a secret presented as it is (a token) equals the expected one, in constant time
    /// (their hashes are compared, so their lengths do not show).
    static func sameSecret(_ given: String, _ secret: String) -> Bool {
        Hex.constantTimeEqual(Array(SHA256.hash(data: Array(given.utf8))), Array(SHA256.hash(data: Array(secret.utf8))))
    }

    /// HMAC-SHA256 of `body` with `secret`: what `X-Hub-Signature-256` carries after `sha256=`.
    package static func signature(_ body: [UInt8], secret: String) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: Array(secret.utf8))))
    }

    /// Why a delivery was not read.
    package struct Malformed: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// The delivery as `${trigger.…}`: the JSON body's fields, plus `source`, `event`, `delivery`,
    /// and — from GitHub and GitLab pushes — `branch`, `commit_hash`, `triggered_by`, `repository`.
    package static func payload(of delivery: Delivery) throws(Malformed) -> JSONValue {
        var object: [String: JSONValue] = [:]
        if !delivery.body.isEmpty {
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(delivery.body)) else {
                throw Malformed(description: "the body is not JSON")
            }
            guard case .object(let o) = value else { throw Malformed(description: "the body must be a JSON object") }
            object = o
        }
        object["source"] = .string(delivery.source)
        if let id = delivery.deliveryID { object["delivery"] = .string(id) }
        let text = { (path: [String]) -> String? in
            var current: JSONValue = .object(object)
            for key in path {
                guard case .object(let o) = current, let next = o[key] else { return nil }
                current = next
            }
            if case .string(let s) = current { return s }
            return nil
        }
        switch delivery.source {
        case "github":
            object["event"] = delivery.headers["x-github-event"].map(JSONValue.string) ?? object["event"]
            object["triggered_by"] = "github-webhook"
            if let sender = text(["sender", "login"]) ?? text(["pusher", "name"]) { object["sender"] = .string(sender) }
            if let commit = text(["after"]) ?? text(["head_commit", "id"]) ?? text(["pull_request", "head", "sha"]) {
                object["commit_hash"] = .string(commit)
            }
            if let ref = text(["ref"]) ?? text(["pull_request", "head", "ref"]) { object["branch"] = .string(branch(of: ref)) }
            if let repo = text(["repository", "full_name"]) { object["repository"] = .string(repo) }
        case "gitlab":
            object["event"] = delivery.headers["x-gitlab-event"].map(JSONValue.string) ?? object["event"]
            object["triggered_by"] = "gitlab-webhook"
            if let sender = text(["user_username"]) ?? text(["user", "username"]) { object["sender"] = .string(sender) }
            if let commit = text(["checkout_sha"]) ?? text(["after"]) { object["commit_hash"] = .string(commit) }
            if let ref = text(["ref"]) { object["branch"] = .string(branch(of: ref)) }
            if let repo = text(["project", "path_with_namespace"]) { object["repository"] = .string(repo) }
        default:
            if let event = delivery.headers["x-event"] { object["event"] = .string(event) }
            if object["triggered_by"] == nil { object["triggered_by"] = .string("\(delivery.source)-webhook") }
        }
        return .object(object)
    }

    /// `refs/heads/main` → `main`; `refs/tags/v1` → `v1`.
    package static func branch(of ref: String) -> String {
        for prefix in ["refs/heads/", "refs/tags/"] where ref.hasPrefix(prefix) { return String(ref.dropFirst(prefix.count)) }
        return ref
    }

    /// Whether every condition holds: each key is a path into the payload (`repository.name`),
    /// each value the text it must equal, or a list of texts one of which it must equal. Keys the
    /// trigger uses for its own settings (`schedule`, `timezone`, …) are not conditions.
    package static func matches(_ conditions: [String: JSONValue], payload: JSONValue) -> Bool {
        for (key, wanted) in conditions where !settingKeys.contains(key) {
            let actual = JSONValue.descend(payload, key.split(separator: ".").map { .key(String($0)) }).map(\.text)
            switch wanted {
            case .array(let options):
                guard let actual, options.contains(where: { $0.text == actual }) else { return false }
            default:
                guard actual == wanted.text else { return false }
            }
        }
        return true
    }

    /// Condition keys that configure a trigger rather than filter deliveries.
    static let settingKeys: Set<String> = [
        "schedule", "timezone", "source", "secret", "query", "metric", "operator", "threshold", "duration", "interval", "severity", "service",
    ]
}
