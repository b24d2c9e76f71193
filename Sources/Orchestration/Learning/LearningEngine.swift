import Foundation
import Synchronization

/// Learns from finished executions, mirroring the guide's `LearningEngine`: ``record(_:)``
/// (`RecordExecution`), ``pattern(workflowID:stepOrder:)`` (`GetPattern`) and
/// ``suggestions(for:)`` (`SuggestOptimizations`).
///
/// The engine hands each finished execution's ``ExecutionObservation`` over at once
/// (``submit(_:)``), and, with a store, has already written it in the transaction that ended the
/// execution. Statistics are updated in memory, in O(window) per observation. With a store, the
/// first read of a workflow in a process loads its saved statistics and the observations after
/// them; every ``snapshotEvery`` observations the statistics are saved with the sequence number
/// they include — after checking that they include every observation the store has (another
/// process may have run the workflow too; if not, they are loaded again from the store). A
/// restart reads only what came after the last save: nothing is relearned from scratch.
///
/// ```swift
/// let learning = LearningEngine(configuration: OptimizationConfig(learningRate: 0.1), store: store)
/// let engine = WorkflowEngine(executors: executors, store: store, learning: learning)
/// let pattern = await learning.pattern(workflowID: "deploy")
/// ```
public actor LearningEngine {
    public nonisolated let configuration: OptimizationConfig
    nonisolated let store: (any LearningStore)?
    var statistics: [String: WorkflowStatistics] = [:]
    var loaded: Set<String> = []
    var loading: [String: [CheckedContinuation<Void, Never>]] = [:]
    /// Executions a load read from the store, by workflow: their submission, arriving after, is
    /// not counted twice (the most recent 10,000).
    var loadedIDs: [String: Set<String>] = [:]
    var loadedOrder: [String: [String]] = [:]
    var unsaved: [String: Int] = [:]
    var checkpointing: Set<String> = []
    /// Executions applied from submissions since the statistics were last saved or loaded.
    var appliedSinceSave: [String: Set<String>] = [:]
    /// The last error reading or saving what was learned.
    public private(set) var lastError: String?
    /// The audit trail, when there is no store to keep it.
    var audit: [OptimizationRecord] = []

    /// Observations between two saves of a workflow's statistics.
    public static let snapshotEvery = 200

    public init(configuration: OptimizationConfig = OptimizationConfig(), store: (any LearningStore)? = nil) {
        self.configuration = configuration
        self.store = store
    }

    /// Learns from a finished execution (with a store: one the engine saved there).
    public func record(_ observation: ExecutionObservation) async {
        submit(observation)
        await absorb(observation.workflowID)
    }

    /// Learns what was handed over with ``submit(_:)``; saves the statistics when due. The
    /// engine calls it after each execution it ends.
    func absorb(_ workflowID: String) async {
        await drainSubmitted()
        if store != nil, unsaved[workflowID, default: 0] >= Self.snapshotEvery { await checkpoint(workflowID) }
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

    func drainSubmitted() async {
        let batch = submitted.withLock { pending -> [ExecutionObservation] in
            defer { pending.removeAll() }
            return pending
        }
        for observation in batch {
            let id = observation.workflowID
            if store != nil {
                await ensureLoaded(id)
                // Already read from the store (by a load or a checkpoint).
                if loadedIDs[id]?.contains(observation.executionID) == true { continue }
                unsaved[id, default: 0] += 1
                appliedSinceSave[id, default: []].insert(observation.executionID)
            }
            statistics[id, default: WorkflowStatistics(workflowID: id, window: configuration.window)]
                .add(observation, learningRate: configuration.learningRate)
            refreshDurations(id)
        }
    }

    /// What has been learned about a workflow so far (`nil` before its first execution).
    package func statistics(workflowID: String) async -> WorkflowStatistics? {
        if store != nil { await ensureLoaded(workflowID) }
        await drainSubmitted()
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
        await drainSubmitted()
        for id in unsaved.keys.sorted() { await checkpoint(id) }
    }

    // MARK: The store

    /// Loads the workflow's saved statistics and the observations after them, once per process
    /// (concurrent callers wait for the one load).
    func ensureLoaded(_ workflowID: String) async {
        guard store != nil, !loaded.contains(workflowID) else { return }
        if loading[workflowID] != nil {
            await withCheckedContinuation { loading[workflowID, default: []].append($0) }
            return
        }
        loading[workflowID] = []
        await load(workflowID)
        loaded.insert(workflowID)
        for waiter in loading.removeValue(forKey: workflowID) ?? [] { waiter.resume() }
        // Many observations since the last save (short-lived processes such as `novacron run`
        // never reach a save of their own): save now, so the next process reads only what follows.
        if unsaved[workflowID, default: 0] >= Self.snapshotEvery { await checkpoint(workflowID) }
    }

    /// Replaces what is in memory with what the store has: the saved statistics and every
    /// observation after them.
    func load(_ workflowID: String) async {
        guard let store else { return }
        do {
            var s = WorkflowStatistics(workflowID: workflowID, window: configuration.window)
            if let data = try await store.learningSnapshot(workflowID: workflowID),
                let saved = try? JSONDecoder().decode(WorkflowStatistics.self, from: data), saved.window == configuration.window
            {
                s = saved
            }
            var read = 0
            // Executions after the saved number that the saved statistics include already.
            let included = Set(s.alsoApplied)
            s.alsoApplied = []
            while true {
                let page = try await store.observations(workflowID: workflowID, after: s.appliedSeq, limit: 500)
                for (seq, observation) in page {
                    if !included.contains(observation.executionID) { s.add(observation, learningRate: configuration.learningRate) }
                    s.appliedSeq = seq
                    remember(observation.executionID, of: workflowID)
                }
                read += page.count
                if page.count < 500 { break }
            }
            statistics[workflowID] = s.executions > 0 ? s : statistics[workflowID]
            unsaved[workflowID] = read
            appliedSinceSave[workflowID] = []
            refreshDurations(workflowID, force: true)
        } catch {
            lastError = "\(error)"
        }
    }

    func remember(_ executionID: String, of workflowID: String) {
        loadedIDs[workflowID, default: []].insert(executionID)
        loadedOrder[workflowID, default: []].append(executionID)
        // Trimmed in halves, so remembering stays O(1) on average.
        if let order = loadedOrder[workflowID], order.count > 20_000 {
            for old in order.prefix(order.count - 10_000) { loadedIDs[workflowID]?.remove(old) }
            loadedOrder[workflowID] = Array(order.suffix(10_000))
        }
    }

    /// Saves the statistics with the sequence number they include every observation up to, and
    /// the executions after it they include too (submitted after the store was asked). Every
    /// observation the store has up to that number is learned from first: those missing (an
    /// execution that ended and is not handed over yet, or one another process ran) are read from
    /// the store — each observation is decoded at most once, and only these. Nothing is held
    /// across a suspension: executions handed over meanwhile are kept.
    func checkpoint(_ workflowID: String) async {
        // One at a time: executions ending meanwhile would each start another.
        guard let store, let since = statistics[workflowID]?.appliedSeq, checkpointing.insert(workflowID).inserted else { return }
        defer { checkpointing.remove(workflowID) }
        do {
            let rows = try await store.observationIDs(workflowID: workflowID, after: since)
            let wanted = rows.filter { !isApplied($0.executionID, of: workflowID) }
            let fetched = try await store.observations(seqs: wanted.map(\.seq))
            // From here on, no suspension until the statistics are encoded.
            guard var s = statistics[workflowID], s.appliedSeq == since else { return }
            for (_, observation) in fetched where !isApplied(observation.executionID, of: workflowID) {
                s.add(observation, learningRate: configuration.learningRate)
                remember(observation.executionID, of: workflowID)
            }
            let inRange = Set(rows.map(\.executionID))
            let beyond = (appliedSinceSave[workflowID] ?? []).subtracting(inRange)
            s.appliedSeq = rows.last?.seq ?? since
            s.alsoApplied = beyond.sorted()
            statistics[workflowID] = s
            appliedSinceSave[workflowID] = beyond
            unsaved[workflowID] = nil
            let data = try JSONEncoder().encode(s)
            try await store.saveLearningSnapshot(workflowID: workflowID, data)
        } catch {
            lastError = "\(error)"
        }
    }

    func isApplied(_ executionID: String, of workflowID: String) -> Bool {
        appliedSinceSave[workflowID]?.contains(executionID) == true || loadedIDs[workflowID]?.contains(executionID) == true
    }
}
