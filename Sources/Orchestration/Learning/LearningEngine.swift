import Foundation
import Synchronization

/// Learns from finished executions, mirroring the guide's `LearningEngine`: ``record(_:)``
/// (`RecordExecution`), ``pattern(workflowID:stepOrder:)`` (`GetPattern`) and
/// ``suggestions(for:)`` (`SuggestOptimizations`).
///
/// With a store, the engine writes each execution's ``ExecutionObservation`` in the transaction
/// that ends it; the learning engine reads what it has not learned yet, in order, and saves its
/// statistics (with the sequence number they include) every ``snapshotEvery`` observations and
/// on ``flush()``. A restart loads the statistics and reads only the observations after them:
/// nothing is relearned from scratch, and each observation costs O(window), not O(history).
///
/// ```swift
/// let learning = LearningEngine(configuration: OptimizationConfig(learningRate: 0.1), store: store)
/// let engine = WorkflowEngine(executors: executors, store: store, learning: learning)
/// let pattern = try await learning.pattern(workflowID: "deploy")
/// ```
public actor LearningEngine {
    public nonisolated let configuration: OptimizationConfig
    nonisolated let store: (any ExecutionStore)?
    var statistics: [String: WorkflowStatistics] = [:]
    var loaded: Set<String> = []
    var unsaved: [String: Int] = [:]
    var catching: [String: [CheckedContinuation<Void, Never>]] = [:]
    var again: Set<String> = []
    /// The last error reading or saving what was learned.
    public private(set) var lastError: String?
    /// The audit trail, when there is no store to keep it.
    var audit: [OptimizationRecord] = []

    /// Observations between two saves of a workflow's statistics.
    public static let snapshotEvery = 50

    public init(configuration: OptimizationConfig = OptimizationConfig(), store: (any ExecutionStore)? = nil) {
        self.configuration = configuration
        self.store = store
    }

    /// Learns from a finished execution. With a store, the observation is already saved there
    /// (by the engine): this reads every observation of the workflow not learned yet, this one
    /// included.
    public func record(_ observation: ExecutionObservation) async {
        if store == nil {
            submit(observation)
            drainSubmitted()
        } else {
            await catchUp(observation.workflowID)
        }
    }

    /// Learns what was handed over with ``submit(_:)`` (without a store) or saved in the store
    /// (with one) for the workflow: the engine calls it after each execution it ends.
    func absorb(_ workflowID: String) async {
        if store == nil { drainSubmitted() } else { await catchUp(workflowID) }
    }

    /// Hands over an observation at once, from any context (the engine does so at the moment an
    /// execution ends, without a store): whatever is read next includes it.
    public nonisolated func submit(_ observation: ExecutionObservation) {
        submitted.withLock { $0.append(observation) }
    }

    nonisolated let submitted = Mutex<[ExecutionObservation]>([])
    nonisolated let durations = Mutex<[String: (generation: Int, durations: [String: Duration])]>([:])

    /// The learned median durations of a workflow's steps as of the last refresh (every 10
    /// executions), with a generation that changes with them; `nil` before there are any. Cheap:
    /// the engine asks at every start.
    public nonisolated func cachedDurations(workflowID: String) -> (generation: Int, durations: [String: Duration])? {
        durations.withLock { $0[workflowID] }
    }

    /// Recomputes the cached durations when the workflow reached a refresh point.
    func refreshDurations(_ workflowID: String, force: Bool = false) {
        guard let s = statistics[workflowID] else { return }
        guard force || s.executions == configuration.minimumExecutions || s.executions % 10 == 0 else { return }
        let learned = Suggester(configuration: configuration).learnedDurations(s)
        guard !learned.isEmpty else { return }
        durations.withLock { cache in
            let generation = (cache[workflowID]?.generation ?? 0) + 1
            cache[workflowID] = (generation, learned)
        }
    }

    func drainSubmitted() {
        let batch = submitted.withLock { pending -> [ExecutionObservation] in
            defer { pending.removeAll() }
            return pending
        }
        for observation in batch {
            statistics[observation.workflowID, default: WorkflowStatistics(workflowID: observation.workflowID, window: configuration.window)]
                .add(observation, learningRate: configuration.learningRate)
            refreshDurations(observation.workflowID)
        }
    }

    /// What has been learned about a workflow so far (`nil` before its first execution).
    public func statistics(workflowID: String) async -> WorkflowStatistics? {
        if store != nil { await catchUp(workflowID) } else { drainSubmitted() }
        return statistics[workflowID]
    }

    /// The workflow's pattern; before `minimumExecutions` executions, only how many are missing.
    public func pattern(workflowID: String, stepOrder: [String] = []) async -> WorkflowPattern {
        let s = await statistics(workflowID: workflowID) ?? WorkflowStatistics(workflowID: workflowID, window: configuration.window)
        return s.pattern(minimumExecutions: configuration.minimumExecutions, stepOrder: stepOrder)
    }

    /// Suggestions for the workflow as it is defined now.
    public func suggestions(for workflow: Workflow) async -> [Suggestion] {
        let s = await statistics(workflowID: workflow.id)
        return Suggester(configuration: configuration).suggestions(for: workflow, statistics: s)
    }

    /// Median learned durations per step, for planning and ETAs.
    public func learnedDurations(workflowID: String) async -> [String: Duration] {
        Suggester(configuration: configuration).learnedDurations(await statistics(workflowID: workflowID))
    }

    /// Adds to the audit trail of optimizations (in the store, when there is one).
    public func appendAudit(_ record: OptimizationRecord) async throws {
        if let store { try await store.appendOptimizationRecord(record) } else { audit.append(record) }
    }

    /// The workflow's optimizations applied and reverted, oldest first.
    public func audit(workflowID: String) async throws -> [OptimizationRecord] {
        if let store { return try await store.optimizationRecords(workflowID: workflowID) }
        return audit.filter { $0.workflowID == workflowID }
    }

    /// Saves the statistics of every workflow with observations not saved yet.
    public func flush() async {
        for id in unsaved.keys.sorted() { await save(id) }
    }

    // MARK: Reading the store

    func catchUp(_ workflowID: String) async {
        if catching[workflowID] != nil {
            // Someone is reading already: have them read once more, and wait for them.
            again.insert(workflowID)
            await withCheckedContinuation { catching[workflowID, default: []].append($0) }
            return
        }
        catching[workflowID] = []
        repeat {
            again.remove(workflowID)
            await pull(workflowID)
        } while again.contains(workflowID)
        let waiters = catching.removeValue(forKey: workflowID) ?? []
        for w in waiters { w.resume() }
    }

    func pull(_ workflowID: String) async {
        guard let store else { return }
        do {
            if !loaded.contains(workflowID) {
                if let data = try await store.learningSnapshot(workflowID: workflowID),
                   let saved = try? JSONDecoder().decode(WorkflowStatistics.self, from: data), saved.window == configuration.window {
                    statistics[workflowID] = saved
                }
                loaded.insert(workflowID)
            }
            while true {
                let after = statistics[workflowID]?.appliedSeq ?? 0
                let page = try await store.observations(workflowID: workflowID, after: after, limit: 500)
                guard !page.isEmpty else { break }
                var s = statistics[workflowID] ?? WorkflowStatistics(workflowID: workflowID, window: configuration.window)
                let before = s.executions
                for (seq, observation) in page where seq > s.appliedSeq {
                    s.add(observation, learningRate: configuration.learningRate)
                    s.appliedSeq = seq
                }
                statistics[workflowID] = s
                // Refresh when this page crossed a refresh point (or on the first read of a process).
                refreshDurations(workflowID, force: before / 10 != s.executions / 10 || cachedDurations(workflowID: workflowID) == nil)
                unsaved[workflowID, default: 0] += page.count
                if unsaved[workflowID, default: 0] >= Self.snapshotEvery { await save(workflowID) }
                if page.count < 500 { break }
            }
        } catch {
            lastError = "\(error)"
        }
    }

    func save(_ workflowID: String) async {
        guard let store, let s = statistics[workflowID] else { return }
        do {
            try await store.saveLearningSnapshot(workflowID: workflowID, try JSONEncoder().encode(s))
            unsaved[workflowID] = nil
        } catch {
            lastError = "\(error)"
        }
    }
}
