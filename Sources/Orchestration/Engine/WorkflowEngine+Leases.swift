import Foundation
import Logging
import Synchronization

/// The executions whose writes the store refused because another node took them over
/// (``LeaseLost``), noted by the group commit and picked up by the execution's next save.
final class LeaseLosses: Sendable {
    private let ids = Mutex<Set<String>>([])
    func add(_ lost: Set<String>) { ids.withLock { $0.formUnion(lost) } }
    /// Whether `id` was lost, forgetting it.
    func take(_ id: String) -> Bool { ids.withLock { $0.remove(id) != nil } }
}

extension WorkflowEngine {
    /// Renews the store's leases every third of their duration while ``run()`` runs, and stops
    /// here what another node took over. When the store cannot be reached for a whole lease,
    /// every execution held is stopped too: another node may be taking them over by now, and a
    /// step must never run on two nodes at once.
    nonisolated func keepLeases(_ leases: any ExecutionLeases) async {
        let clock = ContinuousClock()
        var renewed = clock.now
        while !Task.isCancelled {
            do { try await clock.sleep(for: leases.leaseDuration / 3) } catch { return }
            do {
                try await syncWorkflows()
                let lost = try await leases.renewLeases()
                renewed = clock.now
                for id in lost { await leaseLost(id) }
            } catch {
                guard clock.now - renewed >= leases.leaseDuration else { continue }
                let held = leases.heldExecutions
                logger.error(
                    "the store has not renewed this node's leases for a whole lease; stopping the executions held here",
                    metadata: ["executions": "\(held.count)", "error": "\(error)"])
                for id in held { await leaseLost(id) }
            }
        }
    }

    /// Another node holds the execution now: its attempts here are stopped (their processes
    /// killed), nothing more of it is saved or announced here, and whoever waits for its end is
    /// told it moved.
    func leaseLost(_ id: String) {
        guard let run = runs[id], !run.handedOver else { return }
        run.handedOver = true
        runs[id] = nil
        order.removeAll { $0 == id }
        logger.warning("execution taken over by another node; stopping its steps here", metadata: ["execution": "\(id)"])
        for signal in run.signals.values { signal.fire() }
        run.signals.removeAll()
        run.timers.fire()
        let waiters = run.waiters
        run.waiters.removeAll()
        let moved = EngineError(.conflict, "execution \(id) was taken over by another node (this node's lease on it ran out)")
        for w in waiters { w.settle(.failure(moved)) }
        if draining { resumeDrainWaitersIfIdle() }
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
