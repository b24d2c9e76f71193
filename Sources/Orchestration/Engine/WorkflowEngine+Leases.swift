import Foundation
import Logging
import Synchronization

extension WorkflowEngine {
    /// Renews the store's leases every third of their duration while ``run()`` runs, and stops
    /// here what another node took over. When the store cannot renew them in time (five sixths of
    /// a lease since the last renewal began), every execution held is stopped too: another node
    /// may be taking them over by now, and a step must never run on two nodes at once.
    nonisolated func keepLeases(_ leases: any ExecutionLeases) async {
        let clock = ContinuousClock()
        let turn = leases.leaseDuration / 3
        // Counted from the start of the last renewal that succeeded: the database's expiry is
        // later than that. Stopping at five sixths of a lease leaves a margin for the steps' ends.
        var renewedFrom = clock.now
        while !Task.isCancelled {
            do { try await clock.sleep(for: turn) } catch { return }
            let started = clock.now
            // A renewal that hangs (the pool waiting for a connection) counts as failed after a turn.
            let outcome = await withTimeLimit(turn) { () -> Result<Set<String>, any Error>? in
                do {
                    try await self.syncWorkflows()
                    return .success(try await leases.renewLeases())
                } catch { return .failure(error) }
            }
            // Leases say this node carries its executions on: not while its writes hang (a commit
            // past twice a lease, well beyond the retries of a lost connection). Stop them, so a
            // node whose writes get through takes them over.
            if let age = writer?.commitAge, age > leases.leaseDuration * 2 {
                storeReached.store(false, ordering: .relaxed)
                await selfFence(leases, error: "a write has waited \(DurationText.format(age)) for the store")
                continue
            }
            switch outcome {
            case .success(let lost)?:
                renewedFrom = started
                storeReached.store(true, ordering: .relaxed)
                for id in lost { await leaseLost(id) }
            case .failure(let error)?:
                storeReached.store(false, ordering: .relaxed)
                await selfFenceIfDue(leases, since: renewedFrom, clock: clock, error: "\(error)")
            case nil:
                storeReached.store(false, ordering: .relaxed)
                await selfFenceIfDue(leases, since: renewedFrom, clock: clock, error: "no answer within \(DurationText.format(turn))")
            }
        }
    }

    /// When the leases may be running out unrenewed, stops every execution held here: another
    /// node may be taking them over, and a step must never run on two nodes at once.
    nonisolated func selfFenceIfDue(_ leases: any ExecutionLeases, since renewed: ContinuousClock.Instant, clock: ContinuousClock, error: String)
        async
    {
        guard clock.now - renewed >= leases.leaseDuration * 5 / 6 else { return }
        await selfFence(leases, error: error)
    }

    /// Stops every execution held here and lets its lease run out, for another node to take.
    nonisolated func selfFence(_ leases: any ExecutionLeases, error: String) async {
        let held = leases.heldExecutions
        guard !held.isEmpty else { return }
        logger.error(
            "the store has not renewed this node's leases in time; stopping the executions held here",
            metadata: ["executions": "\(held.count)", "error": "\(error)"])
        for id in held {
            leases.forget(id)
            await leaseLost(id, because: "the store could not renew its lease: \(error)")
        }
    }

    /// Whether the shared store answered the last renewal of this node's leases (a third of a lease
    /// ago at most); always true on a store of its own. `/readyz` answers 503 while it is false.
    public nonisolated var isStoreReachable: Bool { storeReached.load(ordering: .relaxed) }

    /// Another node holds the execution now (or will, from what was saved): its attempts here are
    /// stopped (their processes killed), nothing more of it is saved or announced here, and
    /// whoever waits for its end is told why.
    func leaseLost(_ id: String, because reason: String = "this node's lease on it ran out") {
        guard let run = runs[id], !run.handedOver else { return }
        run.handedOver = true
        traceHandedBack(run)
        runs[id] = nil
        order.removeAll { $0 == id }
        logger.warning("execution handed to another node; stopping its steps here", metadata: ["execution": "\(id)", "reason": "\(reason)"])
        for signal in run.signals.values { signal.fire() }
        run.signals.removeAll()
        run.timers.fire()
        let waiters = run.waiters
        run.waiters.removeAll()
        handedOverReasons.record(id, reason)
        for w in waiters { w.settle(.failure(Self.handedOver(id, reason))) }
        if draining { resumeDrainWaitersIfIdle() }
    }

    static func handedOver(_ id: String, _ reason: String) -> EngineError {
        EngineError(.conflict, "execution \(id) is no longer run by this node (\(reason)); a node carries it on from what was saved")
    }

    /// The execution `id` as run here: not found, or handed to another node (a conflict that says why).
    func heldRun(_ id: String) throws(EngineError) -> Run {
        if let run = runs[id] { return run }
        if let reason = handedOverReasons[id] { throw Self.handedOver(id, reason) }
        throw EngineError(.notFound, "no execution '\(id)'")
    }

    /// On a store other nodes share: takes up the workflows they registered, changed or
    /// unregistered since this node last looked (each turn of ``keepLeases(_:)``, and when an
    /// execution of a workflow unknown here is asked for).
    package func syncWorkflows() async throws {
        guard let store, store is any ExecutionLeases else { return }
        let versions = try await store.registeredVersions()
        for (id, version) in versions where workflowHashes[id] != version {
            guard let workflow = try await store.workflow(id: id, version: version),
                let graph = WorkflowValidator(actions: configuration.actions).validate(workflow).graph,
                let compiled = try? CompiledWorkflow(graph: graph, actions: configuration.actions)
            else { continue }
            workflows[id] = compiled
            workflowHashes[id] = version
            learnedGenerations[id] = nil
        }
        for id in workflows.keys where versions[id] == nil {
            workflows[id] = nil
            workflowHashes[id] = nil
        }
    }
}

/// The reasons of the newest executions handed to another node, a bounded few.
struct HandedOverReasons {
    private var reasons: [String: String] = [:]
    private var order: [String] = []
    private let limit = 512

    subscript(id: String) -> String? { reasons[id] }

    mutating func record(_ id: String, _ reason: String) {
        if reasons.updateValue(reason, forKey: id) == nil { order.append(id) }
        guard order.count > limit * 2 else { return }
        for old in order.prefix(order.count - limit) { reasons[old] = nil }
        order.removeFirst(order.count - limit)
    }
}
