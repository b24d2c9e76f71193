import Foundation
import HeapModule

extension ExecutionStateMachine {
    /// An attempt of `step` ended with `outcome` (outputs already redacted).
    package mutating func attemptFinished(step i: Int, outcome: StepOutcome, cached: Bool = false, now: Date) -> [Action] {
        guard case .running(let attempt) = phase[i] else { return [] }
        var actions: [Action] = []
        readyQueue.finish(i)
        results[i].attempts = attempt
        results[i].exitCode = outcome.exitCode
        results[i].timedOut = outcome.timedOut
        results[i].cached = cached
        if outcome.succeeded {
            results[i].outputs = outcome.outputs
            results[i].error = nil
            end(i, status: .success, reason: nil, error: nil, now: now, actions: &actions)
            releaseDownstream(of: i, now: now, actions: &actions)
        } else if outcome.cancelled {
            results[i].outputs = outcome.outputs
            end(i, status: .cancelled, reason: nil, error: outcome.error ?? stopping.map { "cancelled: \($0.reason)" }, now: now, actions: &actions)
            // Stopped from outside the execution (the engine shutting down): the execution did
            // not complete, whatever else happens.
            if stopping == nil, failedStep == nil, i < stepCount { failedStep = i }
            releaseDownstream(of: i, now: now, actions: &actions)
        } else {
            results[i].outputs = outcome.outputs
            results[i].error = outcome.error
            let policy = compiled.bodies[stepIndex(of: i)].retryPolicy
            let kind: RetryPolicy.RetryOn = outcome.timedOut ? .timeout : .failure
            if attempt < policy.maxAttempts, policy.retryOn.contains(kind), stopping == nil, gaveUp(i) == nil {
                let delay = policy.delay(afterAttempt: attempt, using: &random)
                phase[i] = .retryWait(attempt: attempt + 1)
                retryWaits += 1
                retryCount += 1
                actions.append(.scheduleRetry(step: i, attempt: attempt + 1, delay: delay))
            } else {
                end(i, status: .failed, reason: nil, error: outcome.error ?? "failed", now: now, actions: &actions)
                failedWithoutContinue(i, now: now, actions: &actions)
                releaseDownstream(of: i, now: now, actions: &actions)
            }
        }
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// The delay before a retry of `step` has passed.
    package mutating func retryDue(step i: Int, now: Date) -> [Action] {
        guard case .retryWait(let attempt) = phase[i] else { return [] }
        var actions: [Action] = []
        retryWaits -= 1
        if let reason = stopping?.reason ?? gaveUp(i) {
            end(i, status: .cancelled, reason: nil, error: "not retried: \(reason)", now: now, actions: &actions)
            releaseDownstream(of: i, now: now, actions: &actions)
        } else {
            // Back in the queue at its priority; `fill` picks the attempt number from the phase.
            phase[i] = .retryQueued(attempt: attempt)
            queuedAt[i] = now
            readyQueue.add(i)
            fill(now: now, actions: &actions)
        }
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// A step failed for good: unless it may, it fails the execution; with `failFast` it stops the rest.
    mutating func failedWithoutContinue(_ i: Int, now: Date, actions: inout [Action]) {
        // An item's failure counts toward its forEach step, which decides.
        guard i < stepCount, !compiled.workflow.steps[i].continueOnFailure else { return }
        if failedStep == nil { failedStep = i }
        if compiled.workflow.failFast, stopping == nil {
            stop(reason: "failFast: step \(results[i].stepID) failed", status: .failed, now: now, actions: &actions)
        }
    }

    /// Cancels the execution: nothing new starts, running attempts are stopped, then rollbacks run.
    package mutating func cancel(reason: String, now: Date) -> [Action] {
        guard !status.isTerminal, stopping == nil else { return [] }
        var actions: [Action] = []
        if status == .pending {
            status = .running
            startedAt = now
        }
        stop(reason: reason, status: .cancelled, now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// The workflow timeout passed: like cancel, but the execution ends `failed`.
    package mutating func timedOut(after timeout: Duration, now: Date) -> [Action] {
        guard !status.isTerminal, stopping == nil else { return [] }
        var actions: [Action] = []
        stop(reason: "workflow timed out after \(DurationText.format(timeout))", status: .failed, now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    mutating func stop(reason: String, status final: ExecutionStatus, now: Date, actions: inout [Action]) {
        stopping = (reason, final)
        if error == nil { error = reason }
        paused = false
        if status == .paused { status = .running }
        var runningSteps: [Int] = []
        // Steps first, then items: an item's end may end its step, whose downstreams are done by then.
        for i in 0..<phase.count {
            switch phase[i] {
            case .waiting, .queued:
                end(i, status: .cancelled, reason: nil, error: "not started: \(reason)", now: now, actions: &actions)
            case .retryWait:
                retryWaits -= 1
                end(i, status: .cancelled, reason: nil, error: "not retried: \(reason)", now: now, actions: &actions)
            case .retryQueued:
                end(i, status: .cancelled, reason: nil, error: "not retried: \(reason)", now: now, actions: &actions)
            case .running:
                runningSteps.append(i)
            case .suspended:
                end(i, status: .cancelled, reason: nil, error: "stopped waiting: \(reason)", now: now, actions: &actions)
            case .expanded, .done:
                break
            }
        }
        readyQueue.removeAllReady()
        if !runningSteps.isEmpty { actions.append(.cancelAttempts(runningSteps)) }
    }

    /// Stops new starts; running steps finish.
    package mutating func pause() -> [Action] {
        guard status == .running || status == .pending, stopping == nil else { return [] }
        paused = true
        status = .paused
        return [.paused(before: nil)]
    }

    /// Continues a paused execution; in debug mode, lets exactly one more step start.
    package mutating func resume(now: Date) -> [Action] {
        guard status == .paused else { return [] }
        var actions: [Action] = []
        paused = false
        status = .running
        // The step it paused before may have ended meanwhile (its forEach gave up on it): then
        // nothing was let through, and the execution pauses before the next step instead.
        let waiting = debugPausedBefore.map { phase[$0] != .done } ?? true
        debugPausedBefore = nil
        if debug { debugReleases = waiting ? 1 : 0 }
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// Turns debug mode on or off.
    package mutating func setDebug(_ on: Bool, now: Date) -> [Action] {
        debug = on
        guard !on, status == .paused, debugReleases == 0 else { return [] }
        return resume(now: now)
    }

    /// When every step is terminal: roll back if the execution failed or was cancelled, then finish.
    mutating func checkCompletion(now: Date, actions: inout [Action]) {
        guard doneCount == stepCount, readyQueue.running == 0, retryWaits == 0, !status.isTerminal else { return }
        var outcome: ExecutionStatus
        if let stopping { outcome = stopping.status } else if failedStep != nil { outcome = .failed } else { outcome = .completed }
        if outcome == .completed, outputs == nil, !outputsFailed, let declared = compiled.workflow.outputs, !declared.isEmpty {
            do {
                outputs = try renderOutputs(declared)
            } catch {
                // What the workflow promised to return cannot be given: it did not complete (and rolls back).
                if self.error == nil { self.error = "outputs: \(error)" }
                outputsFailed = true
            }
        }
        if outputsFailed { outcome = .failed }
        if outcome != .completed, rollbackPhase == .notStarted {
            if error == nil, let f = failedStep { error = "step \(results[f].stepID) failed" + (results[f].error.map { ": \($0)" } ?? "") }
            rollbackQueue = completionOrder.reversed().filter { compiled.rollbacks[$0] != nil && !results[$0].cached }
            // Those that ended before a crash keep their results and are not run again.
            for (i, result) in reusedRollbacks { rollbackResults[i] = result }
            rollbackQueue.removeAll { reusedRollbacks[$0] != nil }
            rollbackPhase = .done
            if nextRollback(attempt: 1, now: now, actions: &actions) { return }
        }
        if case .running = rollbackPhase { return }
        if case .retryWait = rollbackPhase { return }
        status = outcome
        finishedAt = now
        actions.append(.finish(outcome))
    }

    /// Starts the next rollback; false when there is none left.
    mutating func nextRollback(attempt: Int, now: Date, actions: inout [Action]) -> Bool {
        while let i = rollbackQueue.first {
            guard let body = compiled.rollbacks[i] else {
                rollbackQueue.removeFirst()
                continue
            }
            if attempt == 1 {
                rollbackResults[i] = StepResult(stepID: body.id, status: .running, startedAt: now)
            }
            do {
                let request = try makeRequest(body, attempt: attempt)
                rollbackPhase = .running(step: i, attempt: attempt)
                actions.append(.startRollback(step: i, attempt: attempt, request: request))
                return true
            } catch {
                rollbackQueue.removeFirst()
                finishRollback(i, status: .failed, error: "\(error)", now: now, actions: &actions)
            }
        }
        rollbackPhase = .done
        return false
    }

    /// A rollback attempt ended.
    package mutating func rollbackAttemptFinished(step i: Int, outcome: StepOutcome, now: Date) -> [Action] {
        guard case .running(let step, let attempt) = rollbackPhase, step == i else { return [] }
        var actions: [Action] = []
        rollbackResults[i]?.attempts = attempt
        rollbackResults[i]?.exitCode = outcome.exitCode
        rollbackResults[i]?.timedOut = outcome.timedOut
        rollbackResults[i]?.outputs = outcome.outputs
        let policy = compiled.rollbacks[i]?.retryPolicy ?? RetryPolicy()
        if !outcome.succeeded, attempt < policy.maxAttempts, policy.retryOn.contains(outcome.timedOut ? .timeout : .failure) {
            rollbackPhase = .retryWait(step: i, attempt: attempt + 1)
            actions.append(.scheduleRollbackRetry(step: i, attempt: attempt + 1, delay: policy.delay(afterAttempt: attempt, using: &random)))
            return actions
        }
        rollbackQueue.removeFirst()
        finishRollback(
            i, status: outcome.succeeded ? .success : .failed, error: outcome.succeeded ? nil : outcome.error ?? "failed", now: now, actions: &actions
        )
        if !nextRollback(attempt: 1, now: now, actions: &actions) {
            checkCompletion(now: now, actions: &actions)
        }
        return actions
    }

    /// The delay before a rollback retry has passed.
    package mutating func rollbackRetryDue(step i: Int, now: Date) -> [Action] {
        guard case .retryWait(let step, let attempt) = rollbackPhase, step == i else { return [] }
        var actions: [Action] = []
        if !nextRollback(attempt: attempt, now: now, actions: &actions) { checkCompletion(now: now, actions: &actions) }
        return actions
    }

    mutating func finishRollback(_ i: Int, status: StepStatus, error: String?, now: Date, actions: inout [Action]) {
        rollbackResults[i]?.status = status
        rollbackResults[i]?.error = error
        rollbackResults[i]?.finishedAt = now
        if let start = rollbackResults[i]?.startedAt { rollbackResults[i]?.duration = .clamped(seconds: now.timeIntervalSince(start)) }
        actions.append(.rollbackFinished(step: i))
    }
}
