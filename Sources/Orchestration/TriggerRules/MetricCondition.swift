import Foundation

/// A metric trigger's condition and its breach state (docs/triggers.md): the query's value compared with
/// a threshold must hold for `duration`; the trigger fires once per breach and re-arms only after
/// the condition clears. Pure: the server polls Prometheus and feeds ``observe(_:at:)``.
package struct MetricCondition: Sendable, Hashable {
    package enum Operator: String, Sendable, Hashable {
        case gt = ">", gte = ">=", lt = "<", lte = "<=", eq = "==", ne = "!="

        package init?(text: String) {
            switch text {
            case ">", "gt": self = .gt
            case ">=", "gte": self = .gte
            case "<", "lt": self = .lt
            case "<=", "lte": self = .lte
            case "==", "eq": self = .eq
            case "!=", "ne": self = .ne
            default: return nil
            }
        }

        package func holds(_ value: Double, _ threshold: Double) -> Bool {
            switch self {
            case .gt: value > threshold
            case .gte: value >= threshold
            case .lt: value < threshold
            case .lte: value <= threshold
            case .eq: value == threshold
            case .ne: value != threshold
            }
        }
    }

    /// PromQL: `conditions.query`, or `conditions.metric` as a bare selector.
    package var query: String
    package var op: Operator
    package var threshold: Double
    /// How long the condition must hold before the trigger fires (0: at the first poll that sees it).
    package var duration: Duration
    /// How often Prometheus is asked (`conditions.interval`, default 15 s).
    package var interval: Duration
    /// The Prometheus server (`conditions.url`, else the server's `NOVACRON_PROMETHEUS_URL`).
    package var url: String?

    /// The condition of a metric trigger (`nil` for other types or an incomplete definition, which
    /// validation already reported).
    package init?(trigger: WorkflowTrigger) {
        guard trigger.type == .metric else { return nil }
        let c = trigger.conditions
        guard let query = c["query"]?.text ?? c["metric"]?.text, let opText = c["operator"]?.text, let op = Operator(text: opText),
            case .number(let threshold)? = c["threshold"]
        else { return nil }
        self.query = query
        self.op = op
        self.threshold = threshold
        func duration(_ key: String, _ fallback: Duration) -> Duration {
            switch c[key] {
            case .number(let n)?: return (try? DurationText.duration(seconds: n)) ?? fallback
            case .string(let s)?: return (try? DurationText.parse(s)) ?? fallback
            default: return fallback
            }
        }
        self.duration = duration("duration", .zero)
        self.interval = max(duration("interval", .seconds(15)), .milliseconds(100))
        self.url = c["url"]?.text
    }

    /// Where a trigger is between polls.
    package struct State: Sendable, Hashable {
        /// When the condition started holding, while it holds.
        package var breachSince: Date?
        /// It fired for the current breach; it fires again only after the condition clears.
        package var fired = false
        package init() {}
    }

    /// Feeds one poll: the values Prometheus returned (one per series). The condition holds when
    /// any series satisfies it. Returns the value that makes the trigger fire now, or `nil`.
    package func observe(_ values: [Double], at now: Date, state: inout State) -> Double? {
        guard let hit = values.first(where: { op.holds($0, threshold) }) else {
            state = State()  // cleared: re-armed
            return nil
        }
        let since = state.breachSince ?? now
        state.breachSince = since
        guard !state.fired, now.timeIntervalSince(since) >= duration.seconds else { return nil }
        state.fired = true
        return hit
    }
}
