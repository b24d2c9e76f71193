import Foundation
import Logging

/// What `serve --retention 30d` does: every `interval` (a twelfth of the age, at most an hour, so
/// the store holds at most 13/12 of the age), deletes the executions that ended longer
/// than `age` ago (with their attempts, logs, signals and callbacks), the events every durable
/// consumer has read that are that old, and the learning observations of deleted executions that
/// the saved statistics include — so what was learned stays, and a server that runs for months
/// does not fill its disk.
///
/// ```swift
/// let retention = Retention(age: .seconds(30 * 86_400))
/// let report = try await retention.prune(store, now: Date())
/// ```
public struct Retention: Sendable, Hashable {
    public var age: Duration
    public var interval: Duration

    public init(age: Duration, interval: Duration? = nil) {
        self.age = age
        self.interval = interval ?? Self.interval(for: age)
    }

    /// A twelfth of `age`, at most an hour and at least a second: with hourly passes a 1-hour
    /// age would keep up to two hours, and the first pass to delete anything would come after
    /// two hours of running.
    public static func interval(for age: Duration) -> Duration {
        min(.seconds(3600), max(.seconds(1), age / 12))
    }

    /// What one pass deleted.
    public struct Report: Sendable, Hashable {
        public var executions = 0
        public var events = 0
        public var observations = 0

        public init(executions: Int = 0, events: Int = 0, observations: Int = 0) {
            (self.executions, self.events, self.observations) = (executions, events, observations)
        }
    }

    /// One pass, with `now` as the present.
    public func prune(_ store: any ExecutionStore & RetentionStore, now: Date) async throws -> Report {
        let cutoff = now.addingTimeInterval(-age.seconds)
        var report = Report()
        report.executions = try await store.prune(endedBefore: cutoff)
        report.events = try await store.pruneEvents(before: cutoff)
        report.observations = try await store.pruneObservations()
        return report
    }

    /// A pass now and every `interval` after, until the calling task is cancelled; each pass
    /// that deleted something is logged, and one that failed is logged and tried at the next.
    public func run(_ store: any ExecutionStore & RetentionStore, time: TimeSource, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let report = try await prune(store, now: time.now())
                if report != Report() {
                    logger.info(
                        "retention pruned",
                        metadata: [
                            "executions": "\(report.executions)", "events": "\(report.events)", "observations": "\(report.observations)",
                            "olderThan": "\(DurationText.format(age))",
                        ])
                }
            } catch {
                logger.warning("retention could not prune; trying again at the next pass", metadata: ["error": "\(error)"])
            }
            do { try await time.sleep(for: interval) } catch { return }
        }
    }
}
