import Foundation

extension InMemoryStore: ConcurrencyStore {
    public func acquireSlot(_ request: SlotRequest, now: Date) -> [ConcurrencySlot] {
        // Slots of executions this store knows as ended are free (an engine without a store keeps
        // only slots here, no executions: those are released by the engine itself).
        var rows = (slots[request.key] ?? []).filter { records[$0.executionID]?.execution.status.isTerminal != true }
        let decided = ConcurrencySlot.decide(rows, request, now: now)
        guard var mine = decided.mine else {
            slots[request.key] = rows
            return decided.rows
        }
        rows.removeAll { $0.executionID == mine.executionID && $0.stepID == mine.stepID }
        if mine.seq == .max {
            slotSeq += 1
            mine.seq = slotSeq
        }
        rows.append(mine)
        slots[request.key] = ConcurrencySlot.order(rows)
        return slots[request.key]!
    }

    public func concurrencySlots(key: String) -> [ConcurrencySlot] { slots[key] ?? [] }

    func releaseSlots(executionID: String, stepID: String?) {
        for key in slots.keys {
            slots[key]!.removeAll { $0.executionID == executionID && (stepID == nil || $0.stepID == stepID) }
            if slots[key]!.isEmpty { slots[key] = nil }
        }
    }
}
