import Foundation
import Logging

extension WorkflowEngine {
    /// Registers again the workflows the store holds as registered (their last saved version);
    /// returns their ids. One that no longer validates is skipped and named in the error list.
    @discardableResult
    public func restoreWorkflows() async throws -> (restored: [String], invalid: [String]) {
        guard let store else { return ([], []) }
        var restored: [String] = [], invalid: [String] = []
        for workflow in try await store.registeredWorkflows() where workflows[workflow.id] == nil {
            let validation = WorkflowValidator(actions: configuration.actions).validate(workflow)
            guard let graph = validation.graph, let compiled = try? CompiledWorkflow(graph: graph, actions: configuration.actions) else {
                invalid.append(workflow.id)
                continue
            }
            guard let hash = try? workflow.contentHash() else {
                invalid.append(workflow.id)
                continue
            }
            workflows[workflow.id] = compiled
            workflowHashes[workflow.id] = hash
            restored.append(workflow.id)
        }
        return (restored, invalid)
    }

    /// Carries on every execution the store holds as not ended — after a crash or a restart.
    ///
    /// Steps with a saved result are not run again (whatever the result was); attempts that were
    /// in flight are recorded as `interrupted` and their steps run again as the next attempt
    /// (at-least-once). An execution that was paused stays paused; debug mode is kept. Its
    /// workflow runs in the version the execution pinned, and its timeout counts from its
    /// original start. Returns the executions carried on.
    ///
    /// - Parameters:
    ///   - only: carry on just these executions (`novacron executions resume ID`).
    ///   - debug: carry them on in debug mode (or not), instead of as they were; set before any
    ///     step starts again (`run --resume ID --debug`).
    @discardableResult
    public func recover(only: Set<String>? = nil, debug: Bool? = nil) async throws -> [WorkflowExecution] {
        guard let store else { return [] }
        var carried: [WorkflowExecution] = []
        // On a shared store, only what this node could claim: the lease is who runs it.
        let leases = store as? any ExecutionLeases
        if leases != nil { await settleQueuedWrites() }
        let claimed = try await leases?.claimExecutions(only: only)
        var records: [ExecutionRecord] = []
        // Claimed although still run here: this node had given it up (its lease lost, or not
        // renewed in time) and that run has not stopped yet. Its state may be behind what was
        // saved since (another node may have run steps), and its writes would now pass under
        // the new claim: it stops, and the execution goes on from what was saved. Whoever waits
        // for its end waits for the new run's.
        var waiting: [String: [EndWaiter]] = [:]
        for id in claimed ?? [] {
            guard let stale = runs[id], !stale.handedOver else { continue }
            waiting[id] = stale.waiters
            stale.waiters.removeAll()
            leaseLost(id, because: "this node gave it up and claimed it again; it goes on from what was saved")
        }
        defer {
            // Those whose run could not be carried on hear why.
            for (id, waiters) in waiting {
                if let run = runs[id], let final = run.final {
                    for w in waiters { w.settle(.success(final)) }
                } else if let run = runs[id] {
                    run.waiters += waiters
                } else {
                    for w in waiters { w.settle(.failure(EngineError(.conflict, "execution \(id) could not be carried on here"))) }
                }
            }
        }
        if let claimed {
            do {
                for id in claimed { if let record = try await store.execution(id: id) { records.append(record) } }
            } catch {
                // Claimed and not carried on: let the leases run out, so a node (this one too)
                // claims them again once the store answers, instead of holding them unrun.
                for id in claimed { leases?.forget(id) }
                throw error
            }
            records.sort { ($0.createdAt, $0.execution.id) < ($1.createdAt, $1.execution.id) }
        } else {
            records = try await store.unfinishedExecutions()
        }
        for record in records where runs[record.execution.id] == nil {
            if let only, !only.contains(record.execution.id) { continue }
            // Another live process on this machine runs it (a `novacron run` beside the server):
            // not ours to carry on — and its steps are not leftovers to stop.
            if leases == nil, let owner = record.owner, ExecutionRecord.liveOtherProcess(owner) != nil {
                logger.info("execution left to the process running it", metadata: ["execution": "\(record.execution.id)", "owner": "\(owner)"])
                continue
            }
            // One execution that cannot be carried on must not keep the others (or the server) down.
            do {
                if let execution = try await recoverOne(record, debug: debug) {
                    carried.append(execution)
                    logger.info("execution recovered", metadata: ["execution": "\(execution.id)", "workflow": "\(execution.workflowID)"])
                }
            } catch {
                runs[record.execution.id] = nil
                order.removeAll { $0 == record.execution.id }
                if let leases, error is StoreError {
                    // The store failed (restarting, unreachable), not the execution: give the lease
                    // up unrun and carry it on at a later turn, from what is saved.
                    leases.forget(record.execution.id)
                    logger.warning(
                        "execution cannot be carried on now; the store failed",
                        metadata: ["execution": "\(record.execution.id)", "error": "\(error)"])
                    continue
                }
                logger.error("execution cannot be recovered", metadata: ["execution": "\(record.execution.id)", "error": "\(error)"])
                try? await abandon(record, reason: "cannot carry on: \(error)")
            }
        }
        return carried
    }

    /// Waits until every write queued so far is committed or refused. The store fences a batch
    /// with the holds this node has when the batch goes to it: a write a run made before its
    /// execution was handed over, still queued when this node claims the execution back, would
    /// pass as the new run's and overwrite what that run saved (a step that succeeded, run again
    /// by the new run, with both attempts saved as succeeded). Claiming after the queue is
    /// settled fences such writes with the hold they were made under.
    private func settleQueuedWrites() async {
        guard let writer else { return }
        try? await writer.wait(for: writer.enqueue([]))
    }

    /// Carries on one unfinished execution; `nil` when it was abandoned with a reason.
    private func recoverOne(_ record: ExecutionRecord, debug: Bool?) async throws -> WorkflowExecution? {
        guard let store else { return nil }
        let e = record.execution
        let now = self.now()
        guard let workflow = try await store.workflow(id: e.workflowID, version: record.workflowHash) else {
            try await abandon(
                record, reason: "cannot carry on: workflow \(e.workflowID) version \(record.workflowHash.prefix(12)) is not in the store")
            return nil
        }
        let validation = WorkflowValidator(actions: configuration.actions).validate(workflow)
        guard let graph = validation.graph, let compiled = try? CompiledWorkflow(graph: graph, actions: configuration.actions) else {
            try await abandon(
                record,
                reason:
                    "cannot carry on: workflow \(e.workflowID) no longer validates: \(validation.errors.first.map(\.description) ?? "unknown action")"
            )
            return nil
        }
        var secretValues: [String: String] = [:]
        var missing: [String] = []
        for name in compiled.secretNames.sorted() {
            if let v = secrets.value(name) { secretValues[name] = v } else { missing.append(name) }
        }
        if !missing.isEmpty {
            try await abandon(record, reason: "cannot carry on: secret\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")) not set")
            return nil
        }
        // Its saved trace is known from here, so the lines below name it too (carrying it on
        // remembers it again; abandoning it forgets it).
        tracing?.remember(e.id, trace: record.options.trace)
        // What an interrupted attempt started may still run (the engine died, its steps did not):
        // stop it before the step runs again, so it never runs twice at the same time.
        for attempt in try await store.interruptAttempts(executionID: e.id, at: now) {
            guard let process = attempt.process else { continue }
            let result = await OwnThread.run { process.stop() }
            logger.info(
                "leftover process group of an interrupted attempt",
                metadata: [
                    "execution": "\(e.id)", "step": "\(attempt.stepID)", "attempt": "\(attempt.attempt)", "processGroup": "\(process.processGroup)",
                    "result": "\(result)",
                ])
            if case .stillRunning = result {
                try await abandon(
                    record,
                    reason:
                        "cannot carry on: step \(attempt.stepID)'s attempt \(attempt.attempt) still runs as process group \(process.processGroup) and could not be stopped"
                )
                return nil
            }
        }
        // Steps go on from their last recorded attempt; a rollback that ended is not run again
        // (one in flight is). A step saved as cancelled was stopped by its engine shutting down
        // (a cancel of the execution would have ended it): it runs again.
        var reuse = e.stepResults.filter {
            StepResult.isRollbackID($0.key) ? ($0.value.status == .success || $0.value.status == .failed) : $0.value.status != .cancelled
        }
        for attempt in try await store.attempts(executionID: e.id, stepID: nil) where reuse[attempt.stepID]?.status.isTerminal != true {
            let known = reuse[attempt.stepID]?.attempts ?? 0
            if attempt.attempt > known {
                var running = StepResult(
                    stepID: attempt.stepID, status: .running, attempts: attempt.attempt,
                    startedAt: reuse[attempt.stepID]?.startedAt ?? attempt.startedAt)
                running.childExecutionID = reuse[attempt.stepID]?.childExecutionID
                reuse[attempt.stepID] = running
            }
        }
        var values = ExecutionValues(
            executionID: e.id, workflowID: e.workflowID, workflowName: workflow.name, inputs: e.inputs,
            secrets: secretValues, trigger: record.options.trigger)
        values.parent = record.options.parent
        let limit = min(configuration.workerLimit, record.options.maxParallelism ?? Int.max)
        var machine = ExecutionStateMachine(
            compiled: compiled, values: values, limit: limit, reuse: reuse, debug: debug ?? record.options.debug,
            paused: record.options.paused, seed: seeds.next())
        machine.scheduling = configuration.scheduling
        machine.suspendsWaits = !configuration.modelsEveryStep
        // One still waiting for its concurrency slot has not started.
        machine.setStartedAt(e.startedAt ?? (e.status == .pending ? nil : record.createdAt))
        machine.setConcurrencyKey(e.concurrencyKey)
        // Recovered meanwhile by another path (a parent's workflow step carrying its child on).
        guard runs[e.id] == nil else { return nil }
        let run = Run(machine: machine, redactor: Redactor(secrets: secretValues.values))
        run.workflowHash = record.workflowHash
        run.options = record.options
        run.createdAt = record.createdAt
        traceResumed(run)
        runs[e.id] = run
        order.append(e.id)
        emit(.executionResumed(executionID: e.id))
        if e.concurrencyKey != nil {
            // Asks for its slot again: a holder finds it held, a waiter keeps its place. Taken over
            // (the owner is this process now) as it was: a holder stays running meanwhile.
            var record = header(run)
            (record.execution.status, record.execution.startedAt) = (e.status, e.startedAt)
            await save([.updateExecution(record)], for: run)
            await admit(run)
            return run.final ?? run.machine.snapshot()
        }
        // Take it over: this process runs it now.
        await begin(run, takingOver: true)
        return run.final ?? run.machine.snapshot()
    }

    /// Ends an execution that cannot be carried on, saying why.
    func abandon(_ record: ExecutionRecord, reason: String) async throws {
        logger.error(
            "execution abandoned at recovery",
            metadata: ["execution": "\(record.execution.id)", "workflow": "\(record.execution.workflowID)", "reason": "\(reason)"])
        var r = record
        r.execution.status = .failed
        r.execution.error = reason
        r.execution.finishedAt = now()
        r.execution.stepResults = [:]
        try await store?.updateExecution(r)
        tracing?.forget(record.execution.id)
    }
}
