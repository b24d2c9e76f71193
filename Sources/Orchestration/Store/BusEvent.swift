import Foundation

/// One event on the event bus, as persisted: its sequence number orders every event ever
/// published, and replay starts from one.
public struct BusEvent: Sendable, Hashable {
    public var seq: Int64
    /// Dotted, e.g. `deployment.finished`, `execution.failed`.
    public var type: String
    public var data: JSONValue
    /// Who published it: `api`, `cli`, `engine`, or what a Swift caller names.
    public var source: String
    public var time: Date

    public init(seq: Int64, type: String, data: JSONValue, source: String, time: Date) {
        self.seq = seq
        self.type = type
        self.data = data
        self.source = source
        self.time = time
    }

    /// `{seq, type, data, source, time}`: the event on the wire and as `${trigger.…}`.
    public var json: JSONValue {
        [
            "seq": .number(Double(seq)), "type": .string(type), "data": data, "source": .string(source),
            "time": .string(time.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))),
        ]
    }

    /// Whether `type` matches `pattern`: `*` alone matches everything; a trailing `.*` matches
    /// that prefix and anything below it (`deployment.*` matches `deployment.finished` and
    /// `deployment.canary.started`); `*` inside a segment matches within it (`*.failed`).
    public static func matches(type: String, pattern: String) -> Bool {
        if pattern == "*" || pattern == type { return true }
        if pattern.hasSuffix(".*") {
            let prefix = pattern.dropLast(2)
            if type.hasPrefix(prefix + "."), !prefix.contains("*") { return true }
        }
        let p = pattern.split(separator: ".", omittingEmptySubsequences: false)
        let t = type.split(separator: ".", omittingEmptySubsequences: false)
        if p.last == "*", p.count <= t.count, zip(p.dropLast(), t).allSatisfy({ segment($0.1, $0.0) }) { return true }
        return p.count == t.count && zip(p, t).allSatisfy { segment($0.1, $0.0) }
    }

    static func segment(_ text: Substring, _ pattern: Substring) -> Bool {
        guard pattern.contains("*") else { return text == pattern }
        let parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
        var rest = text[...]
        for (i, part) in parts.enumerated() {
            if i == 0 {
                guard rest.hasPrefix(part) else { return false }
                rest = rest.dropFirst(part.count)
            } else if i == parts.count - 1 {
                return part.isEmpty || rest.hasSuffix(part)
            } else {
                guard let r = rest.range(of: part) else { return false }
                rest = rest[r.upperBound...]
            }
        }
        return rest.isEmpty
    }
}

/// An outbound webhook: events whose type matches `events` are POSTed to `url`, signed with
/// `secret` (`X-Signature-256: sha256=HMAC-SHA256`), one at a time in order, retried with
/// backoff, and dead-lettered after `maxAttempts` failures.
public struct EventSubscription: Sendable, Hashable, Codable {
    public var id: String
    public var url: String
    /// A type pattern (`deployment.*`, `*`).
    public var events: String
    public var secret: String?
    public var maxAttempts: Int
    public var createdAt: Date
    public var delivered: Int
    public var deadLettered: Int
    public var lastError: String?
    public var lastDeliveredSeq: Int64?

    public init(id: String, url: String, events: String, secret: String?, maxAttempts: Int = 5, createdAt: Date) {
        self.id = id
        self.url = url
        self.events = events
        self.secret = secret
        self.maxAttempts = maxAttempts
        self.createdAt = createdAt
        self.delivered = 0
        self.deadLettered = 0
    }
}

/// An event a subscription gave up on.
public struct DeadLetter: Sendable, Hashable, Codable {
    public var subscriptionID: String
    public var seq: Int64
    public var type: String
    public var attempts: Int
    public var error: String
    public var at: Date

    public init(subscriptionID: String, seq: Int64, type: String, attempts: Int, error: String, at: Date) {
        self.subscriptionID = subscriptionID
        self.seq = seq
        self.type = type
        self.attempts = attempts
        self.error = error
        self.at = at
    }
}

extension BusEvent {
    /// How a store keeps an event's data and source: one JSON text (`{"data": …, "source": …}`).
    package static func storedPayload(data: JSONValue, source: String) -> String {
        JSONValue.object(["data": data, "source": .string(source)]).jsonText
    }

    /// An event read back from a store: `payload` as ``storedPayload(data:source:)`` wrote it.
    package init(seq: Int64, type: String, storedPayload payload: String, time: Date) {
        var data: JSONValue = .null
        var source = ""
        if case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: Data(payload.utf8)) {
            data = o["data"] ?? .null
            if case .string(let s)? = o["source"] { source = s }
        }
        self.init(seq: seq, type: type, data: data, source: source, time: time)
    }
}
