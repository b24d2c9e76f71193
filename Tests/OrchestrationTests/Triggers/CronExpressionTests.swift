import Orchestration
import TestSupport
import Testing

@Suite("Cron expressions")
struct CronExpressionTests {
    @Test("fields, names, ranges, steps and lists")
    func parsing() throws {
        let e = try CronExpression("*/15 9-17 1,15 JAN-MAR mon-fri")
        #expect(e.minutes == [0, 15, 30, 45])
        #expect(e.hours == Set(9...17))
        #expect(e.daysOfMonth == [1, 15])
        #expect(e.months == [1, 2, 3])
        #expect(e.daysOfWeek == [1, 2, 3, 4, 5])
        #expect(e.dayOfMonthRestricted && e.dayOfWeekRestricted)
        let sunday = try CronExpression("0 0 * * 7")
        #expect(sunday.daysOfWeek == [0] && !sunday.dayOfMonthRestricted)
        #expect(try CronExpression("5/20 * * * *").minutes == [5, 25, 45])
        #expect(try CronExpression("0 0 */10 * *").daysOfMonth == [1, 11, 21, 31])
    }

    @Test(
        "macros expand",
        arguments: [
            ("@hourly", "0 * * * *"), ("@daily", "0 0 * * *"), ("@midnight", "0 0 * * *"),
            ("@weekly", "0 0 * * 0"), ("@monthly", "0 0 1 * *"), ("@yearly", "0 0 1 1 *"), ("@annually", "0 0 1 1 *"),
        ])
    func macros(macro: String, expansion: String) throws {
        let a = try CronExpression(macro), b = try CronExpression(expansion)
        #expect(
            a.minutes == b.minutes && a.hours == b.hours && a.daysOfMonth == b.daysOfMonth && a.months == b.months && a.daysOfWeek == b.daysOfWeek)
    }

    @Test(
        "errors say which field and where",
        arguments: [
            ("0 25 * * *", 2, "25 is out of range for the hour field (0-23)"),
            ("0 2 * *", 6, "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has 4"),
            (
                "0 0 0 * * *", 10,
                "a cron expression has 5 fields (minute hour day-of-month month day-of-week), this has 6; seconds fields are not supported"
            ),
            ("*/0 * * * *", 2, "step '/0' in the minute field must be a positive number"),
            ("0 0 * * MON-FRY", 12, "'FRY' is not valid in the day of week field; did you mean 'FRI'?; expected a number or a name like SUN"),
            ("0 0 10-5 * *", 4, "range 10-5 in the day of month field runs backwards"),
            ("@reboot", 0, "unknown macro '@reboot'; macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"),
            ("1,,2 * * * *", 2, "empty item in the minute field"),
        ])
    func errors(text: String, offset: Int, message: String) {
        #expect(throws: CronExpression.ParseError(message: message, offset: offset)) { try CronExpression(text) }
    }
}
