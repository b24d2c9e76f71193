import Foundation

extension ValidationContext {
    static let webhookSources = ["github", "gitlab", "generic"]
    static let incidentSources = Incident.sources
    static let metricOperators = ["gt", "gte", "lt", "lte", "eq", "ne", ">", ">=", "<", "<=", "==", "!="]

    mutating func checkTriggers() {
        var seen: [String: Int] = [:]
        for (i, trigger) in workflow.triggers.enumerated() {
            let path = "triggers[\(i)]"
            if !Self.isValidID(trigger.id) {
                error(.invalidID, "trigger id '\(trigger.id)' may only contain letters, digits, '_' and '-'", path: "\(path).id")
            } else if let first = seen[trigger.id] {
                let at = location("triggers[\(first)].id").map { " (first defined at line \($0.line))" } ?? ""
                error(.duplicateID, "duplicate trigger id '\(trigger.id)'\(at)", path: "\(path).id")
            } else {
                seen[trigger.id] = i
            }
            checkTemplates(in: trigger.inputs, path: "\(path).inputs", owner: nil, allowSteps: false) { _ in }
            if trigger.type != .schedule {
                if trigger.schedule != nil { error(.invalidTrigger, "'schedule' applies only to schedule triggers", path: "\(path).schedule") }
                if trigger.missedTicks != nil {
                    error(.invalidTrigger, "'missedTicks' applies only to schedule triggers", path: "\(path).missedTicks")
                }
            }
            switch trigger.type {
            case .manual: break
            case .schedule: checkSchedule(trigger, path: path)
            case .webhook: checkWebhook(trigger, path: path)
            case .metric: checkMetric(trigger, path: path)
            case .incident: checkIncident(trigger, path: path)
            case .event:
                if trigger.event == nil, trigger.conditions["event"] == nil, trigger.conditions["type"] == nil {
                    error(.invalidTrigger, "an event trigger needs 'event', an event type pattern like 'deployment.*'", path: "\(path).event")
                }
            }
        }
    }

    private func conditionText(_ trigger: WorkflowTrigger, _ key: String) -> String? {
        if case .string(let s)? = trigger.conditions[key] { return s }
        return nil
    }

    private mutating func checkSchedule(_ trigger: WorkflowTrigger, path: String) {
        let schedulePath = trigger.schedule != nil ? "\(path).schedule" : "\(path).conditions.schedule"
        if let source = trigger.source, source != "cron" {
            error(.invalidTrigger, "a schedule trigger's source is 'cron', not '\(source)'", path: "\(path).source")
        }
        guard let expression = trigger.effectiveSchedule else {
            error(.invalidTrigger, "a schedule trigger needs 'schedule', a cron expression like '0 2 * * *'", path: "\(path).schedule")
            return
        }
        do {
            _ = try CronExpression(expression)
        } catch {
            self.error(
                .invalidCron, "invalid cron expression '\(expression)': \(error.message)", path: schedulePath,
                location: sourceMap?.location(of: schedulePath, offset: error.offset, in: expression))
        }
        let zone = trigger.timezone ?? conditionText(trigger, "timezone")
        if let zone, TimeZone(identifier: zone) == nil {
            let known = TimeZone.knownTimeZoneIdentifiers
            error(
                .invalidTrigger, "unknown time zone '\(zone)'\(DidYouMean.hint(zone, among: known)); use an IANA name like 'Europe/Berlin'",
                path: trigger.timezone != nil ? "\(path).timezone" : "\(path).conditions.timezone")
        }
        if let jitter = trigger.jitter, jitter < .zero {
            error(.invalidDuration, "jitter cannot be negative", path: "\(path).jitter")
        }
    }

    private mutating func checkWebhook(_ trigger: WorkflowTrigger, path: String) {
        let source = trigger.source ?? "generic"
        if !Self.webhookSources.contains(source) {
            error(
                .invalidTrigger,
                "unknown webhook source '\(source)'\(DidYouMean.unknownChoice(source, among: Self.webhookSources))",
                path: "\(path).source")
        }
        checkSecret(trigger, path: path, kind: "webhook")
    }

    private mutating func checkMetric(_ trigger: WorkflowTrigger, path: String) {
        if let source = trigger.source, source != "prometheus" {
            error(.invalidTrigger, "metric triggers read Prometheus; source must be 'prometheus', not '\(source)'", path: "\(path).source")
        }
        if conditionText(trigger, "metric") == nil, conditionText(trigger, "query") == nil {
            error(
                .invalidTrigger, "a metric trigger needs conditions.metric (a metric name) or conditions.query (PromQL)", path: "\(path).conditions")
        }
        if let op = trigger.conditions["operator"] {
            if case .string(let s) = op, Self.metricOperators.contains(s) {
            } else {
                error(
                    .invalidTrigger, "unknown operator '\(op.text)'\(DidYouMean.unknownChoice(op.text, among: Self.metricOperators))",
                    path: "\(path).conditions.operator")
            }
        } else {
            error(.invalidTrigger, "a metric trigger needs conditions.operator (gt, gte, lt, lte, eq, ne)", path: "\(path).conditions")
        }
        switch trigger.conditions["threshold"] {
        case .number?: break
        case nil: error(.invalidTrigger, "a metric trigger needs conditions.threshold, a number", path: "\(path).conditions")
        case let other?: error(.invalidTrigger, "threshold must be a number, not \(other.kindName)", path: "\(path).conditions.threshold")
        }
        if let d = trigger.conditions["duration"] {
            switch d {
            case .number(let n) where n >= 0: break
            case .string(let s):
                do { _ = try DurationText.parse(s) } catch {
                    self.error(.invalidDuration, "invalid duration '\(s)': \(error.message)", path: "\(path).conditions.duration")
                }
            default: error(.invalidDuration, "duration must be a duration like '5m'", path: "\(path).conditions.duration")
            }
        }
    }

    private mutating func checkIncident(_ trigger: WorkflowTrigger, path: String) {
        guard let source = trigger.source else {
            error(.invalidTrigger, "an incident trigger needs 'source': pagerduty or alertmanager", path: "\(path).source")
            return
        }
        if !Self.incidentSources.contains(source) {
            error(
                .invalidTrigger,
                "unknown incident source '\(source)'\(DidYouMean.unknownChoice(source, among: Self.incidentSources))",
                path: "\(path).source")
        }
        for key in ["severity", "service"] {
            switch trigger.conditions[key] {
            case nil, .string?: break
            case .array(let items)? where items.allSatisfy({ if case .string = $0 { return true } else { return false } }): break
            default: error(.invalidTrigger, "\(key) must be a name or a list of names", path: "\(path).conditions.\(key)")
            }
        }
        // PagerDuty incidents carry an urgency or a priority, not a severity: a condition on any
        // other value (the guide's 'critical') can never match.
        if source == "pagerduty", let wanted = trigger.conditions["severity"] {
            let values: [String] =
                switch wanted {
                case .string(let s): [s]
                case .array(let items): items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                default: []
                }
            let never = values.filter { !["high", "low"].contains($0.lowercased()) && !$0.uppercased().hasPrefix("P") }
            if !never.isEmpty {
                warning(
                    .invalidTrigger,
                    "PagerDuty incidents have an urgency (high, low) or a priority (P1…P5), never \(never.map { "'\($0)'" }.joined(separator: ", ")): this condition cannot match; write severity: high (or a priority such as P1)",
                    path: "\(path).conditions.severity")
            }
        }
        let pattern = Incident.eventPattern(of: trigger)
        if !pattern.hasPrefix("incident"), pattern != "*" {
            error(
                .invalidTrigger, "incident triggers match incident events (incident.triggered, incident.resolved, incident.*), not '\(pattern)'",
                path: trigger.event != nil ? "\(path).event" : "\(path).conditions.event")
        }
        checkSecret(trigger, path: path, kind: "incident")
    }

    /// Deliveries are refused without a secret; one written in clear ends up in version control.
    private mutating func checkSecret(_ trigger: WorkflowTrigger, path: String, kind: String) {
        guard let secret = trigger.secret else {
            warning(
                .invalidTrigger, "the \(kind) trigger has no 'secret': every delivery is refused until it has one (write secret: ${secrets.NAME})",
                path: path)
            return
        }
        if !secret.contains("${") {
            warning(.invalidTrigger, "the \(kind) secret is written in clear in the file; use ${secrets.NAME}", path: "\(path).secret")
        } else {
            checkTemplates(in: ["secret": .string(secret)], path: path, owner: nil, allowSteps: false) { _ in }
        }
    }
}
