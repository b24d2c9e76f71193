import Foundation
import Synchronization
import Tracing

/// Runs workflows: registers them, starts executions, and applies the decisions of each
/// execution's ``ExecutionStateMachine`` — running attempts, timers, cancellation, rollback.
///
/// The engine's work happens inside ``run()``, which owns every attempt and timer as a child
/// task; ``withEngine(executors:configuration:clock:secrets:cache:_:)`` runs it for the length of
/// a closure.
///
/// ```swift
/// let finished = try await WorkflowEngine.withEngine(executors: executors) { engine in
///     let id = try await engine.registerWorkflow(workflow)
///     let started = try await engine.executeWorkflow(id, inputs: ["env": "prod"])
///     return try await engine.waitForExecution(started.id)
/// }
/// print(finished.status)   // completed
/// ```
public actor WorkflowEngine {
    /// One running or retained execution. A class, so the machine is mutated in place.
    final class Run {
        /// What this run's jobs carry: what they bring back is applied only while this is the
        /// execution's run here, never to a later run of it (handed over, then taken back).
        let identity = RunIdentity()
        var machine: ExecutionStateMachine
        var signals: [Int: OneShotSignal] = [:]
        let redactor: Redactor
        var logs: [String: String] = [:]
        /// Who waits for the end.
        var waiters: [EndWaiter] = []
        var cacheKeys: [Int: String] = [:]
        var final: WorkflowExecution?
        /// The pinned definition version, the options to keep, when it was created.
        var workflowHash = ""
        var options = StoredOptions()
        /// Set when the execution is created, or read back when it is recovered.
        var createdAt = Date.distantPast
        var rollbackStart: Date?
        /// How each step's last attempt ended (for its attempt record).
        var lastOutcome: [Int: AttemptStatus] = [:]
        /// Set when a write to the store failed: the execution cannot be trusted to be saved.
        var storeFailure: String?
        /// What observers add to the transaction of the execution's end, once asked.
        var endingWrites: [StoreWrite]?
        /// Fired when the execution ends, so its timers (workflow timeout, retry delays) stop waiting.
        let timers = OneShotSignal()
        /// Set when another node took the execution over (``leaseLost(_:)``): nothing more of it happens here.
        var handedOver = false
        /// The last signal taken from the store (``deliverSignals(_:)``).
        var signalCursor: Int64 = 0
        /// The root span while this process holds it (its headers are `options.trace`).
        var rootSpan: (any Span)?
        /// When this process took the execution on after a restart or from another node.
        var resumedAt: Date?
        /// The open span of each unit's attempt, rollback or wait.
        var spans = UnitSpans()

        init(machine: ExecutionStateMachine, redactor: Redactor) {
            self.machine = machine
            self.redactor = redactor
        }
    }

    enum Job: Sendable {
        /// Boxed: a job is handed from task to task, and a copy is then a retain, not a request's.
        /// `queued` when a worker serving the step's queue runs it (``runQueued(_:signal:)``).
        indirect case attempt(
            executionID: String, step: Int, attempt: Int, request: StepRequest, signal: OneShotSignal, cacheKey: String?, rollback: Bool,
            redactor: Redactor, queued: QueuedStep?, owner: RunIdentity)
        case timer(delay: Duration, fire: TimerKind, stop: OneShotSignal, owner: RunIdentity)
        /// What an observer handed back after an event.
        case followUp(ExecutionObserverFollowUp)
    }

    /// One run of an execution in this engine, by identity.
    final class RunIdentity: Sendable {}

    enum TimerKind: Sendable {
        case retry(executionID: String, step: Int)
        case rollbackRetry(executionID: String, step: Int)
        case workflowTimeout(executionID: String, timeout: Duration)
        /// The timeout of a step waiting for a decision or a signal.
        case waitTimeout(executionID: String, step: Int)
        /// The time a `wait` step with `until:` waits for.
        case waitUntil(executionID: String, step: Int)

        var executionID: String {
            switch self {
            case .retry(let id, _), .rollbackRetry(let id, _), .waitTimeout(let id, _), .waitUntil(let id, _), .workflowTimeout(let id, _): id
            }
        }
    }

    let executors: ExecutorRegistry
    public let configuration: EngineConfiguration
    /// The engine's time: its clock, and dates that follow it from when the engine started.
    public nonisolated let time: TimeSource
    /// Where `${secrets.NAME}` come from (steps, and the secrets of webhook triggers).
    public nonisolated let secrets: SecretProvider
    let cache: any StepCache
    let context: ExecutorContext
    /// Spans of executions, when ``EngineConfiguration/tracer`` is set.
    nonisolated let tracing: ExecutionTracing?
    /// Where executions are saved; `nil` keeps them in this process only.
    public nonisolated let store: (any WorkflowStore & ExecutionStore)?
    /// Writes to the store in order, group-committed; the engine waits for a write before it
    /// acts on the change, so nothing starts before what led to it is saved.
    let writer: GroupCommitQueue<StoreWrite, Void>?
    /// Who waits for outcomes of attempts that workers run (``StepQueue``).
    let queuedOutcomes = OutcomeWaiters()
    /// Puts attempts in their queues, group-committed like the writes (on a ``StepQueue`` store).
    let enqueuer: GroupCommitQueue<QueuedStep, Int64?>?
    /// Whether the last renewal of the leases reached the store (always, on a store of its own).
    let storeReached = Atomic<Bool>(true)
    /// Idempotency keys of starts and concurrency slots when the store keeps none (or there is no
    /// store): this process's memory, which is all such an engine has.
    let memoryStore = InMemoryStore()
    /// Attempts' ends waiting to be applied (WorkflowEngine+Finished.swift).
    let finished = FinishedInbox()
    /// Learned step durations, which order ready steps (critical path first) and give ETAs;
    /// `nil` estimates from the definition only.
    public nonisolated let estimates: (any DurationEstimates)?
    var workflowHashes: [String: String] = [:]
    /// Executions and steps waiting for a slot of a concurrency key (``askSlot(_:)``).
    var slotWaits: [SlotWait: SlotWaitState] = [:]
    /// Asks for slots in flight, and whether another was wanted meanwhile.
    var slotAsking: [SlotWait: Bool] = [:]
    var draining = false
    /// Set when a drain ended: what still runs is handed back, and its ends are not recorded.
    var handedBack = false
    /// Fired when, while draining, no attempt runs any more.
    let drainIdle = OneShotSignal()
    /// Fired by ``endDrainNow()``: the drain stops waiting for running steps.
    let drainCut = OneShotSignal()
    var workflows: [String: CompiledWorkflow] = [:]
    /// The generation of learned durations each workflow's priorities were computed from.
    var learnedGenerations: [String: Int] = [:]
    var runs: [String: Run] = [:]
    var order: [String] = []
    /// Why executions this node gave up (its lease lost) left it, the newest few hundred: asked
    /// for later, they answer with that instead of "no execution".
    var handedOverReasons = HandedOverReasons()
    /// Executions whose keyed start this engine gave up on after claiming (or while claiming) the
    /// key, so never saved: a start sent again with the key takes it over at once instead of
    /// after ``startKeyGrace`` (``claimStart(key:fingerprint:executionID:)``).
    var startsGivenUp = StartsGivenUp()
    var seeds: SplitMix64
    /// Jobs for ``run()``'s loop to run as child tasks.
    let jobQueue = BatchQueue<Job>()
    let subscribers = Mutex<[UInt64: AsyncStream<ExecutionEvent>.Continuation]>([:])
    let nextSubscriber = Atomic<UInt64>(0)
    let hasSubscribers = Atomic<Bool>(false)
    let observers = Mutex<[any ExecutionObserver]>([])
    /// Whether some observer wants input fingerprints and workflow versions.
    let wantsFingerprints = Atomic<Bool>(false)

    /// - Parameters:
    ///   - executors: who runs each step type.
    ///   - clock: the engine's clock; a manual clock runs everything on virtual time.
    ///   - seed: seeds retry jitter; `nil` for a random seed.
    ///   - estimates: learned step durations (the learning engine's), for priorities and ETAs.
    public init(
        executors: ExecutorRegistry, configuration: EngineConfiguration = EngineConfiguration(),
        clock: some Clock<Duration> = ContinuousClock(), secrets: SecretProvider = SecretProvider(),
        cache: any StepCache = InMemoryStepCache(), store: (any WorkflowStore & ExecutionStore)? = nil, seed: UInt64? = nil,
        estimates: (any DurationEstimates)? = nil
    ) {
        self.store = store
        self.estimates = estimates
        self.writer = store.map { store in
            GroupCommitQueue(closedError: StoreError("the engine stopped before this was saved")) { writes in
                // A LeaseLost fails the batch for every waiter: each save reads from it whether
                // its own execution's writes were refused (the rest of the batch committed).
                try await store.apply(writes)
                return writes.map { _ in () }
            }
        }
        self.enqueuer = (store as? any StepQueue).map { queue in
            GroupCommitQueue(closedError: StoreError("the engine stopped before this step was queued")) { steps in
                try await queue.enqueue(steps)
            }
        }
        self.executors = executors
        let tracing = configuration.tracer.map(ExecutionTracing.init)
        var configuration = configuration
        if let tracing, let logger = configuration.logger { configuration.logger = logger.namingTraces(tracing.traceID(of:)) }
        self.configuration = configuration
        self.time = TimeSource(clock)
        self.secrets = secrets
        self.cache = cache
        self.context = ExecutorContext(clock: clock, killGracePeriod: configuration.killGracePeriod, logLimit: configuration.logLimit)
        self.seeds = SplitMix64(seed: seed ?? UInt64.random(in: .min ... .max))
        self.tracing = tracing
        if let logger = configuration.logger { observe { EngineLog.record($0, logger, traceID: tracing?.traceID(of:)) } }
    }

    /// Does the engine's work (attempts, timers) until the calling task is cancelled.
    public nonisolated func run() async {
        await withDiscardingTaskGroup { group in
            if let writer { group.addTask { await writer.run() } }
            if let leases = store as? any ExecutionLeases { group.addTask { await self.keepLeases(leases) } }
            if let channel = store as? any ExecutionCommands { group.addTask { await self.followCommands(channel) } }
            if store is any SignalStore { group.addTask { await self.followSignals() } }
            group.addTask { await self.followSlots() }
            if let queue = store as? any StepQueue { group.addTask { await self.followOutcomes(queue) } }
            if let enqueuer { group.addTask { await enqueuer.run() } }
            while let jobs = await jobQueue.take() {
                for job in jobs { group.addTask { await self.perform(job) } }
            }
        }
    }

    /// Runs an engine for the length of `body`, then stops it (cancelling what still runs).
    public static func withEngine<R: Sendable>(
        executors: ExecutorRegistry, configuration: EngineConfiguration = EngineConfiguration(),
        clock: some Clock<Duration> = ContinuousClock(), secrets: SecretProvider = SecretProvider(),
        cache: any StepCache = InMemoryStepCache(), store: (any WorkflowStore & ExecutionStore)? = nil, seed: UInt64? = nil,
        _ body: (WorkflowEngine) async throws -> R
    ) async throws -> R {
        let engine = WorkflowEngine(
            executors: executors, configuration: configuration, clock: clock, secrets: secrets, cache: cache, store: store, seed: seed)
        return try await engine.running(body)
    }

    /// Runs this engine for the length of `body`, then stops it (cancelling what still runs).
    public nonisolated func running<R: Sendable>(_ body: (WorkflowEngine) async throws -> R) async throws -> R {
        let engine = self
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await engine.run() }
            defer { group.cancelAll() }
            return try await body(engine)
        }
    }

    /// A stream of every execution's lifecycle events from now on.
    public nonisolated func events() -> AsyncStream<ExecutionEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: ExecutionEvent.self, bufferingPolicy: .unbounded)
        let id = nextSubscriber.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[id] = continuation }
        hasSubscribers.store(true, ordering: .releasing)
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            let empty = self.subscribers.withLock { s -> Bool in
                s[id] = nil
                return s.isEmpty
            }
            if empty, self.observers.withLock({ $0.isEmpty }) { self.hasSubscribers.store(false, ordering: .releasing) }
        }
        return stream
    }

    /// The one hook: `observer` sees every event, synchronously, as it happens (before anyone
    /// waiting for the execution is woken), and may add writes to an execution's end. See
    /// ``ExecutionObserver``.
    public nonisolated func observe(_ observer: some ExecutionObserver) {
        observers.withLock { $0.append(observer) }
        if observer.wantsFingerprints { wantsFingerprints.store(true, ordering: .releasing) }
        hasSubscribers.store(true, ordering: .releasing)
    }

    /// Calls `body` with every event, synchronously, as it happens: for metrics that must be
    /// exact the moment an execution ends. It must be quick and must not call back into the engine.
    public nonisolated func observe(_ body: @escaping @Sendable (ExecutionEvent) -> Void) {
        observe(ClosureObserver(body: body))
    }

    /// Hands `event` to every observer (running what they hand back in the engine's task group)
    /// and, but for attempts' ends, to every ``events()`` stream.
    nonisolated func emit(_ event: @autoclosure () -> ExecutionEvent) {
        guard hasSubscribers.load(ordering: .acquiring) else { return }
        let e = event()
        for o in observers.withLock({ $0 }) {
            if let followUp = o.observe(e) { jobQueue.append(.followUp(followUp)) }
        }
        if case .attemptFinished = e { return }
        subscribers.withLock { for c in $0.values { c.yield(e) } }
    }

    func now() -> Date { time.now() }

    /// Transactions committed to the store so far (each holds every write that piled up while
    /// the one before it committed).
    public nonisolated var storeCommits: Int { writer?.batchCount ?? 0 }
}
