import Foundation

/// The pieces the stores' hand-written JSON is made of (``StepResult/storedJSON()``,
/// ``ExecutionRecord/storedHeaderJSON()``), each written as `JSONEncoder` (sorted keys, default
/// strategies) writes it, so `JSONDecoder` reads the text back to an equal value.
enum StoredJSON {
    /// For values these writers do not cover (a number that is not finite): `JSONEncoder`
    /// refuses them, and so the stores do.
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// `,"key":"value"`, the value quoted as JSON quotes it.
    static func field(_ key: String, _ value: String, into out: inout String) {
        out += ",\"" + key + "\":"
        JSONValue.writeQuoted(value, into: &out)
    }

    /// `Date`'s own encoding: seconds since 2001 as a number (`Double`'s description reads back exactly).
    static func date(_ date: Date) -> String {
        "\(date.timeIntervalSinceReferenceDate)"
    }

    /// `Duration`'s own encoding: its attoseconds as two 64-bit halves, `[high, low]`.
    static func duration(_ duration: Duration) -> String {
        let c = duration.components
        let total = Int128(c.seconds) * 1_000_000_000_000_000_000 + Int128(c.attoseconds)
        return "[" + String(Int64(truncatingIfNeeded: total >> 64)) + "," + String(UInt64(truncatingIfNeeded: total)) + "]"
    }
}
