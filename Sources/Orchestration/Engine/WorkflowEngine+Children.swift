import Foundation

/// Sub-workflows: a `workflow` step runs another registered workflow as a child execution,
/// linked both ways (the child's ``WorkflowExecution/parent``, the step's
/// ``StepResult/childExecutionID``), and ends as the child ends, with the child's `outputs` as
/// its outputs.
///
/// The link is saved in the same write as the child's creation, so a parent recovered after a
/// crash finds its child and waits for it (or takes its result) instead of starting another;
/// only a child that failed or was cancelled is replaced by the step's next attempt. Stopping the
/// step (cancel, timeout) cancels the child; pausing and resuming the parent pause and resume it.
extension WorkflowEngine {
    /// Starts the child of `request`'s attempt, or carries on with the one its earlier attempt
    /// started if that did not fail. Returns the child's id.
    func startChild(for request: StepRequest) async throws -> String {
        guard let run = runs[request.executionID], let unit = run.machine.unit(of: request.stepID) else {
            throw EngineError(.notFound, "execution \(request.executionID) is not running here")
        }
        let step = run.machine.compiled.workflow.steps[run.machine.stepIndex(of: unit)]
        guard let childID = step.workflow else { throw EngineError(.invalidInput, "step \(step.id) names no workflow") }
        if let previous = run.machine.results[unit].childExecutionID, let status = await childStatus(previous),
            status != .failed, status != .cancelled
        {
            return previous
        }
        let depth = (run.options.parent?.depth ?? 0) + 1
        guard depth <= ParentLink.maximumDepth else {
            throw EngineError(
                .invalidInput, "workflow \(childID) would be nested \(depth) deep, more than the limit of \(ParentLink.maximumDepth)")
        }
        // Registered on another node, or by another process before this one started.
        if workflows[childID] == nil { try? await syncWorkflows() }
        if workflows[childID] == nil, store != nil { _ = try? await restoreWorkflows() }
        var pinned: PinnedVersion?
        if let pin = step.workflowVersion?.lowercased() { pinned = try await savedVersion(childID, pin: pin, for: "step \(step.id)") }
        // Stopped while this waited (the parent cancelled, the step timed out): no child.
        try Task.checkCancellation()
        guard runs[request.executionID]?.machine.status.isTerminal == false else { throw CancellationError() }
        var options = ExecutionOptions(debug: run.machine.debug)
        options.parent = ParentLink(executionID: request.executionID, stepID: request.stepID, depth: depth)
        options.traceParent = request.trace
        return try await startExecution(childID, inputs: request.inputs, options: options, pinned: pinned).execution.id
    }

    /// The saved version of workflow `id` whose hash starts with `pin`, compiled; nil when that is
    /// the registered version. `who` asks (`step build`), for the errors.
    func savedVersion(_ id: String, pin: String, for who: String) async throws -> PinnedVersion? {
        guard let store else {
            throw EngineError(.conflict, "\(who) pins workflow \(id) to a version, and only an engine with a store knows versions")
        }
        let matches = try await store.workflowVersions(id: id).map(\.version).filter { $0.lowercased().hasPrefix(pin) }
        guard matches.count == 1, let hash = matches.first else {
            throw EngineError(
                .conflict,
                matches.isEmpty
                    ? "\(who) pins workflow \(id) to version \(pin), which is not in the store (novacron workflows versions \(id) lists those that are)"
                    : "\(who) pins workflow \(id) to version \(pin), which starts \(matches.count) saved versions; give more of its digits")
        }
        if hash == workflowHashes[id], workflows[id] != nil { return nil }
        guard let workflow = try await store.workflow(id: id, version: hash) else {
            throw EngineError(.conflict, "\(who): version \(hash.prefix(12)) of workflow \(id) is listed but cannot be read")
        }
        let validation = WorkflowValidator(actions: configuration.actions).validate(workflow)
        guard let graph = validation.graph, let compiled = try? CompiledWorkflow(graph: graph, actions: configuration.actions) else {
            throw EngineError(
                .conflict,
                "\(who): version \(hash.prefix(12)) of workflow \(id) no longer validates: \(validation.errors.first.map(\.description) ?? "unknown action")"
            )
        }
        return PinnedVersion(compiled: compiled, hash: hash)
    }

    /// The parent's side of a child's creation: the step's result names the child, saved in the
    /// same write as the child (``startExecution(_:inputs:options:)``).
    func linkChild(_ childID: String, to parent: ParentLink) -> StoreWrite? {
        guard let run = runs[parent.executionID], let unit = run.machine.unit(of: parent.stepID) else { return nil }
        run.machine.noteChild(unit: unit, executionID: childID)
        return .stepFinished(executionID: parent.executionID, result: run.machine.results[unit], attempt: nil, log: "")
    }

    /// How a child stands: here, or as saved; nil when it is unknown.
    func childStatus(_ id: String) async -> ExecutionStatus? {
        if let run = runs[id] { return run.final?.status ?? run.machine.status }
        return try? await store?.execution(id: id)?.execution.status
    }

    /// Waits for child `id` to end: here, after recovering it if its process died, or by reading
    /// the store while another node runs it.
    func waitForChild(_ id: String) async throws -> WorkflowExecution {
        if runs[id] == nil, let saved = try await store?.execution(id: id) {
            if saved.execution.status.isTerminal { return saved.execution }
            if !draining { _ = try? await recover(only: [id]) }
        }
        if runs[id] != nil {
            do { return try await waitForExecution(id) } catch let error as EngineError where error.code == .conflict {
                // Taken over by another node: follow it in the store.
            }
        }
        guard store != nil else { throw EngineError(.notFound, "child execution \(id) is gone") }
        while true {
            // A store that fails for a moment is asked again; a child deleted meanwhile is gone.
            do {
                guard let saved = try await store?.execution(id: id) else { throw EngineError(.notFound, "child execution \(id) is gone") }
                if saved.execution.status.isTerminal { return saved.execution }
            } catch let error as EngineError {
                throw error
            } catch {
                // Asked again in a second.
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Whether a stopped attempt of `parentID` is a hand-over (another node or process carries the
    /// parent on, and so the child) rather than a stop of the step.
    func handingOver(_ parentID: String) -> Bool {
        handedBack || draining || runs[parentID]?.handedOver ?? true
    }

    /// The children of `run`'s workflow steps that are running here.
    func runningChildren(of run: Run) -> [String] {
        run.machine.results.compactMap { r in
            guard r.status == .running, let child = r.childExecutionID, let c = runs[child], !c.machine.status.isTerminal else { return nil }
            return child
        }
    }

    /// Refuses `graph` when its workflow steps lead back to it through registered workflows (here,
    /// or in the store: registered by another process or node).
    func checkChildCycles(_ graph: WorkflowGraph) async throws {
        let id = graph.workflow.id
        var registered = workflows.mapValues { $0.workflow.steps.compactMap(\.workflow) }
        if graph.workflow.steps.contains(where: { $0.workflow != nil }), let saved = try? await store?.registeredWorkflows() {
            for w in saved where registered[w.id] == nil { registered[w.id] = w.steps.compactMap(\.workflow) }
        }
        func children(_ w: String) -> [String] {
            w == id ? graph.workflow.steps.compactMap(\.workflow) : registered[w] ?? []
        }
        var path: [String] = []
        var done = Set<String>()
        func visit(_ w: String) -> [String]? {
            if let at = path.firstIndex(of: w) { return Array(path[at...]) + [w] }
            guard done.insert(w).inserted else { return nil }
            path.append(w)
            defer { path.removeLast() }
            for c in children(w) { if let cycle = visit(c) { return cycle } }
            return nil
        }
        if let cycle = visit(id) {
            throw EngineError(.invalidInput, "workflow cycle: \(cycle.joined(separator: " → ")); a workflow cannot start itself through its children")
        }
    }
}

/// Runs a `workflow` step's attempt: starts (or carries on) the child and waits for it. When the
/// attempt is stopped (the parent cancelled, the step timed out) the child is cancelled and waited for.
struct ChildWorkflowExecutor: StepExecutor {
    let engine: WorkflowEngine

    func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let childID: String
        do { childID = try await engine.startChild(for: request) } catch { return .failure("\(error)") }
        let engine = self.engine
        // The wait itself is not cancelled with the attempt: the child is, and its end is awaited.
        let waiting = Task { try await engine.waitForChild(childID) }
        let final: WorkflowExecution
        do {
            final = try await withTaskCancellationHandler {
                try await waiting.value
            } onCancel: {
                Task {
                    if await engine.handingOver(request.executionID) {
                        // Whoever carries the parent on carries the child on: only stop waiting.
                        waiting.cancel()
                    } else {
                        // Here or on the node that holds it; its end is awaited.
                        _ = try? await engine.send(.cancel(reason: "its parent step \(request.stepID) was stopped"), to: childID)
                    }
                }
            }
        } catch {
            return .failure("child execution \(childID): \(error)")
        }
        var outputs = final.outputs ?? [:]
        if outputs["executionID"] == nil { outputs["executionID"] = .string(childID) }
        switch final.status {
        case .completed:
            return .success(outputs: outputs)
        default:
            return .failure("child execution \(childID) \(final.status.rawValue)\(final.error.map { ": \($0)" } ?? "")", outputs: outputs)
        }
    }
}

/// A saved version of a workflow other than the registered one, compiled to run as a pinned child.
struct PinnedVersion: Sendable {
    var compiled: CompiledWorkflow
    var hash: String
}
