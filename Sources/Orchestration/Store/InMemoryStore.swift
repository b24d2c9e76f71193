import Foundation

/// A store that keeps everything in this process: for tests, `--memory`, and embedding without
/// durability.
public actor InMemoryStore {
    var workflows: [String: Workflow] = [:]
    var registered: [String: Workflow] = [:]
    var versions: [String: [(version: String, savedAt: Date)]] = [:]
    var records: [String: ExecutionRecord] = [:]
    var order: [String] = []
    var attemptLog: [String: [AttemptRecord]] = [:]
    /// Per execution: "step#attempt" → position in `attemptLog`.
    var attemptIndex: [String: [String: Int]] = [:]
    var logs: [String: String] = [:]
    var triggers: [String: TriggerState] = [:]
    var deliveries: [String: Date] = [:]
    var startKeys: [String: StartKey] = [:]
    var signalLog: [ExecutionSignal] = []
    var signalSeq: Int64 = 0
    var slots: [String: [ConcurrencySlot]] = [:]
    var slotSeq: Int64 = 0
    var callbacks: [String: CallbackToken] = [:]
    var busEvents: [BusEvent] = []
    /// The last sequence number retention deleted: numbering goes on from it.
    var prunedEventSeq: Int64 = 0
    /// Observations retention emptied.
    var prunedObservations = Set<Int64>()
    var cursors: [String: Int64] = [:]
    var subscriptionRecords: [String: EventSubscription] = [:]
    var deadLetterRecords: [DeadLetter] = []
    var observationLog: [(seq: Int64, observation: ExecutionObservation)] = []
    var snapshots: [String: Data] = [:]
    var audit: [OptimizationRecord] = []

    /// What dates saved workflow versions.
    let time: TimeSource

    public init(time: TimeSource = .system) { self.time = time }
}

extension InMemoryStore: WorkflowStore {
    public func saveWorkflow(_ workflow: Workflow) throws -> String {
        let hash = try workflow.contentHash()
        if workflows["\(workflow.id)@\(hash)"] == nil { versions[workflow.id, default: []].append((hash, time.now())) }
        workflows["\(workflow.id)@\(hash)"] = workflow
        registered[workflow.id] = workflow
        return hash
    }

    public func workflow(id: String, version: String) -> Workflow? {
        workflows["\(id)@\(version)"]
    }

    public func registeredVersions() -> [String: String] { registered.compactMapValues { try? $0.contentHash() } }

    public func registeredWorkflows() -> [Workflow] {
        registered.values.sorted { $0.id < $1.id }
    }

    public func workflowVersions(id: String) -> [(version: String, savedAt: Date)] { versions[id] ?? [] }

    public func unregisterWorkflow(id: String) -> Bool { registered.removeValue(forKey: id) != nil }
}

extension InMemoryStore: ExecutionStore {
    public func apply(_ writes: [StoreWrite]) throws {
        // Check first, so a batch is applied whole or not at all.
        var creating = Set<String>()
        for w in writes {
            switch w {
            case .createExecution(let r):
                guard records[r.execution.id] == nil, creating.insert(r.execution.id).inserted else {
                    throw StoreError("execution \(r.execution.id) already exists")
                }
            case .updateExecution(let r):
                guard records[r.execution.id] != nil || creating.contains(r.execution.id) else { throw StoreError("no execution \(r.execution.id)") }
            case .attempt(let a):
                guard records[a.executionID] != nil || creating.contains(a.executionID) else { throw StoreError("no execution \(a.executionID)") }
            case .stepFinished(let id, _, _, _):
                guard records[id] != nil || creating.contains(id) else { throw StoreError("no execution \(id)") }
            case .observation, .releaseSlots: break
            case .attemptProcess(let id, _, _, _):
                guard records[id] != nil || creating.contains(id) else { throw StoreError("no execution \(id)") }
            }
        }
        for w in writes {
            switch w {
            case .createExecution(let r):
                records[r.execution.id] = r
                order.append(r.execution.id)
            case .updateExecution(let r):
                let results = records[r.execution.id]?.execution.stepResults ?? [:]
                var updated = r
                updated.execution.stepResults = results
                records[r.execution.id] = updated
            case .attempt(let a):
                replace(a)
            case .stepFinished(let id, let result, let attempt, let log):
                records[id]?.execution.stepResults[result.stepID] = result
                if let attempt { replace(attempt) }
                logs["\(id)/\(result.stepID)"] = log
            case .observation(let o):
                observationLog.append(((observationLog.last?.seq ?? 0) + 1, o))
            case .attemptProcess(let id, let stepID, let attempt, let process):
                if let i = attemptIndex[id]?["\(stepID)#\(attempt)"] { attemptLog[id]![i].process = process }
            case .releaseSlots(let id, let stepID):
                releaseSlots(executionID: id, stepID: stepID)
            }
        }
    }

    func replace(_ attempt: AttemptRecord) {
        let key = "\(attempt.stepID)#\(attempt.attempt)"
        if let i = attemptIndex[attempt.executionID]?[key] {
            attemptLog[attempt.executionID]![i] = attempt
        } else {
            attemptIndex[attempt.executionID, default: [:]][key] = attemptLog[attempt.executionID, default: []].count
            attemptLog[attempt.executionID, default: []].append(attempt)
        }
    }

    public func execution(id: String) -> ExecutionRecord? { records[id] }

    public func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) -> [ExecutionRecord] {
        var out: [ExecutionRecord] = []
        for id in order.reversed() where out.count < limit {
            guard var r = records[id] else { continue }
            if let workflowID, r.execution.workflowID != workflowID { continue }
            if let status, r.execution.status != status { continue }
            r.execution.stepResults = [:]
            out.append(r)
        }
        return out
    }

    public func unfinishedExecutions() -> [ExecutionRecord] {
        order.compactMap { records[$0] }.filter { !$0.execution.status.isTerminal }
    }

    public func attempts(executionID: String, stepID: String?) -> [AttemptRecord] {
        (attemptLog[executionID] ?? []).filter { stepID == nil || $0.stepID == stepID }
    }

    public func log(executionID: String, stepID: String) -> String? {
        logs["\(executionID)/\(stepID)"]
    }

    public func prune(endedBefore cutoff: Date) -> Int {
        let old = order.filter { id in
            guard let e = records[id]?.execution, e.status.isTerminal else { return false }
            return (e.finishedAt ?? records[id]!.createdAt) < cutoff
        }
        for id in old {
            records[id] = nil
            attemptLog[id] = nil
            attemptIndex[id] = nil
            logs = logs.filter { !$0.key.hasPrefix(id + "/") }
        }
        let gone = Set(old)
        order.removeAll { gone.contains($0) }
        signalLog.removeAll { gone.contains($0.executionID) }
        for id in gone { releaseSlots(executionID: id, stepID: nil) }
        callbacks = callbacks.filter { !gone.contains($0.value.executionID) }
        return old.count
    }

    public func interruptAttempts(executionID: String, at date: Date) -> [AttemptRecord] {
        var interrupted: [AttemptRecord] = []
        for i in (attemptLog[executionID] ?? []).indices where attemptLog[executionID]![i].status == .running {
            attemptLog[executionID]![i].status = .interrupted
            attemptLog[executionID]![i].finishedAt = date
            attemptLog[executionID]![i].error = "interrupted: the process running it stopped"
            interrupted.append(attemptLog[executionID]![i])
        }
        return interrupted
    }
}

extension InMemoryStore: TriggerStore {
    public func triggerStates(workflowID: String?) -> [TriggerState] {
        triggers.values.filter { workflowID == nil || $0.workflowID == workflowID }
            .sorted { ($0.workflowID, $0.triggerID) < ($1.workflowID, $1.triggerID) }
    }

    public func saveTriggerState(_ state: TriggerState) {
        triggers[state.workflowID + "\u{1}" + state.triggerID] = state
    }

    public func recordDelivery(source: String, id: String, at: Date) -> Bool {
        let cutoff = at.addingTimeInterval(-30 * 86_400)
        if deliveries.count > 10_000 { deliveries = deliveries.filter { $0.value >= cutoff } }
        let key = source + "\u{1}" + id
        if let seen = deliveries[key], seen >= cutoff { return false }
        deliveries[key] = at
        return true
    }
}

extension InMemoryStore: EventLogStore {
    public func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) -> [BusEvent] {
        var out: [BusEvent] = []
        for e in events {
            let event = BusEvent(seq: (busEvents.last?.seq ?? prunedEventSeq) + 1, type: e.type, data: e.data, source: e.source, time: e.time)
            busEvents.append(event)
            out.append(event)
        }
        return out
    }

    public func events(after seq: Int64, limit: Int) -> [BusEvent] {
        // Sequence numbers are dense from the first one kept (retention deletes the oldest): index directly.
        let first = busEvents.first?.seq ?? 1
        let start = Int(max(seq + 1 - first, 0))
        guard start < busEvents.count else { return [] }
        return Array(busEvents[start..<min(busEvents.count, start + limit)])
    }

    public func lastEventSeq() -> Int64 { busEvents.last?.seq ?? 0 }

    public func cursor(_ name: String) -> Int64? { cursors[name] }

    public func saveCursor(_ name: String, _ seq: Int64) { cursors[name] = seq }
}

extension InMemoryStore: SubscriptionStore {
    public func subscriptions() -> [EventSubscription] { subscriptionRecords.values.sorted { ($0.createdAt, $0.id) < ($1.createdAt, $1.id) } }

    public func saveSubscription(_ subscription: EventSubscription) { subscriptionRecords[subscription.id] = subscription }

    public func deleteSubscription(id: String) -> Bool {
        cursors["subscription:" + id] = nil
        return subscriptionRecords.removeValue(forKey: id) != nil
    }

    public func addDeadLetter(_ letter: DeadLetter) {
        deadLetterRecords.removeAll { $0.subscriptionID == letter.subscriptionID && $0.seq == letter.seq }
        deadLetterRecords.append(letter)
    }

    public func deadLetters(subscriptionID: String, limit: Int) -> [DeadLetter] {
        Array(deadLetterRecords.filter { $0.subscriptionID == subscriptionID }.sorted { $0.seq > $1.seq }.prefix(limit))
    }
}

extension InMemoryStore: LearningStore {
    public func observations(workflowID: String, after seq: Int64, limit: Int) -> [(seq: Int64, observation: ExecutionObservation)] {
        // Sequence numbers are dense from 1: start at the first one after `seq`.
        var out: [(seq: Int64, observation: ExecutionObservation)] = []
        for entry in observationLog[Int(max(0, min(seq, Int64(observationLog.count))))...] where entry.observation.workflowID == workflowID {
            out.append(entry)
            if out.count == limit { break }
        }
        return out
    }

    public func observations(seqs: [Int64]) -> [(seq: Int64, observation: ExecutionObservation)] {
        // Dense from 1: index directly.
        Set(seqs).sorted().compactMap { seq in seq >= 1 && seq <= Int64(observationLog.count) ? observationLog[Int(seq - 1)] : nil }
    }

    public func observationIDs(workflowID: String, after seq: Int64) -> [(seq: Int64, executionID: String)] {
        observationLog.filter { $0.seq > seq && $0.observation.workflowID == workflowID }.map { ($0.seq, $0.observation.executionID) }
    }

    public func learningSnapshot(workflowID: String) -> Data? { snapshots[workflowID] }

    public func saveLearningSnapshot(workflowID: String, _ data: Data) { snapshots[workflowID] = data }

    public func appendOptimizationRecord(_ record: OptimizationRecord) { audit.append(record) }

    public func optimizationRecords(workflowID: String) -> [OptimizationRecord] { audit.filter { $0.workflowID == workflowID } }
}

extension InMemoryStore: StartKeyStore {
    public func claimStartKey(_ claim: StartKey, expiry: Date, abandoned: String?) -> StartKey {
        if let holder = startKeys[claim.key], holder.createdAt >= expiry, holder.executionID != abandoned { return holder }
        startKeys[claim.key] = claim
        return claim
    }
}

extension InMemoryStore: SignalStore {
    public func addSignal(_ signal: ExecutionSignal) -> ExecutionSignal {
        var saved = signal
        signalSeq += 1
        saved.seq = signalSeq
        signalLog.append(saved)
        return saved
    }

    public func signals(executionID: String, after seq: Int64) -> [ExecutionSignal] {
        signalLog.filter { $0.executionID == executionID && $0.seq > seq }
    }

    public func addCallback(_ callback: CallbackToken) { callbacks[callback.digest] = callback }

    public func callback(digest: String) -> CallbackToken? { callbacks[digest] }

    public func useCallback(digest: String, now: Date, sending signal: ExecutionSignal?) -> Bool {
        guard let c = callbacks[digest], c.usedAt == nil, c.expiresAt > now else { return false }
        callbacks[digest]?.usedAt = now
        if let signal { _ = addSignal(signal) }
        return true
    }
}

extension InMemoryStore: RetentionStore {
    /// Only the oldest events go (a prefix), so the numbers of the rest stay dense; the newest stays.
    public func pruneEvents(before cutoff: Date) -> Int {
        let read = cursors.values.min() ?? Int64.max
        let last = busEvents.last?.seq ?? 0
        let gone = busEvents.prefix { $0.time < cutoff && $0.seq <= read && $0.seq < last }.count
        if gone > 0 { prunedEventSeq = busEvents[gone - 1].seq }
        busEvents.removeFirst(gone)
        return gone
    }

    /// Observations are indexed by number here, so what goes keeps its place with its steps
    /// dropped (the bulk of it); only numbers at or below a snapshot's are pruned, and the
    /// learning engine reads only those after it.
    public func pruneObservations() -> Int {
        var applied: [String: Int64] = [:]
        for (workflowID, data) in snapshots {
            if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any], let seq = object["appliedSeq"] as? Int {
                applied[workflowID] = Int64(seq)
            }
        }
        var gone = 0
        for (i, entry) in observationLog.enumerated() where !prunedObservations.contains(entry.seq) {
            let o = entry.observation
            guard entry.seq <= applied[o.workflowID] ?? 0, records[o.executionID] == nil else { continue }
            observationLog[i].observation.steps = []
            prunedObservations.insert(entry.seq)
            gone += 1
        }
        return gone
    }
}
