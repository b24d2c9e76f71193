import Foundation

/// The one source of time in the core: a clock to sleep on and measure with, and the dates that
/// go with it. The engine, the trigger scheduler, the event bus, the learning engine's optimizer
/// and the in-memory store each take one, so a test or the simulator drives all of them with a
/// `ManualClock` on virtual time.
///
/// Two kinds:
/// - ``init(_:origin:)``: dates follow the clock from `origin` — monotonic, so durations
///   computed from dates never jump; with a manual clock, dates are virtual too. The engine's.
/// - ``system``: the machine's `ContinuousClock` for sleeping and its wall clock for dates, which
///   may jump (NTP, an operator); what cron schedules and webhook timestamps are read against.
///
/// ```swift
/// let clock = ManualClock()
/// let time = TimeSource(clock, origin: Date(timeIntervalSince1970: 1_800_000_000))
/// clock.advance(by: .seconds(90))
/// time.now()   // 1_800_000_090
/// ```
public struct TimeSource: Sendable {
    /// What to sleep on and measure durations with.
    public let clock: any Clock<Duration>
    private let wall: @Sendable () -> Date

    /// Dates that follow `clock` from `origin` (now, by default).
    public init<C: Clock>(_ clock: C, origin: Date = Date()) where C.Duration == Duration {
        self.clock = clock
        let start = clock.now
        self.wall = { origin.addingTimeInterval(start.duration(to: clock.now).seconds) }
    }

    /// A clock and a separate reading of dates.
    public init(clock: any Clock<Duration>, now: @escaping @Sendable () -> Date) {
        self.clock = clock
        self.wall = now
    }

    /// The machine's clocks: `ContinuousClock` and the wall clock.
    public static var system: TimeSource { TimeSource(clock: ContinuousClock(), now: { Date() }) }

    /// The current date.
    public func now() -> Date { wall() }

    /// Sleeps on the clock; throws when the task is cancelled.
    public func sleep(for duration: Duration) async throws {
        try await clock.sleep(for: duration)
    }
}
