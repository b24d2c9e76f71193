import Foundation

/// An execution as one JSON object: what `novacron run --output json` prints and the API returns.
///
/// Steps come in definition order, each followed by its rollback when one ran; durations are
/// in milliseconds, dates in ISO 8601.
package enum ExecutionReport {
    package static func json(_ execution: WorkflowExecution, stepOrder: [String]? = nil) -> JSONValue {
        let order = stepOrder ?? execution.stepResults.keys.filter { !StepResult.isItemID($0) }.sorted()
        var steps: [JSONValue] = []
        for id in order {
            if let r = execution.stepResults[id] { steps.append(step(r)) }
            if let r = execution.stepResults[StepResult.rollbackID(of: id)] { steps.append(step(r)) }
        }
        let m = execution.metrics
        var object: [String: JSONValue] = [
            "id": .string(execution.id),
            "workflowID": .string(execution.workflowID),
            "status": .string(execution.status.rawValue),
            "inputs": .object(execution.inputs),
            "metrics": [
                "stepCount": .number(Double(m.stepCount)),
                "successfulSteps": .number(Double(m.successfulSteps)),
                "failedSteps": .number(Double(m.failedSteps)),
                "skippedSteps": .number(Double(m.skippedSteps)),
                "retryCount": .number(Double(m.retryCount)),
                "cacheHits": .number(Double(m.cacheHits)),
                "totalDurationMs": .number(milliseconds(m.totalDuration)),
                "criticalPathDurationMs": .number(milliseconds(m.criticalPathDuration)),
                "optimizationGains": .number(m.optimizationGains),
            ],
            "steps": .array(steps),
        ]
        if let v = execution.workflowVersion { object["workflowVersion"] = .string(v) }
        if let e = execution.error { object["error"] = .string(e) }
        if let d = execution.startedAt { object["startedAt"] = .string(iso(d)) }
        if let d = execution.finishedAt { object["finishedAt"] = .string(iso(d)) }
        if let d = execution.estimatedCompletion { object["estimatedCompletion"] = .string(iso(d)) }
        if execution.debug == true { object["debug"] = true }
        if let s = execution.pausedBefore { object["pausedBefore"] = .string(s) }
        if let p = execution.parent {
            object["parent"] = ["executionID": .string(p.executionID), "stepID": .string(p.stepID), "depth": .number(Double(p.depth))]
        }
        if let o = execution.outputs { object["outputs"] = .object(o) }
        return .object(object)
    }

    static func step(_ r: StepResult) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(r.stepID),
            "status": .string(r.status.rawValue),
            "attempts": .number(Double(r.attempts)),
            "durationMs": .number(milliseconds(r.duration)),
            "outputs": .object(r.outputs),
            "timedOut": .bool(r.timedOut),
            "cached": .bool(r.cached),
        ]
        if let v = r.error { o["error"] = .string(v) }
        if let v = r.skipReason { o["skipReason"] = .string(v) }
        if let v = r.exitCode { o["exitCode"] = .number(Double(v)) }
        if let d = r.startedAt { o["startedAt"] = .string(iso(d)) }
        if let d = r.finishedAt { o["finishedAt"] = .string(iso(d)) }
        if let n = r.itemCount { o["itemCount"] = .number(Double(n)) }
        if let c = r.childExecutionID { o["childExecutionID"] = .string(c) }
        if let w = r.waitingFor { o["waitingFor"] = .string(w) }
        return .object(o)
    }

    package static func milliseconds(_ d: Duration) -> Double { (d.seconds * 1000).rounded() }

    /// ISO 8601 with milliseconds, UTC: `2026-12-05T03:55:12.345Z`, the text
    /// `Date.ISO8601FormatStyle(includingFractionalSeconds: true)` writes (Swift 6.3's cuts the
    /// milliseconds of the seconds since 2001, as here). Every log line has one: years 1970 to
    /// 9999 are written here by arithmetic on the days (no time zone, no lock), a tenth of the
    /// formatter's cost; other dates go through it.
    package static func iso(_ date: Date) -> String {
        let sinceReference = date.timeIntervalSinceReferenceDate
        guard sinceReference.isFinite, sinceReference >= -978_307_200, sinceReference < 252_423_993_600 else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        }
        let whole = sinceReference.rounded(.down)
        let milliseconds = min(max(Int((sinceReference - whole) * 1000), 0), 999)
        let seconds = Int(whole) + 978_307_200
        let (year, month, day) = CronSchedule.civil(fromDays: seconds / 86_400)
        let inDay = seconds % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0" + String(n) : String(n) }
        let fraction = milliseconds < 10 ? "00" + String(milliseconds) : milliseconds < 100 ? "0" + String(milliseconds) : String(milliseconds)
        return String(year) + "-" + two(month) + "-" + two(day) + "T" + two(inDay / 3600) + ":" + two(inDay / 60 % 60) + ":"
            + two(inDay % 60) + "." + fraction + "Z"
    }
}

extension ExecutionEvent {
    /// The event's name on the wire (SSE `event:` field).
    package var name: String {
        switch self {
        case .executionStarted: return "executionStarted"
        case .stepStarted: return "stepStarted"
        case .stepScheduled: return "stepScheduled"
        case .attemptFinished: return "attemptFinished"
        case .stepRetrying: return "stepRetrying"
        case .stepFinished: return "stepFinished"
        case .executionPaused: return "executionPaused"
        case .executionResumed: return "executionResumed"
        case .executionFinished: return "executionFinished"
        }
    }

    /// The event as a JSON object (`type`, `executionID` and the event's own fields).
    package var json: JSONValue {
        var o: [String: JSONValue] = ["type": .string(name), "executionID": .string(executionID)]
        switch self {
        case .executionStarted(_, let workflowID, let count):
            o["workflowID"] = .string(workflowID)
            o["stepCount"] = .number(Double(count))
        case .stepStarted(_, let step, let attempt, let at, _, _):
            o["stepID"] = .string(step)
            o["attempt"] = .number(Double(attempt))
            o["at"] = .string(ExecutionReport.iso(at))
        case .attemptFinished(_, let step, let attempt, let status, let seconds, let error, _):
            o["stepID"] = .string(step)
            o["attempt"] = .number(Double(attempt))
            o["status"] = .string(status.rawValue)
            o["seconds"] = .number(seconds)
            if let error { o["error"] = .string(error) }
        case .stepScheduled(_, let step, let latency):
            o["stepID"] = .string(step)
            o["latencyUs"] = .number((latency.seconds * 1e6).rounded())
        case .stepRetrying(_, let step, let next, let delay, let error):
            o["stepID"] = .string(step)
            o["nextAttempt"] = .number(Double(next))
            o["delayMs"] = .number(ExecutionReport.milliseconds(delay))
            if let error { o["error"] = .string(error) }
        case .stepFinished(_, let result, _):
            o["step"] = ExecutionReport.step(result)
        case .executionPaused(_, let before):
            if let before { o["beforeStep"] = .string(before) }
        case .executionResumed:
            break
        case .executionFinished(let execution):
            o["execution"] = ExecutionReport.json(execution)
        }
        return .object(o)
    }
}
