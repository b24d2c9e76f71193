/// At most `limit` executions (or steps) hold a key at once, across every execution of every
/// workflow sharing the store; what a start does when the key is taken is `onConflict`.
///
/// ```yaml
/// concurrency: {key: "deploy-${inputs.env}", limit: 1, onConflict: queue}
/// ```
///
/// On a workflow the key is rendered when an execution starts (from its inputs, variables and
/// trigger); on a step, when the step would start (upstream outputs too).
public struct ConcurrencyPolicy: Sendable, Hashable, Codable {
    /// What a start does when `limit` others hold the key.
    public enum Conflict: String, Sendable, Hashable, Codable, CaseIterable {
        /// Waits, in start order, for a holder to end.
        case queue
        /// Cancels the oldest holders (and the ones waiting) so that it goes next: the newest wins.
        case cancelRunning = "cancel-running"
        /// Does not run: an execution ends cancelled, a step is skipped, saying who holds the key.
        case skip
    }

    /// A `${…}` template; the rendered key is at most ``maximumKeyBytes`` bytes.
    public var key: String
    public var limit: Int
    public var onConflict: Conflict

    /// The longest rendered key.
    public static let maximumKeyBytes = 255
    /// The largest `limit`.
    public static let maximumLimit = 10_000

    public init(key: String, limit: Int = 1, onConflict: Conflict = .queue) {
        (self.key, self.limit, self.onConflict) = (key, limit, onConflict)
    }

    /// Checks a rendered key: 1 to 255 bytes, no control characters (C0, DEL, C1), no
    /// bidirectional overrides, and no combining mark first (it would merge with what precedes it).
    public static func checkKey(_ key: String) -> String? {
        if key.isEmpty { return "the concurrency key renders empty" }
        if key.utf8.count > maximumKeyBytes { return "the concurrency key is \(key.utf8.count) bytes; the limit is \(maximumKeyBytes)" }
        for scalar in key.unicodeScalars {
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v) { return "the concurrency key contains a control character" }
            if (0x202A...0x202E).contains(v) || (0x2066...0x2069).contains(v) || v == 0x200E || v == 0x200F {
                return "the concurrency key contains a bidirectional control character"
            }
        }
        if let first = key.unicodeScalars.first,
            first.properties.generalCategory == .nonspacingMark
                || first.properties.generalCategory == .enclosingMark || first.properties.generalCategory == .spacingMark
                || first.properties.isJoinControl || first.properties.isVariationSelector
        {
            return "the concurrency key starts with a combining character"
        }
        return nil
    }
}
