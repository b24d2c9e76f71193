import Foundation
import Logging

/// Concurrency keys: an execution of a workflow with `concurrency:` (or a step with one) takes a
/// slot of its rendered key in the store before it runs (``ConcurrencyStore``). Without one it
/// queues, is skipped, or cancels the holders, as `onConflict` says. A waiter asks again when a
/// slot is freed here, and every second for slots freed by other processes or nodes.
extension WorkflowEngine {
    /// What waits for a slot: an execution (`unit` nil) or one unit of it, as one attempt.
    struct SlotWait: Hashable, Sendable {
        var executionID: String
        var unit: Int?
        var attempt: Int
    }

    struct SlotWaitState: Sendable {
        /// The executions already asked to make way (`cancel-running`), so they are asked once.
        var superseded: Set<String> = []
    }

    /// Where slots are kept: the store when it keeps them, else this process's memory.
    var slotKeeper: any ConcurrencyStore { store as? any ConcurrencyStore ?? memoryStore }

    /// Starts a created execution: at once without a concurrency key, else once it holds a slot.
    func admit(_ run: Run) async {
        guard run.machine.values.concurrencyKey != nil else { return await begin(run) }
        await askSlot(SlotWait(executionID: run.machine.values.executionID, unit: nil, attempt: 0))
    }

    /// Runs a created (or recovered) execution's first steps, and its workflow timeout.
    func begin(_ run: Run) async {
        let id = run.machine.values.executionID
        let wasPending = run.machine.status == .pending
        let actions = run.machine.start(now: now())
        if let timeout = run.machine.compiled.workflow.timeout, !run.machine.status.isTerminal {
            let elapsed = Duration.clamped(seconds: max(0, now().timeIntervalSince(run.machine.startedAt ?? now())))
            jobSink.yield(.timer(delay: max(.zero, timeout - elapsed), fire: .workflowTimeout(executionID: id, timeout: timeout), stop: run.timers))
        }
        // Saved as pending while it waited for its slot: it runs now.
        if wasPending, run.machine.values.concurrencyKey != nil { await save([.updateExecution(header(run))], for: run) }
        await apply(actions, to: run)
    }

    /// Asks the store for the slot `wait` needs, and acts on the answer.
    func askSlot(_ wait: SlotWait) async {
        guard !handedBack, !draining, let run = runs[wait.executionID], !run.handedOver, !run.machine.status.isTerminal,
            let (key, policy, stepID) = slotNeed(wait, run: run)
        else {
            slotWaits[wait] = nil
            return
        }
        let request = SlotRequest(key: key, executionID: wait.executionID, stepID: stepID, limit: policy.limit, queue: policy.onConflict != .skip)
        let slots: [ConcurrencySlot]
        do { slots = try await slotKeeper.acquireSlot(request, now: now()) } catch {
            // Asked again within a second; the execution waits meanwhile.
            if slotWaits[wait] == nil { slotWaits[wait] = SlotWaitState() }
            logger.warning("cannot ask for a concurrency slot", metadata: ["execution": "\(wait.executionID)", "key": "\(key)", "error": "\(error)"])
            return
        }
        // Ended, or moved on, while the store answered.
        guard runs[wait.executionID] === run, !run.machine.status.isTerminal, slotNeed(wait, run: run) != nil else {
            slotWaits[wait] = nil
            return
        }
        let mine = slots.first { $0.executionID == wait.executionID && $0.stepID == stepID }
        if mine?.holding == true {
            slotWaits[wait] = nil
            if let unit = wait.unit {
                await apply(run.machine.slotGranted(step: unit, attempt: wait.attempt, now: now()), to: run)
            } else {
                await begin(run)
            }
            return
        }
        let holders = slots.filter(\.holding)
        switch policy.onConflict {
        case .skip:
            slotWaits[wait] = nil
            let reason = "skipped: concurrency key \(key) is held by \(Self.describe(holders))"
            if let unit = wait.unit {
                await apply(run.machine.slotRefused(step: unit, attempt: wait.attempt, reason: reason, now: now()), to: run)
            } else {
                await apply(run.machine.cancel(reason: reason, now: now()), to: run)
            }
        case .cancelRunning:
            var state = slotWaits[wait] ?? SlotWaitState()
            let mySeq = mine?.seq ?? .max
            // The oldest holders, enough to free a slot, and everyone queued ahead: the newest wins.
            let excess = max(0, holders.count - policy.limit + 1)
            let targets = holders.prefix(excess) + slots.filter { !$0.holding && $0.seq < mySeq }
            var asked: [String] = []
            for slot in targets where slot.executionID != wait.executionID && state.superseded.insert(slot.executionID).inserted {
                asked.append(slot.executionID)
            }
            slotWaits[wait] = state
            for other in asked { await supersede(other, by: wait.executionID, key: key) }
        case .queue:
            if slotWaits[wait] == nil { slotWaits[wait] = SlotWaitState() }
        }
    }

    /// The key, policy and slot step id `wait` still needs, or nil when it waits no more.
    func slotNeed(_ wait: SlotWait, run: Run) -> (String, ConcurrencyPolicy, String)? {
        let m = run.machine
        guard let unit = wait.unit else {
            guard m.status == .pending, let key = m.values.concurrencyKey, let policy = m.compiled.workflow.concurrency else { return nil }
            return (key, policy, "")
        }
        guard m.isSuspended(unit, attempt: wait.attempt), case .concurrency(let key)? = m.results[unit].waitReason,
            let policy = m.compiled.workflow.steps[m.stepIndex(of: unit)].concurrency
        else { return nil }
        return (key, policy, m.results[unit].stepID)
    }

    /// Cancels execution `id` so that `newer` gets its slot (here, or through the node holding it).
    func supersede(_ id: String, by newer: String, key: String) async {
        do {
            try await send(.cancel(reason: "superseded by execution \(newer) (concurrency key \(key))"), to: id)
        } catch {
            logger.warning(
                "cannot cancel the holder of a concurrency key; waiting for it to end",
                metadata: ["execution": "\(id)", "newer": "\(newer)", "key": "\(key)", "error": "\(error)"])
        }
    }

    /// Asks again for every slot waited for here (a slot was freed, or a second passed).
    func retrySlotWaits() async {
        for wait in slotWaits.keys.sorted(by: { ($0.executionID, $0.unit ?? -1) < ($1.executionID, $1.unit ?? -1) }) {
            await askSlot(wait)
        }
    }

    /// What frees slots with these actions: a step's slot with its end, the execution's with its.
    func slotReleases(for actions: [ExecutionStateMachine.Action], run: Run) -> [StoreWrite] {
        let m = run.machine
        guard m.values.concurrencyKey != nil || m.compiled.hasStepConcurrency else { return [] }
        var out: [StoreWrite] = []
        for action in actions {
            switch action {
            case .stepFinished(let step) where m.compiled.workflow.steps[m.stepIndex(of: step)].concurrency != nil:
                out.append(.releaseSlots(executionID: m.values.executionID, stepID: m.results[step].stepID))
            case .finish:
                out.append(.releaseSlots(executionID: m.values.executionID, stepID: nil))
            default: break
            }
        }
        return out
    }

    /// While ``run()`` runs: asks again, every second, for the slots waited for here (freed by
    /// other processes or nodes, or by holders whose executions ended some other way).
    nonisolated func followSlots() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            if await !slotWaits.isEmpty { await retrySlotWaits() }
        }
    }

    static func describe(_ holders: [ConcurrencySlot]) -> String {
        let names = holders.prefix(3).map { $0.stepID.isEmpty ? "execution \($0.executionID)" : "step \($0.stepID) of \($0.executionID)" }
        return names.joined(separator: ", ") + (holders.count > 3 ? " and \(holders.count - 3) more" : "")
    }
}

extension WorkflowEngine {
    /// Who holds concurrency key `key` (oldest first), then who waits for it, in the order they run.
    public func concurrencySlots(key: String) async throws -> [ConcurrencySlot] {
        try await slotKeeper.concurrencySlots(key: key)
    }
}
