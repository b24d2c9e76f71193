import Foundation

/// A cron expression in a time zone: the instants it fires at.
///
/// Fields match the wall clock of `timeZone`. Around daylight-saving changes (docs/triggers.md):
/// - a wall time skipped by a jump forward fires at the first instant after the jump (02:30 on the
///   night clocks go from 02:00 to 03:00 fires at 03:00), once however many skipped times match;
/// - a wall time repeated by a fall back fires once, at its first occurrence.
///
/// ```swift
/// let nightly = try CronSchedule("30 2 * * *", timeZone: "America/New_York")
/// nightly.next(after: Date())           // the next 02:30 in New York, as an instant
/// nightly.upcoming(after: Date(), count: 5)
/// ```
package struct CronSchedule: Sendable, Hashable {
    package let expression: CronExpression
    package let timeZone: TimeZone
    /// The zone as it was named (`UTC` stays `UTC`, where Foundation would say `GMT`).
    package let zoneName: String

    package init(_ expression: CronExpression, timeZone: TimeZone, zoneName: String? = nil) {
        self.expression = expression
        self.timeZone = timeZone
        self.zoneName = zoneName ?? timeZone.identifier
    }

    /// Parses `expression`; `timeZone` is an IANA name (default UTC).
    package init(_ expression: String, timeZone: String? = nil) throws(CronScheduleError) {
        let parsed: CronExpression
        do { parsed = try CronExpression(expression) } catch {
            throw CronScheduleError(message: "cron expression '\(expression)': \(error.description)")
        }
        guard let zone = TimeZone(identifier: timeZone ?? "UTC") else {
            throw CronScheduleError(message: "unknown time zone '\(timeZone ?? "")'; use an IANA name like Europe/Berlin")
        }
        self.init(parsed, timeZone: zone, zoneName: timeZone ?? "UTC")
    }

    /// The schedule of a `schedule` trigger (`nil` for other types).
    package init?(trigger: WorkflowTrigger) throws(CronScheduleError) {
        guard trigger.type == .schedule, let expression = trigger.effectiveSchedule else { return nil }
        try self.init(expression, timeZone: trigger.effectiveTimezone)
    }

    /// `2026-03-08 03:00 EDT`: an instant on the schedule's wall clock.
    package func localText(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = timeZone
        f.dateFormat = "yyyy-MM-dd HH:mm zzz"
        return f.string(from: date)
    }

    /// The first instant strictly after `date` at which the schedule fires, or `nil` when none
    /// comes within the next 28 years (`0 0 30 2 *` never fires).
    package func next(after date: Date) -> Date? {
        let after = date.timeIntervalSince1970
        // The wall clock just after `date`, to the minute.
        let startWall = Int((after + Double(timeZone.secondsFromGMT(for: date))).rounded(.down))
        var day = Self.floorDiv(startWall, 86_400)
        var fromMinute = Self.floorDiv(startWall - day * 86_400, 60)
        // The wall clock may step back an hour after a fall back: look from an hour earlier, and let
        // the `> after` check below drop what has already passed.
        fromMinute -= 60
        if fromMinute < 0 {
            day -= 1
            fromMinute += 1_440
        }
        let lastDay = day + 28 * 366
        let hours = expression.hours.sorted(), minutes = expression.minutes.sorted()
        while day <= lastDay {
            let (y, m, d) = Self.civil(fromDays: day)
            guard expression.months.contains(m) else {
                // Jump to the first day of the next month.
                day = Self.days(fromCivil: m == 12 ? y + 1 : y, m == 12 ? 1 : m + 1, 1)
                fromMinute = 0
                continue
            }
            if matchesDay(year: y, month: m, day: d, weekday: Self.weekday(days: day)) {
                for h in hours where h * 60 + 59 >= fromMinute {
                    for minute in minutes where h * 60 + minute >= fromMinute {
                        let instant = resolve(wallSeconds: day * 86_400 + h * 3_600 + minute * 60)
                        if instant > after { return Date(timeIntervalSince1970: instant) }
                    }
                }
            }
            day += 1
            fromMinute = 0
        }
        return nil
    }

    /// The next `count` fire instants after `date`.
    package func upcoming(after date: Date, count: Int) -> [Date] {
        var out: [Date] = []
        var cursor = date
        while out.count < count, let next = next(after: cursor) {
            out.append(next)
            cursor = next
        }
        return out
    }

    /// Vixie cron: when both day fields are restricted, either may match; otherwise both must.
    func matchesDay(year: Int, month: Int, day: Int, weekday: Int) -> Bool {
        let byMonthDay = expression.daysOfMonth.contains(day)
        let byWeekday = expression.daysOfWeek.contains(weekday)
        if expression.dayOfMonthRestricted && expression.dayOfWeekRestricted { return byMonthDay || byWeekday }
        return byMonthDay && byWeekday
    }

    /// The instant (seconds since 1970) of a wall-clock time in the zone: the earlier one when the
    /// wall time happens twice, the end of the jump when it does not happen at all.
    func resolve(wallSeconds wall: Int) -> Double {
        let w = Double(wall)
        let before = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: w - 86_400)))
        let after = Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: w + 86_400)))
        var valid: [Double] = []
        for offset in [before, after] {
            let candidate = w - offset
            if Double(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: candidate))) == offset { valid.append(candidate) }
        }
        if let first = valid.min() { return first }
        // In a gap: the wall time was skipped. Fire when the clocks jump, the first instant after it.
        let guess = w - before
        if let jump = timeZone.nextDaylightSavingTimeTransition(after: Date(timeIntervalSince1970: guess - 86_400)),
            jump.timeIntervalSince1970 <= guess + 86_400
        {
            return jump.timeIntervalSince1970
        }
        return guess
    }

    // MARK: Proleptic Gregorian dates as days since 1970-01-01 (Howard Hinnant's algorithms).

    static func floorDiv(_ a: Int, _ b: Int) -> Int { a >= 0 ? a / b : -((-a + b - 1) / b) }

    static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// 0 = Sunday.
    static func weekday(days: Int) -> Int {
        let w = (days + 4) % 7  // 1970-01-01 was a Thursday
        return w < 0 ? w + 7 : w
    }
}

/// A schedule that cannot be used: a bad expression or an unknown time zone.
package struct CronScheduleError: Error, Sendable, Hashable, CustomStringConvertible {
    package var message: String
    package var description: String { message }
}
