/// What starts a workflow by itself.
public enum TriggerType: String, Sendable, Hashable, Codable, CaseIterable {
    /// Started by hand (CLI, API); the default.
    case manual
    /// A cron schedule.
    case schedule
    /// An HTTP delivery from GitHub, GitLab or any HMAC-signing sender.
    case webhook
    /// A Prometheus query crossing a threshold for a while.
    case metric
    /// A PagerDuty or Alertmanager incident.
    case incident
    /// An event on the event bus.
    case event
}

/// When missed schedule ticks (the engine was down) are made up for.
public enum MissedTickPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// Forget them.
    case skip
    /// Fire once for all of them.
    case one
    /// Fire once per missed tick.
    case all
}

/// A trigger, mirroring the guide's `WorkflowTrigger`.
///
/// Type-specific settings may be written as fields (`schedule`, `timezone`, …) or, as in the
/// guide, inside `conditions` (`conditions: {schedule: "0 2 * * *"}`); fields win.
///
/// ```swift
/// let nightly = WorkflowTrigger(id: "nightly", type: .schedule, schedule: "0 2 * * *", timezone: "Europe/Berlin")
/// ```
public struct WorkflowTrigger: Sendable, Hashable, Codable {
    public var id: String
    public var type: TriggerType
    /// `cron`, `github`, `gitlab`, `generic`, `prometheus`, `pagerduty`, `alertmanager`, …
    public var source: String?
    /// Payload fields that must match (webhook, event), or the guide's type settings.
    public var conditions: [String: JSONValue]
    /// Default `true`.
    public var enabled: Bool
    /// A cron expression (schedule triggers).
    public var schedule: String?
    /// An IANA time zone for the schedule; default UTC.
    public var timezone: String?
    /// Default `skip`.
    public var missedTicks: MissedTickPolicy?
    /// Randomly delays each tick by up to this much.
    public var jitter: Duration?
    /// The shared secret of a webhook, usually `${secrets.NAME}`.
    public var secret: String?
    /// An event type pattern such as `deployment.*` (event triggers).
    public var event: String?
    /// Execution inputs computed from the trigger's payload, e.g. `{branch: "${trigger.branch}"}`.
    public var inputs: [String: JSONValue]

    public init(
        id: String, type: TriggerType, source: String? = nil, conditions: [String: JSONValue] = [:],
        enabled: Bool = true, schedule: String? = nil, timezone: String? = nil,
        missedTicks: MissedTickPolicy? = nil, jitter: Duration? = nil, secret: String? = nil,
        event: String? = nil, inputs: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.conditions = conditions
        self.enabled = enabled
        self.schedule = schedule
        self.timezone = timezone
        self.missedTicks = missedTicks
        self.jitter = jitter
        self.secret = secret
        self.event = event
        self.inputs = inputs
    }

    /// The cron expression of a schedule trigger, from `schedule` or `conditions.schedule`.
    public var effectiveSchedule: String? {
        if let schedule { return schedule }
        if case .string(let s)? = conditions["schedule"] { return s }
        return nil
    }

    /// The schedule's time zone, from `timezone` or `conditions.timezone`; UTC when neither.
    public var effectiveTimezone: String {
        if let timezone { return timezone }
        if case .string(let s)? = conditions["timezone"] { return s }
        return "UTC"
    }
}
