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
        if text == "approval" {
            self = .approval
        } else if text.hasPrefix("signal:"), text.count > 7 {
            self = .signal(String(text.dropFirst(7)))
        } else if text.hasPrefix("until:"), let time = TimeText.parse(String(text.dropFirst(6))) {
            self = .until(time)
        } else if text.hasPrefix("concurrency:"), text.count > 12 {
            self = .concurrency(String(text.dropFirst(12)))
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
