import Foundation
import OpenAPIRuntime
import Orchestration
import OrchestrationAPI

extension Components.Schemas.Execution {
    /// An execution as the API and `novacron … --json` show it: steps in `stepOrder` (the
    /// definition's order; by id when unknown), each followed by its rollback.
    package init(_ execution: WorkflowExecution, stepOrder: [String]? = nil) {
        let order = stepOrder ?? execution.stepResults.keys.filter { !StepResult.isItemID($0) }.sorted()
        let items = ForEach.counts(in: execution.stepResults)
        var steps: [Components.Schemas.StepResult] = []
        for id in order {
            if let r = execution.stepResults[id] {
                var step = Components.Schemas.StepResult(r)
                step.items = items[id].map(Components.Schemas.ItemCounts.init)
                steps.append(step)
            }
            if let r = execution.stepResults[StepResult.rollbackID(of: id)] { steps.append(.init(r)) }
        }
        let m = execution.metrics
        self.init(
            id: execution.id, workflowID: execution.workflowID, workflowVersion: execution.workflowVersion,
            status: .init(execution.status), inputs: JSONValue.object(execution.inputs).objectContainer, error: execution.error,
            startedAt: execution.startedAt, finishedAt: execution.finishedAt, estimatedCompletion: execution.estimatedCompletion,
            debug: execution.debug == true ? true : nil, pausedBefore: execution.pausedBefore,
            parent: execution.parent.map { .init(executionID: $0.executionID, stepID: $0.stepID, depth: $0.depth) },
            outputs: execution.outputs.flatMap { JSONValue.object($0).objectContainer }, concurrencyKey: execution.concurrencyKey,
            metrics: .init(
                stepCount: m.stepCount, successfulSteps: m.successfulSteps, failedSteps: m.failedSteps, skippedSteps: m.skippedSteps,
                retryCount: m.retryCount, cacheHits: m.cacheHits, totalDurationMs: ExecutionReport.milliseconds(m.totalDuration),
                criticalPathDurationMs: ExecutionReport.milliseconds(m.criticalPathDuration), optimizationGains: m.optimizationGains),
            steps: steps)
    }
}

extension Components.Schemas.StepResult {
    init(_ r: StepResult) {
        self.init(
            id: r.stepID, status: .init(r.status), attempts: r.attempts, durationMs: ExecutionReport.milliseconds(r.duration),
            outputs: JSONValue.object(r.outputs).objectContainer, timedOut: r.timedOut, cached: r.cached, error: r.error,
            skipReason: r.skipReason, exitCode: r.exitCode.map { Int($0) }, startedAt: r.startedAt, finishedAt: r.finishedAt,
            itemCount: r.itemCount, childExecutionID: r.childExecutionID, waitingFor: r.waitingFor)
    }
}

extension Components.Schemas.ItemCounts {
    init(_ c: ItemCounts) {
        self.init(total: c.total, pending: c.pending, running: c.running, succeeded: c.succeeded, failed: c.failed, cancelled: c.cancelled)
    }
}

extension Components.Schemas.ExecutionStatus {
    init(_ status: ExecutionStatus) {
        switch status {
        case .pending: self = .pending
        case .running: self = .running
        case .paused: self = .paused
        case .completed: self = .completed
        case .failed: self = .failed
        case .cancelled: self = .cancelled
        }
    }
}

extension Components.Schemas.StepStatus {
    init(_ status: StepStatus) {
        switch status {
        case .pending: self = .pending
        case .running: self = .running
        case .success: self = .success
        case .failed: self = .failed
        case .skipped: self = .skipped
        case .cancelled: self = .cancelled
        }
    }
}

extension Components.Schemas.Attempt {
    init(_ a: AttemptRecord) {
        self.init(
            stepID: a.stepID, attempt: a.attempt, status: .init(a.status), startedAt: a.startedAt, finishedAt: a.finishedAt, error: a.error,
            exitCode: a.exitCode.map { Int($0) })
    }
}

extension Components.Schemas.Attempt.StatusPayload {
    init(_ status: AttemptStatus) {
        switch status {
        case .running: self = .running
        case .succeeded: self = .succeeded
        case .failed: self = .failed
        case .timedOut: self = .timedOut
        case .cancelled: self = .cancelled
        case .cached: self = .cached
        case .interrupted: self = .interrupted
        }
    }
}

extension Components.Schemas.ExecutionRequest {
    /// The inputs given, as values.
    var inputValues: [String: JSONValue] {
        (inputs?.additionalProperties.value ?? [:]).mapValues(JSONValue.init(any:))
    }
}
