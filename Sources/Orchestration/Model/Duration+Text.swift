/// Durations in workflow files: `500ms`, `10s`, `5m`, `1h30m`, `2d`, `1.5s`, or a number of seconds.
///
/// Units are `ns`, `us` (or `µs`), `ms`, `s`, `m`, `h` and `d`; components add up and may be
/// fractional. `"1h30m"` is 5,400 seconds; `90` (an integer) is 90 seconds.
public enum DurationText {
    /// Why a duration did not parse; `offset` is the character offset of the problem.
    public struct ParseError: Error, Sendable, Equatable {
        public var message: String
        public var offset: Int

        public init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }
    }

    /// Parses `text`, or throws with the offset of the first bad character.
    ///
    /// ```swift
    /// try DurationText.parse("1h30m")   // .seconds(5400)
    /// try DurationText.parse("250ms")   // .milliseconds(250)
    /// ```
    public static func parse(_ text: String) throws(ParseError) -> Duration {
        let chars = Array(text.unicodeScalars)
        guard !chars.isEmpty else {
            throw ParseError(message: "empty duration; write e.g. '30s', '5m' or '1h30m'", offset: 0)
        }
        if let seconds = Double(text), text.allSatisfy({ $0.isNumber || $0 == "." }) {
            return try fromSeconds(seconds, offset: 0)
        }
        var total: Double = 0
        var i = 0
        while i < chars.count {
            let start = i
            while i < chars.count, ("0"..."9").contains(chars[i]) || chars[i] == "." { i += 1 }
            guard i > start, let number = Double(String(String.UnicodeScalarView(chars[start..<i]))) else {
                throw ParseError(
                    message: "expected a number at '\(String(String.UnicodeScalarView(chars[start...])))'; write e.g. '30s', '5m' or '1h30m'",
                    offset: start)
            }
            let unitStart = i
            while i < chars.count, chars[i].properties.isAlphabetic { i += 1 }
            let unit = String(String.UnicodeScalarView(chars[unitStart..<i]))
            let scale: Double
            switch unit {
            case "ns": scale = 1e-9
            case "us", "µs", "μs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86400
            case "" where i < chars.count && chars[i] == " ":
                throw ParseError(message: "durations are written without spaces, e.g. '10m' or '1h30m'", offset: i)
            case "":
                throw ParseError(
                    message: "missing unit after '\(String(String.UnicodeScalarView(chars[start..<i])))'; units are ns, us, ms, s, m, h, d",
                    offset: unitStart)
            default:
                throw ParseError(message: "unknown unit '\(unit)'; units are ns, us, ms, s, m, h, d", offset: unitStart)
            }
            total += number * scale
        }
        return try fromSeconds(total, offset: 0)
    }

    /// The longest duration anything accepts: 100 years.
    public static let maximumSeconds: Double = 100 * 365 * 86400

    /// `seconds` as a duration, refusing what is not a number, negative, or longer than
    /// ``maximumSeconds`` — the one way a number from outside becomes a `Duration`
    /// (`Duration.seconds(Double)` traps on infinity, NaN and beyond ±9.2e18 s).
    ///
    /// ```swift
    /// try DurationText.duration(seconds: 1.5)        // 1.5 s
    /// try DurationText.duration(seconds: .infinity)  // throws "not a finite number"
    /// ```
    public static func duration(seconds: Double) throws(ParseError) -> Duration {
        try fromSeconds(seconds, offset: 0)
    }

    private static func fromSeconds(_ seconds: Double, offset: Int) throws(ParseError) -> Duration {
        guard seconds.isFinite else {
            throw ParseError(message: "a duration must be a finite number of seconds", offset: offset)
        }
        guard seconds >= 0 else { throw ParseError(message: "a duration cannot be negative", offset: offset) }
        guard seconds <= maximumSeconds else {
            throw ParseError(message: "duration is too long (at most 100 years)", offset: offset)
        }
        return Duration.clamped(seconds: seconds)
    }

    /// Formats a duration the way files write it: `1h30m`, `2.5s`, `500ms`, `0s`.
    public static func format(_ d: Duration) -> String {
        let (s, atto) = d.components
        if s == 0 && atto == 0 { return "0s" }
        if s < 0 || atto < 0 { return "-" + format(.zero - d) }
        if s == 0 {
            let ms = Double(atto) / 1e15
            if ms >= 1 { return trim(ms) + "ms" }
            let us = Double(atto) / 1e12
            if us >= 1 { return trim(us) + "us" }
            return trim(Double(atto) / 1e9) + "ns"
        }
        var out = ""
        var rest = s
        let days = rest / 86400
        if days > 0 && rest % 86400 == 0 && atto == 0 { return "\(days)d" }
        let hours = rest / 3600
        rest %= 3600
        let minutes = rest / 60
        rest %= 60
        if hours > 0 { out += "\(hours)h" }
        if minutes > 0 { out += "\(minutes)m" }
        if rest > 0 || atto > 0 {
            out += trim(Double(rest) + Double(atto) / 1e18) + "s"
        }
        return out
    }

    private static func trim(_ x: Double) -> String {
        let rounded = (x * 1000).rounded() / 1000
        if rounded == rounded.rounded() { return String(Int64(rounded)) }
        return "\(rounded)"
    }
}

extension Duration {
    /// `seconds` as a duration, total: NaN is zero, and anything beyond ±100 years is 100 years
    /// (``DurationText/maximumSeconds``). For values that were computed, not read (a learned
    /// median, the time between two dates); a value read from outside goes through
    /// ``DurationText/duration(seconds:)`` and is refused instead.
    public static func clamped(seconds: Double) -> Duration {
        guard !seconds.isNaN else { return .zero }
        let s = Swift.min(Swift.max(seconds, -DurationText.maximumSeconds), DurationText.maximumSeconds)
        let whole = s.rounded(.down)
        let attos = Swift.min(Int64(((s - whole) * 1e18).rounded()), 999_999_999_999_999_999)
        return Duration(secondsComponent: Int64(whole), attosecondsComponent: attos)
    }

    /// The duration in seconds as a `Double`.
    public var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
