import Foundation
import Logging
import Synchronization

extension WorkflowEngine {
    /// Actions the machine decided for one run, with what they write: saved (``save(_:)``) and
    /// then carried out (``carryOut(_:)``). Several are saved in one commit when attempts' ends
    /// are applied together (WorkflowEngine+Finished.swift).
    struct Applied {
        let run: Run
        let actions: [ExecutionStateMachine.Action]
        /// Concurrency slots the actions free.
        let releases: [StoreWrite]
        let writes: [StoreWrite]
        /// The attempt whose end decided the actions: its span is closed once they are carried out.
        var attempt: (unit: Int, rollback: Bool, at: Date)?
        /// The attempt's outputs for the step cache, stored once the actions are saved.
        var cache: (key: String, outputs: [String: JSONValue], expires: Date)?
    }

    /// Saves what the actions record (attempts started, results, the end), waits until that and
    /// every earlier write is committed, then carries the actions out. So a dependent never starts
    /// before the result it depends on is saved.
    func apply(_ actions: [ExecutionStateMachine.Action], to run: Run) async {
        let applied = record(actions, for: run)
        await save([applied])
        await carryOut(applied)
    }

    /// What `actions` write, computed now (from the machine as they left it).
    func record(_ actions: [ExecutionStateMachine.Action], for run: Run) -> Applied {
        let releases = slotReleases(for: actions, run: run)
        guard writer != nil else { return Applied(run: run, actions: actions, releases: releases, writes: []) }
        let writes = self.writes(for: actions, run: run) + (storeKeepsSlots ? releases : [])
        return Applied(run: run, actions: actions, releases: releases, writes: writes)
    }

    /// Commits what `applied` write, in one group commit, and waits for it.
    func save(_ applied: [Applied]) async {
        guard writer != nil else { return }
        let writes = applied.count == 1 ? applied[0].writes : applied.flatMap(\.writes)
        guard !writes.isEmpty else { return }
        var runs: [Run] = []
        var seen = Set<ObjectIdentifier>()
        for a in applied where !a.writes.isEmpty && seen.insert(ObjectIdentifier(a.run)).inserted { runs.append(a.run) }
        await save(writes, for: runs)
    }

    /// Carries out saved actions: frees their slots for who waits here, then starts, schedules
    /// and announces what they say.
    func carryOut(_ applied: Applied) async {
        if let entry = applied.cache { await cache.store(entry.key, outputs: entry.outputs, expires: entry.expires) }
        let releases = applied.releases
        if !releases.isEmpty, !storeKeepsSlots { try? await memoryStore.apply(releases) }
        // Freed slots go to who waits for them here at once (other processes ask within a second).
        if !releases.isEmpty, !slotWaits.isEmpty { jobQueue.append(.followUp { [weak self] in await self?.retrySlotWaits() }) }
        // Taken over by another node while this was saved: it carries the execution on, not this one.
        if !applied.run.handedOver {
            perform(applied.actions, run: applied.run)
            if draining { resumeDrainWaitersIfIdle() }
        }
        if let attempt = applied.attempt { traceAttemptClosed(unit: attempt.unit, rollback: attempt.rollback, at: attempt.at, run: applied.run) }
    }

    /// Waits for `writes` to commit. When the store fails, the execution is cancelled (what is
    /// not saved could not be recovered after a crash) and the error is its reason.
    func save(_ writes: [StoreWrite], for run: Run) async {
        await save(writes, for: [run])
    }

    /// Waits for `writes`, of the executions `runs`, to commit; when the store fails, each run
    /// stops as ``save(_:for:)`` says.
    private func save(_ writes: [StoreWrite], for runs: [Run]) async {
        guard let writer else { return }
        // Queued in this turn of the actor, with the change they record: whatever the actor
        // decides after this, its writes come later and its commit waits for these.
        let queued = writer.queueing(writes)
        do {
            try await writer.commit(queued)
        } catch {
            for run in runs { saveFailed(error, run: run) }
        }
    }

    private func saveFailed(_ error: any Error, run: Run) {
        let id = run.machine.values.executionID
        if let lost = error as? LeaseLost {
            // Refused: another node holds it, or this node gave it up meanwhile. Only this run
            // stops (by now the execution may be a later run's here, taken back). Another
            // execution's writes in the batch refused says nothing about this one's.
            if lost.executionIDs.contains(id), runs[id] === run { leaseLost(id) }
            return
        }
        // A run handed over already: its writes failing says nothing about a later run.
        if run.handedOver { return }
        if let leases = store as? any ExecutionLeases {
            // Shared store: what was saved is the truth. Stop here; once the lease runs out,
            // a node (this one too) carries the execution on from it, as after a crash.
            leases.forget(id)
            leaseLost(id, because: "the store failed: \(error)")
            return
        }
        let reason = "the store failed: \(error)"
        if run.storeFailure == nil {
            run.storeFailure = reason
            logger.error("store failed; cancelling the execution", metadata: ["execution": "\(id)", "error": "\(error)"])
        }
        if !run.machine.status.isTerminal {
            perform(run.machine.cancel(reason: reason, now: now()), run: run)
        }
    }

    /// The execution's row: everything but the step results.
    func header(_ run: Run) -> ExecutionRecord {
        let m = run.machine
        var execution = WorkflowExecution(
            id: m.values.executionID, workflowID: m.values.workflowID, workflowVersion: m.compiled.workflow.version,
            status: m.status, inputs: m.values.inputs, error: m.error, startedAt: m.startedAt, finishedAt: m.finishedAt)
        if m.status.isTerminal { execution.metrics = m.metrics() }
        execution.parent = m.values.parent
        execution.concurrencyKey = m.values.concurrencyKey
        execution.outputs = m.outputs
        var options = run.options
        options.paused = m.status == .paused
        return ExecutionRecord(
            execution: execution, workflowHash: run.workflowHash, options: options, createdAt: run.createdAt, owner: ExecutionRecord.currentProcess)
    }

    func writes(for actions: [ExecutionStateMachine.Action], run: Run) -> [StoreWrite] {
        let id = run.machine.values.executionID
        var out: [StoreWrite] = []
        let now = self.now()
        for action in actions {
            switch action {
            case .startAttempt(_, let attempt, let request):
                out.append(.attempt(AttemptRecord(executionID: id, stepID: request.stepID, attempt: attempt, status: .running, startedAt: now)))
            case .scheduleRetry(let step, let next, _):
                let r = run.machine.results[step]
                out.append(
                    .attempt(
                        AttemptRecord(
                            executionID: id, stepID: r.stepID, attempt: next - 1, status: r.timedOut ? .timedOut : .failed,
                            startedAt: run.machine.attemptStartedAt[step] ?? now, finishedAt: now, error: r.error, exitCode: r.exitCode)))
            case .stepFinished(let step):
                let r = run.machine.results[step]
                var attempt: AttemptRecord?
                // Only a step that ran an attempt in this process has one to record.
                if let started = run.machine.attemptStartedAt[step] {
                    attempt = AttemptRecord(
                        executionID: id, stepID: r.stepID, attempt: r.attempts, status: run.lastOutcome[step] ?? Self.attemptStatus(of: r),
                        startedAt: started, finishedAt: now, error: r.error, exitCode: r.exitCode)
                }
                out.append(.stepFinished(executionID: id, result: r, attempt: attempt, log: run.logs[r.stepID] ?? ""))
            case .stepExpanded(let step):
                out.append(.stepFinished(executionID: id, result: run.machine.results[step], attempt: nil, log: ""))
            case .suspend(let step, let attempt, let request):
                out.append(.attempt(AttemptRecord(executionID: id, stepID: request.stepID, attempt: attempt, status: .running, startedAt: now)))
                out.append(.stepFinished(executionID: id, result: run.machine.results[step], attempt: nil, log: ""))
            case .startRollback(_, let attempt, let request):
                run.rollbackStart = now
                out.append(.attempt(AttemptRecord(executionID: id, stepID: request.stepID, attempt: attempt, status: .running, startedAt: now)))
            case .rollbackFinished(let step):
                guard let r = run.machine.rollbackResults[step] else { break }
                let attempt = AttemptRecord(
                    executionID: id, stepID: r.stepID, attempt: max(1, r.attempts), status: r.status == .success ? .succeeded : .failed,
                    startedAt: run.rollbackStart ?? now, finishedAt: now, error: r.error, exitCode: r.exitCode)
                out.append(.stepFinished(executionID: id, result: r, attempt: attempt, log: run.logs[r.stepID] ?? ""))
            case .scheduleRollbackRetry(let step, let next, _):
                if let r = run.machine.rollbackResults[step] {
                    out.append(
                        .attempt(
                            AttemptRecord(
                                executionID: id, stepID: r.stepID, attempt: next - 1, status: .failed,
                                startedAt: run.rollbackStart ?? now, finishedAt: now, error: r.error, exitCode: r.exitCode)))
                }
            case .paused:
                out.append(.updateExecution(header(run)))
            case .finish:
                out.append(.updateExecution(header(run)))
                out += endingWrites(run)
            case .cancelAttempts:
                break
            }
        }
        return out
    }

    /// Carries out the machine's actions for one execution.
    func perform(_ actions: [ExecutionStateMachine.Action], run: Run) {
        let id = run.machine.values.executionID
        for action in actions {
            switch action {
            case .startAttempt(let step, let attempt, let planned):
                let request = traceAttempt(planned, unit: step, rollback: false, run: run)
                let signal = OneShotSignal()
                // Decided before the execution was stopped (a start whose save failed, so the
                // store cancelled it): it ends cancelled without starting, unannounced.
                let stale = run.machine.stopping != nil
                if stale { signal.fire() }
                run.signals[step] = signal
                var key: String?
                if run.machine.compiled.cachePolicies[run.machine.stepIndex(of: step)] != nil {
                    key = StepCacheKey.make(for: request)
                    run.cacheKeys[step] = key
                }
                if !stale { emitStarted(request, attempt: attempt, cacheKey: key) }
                submit(
                    .attempt(
                        executionID: id, step: step, attempt: attempt, request: request, signal: signal, cacheKey: key, rollback: false,
                        redactor: run.redactor,
                        queued: run.machine.compiled.queues[run.machine.stepIndex(of: step)].map { queued(request, on: $0, run: run) },
                        owner: run.identity))
            case .scheduleRetry(let step, let attempt, let delay):
                let result = run.machine.results[step]
                emit(.stepRetrying(executionID: id, stepID: result.stepID, nextAttempt: attempt, delay: delay, error: result.error))
                traceRetry(unit: step, delay: delay, run: run)
                jobQueue.append(.timer(delay: delay, fire: .retry(executionID: id, step: step), stop: run.timers, owner: run.identity))
            case .cancelAttempts(let steps):
                for step in steps { run.signals[step]?.fire() }
            case .startRollback(let step, _, let planned):
                // Rollbacks run to their end: cancel does not stop them, so nobody keeps this signal.
                let request = traceAttempt(planned, unit: step, rollback: true, run: run)
                let signal = OneShotSignal()
                emit(
                    .stepStarted(executionID: id, stepID: request.stepID, attempt: request.attempt, at: now(), queueWait: nil, inputFingerprint: nil))
                submit(
                    .attempt(
                        executionID: id, step: step, attempt: request.attempt, request: request, signal: signal, cacheKey: nil, rollback: true,
                        redactor: run.redactor, queued: run.machine.compiled.queues[step].map { queued(request, on: $0, run: run) },
                        owner: run.identity))
            case .suspend(let step, let attempt, _) where run.machine.results[step].waitReason.map(\.isConcurrency) == true:
                let wait = SlotWait(executionID: id, unit: step, attempt: attempt)
                jobQueue.append(.followUp { [weak self] in await self?.askSlot(wait) })
            case .suspend(let step, let attempt, let request):
                emitStarted(request, attempt: attempt, cacheKey: nil)
                traceWait(request, unit: step, run: run)
                // A signal or a decision may be waiting in the store already (sent while this
                // process was down): taken before the timers start, so a decision made in time
                // is not beaten by a timeout that passed during the restart.
                let timeout = request.timeout
                jobQueue.append(
                    .followUp { [weak self] in
                        await self?.deliverSignals(id)
                        await self?.armWaitTimers(id, step: step, attempt: attempt, timeout: timeout)
                    })
            case .stepExpanded(let step):
                traceExpanded(step, run: run)
                if hasSubscribers.load(ordering: .acquiring) {
                    emit(
                        .stepStarted(
                            executionID: id, stepID: run.machine.results[step].stepID, attempt: 1, at: now(), queueWait: nil, inputFingerprint: nil))
                }
            case .scheduleRollbackRetry(let step, _, let delay):
                jobQueue.append(.timer(delay: delay, fire: .rollbackRetry(executionID: id, step: step), stop: run.timers, owner: run.identity))
            case .stepFinished(let step):
                run.signals[step] = nil
                traceUnitFinished(step, run: run)
                let result = run.machine.results[step]
                emit(.stepFinished(executionID: id, result: result, log: run.logs[result.stepID] ?? ""))
            case .rollbackFinished(let step):
                if let result = run.machine.rollbackResults[step] {
                    emit(.stepFinished(executionID: id, result: result, log: run.logs[result.stepID] ?? ""))
                }
            case .paused(let before):
                emit(.executionPaused(executionID: id, beforeStep: before.map { run.machine.results[$0].stepID }))
            case .finish:
                var final = run.machine.snapshot()
                if let failure = run.storeFailure {
                    // It ran, but what was saved cannot be trusted: say so, and do not call it completed.
                    if final.status == .completed { final.status = .failed }
                    final.error = final.error.map { $0 == failure ? $0 : "\($0); \(failure)" } ?? failure
                }
                run.final = final
                traceFinished(final, run: run)
                run.signals.removeAll()
                run.timers.fire()
                // Observers see the end (without a store, this is where they are told) before
                // anyone waiting for it is woken: whatever is read next includes it.
                _ = endingWrites(run)
                emit(.executionFinished(final))
                tracing?.forget(id)
                let waiters = run.waiters
                run.waiters.removeAll()
                for w in waiters { w.settle(.success(final)) }
            }
        }
    }

}

extension WorkflowEngine {
    /// `.stepStarted` for a step's attempt: its queue wait and, when an observer wants one, a
    /// fingerprint of its inputs (the cache key when it has one).
    func emitStarted(_ request: StepRequest, attempt: Int, cacheKey: String?) {
        guard hasSubscribers.load(ordering: .acquiring) else { return }
        let now = self.now()
        var fingerprint: String?
        if attempt == 1, wantsFingerprints.load(ordering: .relaxed) { fingerprint = String((cacheKey ?? StepCacheKey.make(for: request)).prefix(16)) }
        emit(
            .stepStarted(
                executionID: request.executionID, stepID: request.stepID, attempt: attempt, at: now,
                queueWait: request.queuedAt.map { max(0, now.timeIntervalSince($0)) }, inputFingerprint: fingerprint))
    }

    /// `.attemptFinished`: how the attempt ended and how long it ran (0 when cached).
    func emitFinished(_ stepID: String, attempt: Int, outcome: StepOutcome, cached: Bool, startedAt: Date, now: Date, run: Run) {
        guard hasSubscribers.load(ordering: .acquiring) else { return }
        emit(
            .attemptFinished(
                executionID: run.machine.values.executionID, stepID: stepID, attempt: attempt, status: outcome.status(cached: cached),
                seconds: cached ? 0 : max(0, now.timeIntervalSince(startedAt)), error: outcome.succeeded ? nil : outcome.error,
                outputs: outcome.outputs))
    }

    /// What observers write with the execution's end; asks them once.
    func endingWrites(_ run: Run) -> [StoreWrite] {
        if let done = run.endingWrites { return done }
        let observers = self.observers.withLock { $0 }
        guard !observers.isEmpty else {
            run.endingWrites = []
            return []
        }
        let m = run.machine
        let started = m.startedAt ?? run.createdAt
        var ending = EndingExecution(
            executionID: m.values.executionID, workflowID: m.values.workflowID, version: run.workflowHash, status: m.status,
            startedAt: started, finishedAt: m.finishedAt ?? now(), steps: m.results.prefix(m.stepCount).map { ($0.stepID, $0.status) })
        for r in m.results.prefix(m.stepCount) where r.itemCount != nil && r.status.isTerminal {
            ending.forEachSpans[r.stepID] = r.duration.seconds
        }
        let writes = observers.flatMap { $0.executionEnding(ending) }
        run.endingWrites = writes
        return writes
    }
}

extension WorkflowEngine {
    /// How a step's last attempt ended, read from its result when the attempt reported no outcome
    /// of its own (a wait for a decision or a signal, a step that could not start).
    static func attemptStatus(of r: StepResult) -> AttemptStatus {
        switch r.status {
        case .success: return .succeeded
        case .cancelled: return .cancelled
        default: return r.timedOut ? .timedOut : .failed
        }
    }
}
