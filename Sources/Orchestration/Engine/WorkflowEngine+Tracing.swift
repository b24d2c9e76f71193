import Foundation
import Tracing

/// The open spans of one execution's units (``ExecutionTracing``).
struct UnitSpans {
    var attempts: [Int: any Span] = [:]
    var rollbacks: [Int: any Span] = [:]
    /// Approvals, waits for a signal or a time: open until the unit ends.
    var waits: [Int: any Span] = [:]
    /// Expanded forEach steps by step index, open until the step ends: the parent of its items'
    /// spans, whose headers are kept for them.
    var fans: [Int: (span: any Span, headers: TraceHeaders?)] = [:]

    mutating func removeAll() -> [any Span] {
        let all = Array(attempts.values) + Array(rollbacks.values) + Array(waits.values) + fans.values.map(\.span)
        (attempts, rollbacks, waits, fans) = ([:], [:], [:], [:])
        return all
    }
}

/// Where the engine opens and closes spans; each is a no-op without a tracer.
extension WorkflowEngine {
    /// Starts the execution's root span under `parent`; its headers are saved with the execution.
    func traceStart(_ run: Run, parent: TraceHeaders?) {
        guard let tracing else { return }
        let span = tracing.start(
            "execution \(run.machine.values.workflowID)", parent: parent, at: run.createdAt, attributes: executionAttributes(run))
        run.rootSpan = span
        run.options.trace = tracing.headers(of: span)
        tracing.remember(run.machine.values.executionID, trace: run.options.trace)
    }

    /// An execution this process carries on (after a restart, or from another node): its spans
    /// join the trace saved with it. One saved without a trace (started untraced, or before an
    /// upgrade) gets a root here: the resumed span, whose headers are saved with it from now on.
    func traceResumed(_ run: Run) {
        guard let tracing else { return }
        run.resumedAt = now()
        if run.options.trace == nil {
            let span = tracing.start(
                "execution \(run.machine.values.workflowID) resumed", parent: nil, at: now(), attributes: executionAttributes(run))
            run.rootSpan = span
            run.options.trace = tracing.headers(of: span)
        }
        tracing.remember(run.machine.values.executionID, trace: run.options.trace)
    }

    /// Opens the span of a unit's attempt (or rollback) and returns the request carrying it.
    func traceAttempt(_ request: StepRequest, unit: Int, rollback: Bool, run: Run) -> StepRequest {
        guard let tracing else { return request }
        var attributes = executionAttributes(run)
        attributes["novacron.step.id"] = request.stepID
        attributes["novacron.step.type"] = request.type.rawValue
        attributes["novacron.attempt"] = request.attempt
        // A forEach item's span sits under its step's (a process that carries the execution on
        // expands the step again, and opens its span anew).
        let fan = rollback ? nil : run.spans.fans[run.machine.stepIndex(of: unit)]
        let span = tracing.start(
            "\(rollback ? "rollback" : "step") \(request.stepID)", parent: fan?.headers ?? run.options.trace, at: now(), attributes: attributes)
        if rollback { run.spans.rollbacks[unit] = span } else { run.spans.attempts[unit] = span }
        var traced = request
        traced.trace = tracing.headers(of: span)
        return traced
    }

    /// Opens the span of a wait (an approval, a signal, a time), which ends with the unit.
    func traceWait(_ request: StepRequest, unit: Int, run: Run) {
        guard let tracing else { return }
        var attributes = executionAttributes(run)
        attributes["novacron.step.id"] = request.stepID
        attributes["novacron.step.type"] = request.type.rawValue
        if let reason = run.machine.results[unit].waitReason { attributes["novacron.wait"] = "\(reason)" }
        let parent = run.spans.fans[run.machine.stepIndex(of: unit)]?.headers ?? run.options.trace
        run.spans.waits[unit] = tracing.start("wait \(request.stepID)", parent: parent, at: now(), attributes: attributes)
    }

    /// Opens the span of a forEach step whose items are known; it ends with the step.
    func traceExpanded(_ step: Int, run: Run) {
        guard let tracing else { return }
        let result = run.machine.results[step]
        var attributes = executionAttributes(run)
        attributes["novacron.step.id"] = result.stepID
        attributes["novacron.step.type"] = run.machine.compiled.workflow.steps[step].type.rawValue
        attributes["novacron.items"] = result.itemCount ?? 0
        let span = tracing.start("step \(result.stepID)", parent: run.options.trace, at: now(), attributes: attributes)
        run.spans.fans[step] = (span, tracing.headers(of: span))
    }

    /// The retry delay on the attempt that failed.
    func traceRetry(unit: Int, delay: Duration, run: Run) {
        guard tracing != nil else { return }
        run.spans.attempts[unit]?.attributes["novacron.retry.delay_ms"] = Int(saturating: (delay.seconds * 1000).rounded())
    }

    /// How an attempt ended, on its span (ended by ``traceAttemptClosed(unit:rollback:at:run:)``).
    func traceAttemptEnded(unit: Int, rollback: Bool, outcome: StepOutcome, cached: Bool, run: Run) {
        guard tracing != nil, let span = rollback ? run.spans.rollbacks[unit] : run.spans.attempts[unit] else { return }
        span.attributes["novacron.status"] = outcome.status(cached: cached).rawValue
        span.attributes["novacron.cached"] = cached
        if let code = outcome.exitCode { span.attributes["process.exit.code"] = code }
        if !outcome.succeeded { span.fail(outcome.error) }
    }

    func traceAttemptClosed(unit: Int, rollback: Bool, at date: Date, run: Run) {
        guard tracing != nil else { return }
        let span = rollback ? run.spans.rollbacks.removeValue(forKey: unit) : run.spans.attempts.removeValue(forKey: unit)
        span?.end(at: date)
    }

    /// A unit reached its end: its wait span or forEach step span, if any, closes with its status.
    func traceUnitFinished(_ unit: Int, run: Run) {
        guard tracing != nil, let span = run.spans.waits.removeValue(forKey: unit) ?? run.spans.fans.removeValue(forKey: unit)?.span else { return }
        let result = run.machine.results[unit]
        span.attributes["novacron.status"] = result.status.rawValue
        if result.status == .failed { span.fail(result.error) }
        span.end(at: now())
    }

    /// The execution ended: its root span closes with the status. One this process carried on has
    /// no root span here; a span for the part it ran closes instead, under the saved root.
    func traceFinished(_ final: WorkflowExecution, run: Run) {
        guard let tracing else { return }
        let now = self.now()
        for span in run.spans.removeAll() { span.end(at: now) }
        let span =
            run.rootSpan
            ?? tracing.start(
                "execution \(final.workflowID) resumed", parent: run.options.trace, at: run.resumedAt ?? now, attributes: executionAttributes(run))
        run.rootSpan = nil
        span.attributes["novacron.status"] = final.status.rawValue
        if final.status != .completed { span.fail(final.error) }
        span.end(at: now)
    }

    /// The execution is left to another process (a drain ended, another node took it): its open
    /// spans close, marked so; the next process's spans join the same trace.
    func traceHandedBack(_ run: Run) {
        guard let tracing else { return }
        tracing.forget(run.machine.values.executionID)
        let now = self.now()
        for span in run.spans.removeAll() + (run.rootSpan.map { [$0] } ?? []) {
            span.attributes["novacron.handed_back"] = true
            span.end(at: now)
        }
        run.rootSpan = nil
    }

    func executionAttributes(_ run: Run) -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes["novacron.workflow.id"] = run.machine.values.workflowID
        attributes["novacron.execution.id"] = run.machine.values.executionID
        return attributes
    }
}
