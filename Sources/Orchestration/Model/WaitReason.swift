import Foundation

/// What a suspended step waits for, and how ``StepResult/waitingFor`` writes it: `approval`,
/// `signal:<name>`, `until:<ISO 8601 time>`, or `concurrency:<key>`.
public enum WaitReason: Sendable, Hashable, CustomStringConvertible {
    case approval
    case signal(String)
    case until(Date)
    /// A slot of a step's concurrency key.
    case concurrency(String)

    /// The reason `text` (as ``description`` writes it) names; nil for anything else.
    public init?(_ text: String) {
        // Compared as bytes: a name or key that starts with a combining mark would merge with
        // the `:` into one Character, and `hasPrefix` would not see the prefix.
        func rest(after prefix: String) -> String? {
            guard text.utf8.count > prefix.utf8.count, text.utf8.starts(with: prefix.utf8) else { return nil }
            return String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
        }
        if text == "approval" {
            self = .approval
        } else if let name = rest(after: "signal:") {
            self = .signal(name)
        } else if let time = rest(after: "until:").flatMap(TimeText.parse) {
            self = .until(time)
        } else if let key = rest(after: "concurrency:") {
            self = .concurrency(key)
        } else {
            return nil
        }
    }

    public var description: String {
        switch self {
        case .approval: "approval"
        case .signal(let name): "signal:" + name
        case .until(let time): "until:" + TimeText.format(time)
        case .concurrency(let key): "concurrency:" + key
        }
    }

    /// Whether it waits for a concurrency slot.
    public var isConcurrency: Bool {
        if case .concurrency = self { return true }
        return false
    }

    /// In words, for messages: `a decision`, `signal ci-finished`, `2026-12-24T18:00:00Z`.
    public var words: String {
        switch self {
        case .approval: "a decision"
        case .signal(let name): "signal \(name)"
        case .until(let time): TimeText.format(time)
        case .concurrency(let key): "a slot of concurrency key \(key)"
        }
    }
}

extension StepResult {
    /// ``waitingFor`` as a ``WaitReason``.
    public var waitReason: WaitReason? { waitingFor.flatMap(WaitReason.init) }
}
