import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Cron schedules in time zones")
struct CronScheduleTests {
    static func utc(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    static func fires(_ expression: String, _ zone: String, after: String, count: Int = 5) throws -> [String] {
        let schedule = try CronSchedule(expression, timeZone: zone)
        return schedule.upcoming(after: utc(after), count: count).map { $0.formatted(.iso8601) }
    }

    @Test("America/New_York: 02:30 on the spring-forward night fires at 03:00 EDT; the next day at 02:30 EDT")
    func newYorkSpring() throws {
        // 2026-03-08 02:00 EST jumps to 03:00 EDT (07:00Z).
        #expect(
            try Self.fires("30 2 * * *", "America/New_York", after: "2026-03-07T12:00:00Z", count: 3)
                == ["2026-03-08T07:00:00Z", "2026-03-09T06:30:00Z", "2026-03-10T06:30:00Z"])
        // Every 15 minutes: the skipped 02:xx times fire once, at the jump, and 03:00 is that same instant.
        #expect(
            try Self.fires("*/15 * * * *", "America/New_York", after: "2026-03-08T06:40:00Z", count: 4)
                == ["2026-03-08T06:45:00Z", "2026-03-08T07:00:00Z", "2026-03-08T07:15:00Z", "2026-03-08T07:30:00Z"])
    }

    @Test("America/New_York: the repeated 01:xx hour of the fall back fires once")
    func newYorkFall() throws {
        // 2026-11-01 02:00 EDT falls back to 01:00 EST (06:00Z).
        #expect(
            try Self.fires("30 1 * * *", "America/New_York", after: "2026-10-31T12:00:00Z", count: 2)
                == ["2026-11-01T05:30:00Z", "2026-11-02T06:30:00Z"])
        #expect(
            try Self.fires("*/30 * * * *", "America/New_York", after: "2026-11-01T03:59:00Z", count: 5)
                == ["2026-11-01T04:00:00Z", "2026-11-01T04:30:00Z", "2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z", "2026-11-01T07:00:00Z"])
        // Asked from inside the second 01:xx hour, nothing in it fires again.
        #expect(try Self.fires("45 1 * * *", "America/New_York", after: "2026-11-01T06:10:00Z", count: 1) == ["2026-11-02T06:45:00Z"])
    }

    @Test("Europe/Berlin: spring forward at 02:00 and fall back at 03:00")
    func berlin() throws {
        // 2026-03-29 02:00 CET jumps to 03:00 CEST (01:00Z).
        #expect(
            try Self.fires("0 2 * * *", "Europe/Berlin", after: "2026-03-28T12:00:00Z", count: 2)
                == ["2026-03-29T01:00:00Z", "2026-03-30T00:00:00Z"])
        // 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens twice and fires once.
        #expect(
            try Self.fires("30 2 * * *", "Europe/Berlin", after: "2026-10-24T12:00:00Z", count: 2)
                == ["2026-10-25T00:30:00Z", "2026-10-26T01:30:00Z"])
        #expect(
            try Self.fires("@daily", "Europe/Berlin", after: "2026-10-24T12:00:00Z", count: 2)
                == ["2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z"])
    }

    @Test("leap days and month ends")
    func calendar() throws {
        #expect(try Self.fires("0 0 29 2 *", "UTC", after: "2026-01-01T00:00:00Z", count: 2) == ["2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"])
        #expect(
            try Self.fires("0 12 31 * *", "UTC", after: "2026-01-31T13:00:00Z", count: 4)
                == ["2026-03-31T12:00:00Z", "2026-05-31T12:00:00Z", "2026-07-31T12:00:00Z", "2026-08-31T12:00:00Z"])
        #expect(
            try Self.fires("59 23 28-31 2 *", "UTC", after: "2027-02-27T00:00:00Z", count: 3)
                == ["2027-02-28T23:59:00Z", "2028-02-28T23:59:00Z", "2028-02-29T23:59:00Z"])
        #expect(try Self.fires("0 0 1 1 *", "UTC", after: "2099-12-31T23:59:59Z", count: 1) == ["2100-01-01T00:00:00Z"])
        #expect(try CronSchedule("0 0 30 2 *").next(after: Self.utc("2026-01-01T00:00:00Z")) == nil)
    }

    @Test("Vixie cron: day of month and day of week are OR-ed only when neither starts with *")
    func vixie() throws {
        // Friday or the 13th, in February 2026 (the 13th is a Friday; March 13 is not).
        #expect(
            try Self.fires("0 0 13 * FRI", "UTC", after: "2026-02-01T00:00:00Z", count: 7)
                == [
                    "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z",
                    "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z",
                ])
        // `*/2` starts with `*`: both must hold, so Mondays on odd days only.
        #expect(
            try Self.fires("0 0 */2 * MON", "UTC", after: "2026-02-01T00:00:00Z", count: 3)
                == ["2026-02-09T00:00:00Z", "2026-02-23T00:00:00Z", "2026-03-09T00:00:00Z"])
        #expect(try Self.fires("0 9 * * 1-5", "UTC", after: "2026-11-27T10:00:00Z", count: 2) == ["2026-11-30T09:00:00Z", "2026-12-01T09:00:00Z"])
        #expect(try Self.fires("0 0 * * 7", "UTC", after: "2026-11-26T00:00:00Z", count: 1) == ["2026-11-29T00:00:00Z"])
    }

    @Test("every minute, hourly, and strictly after the given instant")
    func basics() throws {
        #expect(try Self.fires("* * * * *", "UTC", after: "2026-11-26T10:00:00Z", count: 2) == ["2026-11-26T10:01:00Z", "2026-11-26T10:02:00Z"])
        #expect(try Self.fires("* * * * *", "UTC", after: "2026-11-26T10:00:30Z", count: 1) == ["2026-11-26T10:01:00Z"])
        #expect(
            try Self.fires("@hourly", "Asia/Kolkata", after: "2026-11-26T10:00:00Z", count: 2) == ["2026-11-26T10:30:00Z", "2026-11-26T11:30:00Z"])
        #expect(throws: CronScheduleError.self) { try CronSchedule("* * * * *", timeZone: "Mars/Olympus") }
        #expect(throws: CronScheduleError.self) { try CronSchedule("61 * * * *") }
    }

    /// Around each zone's DST changes (Lord Howe moves by half an hour).
    @Test(
        "random expressions across DST changes: every fire matches the wall clock and none is missed", .ownThread,
        arguments: [
            ("America/New_York", "2026-03-07T20:00:00Z"), ("America/New_York", "2026-10-31T20:00:00Z"),
            ("Europe/Berlin", "2026-03-28T20:00:00Z"), ("Europe/Berlin", "2026-10-24T20:00:00Z"),
            ("Australia/Lord_Howe", "2026-04-04T10:00:00Z"), ("Australia/Lord_Howe", "2026-10-03T10:00:00Z"), ("UTC", "2028-02-28T00:00:00Z"),
        ])
    func agreesWithBruteForce(zone: String, from: String) throws {
        var random = SplitMix64(seed: 42)
        let tz = TimeZone(identifier: zone)!
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = tz
        for _ in 0..<30 {
            let minute = ["*", "\(random.next() % 60)", "*/\(random.next() % 20 + 1)"][Int(random.next() % 3)]
            let hour = ["*", "\(random.next() % 24)", "\(random.next() % 12)-\(random.next() % 12 + 12)"][Int(random.next() % 3)]
            let expression = "\(minute) \(hour) * * *"
            let schedule = try CronSchedule(expression, timeZone: zone)
            let start = Self.utc(from)
            let fires = schedule.upcoming(after: start, count: 60)
            let parsed = try CronExpression(expression)
            // Brute force over every minute of the span, in UTC, reading the wall clock.
            var expected: [Date] = []
            var t = start.addingTimeInterval(60)
            let end = fires.last ?? start
            var seenWall: Set<String> = []
            while t <= end {
                let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: t)
                let key = "\(c.year!)-\(c.month!)-\(c.day!) \(c.hour!):\(c.minute!)"
                if parsed.minutes.contains(c.minute!), parsed.hours.contains(c.hour!), seenWall.insert(key).inserted { expected.append(t) }
                t = t.addingTimeInterval(60)
            }
            // Outside DST changes the two agree exactly; the gap rule only adds fires at a jump.
            let brute = Set(expected), ours = Set(fires)
            let onlyOurs = ours.subtracting(brute).filter { tz.nextDaylightSavingTimeTransition(after: $0.addingTimeInterval(-1)) != $0 }
            #expect(onlyOurs.isEmpty, "\(expression) in \(zone): fires the wall clock does not match: \(onlyOurs.sorted().prefix(3))")
            #expect(brute.subtracting(ours).isEmpty, "\(expression) in \(zone): missed \(brute.subtracting(ours).sorted().prefix(3))")
        }
    }
}
