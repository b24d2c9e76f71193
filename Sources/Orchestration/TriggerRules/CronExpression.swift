/// A parsed 5-field cron expression: minute, hour, day of month, month, day of week.
///
/// Fields take `*`, numbers, names (`JAN`–`DEC`, `SUN`–`SAT`), ranges `a-b`, steps `*/n`,
/// `a-b/n` and `a/n`, and lists `a,b`. Day of week is 0–7 with both 0 and 7 meaning Sunday.
/// Macros: `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`.
///
/// As in Vixie cron, day of month and day of week are OR-ed only when neither field starts
/// with `*`; ``dayOfMonthRestricted`` and ``dayOfWeekRestricted`` record that.
///
/// ```swift
/// let nightly = try CronExpression("0 2 * * MON-FRI")
/// nightly.hours        // [2]
/// nightly.daysOfWeek   // [1, 2, 3, 4, 5]
/// ```
package struct CronExpression: Sendable, Hashable, CustomStringConvertible {
    /// Why an expression did not parse, with the character offset of the problem.
    package struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        package var message: String
        package var offset: Int
        package var description: String { "column \(offset + 1): \(message)" }

        package init(message: String, offset: Int) {
            self.message = message
            self.offset = offset
        }
    }

    package let source: String
    package let minutes: Set<Int>
    package let hours: Set<Int>
    package let daysOfMonth: Set<Int>
    package let months: Set<Int>
    /// 0 (Sunday) to 6 (Saturday); 7 in the text is stored as 0.
    package let daysOfWeek: Set<Int>
    /// The day-of-month field does not start with `*`.
    package let dayOfMonthRestricted: Bool
    /// The day-of-week field does not start with `*`.
    package let dayOfWeekRestricted: Bool

    package var description: String { source }

    private struct Field {
        let name: String
        let range: ClosedRange<Int>
        let names: [String: Int]
    }

    private static let monthNames = [
        "JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6,
        "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12,
    ]
    private static let dayNames = ["SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6]
    private static let fields = [
        Field(name: "minute", range: 0...59, names: [:]),
        Field(name: "hour", range: 0...23, names: [:]),
        Field(name: "day of month", range: 1...31, names: [:]),
        Field(name: "month", range: 1...12, names: monthNames),
        Field(name: "day of week", range: 0...7, names: dayNames),
    ]
    private static let macros = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0",
        "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// Parses `source`.
    package init(_ source: String) throws(ParseError) {
        self.source = source
        let trimmed = source.trimmingWhitespace()
        var text = trimmed
        if trimmed.hasPrefix("@") {
            guard let expansion = Self.macros[trimmed.lowercased()] else {
                throw ParseError(
                    message:
                        "unknown macro '\(trimmed)'\(DidYouMean.hint(trimmed.lowercased(), among: Self.macros.keys)); macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly",
                    offset: 0)
            }
            text = expansion
        }
        // Split into fields, remembering where each starts in the source.
        var parts: [(text: Substring, offset: Int)] = []
        var index = text.startIndex
        var offset = 0
        let leading = source.prefix(while: { $0 == " " || $0 == "\t" }).count
        while index < text.endIndex {
            while index < text.endIndex, text[index] == " " || text[index] == "\t" {
                index = text.index(after: index)
                offset += 1
            }
            guard index < text.endIndex else { break }
            let start = index
            let startOffset = offset
            while index < text.endIndex, text[index] != " " && text[index] != "\t" {
                index = text.index(after: index)
                offset += 1
            }
            parts.append((text[start..<index], trimmed.hasPrefix("@") ? 0 : leading + startOffset))
        }
        guard parts.count == 5 else {
            throw ParseError(
                message: "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has \(parts.count)"
                    + (parts.count == 6 ? "; seconds fields are not supported" : ""),
                offset: parts.count > 5 ? parts[5].offset : max(0, source.count - 1))
        }
        var sets: [Set<Int>] = []
        for (i, part) in parts.enumerated() {
            sets.append(try Self.parseField(part.text, field: Self.fields[i], offset: part.offset))
        }
        minutes = sets[0]
        hours = sets[1]
        daysOfMonth = sets[2]
        months = sets[3]
        daysOfWeek = Set(sets[4].map { $0 == 7 ? 0 : $0 })
        dayOfMonthRestricted = !parts[2].text.hasPrefix("*")
        dayOfWeekRestricted = !parts[4].text.hasPrefix("*")
    }

    private static func parseField(_ text: Substring, field: Field, offset: Int) throws(ParseError) -> Set<Int> {
        var values = Set<Int>()
        var itemOffset = offset
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            defer { itemOffset += item.count + 1 }
            guard !item.isEmpty else { throw ParseError(message: "empty item in the \(field.name) field", offset: itemOffset) }
            var rangePart = item
            var step = 1
            if let slash = item.firstIndex(of: "/") {
                rangePart = item[..<slash]
                let stepText = item[item.index(after: slash)...]
                let stepOffset = itemOffset + rangePart.count + 1
                guard let n = Int(stepText), n > 0 else {
                    throw ParseError(message: "step '/\(stepText)' in the \(field.name) field must be a positive number", offset: stepOffset)
                }
                guard n <= field.range.upperBound else {
                    throw ParseError(
                        message: "step /\(n) is larger than the \(field.name) range \(field.range.lowerBound)-\(field.range.upperBound)",
                        offset: stepOffset)
                }
                step = n
            }
            let low: Int, high: Int
            if rangePart == "*" {
                low = field.range.lowerBound
                high = field.name == "day of week" ? 6 : field.range.upperBound
            } else if let dash = rangePart.firstIndex(of: "-") {
                low = try value(rangePart[..<dash], field: field, offset: itemOffset)
                high = try value(
                    rangePart[rangePart.index(after: dash)...], field: field,
                    offset: itemOffset + rangePart.distance(from: rangePart.startIndex, to: dash) + 1)
                guard low <= high else {
                    throw ParseError(message: "range \(rangePart) in the \(field.name) field runs backwards", offset: itemOffset)
                }
            } else {
                low = try value(rangePart, field: field, offset: itemOffset)
                high = step > 1 ? field.range.upperBound : low
            }
            for v in stride(from: low, through: high, by: step) { values.insert(v) }
        }
        return values
    }

    private static func value(_ text: Substring, field: Field, offset: Int) throws(ParseError) -> Int {
        if let n = Int(text) {
            guard field.range.contains(n) else {
                throw ParseError(
                    message: "\(n) is out of range for the \(field.name) field (\(field.range.lowerBound)-\(field.range.upperBound))", offset: offset)
            }
            return n
        }
        if let named = field.names[text.uppercased()] { return named }
        let hint =
            field.names.isEmpty
            ? "; expected a number \(field.range.lowerBound)-\(field.range.upperBound)"
            : DidYouMean.hint(text.uppercased(), among: field.names.keys)
                + "; expected a number or a name like \(field.names.min { $0.value < $1.value }!.key)"
        throw ParseError(message: "'\(text)' is not valid in the \(field.name) field\(hint)", offset: offset)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s.removeLast() }
        return String(s)
    }
}
