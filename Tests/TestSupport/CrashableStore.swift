import Foundation
import Orchestration
import Synchronization

/// A store that stops saving anything once `crash()` is called — as if the process died there —
/// or at its `crashAtApply`-th batch of writes. It counts the calls it has under way
/// (``isBusy``), so a ``DiscreteEventExecutor`` can wait for SQLite's threads instead of moving
/// virtual time on while a write is out.
package final class CrashableStore: Store {
    package let base: any Store
    private let crashed = Mutex(false)
    private let busy = Atomic<Int>(0)
    private let applies = Atomic<Int>(0)
    /// The batch of writes (1 for the first) that fails as the process's death, and every one after.
    package let crashAtApply: Int?

    package init(_ base: any Store, crashAtApply: Int? = nil) {
        self.base = base
        self.crashAtApply = crashAtApply
    }

    package func crash() { crashed.withLock { $0 = true } }

    package var hasCrashed: Bool { crashed.withLock { $0 } }

    /// Whether a call to the base store is under way.
    package var isBusy: Bool { busy.load(ordering: .acquiring) > 0 }

    private func track<T>(_ body: () async throws -> T) async throws -> T {
        busy.add(1, ordering: .acquiringAndReleasing)
        defer { busy.subtract(1, ordering: .acquiringAndReleasing) }
        return try await body()
    }

    package func apply(_ writes: [StoreWrite]) async throws {
        let n = applies.add(1, ordering: .acquiringAndReleasing).newValue
        if let crashAtApply, n >= crashAtApply { crash() }
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await track { try await base.apply(writes) }
    }

    package func saveWorkflow(_ workflow: Workflow) async throws -> String { try await track { try await base.saveWorkflow(workflow) } }
    package func workflow(id: String, version: String) async throws -> Workflow? {
        try await track { try await base.workflow(id: id, version: version) }
    }
    package func registeredWorkflows() async throws -> [Workflow] { try await track { try await base.registeredWorkflows() } }
    package func registeredVersions() async throws -> [String: String] { try await track { try await base.registeredVersions() } }
    package func workflowVersions(id: String) async throws -> [(version: String, savedAt: Date)] {
        try await track { try await base.workflowVersions(id: id) }
    }
    package func unregisterWorkflow(id: String) async throws -> Bool { try await track { try await base.unregisterWorkflow(id: id) } }
    package func execution(id: String) async throws -> ExecutionRecord? { try await track { try await base.execution(id: id) } }
    package func executions(workflowID: String?, status: ExecutionStatus?, limit: Int) async throws -> [ExecutionRecord] {
        try await track { try await base.executions(workflowID: workflowID, status: status, limit: limit) }
    }
    package func unfinishedExecutions() async throws -> [ExecutionRecord] { try await track { try await base.unfinishedExecutions() } }
    package func attempts(executionID: String, stepID: String?) async throws -> [AttemptRecord] {
        try await track { try await base.attempts(executionID: executionID, stepID: stepID) }
    }
    package func log(executionID: String, stepID: String) async throws -> String? {
        try await track { try await base.log(executionID: executionID, stepID: stepID) }
    }
    package func interruptAttempts(executionID: String, at: Date) async throws -> [AttemptRecord] {
        try await track { try await base.interruptAttempts(executionID: executionID, at: at) }
    }
    package func prune(endedBefore cutoff: Date) async throws -> Int { try await track { try await base.prune(endedBefore: cutoff) } }
    package func triggerStates(workflowID: String?) async throws -> [TriggerState] {
        try await track { try await base.triggerStates(workflowID: workflowID) }
    }
    package func recordDelivery(source: String, id: String, at: Date) async throws -> Bool {
        try await track { try await base.recordDelivery(source: source, id: id, at: at) }
    }
    package func claimStartKey(_ claim: StartKey, expiry: Date, abandoned: String?) async throws -> StartKey {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.claimStartKey(claim, expiry: expiry, abandoned: abandoned) }
    }
    package func addSignal(_ signal: ExecutionSignal) async throws -> ExecutionSignal {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.addSignal(signal) }
    }
    package func signals(executionID: String, after seq: Int64) async throws -> [ExecutionSignal] {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.signals(executionID: executionID, after: seq) }
    }
    package func addCallback(_ callback: CallbackToken) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await track { try await base.addCallback(callback) }
    }
    package func callback(digest: String) async throws -> CallbackToken? { try await track { try await base.callback(digest: digest) } }
    package func useCallback(digest: String, now: Date, sending signal: ExecutionSignal?) async throws -> Bool {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.useCallback(digest: digest, now: now, sending: signal) }
    }
    package func acquireSlot(_ request: SlotRequest, now: Date) async throws -> [ConcurrencySlot] {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.acquireSlot(request, now: now) }
    }
    package func concurrencySlots(key: String) async throws -> [ConcurrencySlot] {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.concurrencySlots(key: key) }
    }
    package func appendEvents(_ events: [(type: String, data: JSONValue, source: String, time: Date)]) async throws -> [BusEvent] {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        return try await track { try await base.appendEvents(events) }
    }
    package func events(after seq: Int64, limit: Int) async throws -> [BusEvent] {
        try await track { try await base.events(after: seq, limit: limit) }
    }
    package func lastEventSeq() async throws -> Int64 { try await track { try await base.lastEventSeq() } }
    package func cursor(_ name: String) async throws -> Int64? { try await track { try await base.cursor(name) } }
    package func saveCursor(_ name: String, _ seq: Int64) async throws { try await track { try await base.saveCursor(name, seq) } }
    package func subscriptions() async throws -> [EventSubscription] { try await track { try await base.subscriptions() } }
    package func saveSubscription(_ subscription: EventSubscription) async throws {
        try await track { try await base.saveSubscription(subscription) }
    }
    package func deleteSubscription(id: String) async throws -> Bool { try await track { try await base.deleteSubscription(id: id) } }
    package func addDeadLetter(_ letter: DeadLetter) async throws { try await track { try await base.addDeadLetter(letter) } }
    package func deadLetters(subscriptionID: String, limit: Int) async throws -> [DeadLetter] {
        try await track { try await base.deadLetters(subscriptionID: subscriptionID, limit: limit) }
    }
    package func observations(workflowID: String, after seq: Int64, limit: Int) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        try await track { try await base.observations(workflowID: workflowID, after: seq, limit: limit) }
    }
    package func learningSnapshot(workflowID: String) async throws -> Data? {
        try await track { try await base.learningSnapshot(workflowID: workflowID) }
    }
    package func observationIDs(workflowID: String, after seq: Int64) async throws -> [(seq: Int64, executionID: String)] {
        try await track { try await base.observationIDs(workflowID: workflowID, after: seq) }
    }
    package func observations(seqs: [Int64]) async throws -> [(seq: Int64, observation: ExecutionObservation)] {
        try await track { try await base.observations(seqs: seqs) }
    }
    package func saveLearningSnapshot(workflowID: String, _ data: Data) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await track { try await base.saveLearningSnapshot(workflowID: workflowID, data) }
    }
    package func appendOptimizationRecord(_ record: OptimizationRecord) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await track { try await base.appendOptimizationRecord(record) }
    }
    package func optimizationRecords(workflowID: String) async throws -> [OptimizationRecord] {
        try await track { try await base.optimizationRecords(workflowID: workflowID) }
    }
    package func saveTriggerState(_ state: TriggerState) async throws {
        if crashed.withLock({ $0 }) { throw StoreError("the process died") }
        try await track { try await base.saveTriggerState(state) }
    }
    package func pruneEvents(before cutoff: Date) async throws -> Int { try await track { try await base.pruneEvents(before: cutoff) } }
    package func pruneObservations() async throws -> Int { try await track { try await base.pruneObservations() } }
}
