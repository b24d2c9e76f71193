import Foundation

/// Step concurrency keys: a step with `concurrency:` is suspended, holding no worker slot, until
/// the engine gets it a slot of its key (``slotGranted(step:attempt:now:)``), then runs; the slot
/// is kept through its retries and freed when it ends. The engine asks the store; the machine
/// only knows whether the unit holds its slot.
extension ExecutionStateMachine {
    /// The rendered key unit `i` must hold before it runs, or nil when it needs none (no policy,
    /// holds it already, or a simulation).
    func slotKey(_ i: Int) throws -> String? {
        guard let policy = compiled.concurrency[stepIndex(of: i)], suspendsWaits, !slotHeld.contains(i) else { return nil }
        return try renderKey(policy.key, item: itemContext(i))
    }

    /// The workflow's concurrency key rendered over the execution's inputs, variables and trigger.
    package func workflowKey() throws -> String? {
        try compiled.workflow.concurrency.map { try renderKey($0.key) }
    }

    /// Sets the rendered key of the workflow's concurrency group (before the execution starts).
    package mutating func setConcurrencyKey(_ key: String?) { values.concurrencyKey = key }

    /// A concurrency key template rendered over the execution (and the item, for an item).
    func renderKey(_ template: String, item: ItemContext? = nil) throws -> String {
        let key: String
        do {
            key = try CompiledValue(.string(template)).render { try self.resolve($0, forCondition: false, item: item) }.text
        } catch {
            throw ResolutionError(message: "concurrency key: \(error)")
        }
        if let problem = ConcurrencyPolicy.checkKey(key) { throw ResolutionError(message: "\(problem): '\(key.prefix(60))'") }
        return key
    }

    /// Waiting unit `i` got its slot: it goes back in the ready queue and runs as the same attempt.
    package mutating func slotGranted(step i: Int, attempt: Int, now: Date) -> [Action] {
        guard isSuspended(i, attempt: attempt), case .concurrency? = results[i].waitReason else { return [] }
        var actions: [Action] = []
        slotHeld.insert(i)
        results[i].waitingFor = nil
        phase[i] = .retryQueued(attempt: attempt)
        readyQueue.add(i)
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// Waiting unit `i` may not wait for its slot (`onConflict: skip`): it is skipped, saying why.
    package mutating func slotRefused(step i: Int, attempt: Int, reason: String, now: Date) -> [Action] {
        guard isSuspended(i, attempt: attempt) else { return [] }
        var actions: [Action] = []
        end(i, status: .skipped, reason: reason, error: nil, now: now, actions: &actions)
        releaseDownstream(of: i, now: now, actions: &actions)
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }
}
