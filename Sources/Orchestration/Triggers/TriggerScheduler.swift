import Crypto
import Foundation
import Logging

/// Starts workflows from their triggers: cron schedules on the injected clock, and deliveries
/// handed to ``fire(workflowID:triggerID:payload:)`` (webhooks, incidents, events). Keeps each
/// trigger's state in the store: enabled or not, last fired, last schedule tick, last error.
///
/// Schedules fire at most once per tick: the tick is saved before the execution starts, so a
/// crash in between loses that tick rather than running it twice. After downtime, the ticks
/// missed since the saved one are handled by the trigger's `missedTicks` policy: `skip` (default)
/// forgets them, `one` fires once for all of them, `all` fires once per tick (at most
/// ``maximumCatchUp``).
///
/// ```swift
/// let scheduler = TriggerScheduler(engine: engine, store: store)
/// Task { await scheduler.run() }
/// ```
public actor TriggerScheduler {
    /// One trigger as the API and CLI show it.
    public struct Status: Sendable, Hashable {
        public var workflowID: String
        public var trigger: WorkflowTrigger
        public var state: TriggerState
        /// Whether it fires: the definition's `enabled`, unless enable/disable overrode it.
        public var enabled: Bool
        /// The next schedule tick (schedule triggers that are enabled).
        public var nextFireAt: Date?
    }

    /// The most ticks the `all` policy makes up at once; more are skipped and reported.
    public static let maximumCatchUp = 100

    let engine: WorkflowEngine
    let store: (any TriggerStore)?
    /// Sleeps on its clock; cron ticks are read against its dates (the wall clock, by default).
    let time: TimeSource
    /// The longest one sleep lasts before the wall clock is read again.
    let maximumSleep: Duration
    var random: SplitMix64
    var states: [String: TriggerState] = [:]
    /// The read of the saved states, once: every caller of ``load()`` waits for it.
    var loading: Task<Void, Never>?
    /// Jittered fire times already drawn, by trigger key and tick.
    var jittered: [String: (tick: Date, at: Date)] = [:]
    var wakeUp: CheckedContinuation<Void, Never>?
    var wakePending = false

    public init(
        engine: WorkflowEngine, store: (any TriggerStore)?, time: TimeSource = .system, seed: UInt64 = UInt64.random(in: 0...UInt64.max),
        maximumSleep: Duration = .seconds(30)
    ) {
        self.engine = engine
        self.store = store
        self.time = time
        self.random = SplitMix64(seed: seed)
        self.maximumSleep = maximumSleep
    }

    static func key(_ workflowID: String, _ triggerID: String) -> String { workflowID + "\u{1}" + triggerID }

    // MARK: Running schedules

    /// Fires schedules until cancelled.
    public func run() async {
        await load()
        await catchUp()
        while !Task.isCancelled {
            let due = await fireDue()
            let wait = due.map { max(.zero, Self.duration(from: time.now(), to: $0)) } ?? maximumSleep
            await sleep(min(wait, maximumSleep))
        }
    }

    /// Makes the scheduler look at the registered workflows again now (a workflow was registered
    /// or removed, a trigger enabled or disabled).
    public func wake() {
        if let c = wakeUp {
            wakeUp = nil
            c.resume()
        } else {
            wakePending = true
        }
    }

    func sleep(_ duration: Duration) async {
        if wakePending {
            wakePending = false
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [time] in try? await time.sleep(for: duration) }
            group.addTask { await self.waitForWake() }
            await group.next()
            group.cancelAll()
            self.wake()  // releases the waiter if the clock won
            self.wakePending = false
        }
    }

    func waitForWake() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                if wakePending {
                    wakePending = false
                    c.resume()
                } else {
                    wakeUp = c
                }
            }
        } onCancel: {
            Task { await self.wake() }
        }
    }

    /// Reads the saved states, once. Every caller waits for that one read, and everything that
    /// changes a state calls this first: nothing is changed while the read is under way, which
    /// would then overwrite it (a trigger disabled during a slow start came back enabled).
    func load() async {
        if loading == nil { loading = Task { await self.readStates() } }
        await loading?.value
    }

    private func readStates() async {
        guard let store else { return }
        do {
            for s in try await store.triggerStates(workflowID: nil) { states[Self.key(s.workflowID, s.triggerID)] = s }
        } catch {
            // Without the saved states schedules start counting from now; nothing is lost but catch-up.
        }
    }

    /// The enabled schedule triggers of the registered workflows.
    func schedules() async -> [(workflowID: String, trigger: WorkflowTrigger, schedule: CronSchedule)] {
        var out: [(String, WorkflowTrigger, CronSchedule)] = []
        for workflow in await engine.registeredWorkflows() {
            for trigger in workflow.triggers where trigger.type == .schedule {
                guard isEnabled(workflow.id, trigger), let schedule = try? CronSchedule(trigger: trigger) else { continue }
                out.append((workflow.id, trigger, schedule))
            }
        }
        return out
    }

    /// The enabled triggers of one type across the registered workflows.
    public func enabledTriggers(_ type: TriggerType) async -> [(workflowID: String, trigger: WorkflowTrigger)] {
        await load()
        var out: [(String, WorkflowTrigger)] = []
        for workflow in await engine.registeredWorkflows() {
            for trigger in workflow.triggers where trigger.type == type && isEnabled(workflow.id, trigger) { out.append((workflow.id, trigger)) }
        }
        return out
    }

    func isEnabled(_ workflowID: String, _ trigger: WorkflowTrigger) -> Bool {
        states[Self.key(workflowID, trigger.id)]?.enabled ?? trigger.enabled
    }

    func state(_ workflowID: String, _ triggerID: String) -> TriggerState {
        states[Self.key(workflowID, triggerID)] ?? TriggerState(workflowID: workflowID, triggerID: triggerID)
    }

    func save(_ state: TriggerState) async {
        states[Self.key(state.workflowID, state.triggerID)] = state
        try? await store?.saveTriggerState(state)
    }

    /// After downtime: the ticks between the saved one and now, by each trigger's policy. A
    /// trigger never seen before starts counting from now.
    func catchUp() async {
        let current = time.now()
        for (workflowID, trigger, schedule) in await schedules() { await catchUp(workflowID, trigger, schedule, now: current) }
    }

    /// The ticks of one trigger between its saved one and `now`, by its `missedTicks` policy;
    /// `now` becomes its last tick.
    func catchUp(_ workflowID: String, _ trigger: WorkflowTrigger, _ schedule: CronSchedule, now current: Date) async {
        var s = state(workflowID, trigger.id)
        guard let last = s.lastTick else {
            s.lastTick = current
            await save(s)
            return
        }
        var missed: [Date] = []
        var cursor = last
        while let next = schedule.next(after: cursor), next <= current {
            missed.append(next)
            cursor = next
            if missed.count > Self.maximumCatchUp { break }
        }
        s.lastTick = current
        await save(s)
        guard !missed.isEmpty else { return }
        switch trigger.missedTicks ?? .skip {
        case .skip:
            return
        case .one:
            await fireSchedule(workflowID, trigger, tick: missed.last!, missed: missed.count)
        case .all:
            if missed.count > Self.maximumCatchUp {
                await recordError(
                    workflowID, trigger.id, "more than \(Self.maximumCatchUp) ticks were missed; made up the first \(Self.maximumCatchUp)")
            }
            for tick in missed.prefix(Self.maximumCatchUp) { await fireSchedule(workflowID, trigger, tick: tick, missed: 1) }
        }
    }

    /// Fires what is due; returns when the next schedule is due (with its jitter).
    package func fireDue() async -> Date? {
        var earliest: Date?
        for (workflowID, trigger, schedule) in await schedules() {
            let key = Self.key(workflowID, trigger.id)
            var s = state(workflowID, trigger.id)
            if s.lastTick == nil {
                s.lastTick = time.now()
                await save(s)
            }
            guard let tick = schedule.next(after: s.lastTick!) else { continue }
            // More than one tick due at once: the wall clock jumped forward, or this process
            // stood still (suspended, starved). Those ticks were missed, like ticks during
            // downtime: the trigger's policy decides, not a burst of one execution per tick.
            let current = time.now()
            if let following = schedule.next(after: tick), following <= current {
                jittered[key] = nil
                await catchUp(workflowID, trigger, schedule, now: current)
                if let next = schedule.next(after: current) { earliest = min(earliest ?? next, next) }
                continue
            }
            let at: Date
            if let drawn = jittered[key], drawn.tick == tick {
                at = drawn.at
            } else {
                let spread = trigger.jitter?.seconds ?? 0
                at = spread > 0 ? tick.addingTimeInterval(Double(random.next() % 1_000_000) / 1_000_000 * spread) : tick
                jittered[key] = (tick, at)
            }
            if at <= current {
                jittered[key] = nil
                s.lastTick = tick
                await save(s)
                await fireSchedule(workflowID, trigger, tick: tick, missed: 0)
                // The one after it is due later; look again on the next turn.
                if let following = schedule.next(after: tick) { earliest = min(earliest ?? following, following) }
            } else {
                earliest = min(earliest ?? at, at)
            }
        }
        return earliest
    }

    func fireSchedule(_ workflowID: String, _ trigger: WorkflowTrigger, tick: Date, missed: Int) async {
        // However many nodes run this scheduler, one execution per tick.
        guard await firstAcrossNodes(workflowID, trigger.id, "schedule", tick.formatted(.iso8601)) else { return }
        var payload: [String: JSONValue] = [
            "type": "schedule", "trigger": .string(trigger.id), "scheduledAt": .string(tick.formatted(.iso8601)),
            "scheduledTime": .string(tick.formatted(.iso8601)),
            "firedAt": .string(time.now().formatted(.iso8601)),
        ]
        if missed > 0 { payload["missedTicks"] = .number(Double(missed)) }
        _ = try? await fire(workflowID: workflowID, trigger: trigger, payload: .object(payload))
    }

    // MARK: Event triggers

    /// Fires `event` triggers from the bus until cancelled: a durable consumer, so an event saved
    /// just before a crash still fires at the next start. A trigger matches when the event's type
    /// matches its `event` pattern and its `conditions` hold on the event's data. The engine's
    /// own lifecycle events never start the workflow they are about (no loops).
    public func runEventTriggers(bus: EventBus) async {
        await bus.consume(name: "event-triggers", pattern: "*", interested: { await !self.enabledTriggers(.event).isEmpty }) { event in
            await self.deliver(event)
        }
    }

    /// Fires the event triggers `event` matches; whether it fired any.
    @discardableResult
    func deliver(_ event: BusEvent) async -> Bool {
        var fired = false
        for (workflowID, trigger) in await enabledTriggers(.event) {
            guard let pattern = trigger.event ?? trigger.conditions["event"]?.text, BusEvent.matches(type: event.type, pattern: pattern) else {
                continue
            }
            if event.source == "engine", case .object(let data) = event.data, data["workflowID"] == .string(workflowID) { continue }
            var conditions = trigger.conditions
            conditions["event"] = nil
            guard Webhook.matches(conditions, payload: event.data) else { continue }
            // One execution per event and trigger, however many times the event is delivered (a
            // node taking a consumer over delivers again what was in flight).
            let key = "event/\(event.seq)/" + Hex.encode(SHA256.hash(data: Data("\(workflowID)\u{0}\(trigger.id)".utf8)))
            if (try? await fire(workflowID: workflowID, trigger: trigger, payload: event.json, idempotencyKey: key)) != nil { fired = true }
        }
        return fired
    }

    // MARK: Firing

    /// Starts an execution of `workflowID` for `trigger` with `payload` as `${trigger.…}`; the
    /// trigger's `inputs` are rendered from it. Records the fire, or the error, on the trigger.
    /// With `idempotencyKey`, a fire repeated with the key returns the first one's execution;
    /// with `traceParent` (a delivery's `traceparent`), the execution continues that trace.
    @discardableResult
    public func fire(
        workflowID: String, trigger: WorkflowTrigger, payload: JSONValue, idempotencyKey: String? = nil, traceParent: TraceHeaders? = nil
    ) async throws -> WorkflowExecution {
        await load()
        do {
            let inputs = try Self.inputs(of: trigger, payload: payload)
            var options = ExecutionOptions(trigger: payload, idempotencyKey: idempotencyKey)
            options.traceParent = traceParent
            let (execution, replayed) = try await engine.startExecution(workflowID, inputs: inputs, options: options)
            if replayed { return execution }
            var s = state(workflowID, trigger.id)
            s.lastFiredAt = time.now()
            s.fireCount += 1
            await save(s)
            engine.logger.info(
                "trigger fired",
                metadata: [
                    "workflow": "\(workflowID)", "trigger": "\(trigger.id)", "type": "\(trigger.type.rawValue)", "execution": "\(execution.id)",
                ])
            return execution
        } catch {
            engine.logger.warning(
                "trigger could not start its workflow",
                metadata: [
                    "workflow": "\(workflowID)", "trigger": "\(trigger.id)", "type": "\(trigger.type.rawValue)", "error": "\(error)",
                ])
            await recordError(workflowID, trigger.id, "\(error)")
            throw error
        }
    }

    /// Whether this node fires `trigger` for `id` (a tick, an event): the first node to claim it
    /// in a shared store. A store that cannot say is a fire skipped, noted on the trigger.
    func firstAcrossNodes(_ workflowID: String, _ triggerID: String, _ kind: String, _ id: String) async -> Bool {
        guard let store else { return true }
        do { return try await store.firstAcrossNodes(source: "\(kind):\(workflowID)/\(triggerID)", id: id, at: time.now()) } catch {
            await recordError(workflowID, triggerID, "cannot tell whether another node fires \(kind) \(id): \(error)")
            return false
        }
    }

    /// Notes a problem on the trigger's status (shown by the API, CLI and UI).
    public func recordError(_ workflowID: String, _ triggerID: String, _ message: String) async {
        await load()
        var s = state(workflowID, triggerID)
        s.lastError = message
        s.lastErrorAt = time.now()
        await save(s)
    }

    /// Clears the trigger's last error once what failed works again.
    public func clearError(_ workflowID: String, _ triggerID: String) async {
        await load()
        var s = state(workflowID, triggerID)
        guard s.lastError != nil else { return }
        s.lastError = nil
        s.lastErrorAt = nil
        await save(s)
    }

    // MARK: Status and control

    /// Every trigger of the registered workflows (of one, when given), with its state.
    public func status(workflowID: String? = nil) async -> [Status] {
        await load()
        var out: [Status] = []
        for workflow in await engine.registeredWorkflows() where workflowID == nil || workflow.id == workflowID {
            for trigger in workflow.triggers {
                let s = state(workflow.id, trigger.id)
                let enabled = isEnabled(workflow.id, trigger)
                var next: Date?
                if enabled, let schedule = try? CronSchedule(trigger: trigger) {
                    next = jittered[Self.key(workflow.id, trigger.id)]?.at ?? schedule.next(after: s.lastTick ?? time.now())
                }
                out.append(Status(workflowID: workflow.id, trigger: trigger, state: s, enabled: enabled, nextFireAt: next))
            }
        }
        return out
    }

    /// Switches a trigger on or off without editing the workflow (kept across restarts).
    public func setEnabled(workflowID: String, triggerID: String, _ enabled: Bool) async throws {
        await load()
        guard let workflow = await engine.workflow(workflowID) else { throw EngineError(.notFound, "no workflow '\(workflowID)'") }
        guard workflow.triggers.contains(where: { $0.id == triggerID }) else {
            throw EngineError(
                .notFound, "workflow \(workflowID) has no trigger '\(triggerID)'\(DidYouMean.hint(triggerID, among: workflow.triggers.map(\.id)))")
        }
        var s = state(workflowID, triggerID)
        s.enabled = enabled
        if enabled { s.lastTick = time.now() }  // a schedule switched back on starts from now
        await save(s)
        wake()
    }

    static func duration(from a: Date, to b: Date) -> Duration {
        .clamped(seconds: b.timeIntervalSince(a))
    }
}
