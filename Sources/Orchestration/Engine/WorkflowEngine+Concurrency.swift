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
        /// Whether a failure to reach the store was logged for it (once is enough).
        var warned = false
    }

    /// Where slots are kept: the store when it keeps them, else this process's memory.
    var slotKeeper: any ConcurrencyStore { store as? any ConcurrencyStore ?? memoryStore }

    /// Whether freed slots are written to the store, with the end they belong to (in the same
    /// commit); else they are freed in this process's memory.
    var storeKeepsSlots: Bool { writer != nil && store is any ConcurrencyStore }

    /// Starts a created execution: at once without a concurrency key, else once it holds a slot.
    func admit(_ run: Run) async {
        guard run.machine.values.concurrencyKey != nil else { return await begin(run) }
        await askSlot(SlotWait(executionID: run.machine.values.executionID, unit: nil, attempt: 0))
    }

    /// Runs a created (or recovered) execution's first steps, and its workflow timeout (from its
    /// start, which a recovered one keeps). `takingOver`: saved first as this process's (recovery).
    func begin(_ run: Run, takingOver: Bool = false) async {
        let id = run.machine.values.executionID
        let wasPending = run.machine.status == .pending
        let actions = run.machine.start(now: now())
        if let timeout = run.machine.compiled.workflow.timeout, !run.machine.status.isTerminal {
            let elapsed = Duration.clamped(seconds: max(0, now().timeIntervalSince(run.machine.startedAt ?? now())))
            jobQueue.append(
                .timer(
                    delay: max(.zero, timeout - elapsed), fire: .workflowTimeout(executionID: id, timeout: timeout), stop: run.timers,
                    owner: run.identity))
        }
        // Saved as pending while it waited for its slot: it runs now.
        if takingOver || (wasPending && run.machine.values.concurrencyKey != nil) { await save([.updateExecution(header(run))], for: run) }
        await apply(actions, to: run)
    }

    /// Asks the store for the slot `wait` needs, and acts on the answer. One ask per wait at a
    /// time: an ask wanted while one is in flight runs once it is answered.
    func askSlot(_ wait: SlotWait) async {
        if let again = slotAsking[wait] {
            if !again { slotAsking[wait] = true }
            return
        }
        slotAsking[wait] = false
        while true {
            await askSlotOnce(wait)
            guard slotAsking[wait] == true else { break }
            slotAsking[wait] = false
        }
        slotAsking[wait] = nil
    }

    func askSlotOnce(_ wait: SlotWait) async {
        guard !handedBack, !draining, let run = runs[wait.executionID], !run.handedOver, !run.machine.status.isTerminal,
            let (key, policy, stepID) = slotNeed(wait, run: run)
        else {
            slotWaits[wait] = nil
            return
        }
        // A key its own execution, or an ancestor waiting on it, holds for the whole execution: a
        // step (or a child) of it has the key already, and waiting would wait for itself.
        if heldByAncestry(key, run: run, wait: wait) { return await granted(wait, run: run) }
        let request = SlotRequest(key: key, executionID: wait.executionID, stepID: stepID, limit: policy.limit, queue: policy.onConflict != .skip)
        let slots: [ConcurrencySlot]
        do { slots = try await acquireRetrying(request) } catch {
            // Asked again within a second; the execution waits meanwhile. Said once per wait.
            var state = slotWaits[wait] ?? SlotWaitState()
            if !state.warned {
                logger.warning(
                    "cannot ask for a concurrency slot", metadata: ["execution": "\(wait.executionID)", "key": "\(key)", "error": "\(error)"])
            }
            state.warned = true
            slotWaits[wait] = state
            return
        }
        let mine = slots.first { $0.executionID == wait.executionID && $0.stepID == stepID }
        // Ended, or moved on, while the store answered: what the answer took is given back.
        guard runs[wait.executionID] === run, !run.machine.status.isTerminal, slotNeed(wait, run: run) != nil else {
            slotWaits[wait] = nil
            if mine != nil { await releaseStray(wait.executionID, stepID: stepID) }
            return
        }
        if mine?.holding == true { return await granted(wait, run: run) }
        let holders = slots.filter(\.holding)
        switch policy.onConflict {
        case .skip:
            slotWaits[wait] = nil
            let who = holders.isEmpty ? "others waiting ahead" : Self.describe(holders)
            let reason = "skipped: concurrency key \(key) is held by \(who)"
            if let unit = wait.unit {
                await apply(run.machine.slotRefused(step: unit, attempt: wait.attempt, reason: reason, now: now()), to: run)
            } else {
                await apply(run.machine.cancel(reason: reason, now: now()), to: run)
            }
        case .cancelRunning:
            var state = slotWaits[wait] ?? SlotWaitState()
            slotWaits[wait] = state
            let mySeq = mine?.seq ?? .max
            // The oldest holders, enough to free a slot, and everyone queued ahead: the newest wins.
            let excess = max(0, holders.count - policy.limit + 1)
            let targets = holders.prefix(excess) + slots.filter { !$0.holding && $0.seq < mySeq }
            for slot in targets where slot.executionID != wait.executionID && !state.superseded.contains(slot.executionID) {
                // Marked once the cancel is on its way, so one that could not be sent is tried again.
                if await supersede(slot.executionID, by: wait.executionID, key: key) { state.superseded.insert(slot.executionID) }
            }
            if slotWaits[wait] != nil { slotWaits[wait] = state }
        case .queue:
            if slotWaits[wait] == nil { slotWaits[wait] = SlotWaitState() }
        }
    }

    /// `wait` has its slot: the step runs, or the execution starts.
    func granted(_ wait: SlotWait, run: Run) async {
        slotWaits[wait] = nil
        if let unit = wait.unit {
            await apply(run.machine.slotGranted(step: unit, attempt: wait.attempt, now: now()), to: run)
        } else {
            await begin(run)
        }
    }

    /// Whether `key` is the workflow key of the execution itself (a step asking while the execution
    /// runs) or of an ancestor on this engine (a child asking while its parent waits for it).
    func heldByAncestry(_ key: String, run: Run, wait: SlotWait) -> Bool {
        if wait.unit != nil, run.machine.values.concurrencyKey == key { return true }
        var link = run.machine.values.parent
        var seen = 0
        while let parent = link, seen < ParentLink.maximumDepth + 1, let ancestor = runs[parent.executionID] {
            if ancestor.machine.values.concurrencyKey == key, ancestor.machine.status != .pending { return true }
            link = ancestor.machine.values.parent
            seen += 1
        }
        return false
    }

    /// Frees a slot an ask took for what no longer needs it.
    func releaseStray(_ executionID: String, stepID: String) async {
        let release: [StoreWrite] = [.releaseSlots(executionID: executionID, stepID: stepID)]
        if storeKeepsSlots, let writer {
            _ = try? await writer.commit(release)
        } else {
            try? await memoryStore.apply(release)
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
            let policy = m.compiled.concurrency[m.stepIndex(of: unit)]
        else { return nil }
        return (key, policy, m.results[unit].stepID)
    }

    /// Cancels execution `id` so that `newer` gets its slot (here, or through the node holding
    /// it); returns whether the cancel is on its way (or the execution has ended already).
    func supersede(_ id: String, by newer: String, key: String) async -> Bool {
        do {
            try await send(.cancel(reason: "superseded by execution \(newer) (concurrency key \(key))"), to: id)
            return true
        } catch let error as EngineError where error.code == .conflict {
            return true
        } catch {
            logger.warning(
                "cannot cancel the holder of a concurrency key; waiting for it to end",
                metadata: ["execution": "\(id)", "newer": "\(newer)", "key": "\(key)", "error": "\(error)"])
            return false
        }
    }

    /// Asks again for the slots waited for here (a slot was freed, or a second passed): per key,
    /// in start order, until one is still refused — the key is full, so the ones after it would be
    /// refused too. A `heartbeat` round asks for every one, which keeps each waiter's place alive
    /// (``ConcurrencySlot/staleAfter``): one transaction per key a second, not one per waiter.
    func retrySlotWaits(heartbeat: Bool = false) async {
        var byKey: [String: [SlotWait]] = [:]
        for wait in slotWaits.keys {
            guard let run = runs[wait.executionID], let (key, _, _) = slotNeed(wait, run: run) else {
                slotWaits[wait] = nil
                continue
            }
            byKey[key, default: []].append(wait)
        }
        for key in byKey.keys.sorted() {
            // Execution ids begin with their start time: their order is the order they queued in.
            for wait in byKey[key]!.sorted(by: { ($0.executionID, $0.unit ?? -1) < ($1.executionID, $1.unit ?? -1) }) {
                await askSlot(wait)
                if !heartbeat, slotWaits[wait] != nil { break }
            }
        }
    }

    /// How often (in rounds of ``followSlots()``) every waiter asks, not just the first of each key.
    static let heartbeatRounds = 10

    /// What frees slots with these actions: a step's slot with its end, the execution's with its.
    func slotReleases(for actions: [ExecutionStateMachine.Action], run: Run) -> [StoreWrite] {
        let m = run.machine
        guard m.values.concurrencyKey != nil || m.compiled.hasStepConcurrency else { return [] }
        var out: [StoreWrite] = []
        for action in actions {
            switch action {
            case .stepFinished(let step) where m.compiled.concurrency[m.stepIndex(of: step)] != nil:
                out.append(.releaseSlots(executionID: m.values.executionID, stepID: m.results[step].stepID))
            case .finish:
                out.append(.releaseSlots(executionID: m.values.executionID, stepID: nil))
            default: break
            }
        }
        return out
    }

    /// While ``run()`` runs: asks again, every second, for the slots waited for here (freed by
    /// other processes or nodes, or by holders whose executions ended some other way); every
    /// ``heartbeatRounds`` seconds, for all of them.
    nonisolated func followSlots() async {
        var round = 0
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            round += 1
            if await !slotWaits.isEmpty { await retrySlotWaits(heartbeat: round % Self.heartbeatRounds == 0) }
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

extension WorkflowEngine {
    /// Asks for a slot, asking again at once (twice at most) when the store was unavailable for a
    /// moment: a newcomer whose first ask failed would otherwise join the queue behind those who
    /// asked after it.
    func acquireRetrying(_ request: SlotRequest) async throws -> [ConcurrencySlot] {
        var tries = 0
        while true {
            do { return try await slotKeeper.acquireSlot(request, now: now()) } catch let error as StoreError where error.isUnavailable && tries < 2 {
                tries += 1
            }
        }
    }
}
