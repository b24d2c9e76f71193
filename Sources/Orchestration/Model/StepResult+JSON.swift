import Foundation

extension StepResult {
    /// The result as the stores keep it: compact JSON with sorted keys that `JSONDecoder` reads
    /// back to an equal value, exactly as `JSONEncoder` (sorted keys, default strategies) writes
    /// it, but written field by field: a durable chain encodes one per step, and going through
    /// `JSONEncoder`'s generic containers was about a tenth of the step's CPU time.
    ///
    /// A result `JSONEncoder` would refuse (a date or an output that is not a finite number)
    /// goes through it, so it fails the same way.
    ///
    /// ```swift
    /// let text = try result.storedJSON()
    /// let back = try JSONDecoder().decode(StepResult.self, from: Data(text.utf8))   // == result
    /// ```
    package func storedJSON() throws -> String {
        guard isFinite else { return String(decoding: try Self.fallbackEncoder.encode(self), as: UTF8.self) }
        var out = "{"
        out.reserveCapacity(160)
        // Keys in sorted order, optionals only when present (as synthesized `encodeIfPresent`).
        out += "\"attempts\":" + String(attempts)
        out += ",\"cached\":" + (cached ? "true" : "false")
        if let childExecutionID { Self.field("childExecutionID", childExecutionID, into: &out) }
        out += ",\"duration\":" + Self.durationJSON(duration)
        if let error { Self.field("error", error, into: &out) }
        if let exitCode { out += ",\"exitCode\":" + String(exitCode) }
        if let finishedAt { out += ",\"finishedAt\":" + Self.dateJSON(finishedAt) }
        if let itemCount { out += ",\"itemCount\":" + String(itemCount) }
        out += ",\"outputs\":"
        JSONValue.object(outputs).writeJSON(into: &out)
        if let skipReason { Self.field("skipReason", skipReason, into: &out) }
        if let startedAt { out += ",\"startedAt\":" + Self.dateJSON(startedAt) }
        Self.field("status", status.rawValue, into: &out)
        Self.field("stepID", stepID, into: &out)
        out += ",\"timedOut\":" + (timedOut ? "true" : "false")
        if let waitingFor { Self.field("waitingFor", waitingFor, into: &out) }
        out += "}"
        return out
    }

    /// Every number in it can be written as JSON.
    private var isFinite: Bool {
        (startedAt?.timeIntervalSinceReferenceDate.isFinite ?? true) && (finishedAt?.timeIntervalSinceReferenceDate.isFinite ?? true)
            && outputs.values.allSatisfy(\.isFinite)
    }

    private static let fallbackEncoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    private static func field(_ key: String, _ value: String, into out: inout String) {
        out += ",\"" + key + "\":"
        JSONValue.writeQuoted(value, into: &out)
    }

    /// `Date`'s own encoding: seconds since 2001 as a number (`Double`'s description reads back exactly).
    private static func dateJSON(_ date: Date) -> String {
        "\(date.timeIntervalSinceReferenceDate)"
    }

    /// `Duration`'s own encoding: its attoseconds as two 64-bit halves, `[high, low]`.
    static func durationJSON(_ duration: Duration) -> String {
        let c = duration.components
        let total = Int128(c.seconds) * 1_000_000_000_000_000_000 + Int128(c.attoseconds)
        return "[" + String(Int64(truncatingIfNeeded: total >> 64)) + "," + String(UInt64(truncatingIfNeeded: total)) + "]"
    }
}
