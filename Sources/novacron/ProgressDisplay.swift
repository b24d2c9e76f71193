import Foundation
import Orchestration

/// What `novacron run` shows while an execution runs: on a terminal, a table of steps (state,
/// attempt, duration) under a progress bar with an ETA, redrawn in place; piped, one timestamped
/// line per event.
actor ProgressDisplay {
    struct Row {
        var status: StepStatus = .pending
        var attempt = 0
        var started: Date?
        var finished: Date?
        var note = ""
    }

    let workflow: Workflow
    nonisolated let interactive: Bool
    var rows: [String: Row] = [:]
    var order: [String]
    let startedAt = Date()
    var drawnLines = 0
    var lastDraw = Date.distantPast
    var finished = false
    /// When the engine expects the execution to end.
    var estimatedCompletion: Date?
    /// On a terminal, at most this many step rows are drawn (running ones first).
    static let visibleRows = 20

    init(workflow: Workflow, interactive: Bool) {
        self.workflow = workflow
        self.interactive = interactive
        self.order = workflow.steps.map(\.id)
        for id in order { rows[id] = Row() }
    }

    /// Shows `event`, which happened at `now`.
    func handle(_ event: ExecutionEvent, at now: Date = Date()) {
        func line(_ text: String) { self.line(text, at: now) }
        switch event {
        case .executionStarted(let id, let workflowID, let count):
            line("execution \(id) of \(workflowID) started (\(count) step\(count == 1 ? "" : "s"))")
        case .stepStarted(let execution, let step, let attempt, _, _, _):
            if rows[step] == nil {
                rows[step] = Row()
                order.append(step)
            }
            rows[step]?.status = .running
            rows[step]?.attempt = attempt
            if rows[step]?.started == nil { rows[step]?.started = now }
            // A forEach item's first start is not worth a line of its own: there may be thousands.
            if attempt > 1 || !StepResult.isItemID(step) { line("step \(step) started" + (attempt > 1 ? " (attempt \(attempt))" : "")) }
            if let hint = Self.waitHint(workflow.step(StepResult.item(of: step)?.stepID ?? step), step: step, execution: execution) {
                rows[step]?.note = "waiting"
                line(hint)
            }
        case .stepRetrying(_, let step, let next, let delay, let error):
            rows[step]?.note = "retry \(next) in \(DurationText.format(delay))"
            line("step \(step) failed\(error.map { ": \($0)" } ?? ""); retrying in \(DurationText.format(delay)) (attempt \(next))")
        case .stepFinished(_, let result, let log):
            if rows[result.stepID] == nil {
                rows[result.stepID] = Row()
                order.append(result.stepID)
            }
            rows[result.stepID]?.status = result.status
            rows[result.stepID]?.finished = now
            rows[result.stepID]?.note = result.skipReason ?? result.error ?? (result.cached ? "cached" : "")
            var text = "step \(result.stepID) \(result.status.rawValue)"
            if result.status == .success || result.status == .failed { text += " in \(Self.format(result.duration))" }
            if result.cached { text += " (cached)" }
            if let reason = result.skipReason { text += ": \(reason)" }
            if let error = result.error, result.status != .success { text += ": \(error)" }
            if let count = result.itemCount, case .number(let failed)? = result.outputs[ForEach.failedItemsOutput] {
                text += " (\(count) item\(count == 1 ? "" : "s"), \(Int(failed)) failed)"
            }
            // Items that succeeded show in their step's line.
            if result.status != .success || !StepResult.isItemID(result.stepID) { line(text) }
            if !interactive, result.status == .failed, !log.isEmpty {
                for l in log.split(separator: "\n", omittingEmptySubsequences: false).suffix(20) { line("  | \(l)") }
            }
        case .stepScheduled, .attemptFinished:
            return
        case .executionPaused(_, let before):
            line("paused" + (before.map { " before step \($0)" } ?? ""))
        case .executionResumed:
            line("resumed")
        case .executionFinished(let execution):
            line("execution \(execution.id) \(execution.status.rawValue)")
            finished = true
            if interactive { draw(force: true) }
            return
        }
        if interactive { draw(force: false) }
    }

    /// Piped: a timestamped line. On a terminal: nothing (the table shows it).
    nonisolated func line(_ text: String, at time: Date = Date()) {
        guard !interactive else { return }
        Console.out("\(ExecutionReport.iso(time)) \(text)")
    }

    func draw(force: Bool) {
        let now = Date()
        guard force || now.timeIntervalSince(lastDraw) >= 0.05 else { return }
        lastDraw = now
        var lines: [String] = []
        let total = order.count
        let done = rows.values.filter { $0.status.isTerminal }.count
        let elapsed = now.timeIntervalSince(startedAt)
        let width = 30
        let filled = total == 0 ? width : width * done / total
        var bar = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "]"
        bar += " \(done)/\(total) steps, \(Self.format(.clamped(seconds: elapsed)))"
        if let eta = estimatedCompletion, !finished {
            // From the engine: learned step durations along the path still ahead.
            bar += ", ETA \(Self.format(.clamped(seconds: max(0, eta.timeIntervalSince(now)))))"
        }
        lines.append(bar)
        let running = order.filter { rows[$0]?.status == .running }
        let rest = order.filter { rows[$0]?.status != .running }
        let shown = Array((running + rest).prefix(Self.visibleRows))
        for id in order where shown.contains(id) {
            guard let row = rows[id] else { continue }
            let mark: String
            switch row.status {
            case .pending: mark = "·"
            case .running: mark = "▶"
            case .success: mark = "✓"
            case .failed: mark = "✗"
            case .skipped: mark = "-"
            case .cancelled: mark = "⊘"
            }
            var duration = ""
            if let s = row.started { duration = Self.format(.clamped(seconds: (row.finished ?? now).timeIntervalSince(s))) }
            let attempt = row.attempt > 1 ? " #\(row.attempt)" : ""
            let padded = id.count < 24 ? id + String(repeating: " ", count: 24 - id.count) : id
            lines.append(" \(mark) \(padded) \(row.status.rawValue)\(attempt) \(duration) \(row.note.prefix(60))")
        }
        if total > shown.count { lines.append("   … \(total - shown.count) more") }
        var out = ""
        if drawnLines > 0 { out += "\u{1B}[\(drawnLines)F" }
        for l in lines { out += "\u{1B}[2K" + l + "\n" }
        drawnLines = lines.count
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// Redraws the table so running steps' durations and the ETA move between events.
    func tick(estimatedCompletion: Date?) {
        self.estimatedCompletion = estimatedCompletion
        if interactive, !finished { draw(force: true) }
    }

    static func format(_ d: Duration) -> String {
        let s = d.seconds
        if s < 1 { return "\(Int((s * 1000).rounded()))ms" }
        if s < 60 { return String(format: "%.1fs", s) }
        return DurationText.format(.clamped(seconds: s.rounded()))
    }

    /// For a step that waits for someone: how to answer it from another terminal.
    static func waitHint(_ definition: WorkflowStep?, step: String, execution: String) -> String? {
        guard let definition else { return nil }
        if definition.type == .approval {
            return "step \(step) waits for approval: novacron executions approve \(execution) '\(step)' (or reject)"
        }
        if definition.type == .wait, case .string(let name)? = definition.inputs["signal"] {
            let shown = name.contains("${") ? "NAME" : name
            return "step \(step) waits for signal \(name): novacron executions signal \(execution) \(shown) --data '{…}'"
        }
        return nil
    }

    /// The closing lines: status, counts, time, and the error when it failed.
    static func summary(_ e: WorkflowExecution, workflow: Workflow) -> String {
        let m = e.metrics
        var text = "\(e.workflowID) \(e.status.rawValue) in \(format(m.totalDuration)): "
        text += "\(m.successfulSteps) succeeded, \(m.failedSteps) failed, \(m.skippedSteps) skipped"
        if m.retryCount > 0 { text += ", \(m.retryCount) retr\(m.retryCount == 1 ? "y" : "ies")" }
        if m.cacheHits > 0 { text += ", \(m.cacheHits) cached" }
        text += String(format: "; parallel speedup %.2fx", m.optimizationGains)
        let rollbacks = workflow.steps.compactMap { e.stepResults[StepResult.rollbackID(of: $0.id)] }
        if !rollbacks.isEmpty {
            text += "\nrolled back: " + rollbacks.map { "\($0.stepID.dropLast(9)) (\($0.status.rawValue))" }.joined(separator: ", ")
        }
        if let error = e.error, e.status != .completed { text += "\nerror: \(error)" }
        return text
    }
}
