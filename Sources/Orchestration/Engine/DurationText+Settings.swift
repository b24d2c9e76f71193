import Foundation

extension DurationText {
    /// `text` as a duration within `range`, or an invalid-input error that starts with `name`
    /// (the setting or variable it came from): how settings such as a lease or a timeout are read.
    public static func parse(_ text: String, named name: String, within range: ClosedRange<Duration>) throws(EngineError) -> Duration {
        let value: Duration
        do { value = try parse(text) } catch { throw EngineError(.invalidInput, "\(name): \(error.message)") }
        guard range.contains(value) else {
            throw EngineError(.invalidInput, "\(name): '\(text)' is not from \(format(range.lowerBound)) to \(format(range.upperBound))")
        }
        return value
    }
}
