import Crypto
import Foundation

/// A backfill: one execution per tick of a workflow's schedule in a range of time, as if the
/// schedule had fired then (Airflow's backfill). Each starts with `${trigger.scheduledTime}` set to
/// its tick; ticks that already have an execution (a schedule fire or an earlier backfill) are
/// skipped, and each start carries an idempotency key, so two backfills of one range racing on
/// two nodes start each tick once.
///
/// ```swift
/// let plan = try Backfill(workflow: workflow, triggerID: nil, from: start, to: end)
/// let todo = plan.ticks.filter { !done.contains($0) }
/// ```
public struct Backfill: Sendable, Hashable {
    /// The most ticks one backfill takes.
    public static let tickLimit = 10_000

    public let workflowID: String
    /// The schedule trigger whose ticks these are.
    public let trigger: WorkflowTrigger
    /// Every tick from `from` to `to`, both included, oldest first.
    public let ticks: [Date]

    /// - Parameter triggerID: which `schedule` trigger, when the workflow has several.
    public init(workflow: Workflow, triggerID: String?, from: Date, to: Date) throws(EngineError) {
        let schedules = workflow.triggers.filter { $0.type == .schedule }
        let trigger: WorkflowTrigger
        if let triggerID {
            guard let named = schedules.first(where: { $0.id == triggerID }) else {
                let hint = DidYouMean.hint(triggerID, among: schedules.map(\.id))
                throw EngineError(.invalidInput, "workflow \(workflow.id) has no schedule trigger '\(triggerID)'\(hint)")
            }
            trigger = named
        } else {
            guard let only = schedules.first else {
                throw EngineError(.invalidInput, "workflow \(workflow.id) has no schedule trigger to backfill")
            }
            guard schedules.count == 1 else {
                throw EngineError(
                    .invalidInput,
                    "workflow \(workflow.id) has \(schedules.count) schedule triggers (\(schedules.map(\.id).joined(separator: ", "))); say which with --trigger"
                )
            }
            trigger = only
        }
        guard from <= to else {
            throw EngineError(.invalidInput, "the range ends (\(to.formatted(.iso8601))) before it starts (\(from.formatted(.iso8601)))")
        }
        let schedule: CronSchedule
        do {
            guard let parsed = try CronSchedule(trigger: trigger) else {
                throw EngineError(.invalidInput, "trigger \(trigger.id) of workflow \(workflow.id) has no schedule")
            }
            schedule = parsed
        } catch let error as CronScheduleError {
            throw EngineError(.invalidInput, "trigger \(trigger.id): \(error.message)")
        } catch let error as EngineError {
            throw error
        } catch {
            throw EngineError(.invalidInput, "trigger \(trigger.id): \(error)")
        }
        var ticks: [Date] = []
        // A tick at `from` itself counts: look from just before it.
        var cursor = from.addingTimeInterval(-1)
        while let tick = schedule.next(after: cursor), tick <= to {
            guard ticks.count < Self.tickLimit else {
                throw EngineError(
                    .invalidInput,
                    "the range holds more than \(Self.tickLimit) ticks of '\(trigger.effectiveSchedule ?? "")'; backfill a shorter range at a time")
            }
            ticks.append(tick)
            cursor = tick
        }
        self.workflowID = workflow.id
        self.trigger = trigger
        self.ticks = ticks
    }

    /// What `${trigger.…}` reads in the execution of `tick`.
    public func payload(_ tick: Date) -> JSONValue {
        let text = JSONValue.string(TimeText.format(tick))
        return ["type": "backfill", "trigger": .string(trigger.id), "scheduledTime": text, "scheduledAt": text]
    }

    /// The idempotency key of `tick`'s start: the same for every backfill of this trigger.
    public func key(_ tick: Date) -> String {
        let digest = Hex.encode(SHA256.hash(data: Data("\(workflowID)\u{0}\(trigger.id)".utf8)))
        return "backfill/\(digest)/\(Int64(tick.timeIntervalSince1970))"
    }

    /// The tick an execution ran for, as its trigger recorded it (a schedule fire or a backfill).
    public static func tick(of trigger: JSONValue) -> String? {
        (trigger["scheduledTime"] ?? trigger["scheduledAt"])?.text
    }
}
