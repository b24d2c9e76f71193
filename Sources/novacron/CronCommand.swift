import ArgumentParser
import Foundation
import Orchestration

/// `novacron cron next EXPR [--timezone TZ] [--from ISO-8601] [--count N] [--output text|json]`.
struct CronCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cron",
        abstract: "Check cron expressions before you commit them.",
        subcommands: [Next.self]
    )

    struct Next: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "next",
            abstract: "Print the upcoming fire times of a cron expression.",
            discussion: """
                Five fields (minute hour day-of-month month day-of-week) with names, ranges, steps and
                lists, or @hourly, @daily, @weekly, @monthly, @yearly. Day of month and day of week are
                OR-ed when neither starts with '*' (Vixie cron). Around daylight-saving changes a wall
                time that does not exist fires when the clocks jump, and one that happens twice fires
                once. Text shows the zone's wall clock and UTC; JSON is a list of UTC ISO-8601 times.
                Exit status 2 for a bad expression, zone or time.
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable { case text, json }

        @Argument(help: "A cron expression, quoted: '30 2 * * 1-5'.") var expression: String
        @Option(name: .long, help: "An IANA time zone (default UTC).") var timezone: String?
        @Option(name: .long, help: ArgumentHelp("Count from this instant (default now).", valueName: "ISO-8601")) var from: String?
        @Option(name: .long, help: "How many fire times (1–1000, default 5).") var count = 5
        @Option(name: .shortAndLong, help: "text or json.") var output: Format = .text

        func run() throws {
            guard (1...1000).contains(count) else { throw ValidationError("--count must be from 1 to 1000") }
            let schedule: CronSchedule
            do { schedule = try CronSchedule(expression, timeZone: timezone) } catch {
                Console.err("error: \(error.message)")
                throw ExitStatus.invalidInput
            }
            var start = Date()
            if let from {
                guard let parsed = Self.parseInstant(from) else {
                    Console.err("error: --from '\(from)' is not an ISO-8601 time such as 2026-03-08T06:00:00Z")
                    throw ExitStatus.invalidInput
                }
                start = parsed
            }
            let fires = schedule.upcoming(after: start, count: count)
            switch output {
            case .json:
                Console.out(JSONValue.array(fires.map { .string($0.formatted(.iso8601)) }).jsonText + "\n")
            case .text:
                if fires.isEmpty {
                    Console.out("'\(expression)' never fires (within 28 years)\n")
                } else {
                    Console.out(fires.map { "\(schedule.localText($0))   \($0.formatted(.iso8601))\n" }.joined())
                }
            }
        }

        /// `2026-03-08T06:00:00Z`, with an offset, or with fractional seconds.
        static func parseInstant(_ text: String) -> Date? {
            if let d = try? Date(text, strategy: .iso8601) { return d }
            return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
    }
}
