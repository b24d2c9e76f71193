import Foundation

/// Points in time as files, inputs and payloads write them: ISO 8601 with its offset
/// (`2026-11-01T06:00:00Z`), or a date alone (`2026-11-01`, midnight UTC). One parser for
/// backfill ranges, `wait` steps' `until:` and the times NovaCron writes.
public enum TimeText {
    /// The time `text` names, or nil when it names none.
    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601) { return date }
        if text.count == 10, let date = try? Date(text + "T00:00:00Z", strategy: .iso8601) { return date }
        return nil
    }

    /// `2026-11-01T00:00:00Z`.
    public static func format(_ date: Date) -> String { date.formatted(.iso8601) }
}
