import Foundation
import HeapModule

/// The decisions of one execution, as a pure, synchronous state machine: events in, actions out.
///
/// It reads no clock, does no I/O and never suspends; ``WorkflowEngine`` feeds it events
/// (`start`, `attemptFinished`, `retryDue`, `cancel`, …) with the current time and applies the
/// ``Action``s it returns. Tests drive it directly.
///
/// Rules (docs/running.md):
/// - a step is ready when every upstream is terminal; it is skipped with a reason when an upstream
///   did not succeed, unless its condition reads that upstream's status; a false condition skips;
/// - ready steps start by longest estimated remaining path, up to the parallelism limit; an
///   exclusive step (`parallel: false`) starts alone and nothing starts beside it;
/// - a failed attempt is retried per its policy; a failure without `continueOnFailure` fails the
///   execution (and with `failFast` cancels the rest);
/// - on failure or cancellation, rollbacks of succeeded steps run in reverse completion order.
///
/// ```swift
/// var machine = ExecutionStateMachine(compiled: compiled, values: values, limit: 8)
/// var actions = machine.start(now: Date())
/// // … run `.startAttempt` requests, then:
/// actions = machine.attemptFinished(step: 0, outcome: .success(), now: Date())
/// ```
package struct ExecutionStateMachine: Sendable {
    /// What the engine must do.
    package enum Action: Sendable {
        /// Run attempt `attempt` of `step` with `request`.
        case startAttempt(step: Int, attempt: Int, request: StepRequest)
        /// Call ``ExecutionStateMachine/retryDue(step:now:)`` after `delay`.
        case scheduleRetry(step: Int, attempt: Int, delay: Duration)
        /// Stop these running attempts (they report back as cancelled).
        case cancelAttempts([Int])
        /// Run attempt `attempt` of the rollback body of `step`.
        case startRollback(step: Int, attempt: Int, request: StepRequest)
        /// Call ``ExecutionStateMachine/rollbackRetryDue(step:now:)`` after `delay`.
        case scheduleRollbackRetry(step: Int, attempt: Int, delay: Duration)
        /// `step` reached a terminal state (persist it, tell subscribers).
        case stepFinished(step: Int)
        /// forEach step `step` started: its items are known (persist its item count).
        case stepExpanded(step: Int)
        /// Attempt `attempt` of `step` waits for a decision or a signal (persist it; time it out).
        case suspend(step: Int, attempt: Int, request: StepRequest)
        /// A rollback reached a terminal state.
        case rollbackFinished(step: Int)
        /// The execution paused; in debug mode, `before` is the step that waits.
        case paused(before: Int?)
        /// The execution ended.
        case finish(ExecutionStatus)
    }

    enum Phase: Sendable, Equatable {
        case waiting, queued, running(attempt: Int), retryWait(attempt: Int)
        /// A retry whose delay passed, queued for a slot.
        case retryQueued(attempt: Int)
        /// A forEach step whose items run (as units past the steps, ``Fan``).
        case expanded
        /// An approval or signal wait, holding no slot (``suspend(_:attempt:request:waitingFor:now:actions:)``).
        case suspended(attempt: Int)
        case done
    }

    /// Critical path first, or first come, first served: ``ReadyQueue/Scheduling``.
    package typealias Scheduling = ReadyQueue.Scheduling

    package let compiled: CompiledWorkflow
    /// How the next step is picked when more are ready than may run.
    package var scheduling: Scheduling {
        get { readyQueue.scheduling }
        set { readyQueue.scheduling = newValue }
    }
    package internal(set) var values: ExecutionValues
    /// Results by unit: the steps by index, then the items of forEach steps as they expand.
    package internal(set) var results: [StepResult]
    /// Rollback results by step index.
    package internal(set) var rollbackResults: [Int: StepResult] = [:]
    package internal(set) var status: ExecutionStatus = .pending
    /// Why the execution failed or was cancelled.
    package internal(set) var error: String?
    package internal(set) var startedAt: Date?
    /// What the workflow's `outputs` gave when the execution completed.
    package internal(set) var outputs: [String: JSONValue]?
    /// Sets when the execution started (a recovered execution keeps its original start).
    package mutating func setStartedAt(_ date: Date?) { startedAt = date }
    package internal(set) var finishedAt: Date?
    /// Steps in the order they reached `success`.
    package internal(set) var completionOrder: [Int] = []
    /// Retries scheduled so far.
    package internal(set) var retryCount = 0
    /// When true, the execution pauses before every step.
    package internal(set) var debug: Bool

    /// How many steps the workflow has; units past them are forEach items.
    package let stepCount: Int
    /// By unit, like ``results``.
    var phase: [Phase]
    var pendingUpstream: [Int]
    /// When each queued unit became ready.
    var queuedAt: [Date?]
    /// The items of each forEach step that expanded, by step index.
    var fans: [Int: Fan] = [:]
    /// By unit past the steps: the forEach step it is an item of, and the item.
    var itemParent: [Int] = []
    var itemValues: [JSONValue] = []
    /// Saved item results to take as they are when their step expands, by step and item index.
    var reusedItems: [Int: [Int: StepResult]] = [:]
    /// The forEach step expanding now, if any.
    var expanding: Int?
    /// Signals received, by name (the latest payload): a step that waits for one later ends at once.
    package internal(set) var signals: [String: JSONValue] = [:]
    /// Decisions on approval steps that did not wait yet, by step id.
    var decisions: [String: ExecutionSignal] = [:]
    /// Whether approvals and waits for a signal or a time wait (``suspend(_:attempt:request:waitingFor:now:actions:)``);
    /// a simulation runs them as steps instead (``EngineConfiguration/modelsEveryStep``).
    package var suspendsWaits = true
    /// Units holding the slot of their step's concurrency key (``slotGranted(step:attempt:now:)``).
    var slotHeld = Set<Int>()
    /// Set when the workflow's outputs could not be rendered: the execution fails.
    var outputsFailed = false
    /// Steps whose saved results were taken as they are (their items' lists are the same).
    var reusedSteps = Set<Int>()
    /// When each step's running attempt started (for ETAs).
    var attemptStartedAt: [Int: Date] = [:]
    /// Which ready step starts next, within the limits: the rule the planner uses too.
    var readyQueue: ReadyQueue
    var doneCount = 0
    var retryWaits = 0
    var paused = false
    /// Set while the engine drains: nothing new starts; not saved, not a pause.
    var held = false
    var debugReleases = 0
    /// In debug mode, the step the execution is paused before.
    var debugPausedBefore: Int?
    /// Set when no more steps may start: the reason, and the status the execution ends with.
    var stopping: (reason: String, status: ExecutionStatus)?
    var failedStep: Int?
    var rollbackQueue: [Int] = []
    /// Rollbacks that ended before a crash (recovery): kept as they are, never run again.
    var reusedRollbacks: [Int: StepResult] = [:]
    var rollbackPhase: RollbackPhase = .notStarted
    var random: SplitMix64

    enum RollbackPhase: Equatable { case notStarted, running(step: Int, attempt: Int), retryWait(step: Int, attempt: Int), done }

    /// - Parameters:
    ///   - limit: the most steps running at once (the smaller of the workflow's `maxParallelism`
    ///     and the engine's worker limit).
    ///   - reuse: results to take as they are instead of running those steps: the successes of
    ///     an earlier execution (retry-from-failure), or everything a crashed process had saved
    ///     (recovery). Terminal results are kept; a step saved as running keeps its attempt count,
    ///     so it runs again as the next attempt. A rollback's terminal result (`<id>.rollback`) is
    ///     kept too: if the execution rolls back, that rollback does not run again.
    ///   - paused: start paused (an execution that was paused when its process stopped).
    ///   - seed: seeds the jitter of retry delays.
    package init(
        compiled: CompiledWorkflow, values: ExecutionValues, limit: Int, reuse: [String: StepResult] = [:],
        debug: Bool = false, paused: Bool = false, seed: UInt64 = 0
    ) {
        self.compiled = compiled
        self.values = values
        let steps = compiled.workflow.steps
        self.stepCount = steps.count
        self.results = steps.map { StepResult(stepID: $0.id) }
        self.phase = Array(repeating: .waiting, count: steps.count)
        self.queuedAt = Array(repeating: nil, count: steps.count)
        self.pendingUpstream = compiled.graph.upstream.map(\.count)
        self.readyQueue = ReadyQueue(
            priorities: compiled.priorities, exclusive: compiled.exclusive, limit: min(limit, compiled.workflow.maxParallelism ?? Int.max))
        self.debug = debug
        self.random = SplitMix64(seed: seed)
        for (id, result) in reuse {
            if StepResult.isRollbackID(id), result.status.isTerminal, let i = compiled.graph.index[String(id.dropLast(".rollback".count))] {
                reusedRollbacks[i] = result
                continue
            }
            guard let i = compiled.graph.index[id] else {
                if let item = StepResult.item(of: id), let i = compiled.graph.index[item.stepID], compiled.forEach[i] != nil {
                    reusedItems[i, default: [:]][item.index] = result
                }
                continue
            }
            if result.status.isTerminal {
                results[i] = result
                phase[i] = .done
                reusedSteps.insert(i)
            } else {
                results[i].attempts = result.attempts
                results[i].startedAt = result.startedAt
                results[i].childExecutionID = result.childExecutionID
            }
        }
        self.paused = paused
    }

    /// Attempts (and rollbacks) running now.
    package var runningAttempts: Int {
        var n = readyQueue.running
        if case .running = rollbackPhase { n += 1 }
        return n
    }

    /// Steps ready and waiting for a slot.
    package var readyCount: Int { readyQueue.count }

    /// Stops new starts while the engine drains (see ``WorkflowEngine/drain(grace:)``).
    package mutating func hold() { held = true }

    /// Starts the execution: reused steps count as done, roots become ready.
    package mutating func start(now: Date) -> [Action] {
        guard status == .pending else { return [] }
        status = paused ? .paused : .running
        if startedAt == nil { startedAt = now }
        var actions: [Action] = []
        var finished: [Int] = []
        for i in 0..<stepCount where phase[i] == .done {
            doneCount += 1
            finished.append(i)
            if results[i].status == .failed, !compiled.workflow.steps[i].continueOnFailure, failedStep == nil { failedStep = i }
        }
        completionOrder = finished.filter { results[$0].status == .success }
            .sorted { (results[$0].finishedAt ?? .distantPast) < (results[$1].finishedAt ?? .distantPast) }
        for i in finished { releaseDownstream(of: i, now: now, actions: &actions) }
        for i in 0..<stepCount where phase[i] == .waiting && pendingUpstream[i] == 0 {
            becomeReady(i, now: now, actions: &actions)
        }
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// Upstream `i` is terminal: count it off its downstreams and decide those now ready.
    mutating func releaseDownstream(of i: Int, now: Date, actions: inout [Action]) {
        // An explicit work list: a long chain of skips must not recurse.
        guard i < stepCount else { return }
        var work = [i]
        while let u = work.popLast() {
            for d in compiled.graph.downstream[u] {
                pendingUpstream[d] -= 1
                guard pendingUpstream[d] == 0, phase[d] == .waiting else { continue }
                if let skipped = decide(d, now: now, actions: &actions) { work.append(skipped) }
            }
        }
    }

    mutating func becomeReady(_ i: Int, now: Date, actions: inout [Action]) {
        if let skipped = decide(i, now: now, actions: &actions) {
            releaseDownstream(of: skipped, now: now, actions: &actions)
        }
    }

    /// Every upstream of `i` is terminal: queue it, or end it without running (skip, cancel,
    /// condition error). Returns `i` when it ended, so the caller releases its downstreams.
    mutating func decide(_ i: Int, now: Date, actions: inout [Action]) -> Int? {
        if let stopping {
            end(i, status: .cancelled, reason: nil, error: "not started: \(stopping.reason)", now: now, actions: &actions)
            return i
        }
        let graph = compiled.graph
        let reads = graph.statusReads[i]
        for u in graph.upstream[i] where results[u].status != .success && !reads.contains(u) {
            let what: String
            switch results[u].status {
            case .failed: what = "failed"
            case .skipped: what = "was skipped"
            case .cancelled: what = "was cancelled"
            default: what = "did not succeed"
            }
            end(i, status: .skipped, reason: "upstream \(results[u].stepID) \(what)", error: nil, now: now, actions: &actions)
            return i
        }
        if let condition = graph.conditions[i] {
            do {
                let holds = try ExpressionEvaluator.evaluateCondition(condition) { try self.resolve($0, forCondition: true) }
                if !holds {
                    end(
                        i, status: .skipped, reason: "condition is false: \(compiled.workflow.steps[i].condition ?? condition.description)",
                        error: nil, now: now, actions: &actions)
                    return i
                }
            } catch {
                end(i, status: .failed, reason: nil, error: "condition: \(error)", now: now, actions: &actions)
                failedWithoutContinue(i, now: now, actions: &actions)
                return i
            }
        }
        if let plan = compiled.forEach[i] { return expand(i, plan: plan, now: now, actions: &actions) ? i : nil }
        phase[i] = .queued
        queuedAt[i] = now
        readyQueue.add(i)
        return nil
    }

    /// Starts queued steps while the limits allow.
    mutating func fill(now: Date, actions: inout [Action]) {
        guard stopping == nil else { return }
        while !paused, !held, let i = readyQueue.next() {
            // An item whose forEach gave up on the rest ended while it waited here.
            guard phase[i] == .queued || isRetryQueued(i) else {
                readyQueue.discard()
                continue
            }
            if debug {
                if debugReleases == 0 {
                    paused = true
                    status = .paused
                    debugPausedBefore = i
                    actions.append(.paused(before: i))
                    break
                }
                debugReleases -= 1
            }
            readyQueue.start(i)
            let attempt: Int
            if case .retryQueued(let a) = phase[i] { attempt = a } else { attempt = results[i].attempts + 1 }
            launch(i, attempt: attempt, now: now, actions: &actions)
        }
    }

    /// Starts an attempt of `i`, which the ready queue counts as running already.
    mutating func launch(_ i: Int, attempt: Int, now: Date, actions: inout [Action]) {
        var request: StepRequest
        var wait: WaitReason?
        do {
            request = try makeRequest(compiled.bodies[stepIndex(of: i)], attempt: attempt, item: itemContext(i))
            request.queuedAt = queuedAt[i]
            if suspendsWaits { wait = try waitReason(request)?.get() }
            if wait == nil, let key = try slotKey(i) { wait = .concurrency(key) }
        } catch {
            // A reference that cannot be resolved will not resolve on a retry either.
            readyQueue.finish(i)
            phase[i] = .running(attempt: attempt)
            results[i].attempts = attempt
            end(i, status: .failed, reason: nil, error: "\(error)", now: now, actions: &actions)
            failedWithoutContinue(i, now: now, actions: &actions)
            releaseDownstream(of: i, now: now, actions: &actions)
            return
        }
        if let wait {
            suspend(i, attempt: attempt, request: request, waitingFor: wait, now: now, actions: &actions)
            return
        }
        phase[i] = .running(attempt: attempt)
        attemptStartedAt[i] = now
        results[i].status = .running
        if results[i].startedAt == nil { results[i].startedAt = now }
        actions.append(.startAttempt(step: i, attempt: attempt, request: request))
    }

    /// Records a terminal state; an item's end counts toward its forEach step.
    mutating func end(_ i: Int, status: StepStatus, reason: String?, error: String?, now: Date, actions: inout [Action]) {
        phase[i] = .done
        results[i].status = status
        results[i].waitingFor = nil
        results[i].skipReason = reason
        if let error { results[i].error = error }
        if results[i].startedAt != nil {
            results[i].finishedAt = now
            results[i].duration = results[i].startedAt.map { .clamped(seconds: now.timeIntervalSince($0)) } ?? .zero
        }
        actions.append(.stepFinished(step: i))
        if i < stepCount {
            doneCount += 1
            if status == .success { completionOrder.append(i) }
        } else {
            itemEnded(i, now: now, actions: &actions)
        }
    }

    func isRetryQueued(_ i: Int) -> Bool {
        if case .retryQueued = phase[i] { return true }
        return false
    }
}
