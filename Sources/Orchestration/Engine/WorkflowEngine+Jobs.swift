import Foundation
import Logging

/// The engine's jobs, run as child tasks of ``WorkflowEngine/run()``: an attempt (here or on a
/// worker's queue) and a timer, and what their ends do to the run that started them.
extension WorkflowEngine {
    /// Runs one job as a child task of ``run()``, then the attempts it carries on with
    /// (WorkflowEngine+Handoff.swift).
    nonisolated func perform(_ job: Job) async {
        var next: Job? = job
        while let job = next { next = await performOne(job) }
    }

    /// Runs one job; returns the attempt its end started, to carry on with.
    nonisolated func performOne(_ job: Job) async -> Job? {
        switch job {
        case .attempt(
            let executionID, let step, let attempt, let request, let signal, let cacheKey, let rollback, let redactor, let queued, let owner):
            if let cacheKey, let outputs = await cache.lookup(cacheKey, now: time.now()) {
                return await deliver(
                    FinishedAttempt(
                        executionID: executionID, step: step, attempt: attempt, outcome: .success(outputs: outputs), cached: true, rollback: false,
                        owner: owner))
            }
            if let queued = request.queuedAt {
                emit(
                    .stepScheduled(
                        executionID: executionID, stepID: request.stepID, latency: .clamped(seconds: max(0, time.now().timeIntervalSince(queued)))))
            }
            let ran =
                if let queued {
                    AttemptRunner.Ran(outcome: await runQueued(queued, signal: signal))
                } else {
                    await runAttempt(request, signal: signal, redactor: redactor)
                }
            let finished = FinishedAttempt(
                executionID: executionID, step: step, attempt: attempt, outcome: ran.outcome, cached: false, rollback: rollback, owner: owner)
            return await deliver(finished, fromCancelledTask: ran.cancelledTask)
        case .timer(let delay, let kind, let stop, let owner):
            let time = self.time
            let due = await withTaskGroup(of: Bool.self) { group in
                group.addTask {
                    do { try await time.sleep(for: delay) } catch { return false }
                    return true
                }
                group.addTask {
                    await stop.wait()
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                return first
            }
            guard due else { return nil }
            return await endingAttempt { await timerFired(kind, owner: owner) }
        case .followUp(let work):
            await work()
            return nil
        }
    }

    /// Runs the attempt here (``AttemptRunner``), recording the process group it starts.
    nonisolated func runAttempt(_ request: StepRequest, signal: OneShotSignal, redactor: Redactor) async -> AttemptRunner.Ran {
        var executors = self.executors
        // A workflow step's child is started by this engine.
        if request.type == .workflow, !configuration.modelsEveryStep {
            executors.register(ChildWorkflowExecutor(engine: self), for: .workflow)
        }
        let runner = AttemptRunner(executors: executors, context: context, time: time)
        guard let writer else { return await runner.run(request, signal: signal, redactor: redactor) }
        return await runner.run(request, signal: signal, redactor: redactor) { process in
            _ = writer.enqueue([
                .attemptProcess(executionID: request.executionID, stepID: request.stepID, attempt: request.attempt, process: process)
            ])
        }
    }

    /// What applying an attempt's end decides (``Applied``, to save and carry out), or nil when
    /// `owner` is no longer the execution's run here: the execution was handed to another node
    /// meanwhile, perhaps taken back since (a new run, which interrupted this attempt and runs
    /// the step again).
    func attemptFinished(_ f: FinishedAttempt) -> Applied? {
        guard !handedBack, let run = runs[f.executionID], run.identity === f.owner else { return nil }
        let step = f.step
        let outcome = run.redactor.redact(f.outcome)
        let now = self.now()
        if f.rollback {
            if let id = run.machine.compiled.rollbacks[step]?.id {
                if !outcome.log.isEmpty { run.logs[id] = outcome.log }
                emitFinished(id, attempt: f.attempt, outcome: outcome, cached: false, startedAt: run.rollbackStart ?? now, now: now, run: run)
            }
            traceAttemptEnded(unit: step, rollback: true, outcome: outcome, cached: false, run: run)
            var applied = record(run.machine.rollbackAttemptFinished(step: step, outcome: outcome, now: now), for: run)
            applied.attempt = (step, true, now)
            return applied
        }
        if writer != nil { run.lastOutcome[step] = outcome.status(cached: f.cached) }
        emitFinished(
            run.machine.results[step].stepID, attempt: f.attempt, outcome: outcome, cached: f.cached,
            startedAt: run.machine.attemptStartedAt[step] ?? now, now: now, run: run)
        if !outcome.log.isEmpty || run.logs[run.machine.results[step].stepID] != nil {
            run.logs[run.machine.results[step].stepID] = outcome.log
        }
        traceAttemptEnded(unit: step, rollback: false, outcome: outcome, cached: f.cached, run: run)
        var applied = record(run.machine.attemptFinished(step: step, outcome: outcome, cached: f.cached, now: now), for: run)
        applied.attempt = (step, false, now)
        // Cached once saved (``carryOut(_:)``): nothing here may wait, or another end's actions
        // could be carried out while this one's writes are not yet queued.
        if outcome.succeeded, !f.cached, let key = run.cacheKeys[step],
            let policy = run.machine.compiled.cachePolicies[run.machine.stepIndex(of: step)]
        {
            applied.cache = (key, outcome.outputs, now.addingTimeInterval(policy.ttl.seconds))
        }
        return applied
    }

    /// A timer that `owner` set is due; dropped when `owner` is no longer the execution's run here.
    func timerFired(_ kind: TimerKind, owner: RunIdentity) async {
        guard !handedBack, let run = runs[kind.executionID], run.identity === owner else { return }
        let now = self.now()
        let actions: [ExecutionStateMachine.Action]
        switch kind {
        case .retry(_, let step): actions = run.machine.retryDue(step: step, now: now)
        case .rollbackRetry(_, let step): actions = run.machine.rollbackRetryDue(step: step, now: now)
        case .waitUntil(_, let step): actions = run.machine.untilReached(step: step, now: now)
        case .waitTimeout(_, let step): actions = run.machine.waitTimedOut(step: step, now: now)
        case .workflowTimeout(_, let timeout):
            guard !run.machine.status.isTerminal else { return }
            actions = run.machine.timedOut(after: timeout, now: now)
        }
        await apply(actions, to: run)
    }
}
