import Foundation
import Synchronization

extension WorkflowEngine {
    /// Validates and registers `workflow`; returns its id. Registering the same id again replaces it
    /// for executions started afterwards.
    @discardableResult
    public func registerWorkflow(_ workflow: Workflow) async throws -> String {
        let validation = WorkflowValidator(actions: configuration.actions).validate(workflow)
        guard let graph = validation.graph else { throw DefinitionErrors(validation.errors) }
        try await register(graph)
        return workflow.id
    }

    /// Registers a workflow loaded (and validated) from a file.
    @discardableResult
    public func registerWorkflow(_ document: WorkflowDocument) async throws -> String {
        try await register(document.graph)
        return document.workflow.id
    }

    func register(_ graph: WorkflowGraph) async throws {
        try await checkChildCycles(graph)
        let compiled: CompiledWorkflow
        do { compiled = try CompiledWorkflow(graph: graph, actions: configuration.actions) } catch {
            throw EngineError(.invalidInput, error.message)
        }
        let hash: String
        if let store {
            do { hash = try await store.saveWorkflow(compiled.workflow) } catch {
                throw EngineError(.unavailable, "cannot save workflow \(graph.workflow.id): \(error)")
            }
        } else {
            // Versions matter to observers that ask (the learning engine, judging an applied
            // optimization) even in memory.
            hash = wantsFingerprints.load(ordering: .acquiring) ? (try? compiled.workflow.contentHash()) ?? "" : ""
        }
        workflows[graph.workflow.id] = compiled
        workflowHashes[graph.workflow.id] = hash
        learnedGenerations[graph.workflow.id] = nil
    }

    /// Forgets a workflow: no new executions; running ones go on with the version they pinned.
    public func unregisterWorkflow(_ id: String) async throws {
        guard workflows.removeValue(forKey: id) != nil else { throw EngineError(.notFound, "no workflow '\(id)'") }
        workflowHashes[id] = nil
        if let store { _ = try await store.unregisterWorkflow(id: id) }
    }

    /// The registered workflow with this id.
    public func workflow(_ id: String) -> Workflow? { workflows[id]?.workflow }

    /// The step ids of the workflow version execution `id` runs (a pinned child, or one started
    /// before a re-registration, may run another version than the registered one).
    public func stepOrder(ofExecution id: String) -> [String]? { runs[id]?.machine.compiled.workflow.steps.map(\.id) }

    /// Registered workflows by id.
    public func registeredWorkflows() -> [Workflow] {
        workflows.values.map(\.workflow).sorted { $0.id < $1.id }
    }

    /// Starts an execution of workflow `workflowID` and returns it, running.
    ///
    /// `inputs` override the workflow's variables. Every secret the workflow references must be
    /// set, or this throws before anything runs.
    public func executeWorkflow(_ workflowID: String, inputs: [String: JSONValue] = [:], options: ExecutionOptions = ExecutionOptions()) async throws
        -> WorkflowExecution
    {
        try await startExecution(workflowID, inputs: inputs, options: options).execution
    }

    /// Starts an execution like ``executeWorkflow(_:inputs:options:)``; with
    /// ``ExecutionOptions/idempotencyKey`` set, a start repeated with the key (on any node sharing
    /// the store, within a day) returns the execution the first one started, as `replayed`.
    public func startExecution(_ workflowID: String, inputs: [String: JSONValue] = [:], options: ExecutionOptions = ExecutionOptions()) async throws
        -> (execution: WorkflowExecution, replayed: Bool)
    {
        try await startExecution(workflowID, inputs: inputs, options: options, pinned: nil)
    }

    /// A start of `pinned` (a saved version other than the registered one) or of the registered version.
    func startExecution(_ workflowID: String, inputs: [String: JSONValue], options: ExecutionOptions, pinned: PinnedVersion?) async throws
        -> (execution: WorkflowExecution, replayed: Bool)
    {
        // A child may start while draining: it is held, and handed back with its parent.
        guard !draining || options.parent != nil else {
            throw EngineError(.unavailable, "the engine is shutting down; start the execution again once it is back")
        }
        if let key = options.idempotencyKey { try Self.checkStartKey(key) }
        // Registered on another node of the cluster a moment ago?
        if workflows[workflowID] == nil, pinned == nil { try? await syncWorkflows() }
        guard var compiled = pinned?.compiled ?? workflows[workflowID] else {
            let hint = DidYouMean.hint(workflowID, among: workflows.keys)
            throw EngineError(.notFound, "no workflow '\(workflowID)'\(hint)")
        }
        // Priorities (and ETAs) from learned durations, once there are some.
        if pinned == nil, let learned = estimates?.cachedDurations(workflowID: workflowID), learned.generation != learnedGenerations[workflowID] {
            compiled = compiled.reprioritized(learned: learned.durations)
            workflows[workflowID] = compiled
            learnedGenerations[workflowID] = learned.generation
        }
        var secretValues: [String: String] = [:]
        var missing: [String] = []
        for name in compiled.secretNames.sorted() {
            if let v = secrets.value(name) { secretValues[name] = v } else { missing.append(name) }
        }
        if !missing.isEmpty {
            let how = missing.map { "\(SecretProvider.environmentPrefix)\($0)" }.joined(separator: ", ")
            throw EngineError(
                .invalidInput,
                "workflow \(workflowID) needs secret\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", ")): set \(how) or put \(missing.count > 1 ? "them" : "it") in a secrets file"
            )
        }
        var merged = compiled.workflow.variables
        merged.merge(inputs) { _, new in new }
        let id = Self.makeExecutionID(&seeds, at: now())
        if let key = options.idempotencyKey {
            let fingerprint = Self.startFingerprint(workflowID: workflowID, inputs: inputs, options: options)
            if let earlier = try await claimStart(key: key, fingerprint: fingerprint, executionID: id) { return (earlier, true) }
        }
        var values = ExecutionValues(
            executionID: id, workflowID: workflowID, workflowName: compiled.workflow.name, inputs: merged,
            secrets: secretValues, trigger: options.trigger)
        values.parent = options.parent
        let limit = min(configuration.workerLimit, options.maxParallelism ?? Int.max)
        var machine = ExecutionStateMachine(
            compiled: compiled, values: values, limit: limit, reuse: options.reuse, debug: options.debug, seed: seeds.next())
        machine.scheduling = configuration.scheduling
        machine.suspendsWaits = !configuration.modelsEveryStep
        if !configuration.modelsEveryStep {
            do { machine.setConcurrencyKey(try machine.workflowKey()) } catch { throw EngineError(.invalidInput, "\(error)") }
        }
        let run = Run(machine: machine, redactor: Redactor(secrets: secretValues.values))
        run.workflowHash = pinned?.hash ?? workflowHashes[workflowID] ?? ""
        run.options = StoredOptions(maxParallelism: options.maxParallelism, debug: options.debug, trigger: options.trigger)
        run.options.parent = options.parent
        run.createdAt = now()
        traceStart(run, parent: options.traceParent)
        // A child and its parent's link to it are saved together: a parent recovered later finds it.
        let link = options.parent.flatMap { linkChild(id, to: $0) }
        if let writer {
            // Saved before anything runs and before this returns.
            var record = header(run)
            // One that must wait for a slot of its concurrency key is saved pending: a node that
            // carries it on after a crash asks for the slot again.
            if machine.values.concurrencyKey == nil {
                record.execution.status = .running
                record.execution.startedAt = run.createdAt
            }
            record.execution.stepResults = options.reuse
            do { try await writer.commit([.createExecution(record)] + (link.map { [$0] } ?? [])) } catch {
                // Refused for another execution of the batch, this one's create was saved.
                if options.idempotencyKey != nil, !(error is LeaseLost) { startsGivenUp.insert(id) }
                run.rootSpan?.fail("cannot save the execution")
                run.rootSpan?.end(at: now())
                tracing?.forget(id)
                throw EngineError(.unavailable, "cannot save the execution: \(error)")
            }
        }
        runs[id] = run
        order.append(id)
        trimRetained()
        emit(.executionStarted(executionID: id, workflowID: workflowID, stepCount: compiled.workflow.steps.count))
        await admit(run)
        return (run.final ?? run.machine.snapshot(), false)
    }

    /// The execution's current state.
    public func getExecution(_ id: String) throws -> WorkflowExecution {
        let run = try heldRun(id)
        return run.final ?? run.machine.snapshot(now: now())
    }

    /// The engine's time now and when the execution is expected to end (`nil` once it has).
    public func estimatedCompletion(_ id: String) throws -> (now: Date, at: Date?) {
        let run = try heldRun(id)
        let now = self.now()
        return (now, run.final == nil ? run.machine.remainingSeconds(now: now).map { now.addingTimeInterval($0) } : nil)
    }

    /// The newest executions first, of one workflow or all.
    public func listExecutions(workflowID: String? = nil, limit: Int = 50) -> [WorkflowExecution] {
        var out: [WorkflowExecution] = []
        for id in order.reversed() {
            guard out.count < limit, let run = runs[id] else { break }
            if let workflowID, run.machine.values.workflowID != workflowID { continue }
            out.append(run.final ?? run.machine.snapshot(now: now()))
        }
        return out
    }

    /// Waits until the execution ends and returns it.
    public func waitForExecution(_ id: String) async throws -> WorkflowExecution {
        let run = try heldRun(id)
        if let final = run.final { return final }
        // Registered here, on the actor, before anything suspends; the waiter itself settles
        // the race between the end and a cancellation.
        let waiter = EndWaiter()
        // Waits cancelled earlier leave now, so repeated waits on a long execution do not pile up.
        run.waiters.removeAll { $0.isSettled }
        run.waiters.append(waiter)
        return try await withTaskCancellationHandler {
            try await waiter.wait()
        } onCancel: {
            waiter.settle(.failure(CancellationError()))
        }
    }

    /// The kept log tail of a step's last attempt (`<id>.rollback` for its rollback).
    public func log(executionID: String, stepID: String) throws -> String {
        guard let run = runs[executionID] else { throw EngineError(.notFound, "no execution '\(executionID)'") }
        return run.logs[stepID] ?? ""
    }

    /// Cancels the execution: running steps are stopped (SIGTERM, then SIGKILL after the grace
    /// period), nothing new starts, then the rollbacks of succeeded steps run.
    public func cancelExecution(_ id: String, reason: String = "cancelled by user") async throws {
        let run = try active(id)
        await apply(run.machine.cancel(reason: reason, now: now()), to: run)
    }

    /// Stops new steps from starting; running steps finish.
    public func pauseExecution(_ id: String) async throws {
        let run = try active(id)
        if run.machine.status == .pending, let key = run.machine.values.concurrencyKey {
            throw EngineError(.conflict, "execution \(id) waits for its turn on concurrency key \(key); it can be cancelled, not paused")
        }
        await apply(run.machine.pause(), to: run)
        for child in runningChildren(of: run) { try? await pauseExecution(child) }
    }

    /// Continues a paused execution (in debug mode: lets one more step start).
    public func resumeExecution(_ id: String) async throws {
        let run = try active(id)
        guard run.machine.status == .paused else { throw EngineError(.conflict, "execution \(id) is \(run.machine.status.rawValue), not paused") }
        emit(.executionResumed(executionID: id))
        let actions = run.machine.resume(now: now())
        if run.options.paused {
            run.options.paused = false
            await save([.updateExecution(header(run))], for: run)
        }
        await apply(actions, to: run)
        for child in runningChildren(of: run) where runs[child]?.machine.status == .paused { try? await resumeExecution(child) }
    }

    /// What step `stepID` of a running execution would be given if it started now — its inputs
    /// rendered and the values its shell command's references stand for — with the execution's
    /// secrets redacted. Debug mode shows it before a step runs.
    public func preview(_ id: String, stepID: String) throws -> (inputs: [String: JSONValue], values: [String: String]) {
        let run = try active(id)
        let request: StepRequest
        do { request = try run.machine.preview(stepID: stepID) } catch {
            throw EngineError(.invalidInput, run.redactor.redact("\(error)"))
        }
        return (request.inputs.mapValues(run.redactor.redact), request.environment.mapValues(run.redactor.redact))
    }

    /// Turns debug mode (pause before each step) on or off for a running execution.
    public func setDebug(_ id: String, _ on: Bool) async throws {
        let run = try active(id)
        run.options.debug = on
        await apply(run.machine.setDebug(on, now: now()), to: run)
        for child in runningChildren(of: run) { try? await setDebug(child, on) }
    }

    /// Starts a new execution of a failed or cancelled one, with the same inputs, reusing the
    /// results of the steps that succeeded.
    public func retryExecution(_ id: String, options: ExecutionOptions = ExecutionOptions()) async throws -> WorkflowExecution {
        guard let run = runs[id] else { throw EngineError(.notFound, "no execution '\(id)'") }
        let previous = run.final ?? run.machine.snapshot()
        guard previous.status == .failed || previous.status == .cancelled else {
            throw EngineError(.conflict, "execution \(id) is \(previous.status.rawValue); only failed or cancelled executions can be retried")
        }
        var options = options
        options.reuse = previous.stepResults.filter { $0.value.status == .success && !StepResult.isRollbackID($0.key) }
        options.trigger = run.machine.values.trigger
        // The version it ran, when that is not the registered one (a pinned child).
        var pinned: PinnedVersion?
        if !run.workflowHash.isEmpty, run.workflowHash != workflowHashes[previous.workflowID] {
            pinned = try await savedVersion(previous.workflowID, pin: run.workflowHash.lowercased(), for: "the retry of execution \(id)")
        }
        return try await startExecution(previous.workflowID, inputs: previous.inputs, options: options, pinned: pinned).execution
    }

    func active(_ id: String) throws -> Run {
        guard let run = runs[id] else { throw EngineError(.notFound, "no execution '\(id)'") }
        guard !run.machine.status.isTerminal else {
            throw EngineError(.conflict, "execution \(id) already \(run.machine.status.rawValue)")
        }
        return run
    }

    func trimRetained() {
        // Trimmed in batches of a quarter of the limit, so finishing an execution costs O(1)
        // amortized instead of a scan of every retained one (seen in perf under load).
        guard order.count > configuration.retainedExecutions + max(configuration.retainedExecutions / 4, 1) else { return }
        var keep: [String] = []
        var excess = order.count - configuration.retainedExecutions
        for id in order {
            if excess > 0, let run = runs[id], run.final != nil {
                runs[id] = nil
                excess -= 1
            } else {
                keep.append(id)
            }
        }
        order = keep
    }

    /// Sortable by start time: `yyyyMMdd-HHmmss-` and 8 random hex digits.
    static func makeExecutionID(_ random: inout SplitMix64, at date: Date) -> String {
        // By hand: a DateFormatter per id was a visible cost of starting executions (ICU set-up).
        var seconds = time_t(date.timeIntervalSince1970)
        var t = tm()
        gmtime_r(&seconds, &t)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        let stamp = "\(t.tm_year + 1900)\(two(t.tm_mon + 1))\(two(t.tm_mday))-\(two(t.tm_hour))\(two(t.tm_min))\(two(t.tm_sec))"
        let suffix = String(random.next() & 0xFFFF_FFFF, radix: 16)
        return stamp + "-" + String(repeating: "0", count: 8 - suffix.count) + suffix
    }
}
