import Orchestration
import TestSupport
import Testing

@Suite("Durations in files")
struct DurationTextTests {
    @Test(
        "units and combinations parse",
        arguments: [
            ("500ms", Duration.milliseconds(500)),
            ("10s", .seconds(10)),
            ("5m", .seconds(300)),
            ("1h30m", .seconds(5400)),
            ("2d", .seconds(172_800)),
            ("1.5s", .milliseconds(1500)),
            ("90", .seconds(90)),
            ("250us", .microseconds(250)),
        ])
    func parses(text: String, expected: Duration) throws {
        #expect(try DurationText.parse(text) == expected)
    }

    @Test("bad durations say where and what")
    func rejects() {
        #expect(throws: DurationText.ParseError(message: "unknown unit 'x'; units are ns, us, ms, s, m, h, d", offset: 1)) {
            try DurationText.parse("1x")
        }
        #expect(throws: DurationText.ParseError(message: "durations are written without spaces, e.g. '10m' or '1h30m'", offset: 2)) {
            try DurationText.parse("10 minutes")
        }
        #expect(throws: DurationText.ParseError.self) { try DurationText.parse("") }
        #expect(throws: DurationText.ParseError.self) { try DurationText.parse("-5s") }
        #expect(throws: DurationText.ParseError.self) { try DurationText.parse("h") }
    }

    @Test(
        "formatting reads like the files",
        arguments: [
            (Duration.seconds(5400), "1h30m"), (.milliseconds(500), "500ms"), (.seconds(0), "0s"),
            (.milliseconds(2500), "2.5s"), (.seconds(172_800), "2d"), (.seconds(61), "1m1s"),
        ])
    func formats(duration: Duration, text: String) throws {
        #expect(DurationText.format(duration) == text)
        #expect(try DurationText.parse(text) == duration)
    }
}
