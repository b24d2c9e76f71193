import Foundation

extension ExecutionStateMachine {
    /// The execution as users see it: status, per-step results (rollbacks as `<id>.rollback`), metrics.
    package func snapshot(workflowVersion: String? = nil) -> WorkflowExecution {
        var stepResults: [String: StepResult] = [:]
        stepResults.reserveCapacity(results.count + rollbackResults.count)
        for r in results { stepResults[r.stepID] = r }
        for (_, r) in rollbackResults { stepResults[r.stepID] = r }
        var current: String?
        for (i, p) in phase.enumerated() {
            if case .running = p {
                current = results[i].stepID
                break
            }
        }
        var execution = WorkflowExecution(
            id: values.executionID, workflowID: values.workflowID, workflowVersion: workflowVersion ?? compiled.workflow.version,
            status: status, inputs: values.inputs, currentStep: current, stepResults: stepResults, metrics: metrics(),
            error: error, startedAt: startedAt, finishedAt: finishedAt)
        execution.parent = values.parent
        execution.concurrencyKey = values.concurrencyKey
        execution.outputs = outputs
        if debug, !status.isTerminal {
            execution.debug = true
            execution.pausedBefore = status == .paused ? debugPausedBefore.map { results[$0].stepID } : nil
        }
        return execution
    }

    /// ``snapshot(workflowVersion:)`` with the expected end of a running execution.
    package func snapshot(now: Date, workflowVersion: String? = nil) -> WorkflowExecution {
        var execution = snapshot(workflowVersion: workflowVersion)
        execution.estimatedCompletion = remainingSeconds(now: now).map { now.addingTimeInterval($0) }
        return execution
    }

    /// Seconds until the execution is expected to end, from the step estimates (learned
    /// durations once there are enough executions): the longer of the longest estimated path
    /// still ahead — from each running step (its estimate minus what it has run, at least 0),
    /// each queued step and each step waiting to retry — and the estimated work left divided by
    /// the steps that may run at once. `nil` once the execution has ended.
    package func remainingSeconds(now: Date) -> Double? {
        guard !status.isTerminal else { return nil }
        var path = 0.0, work = 0.0
        // A forEach step's estimate is for all its items (learned: first item to last): counted
        // once, for the share of its items not ended; its items add nothing of their own.
        for i in 0..<stepCount {
            let estimate = compiled.estimates[i], tail = compiled.priorities[i] - estimate
            switch phase[i] {
            case .running, .suspended:
                let ran = attemptStartedAt[i].map { now.timeIntervalSince($0) } ?? 0
                let left = max(0, estimate - ran)
                path = max(path, left + tail)
                work += left
            case .queued, .retryWait, .retryQueued:
                path = max(path, compiled.priorities[i])
                work += estimate
            case .waiting:
                work += estimate
            case .expanded:
                guard let fan = fans[i] else { break }
                let left = estimate * Double(fan.count - fan.ended) / Double(max(1, fan.count))
                path = max(path, left + tail)
                work += left
            case .done:
                break
            }
        }
        let seconds = max(path, work / Double(readyQueue.limit))
        return seconds.isNaN ? 0 : min(max(0, seconds), DurationText.maximumSeconds)
    }

    /// Counts, durations, the critical path actually taken and the parallel speedup obtained.
    ///
    /// `optimizationGains` = sum of step durations ÷ wall time: 3 one-second steps run side by
    /// side in 1 s give 3.0; run one after another, 1.0.
    package func metrics() -> ExecutionMetrics {
        var m = ExecutionMetrics(stepCount: stepCount)
        var busy = 0.0
        for (i, r) in results.enumerated() {
            // Items are counted as the step they belong to; their run time is the work done.
            guard i < stepCount else {
                busy += r.duration.seconds
                continue
            }
            switch r.status {
            case .success: m.successfulSteps += 1
            case .failed: m.failedSteps += 1
            case .skipped: m.skippedSteps += 1
            default: break
            }
            if r.cached { m.cacheHits += 1 }
            if r.itemCount == nil { busy += r.duration.seconds }
        }
        m.retryCount = retryCount
        if let start = startedAt {
            let end = finishedAt ?? results.compactMap(\.finishedAt).max() ?? start
            m.totalDuration = .clamped(seconds: max(0, end.timeIntervalSince(start)))
        }
        // Longest chain of actual durations through the DAG.
        let graph = compiled.graph
        var longest = [Double](repeating: 0, count: stepCount)
        var best = 0.0
        for v in graph.topologicalOrder {
            var before = 0.0
            for u in graph.upstream[v] where longest[u] > before { before = longest[u] }
            longest[v] = before + results[v].duration.seconds
            if longest[v] > best { best = longest[v] }
        }
        m.criticalPathDuration = .clamped(seconds: best)
        let wall = m.totalDuration.seconds
        m.optimizationGains = wall > 0 ? (busy / wall * 1000).rounded() / 1000 : 0
        return m
    }
}
