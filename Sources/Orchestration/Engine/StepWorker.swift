import Foundation
import Logging
import Synchronization
import Tracing

/// `novacron worker`: runs steps that wait in queues of a store several nodes share
/// (``StepQueue``), adding CPU without running executions' decisions. It claims up to
/// `maxParallel` steps at a time in batches, heartbeats them every third of a claim, writes their
/// outcomes in group commits, and stops a step its execution's node asks to stop. A worker that
/// cannot heartbeat for five sixths of a claim stops its steps (another worker may take them). On
/// shutdown it stops what runs and gives those claims back: they run again elsewhere.
///
/// The worker puts its own values of the secrets a step uses back into it
/// (``SealedSecrets``); a secret it does not have fails the step, saying so.
public final class StepWorker: Sendable {
    let queue: any StepQueue
    let queues: [String]
    let maxParallel: Int
    let runner: AttemptRunner
    let secrets: SecretProvider
    let logger: Logger
    /// The stop signal of each claimed step running here.
    let running = Mutex<[Int64: OneShotSignal]>([:])
    let stopping = Atomic<Bool>(false)
    /// Steps stopped because their claims could not be held: given back, not reported.
    let abandoned = Mutex<Set<Int64>>([])
    /// Rung when a step ends here (a slot is free).
    let slotFreed = Doorbell()
    /// A span for each step run here, under the attempt's span on the execution's node.
    let tracing: ExecutionTracing?

    public init(
        queue: any StepQueue, queues: [String], maxParallel: Int, executors: ExecutorRegistry, secrets: SecretProvider = SecretProvider(),
        configuration: EngineConfiguration = EngineConfiguration(), clock: some Clock<Duration> = ContinuousClock(),
        logger: Logger = Logger(label: "novacron.worker")
    ) {
        self.queue = queue
        self.queues = queues
        self.maxParallel = max(1, maxParallel)
        let context = ExecutorContext(clock: clock, killGracePeriod: configuration.killGracePeriod, logLimit: configuration.logLimit)
        runner = AttemptRunner(executors: executors, context: context, time: TimeSource(clock))
        tracing = configuration.tracer.map(ExecutionTracing.init)
        self.secrets = secrets
        self.logger = logger
    }

    /// Claims and runs steps until the calling task is cancelled; then stops what runs and gives
    /// it back to the queue.
    public func run() async {
        let queue = self.queue
        let results = GroupCommitQueue<(id: Int64, outcome: QueuedOutcome), Void>(
            closedError: StoreError("the worker stopped before this outcome was saved")
        ) { batch in
            try await queue.finish(batch)
            return batch.map { _ in () }
        }
        await withDiscardingTaskGroup { group in
            group.addTask { await results.run() }
            group.addTask { await self.heartbeats() }
            await claimSteps(into: &group, results: results)
            stopping.store(true, ordering: .releasing)
            for signal in running.withLock({ Array($0.values) }) { signal.fire() }
        }
        let unfinished = Set(running.withLock { $0.keys })
        // Not the cancelled task's to do: an unstructured task, so the release reaches the store.
        await Task { [logger] in
            do { try await queue.release(unfinished) } catch {
                logger.warning("cannot give claimed steps back; they return to the queue when their claims run out", metadata: ["error": "\(error)"])
            }
        }.value
    }

    func claimSteps(into group: inout DiscardingTaskGroup, results: GroupCommitQueue<(id: Int64, outcome: QueuedOutcome), Void>) async {
        while !Task.isCancelled {
            let free = maxParallel - running.withLock { $0.count }
            var claimed: [ClaimedStep] = []
            if free > 0 {
                do { claimed = try await queue.claimSteps(queues: queues, limit: free) } catch {
                    if Task.isCancelled { break }
                    logger.warning("cannot claim steps", metadata: ["error": "\(error)"])
                    try? await Task.sleep(for: .seconds(1))
                    continue
                }
            }
            for c in claimed {
                let signal = OneShotSignal()
                running.withLock { $0[c.id] = signal }
                group.addTask { await self.perform(c, signal: signal, results: results) }
            }
            if !claimed.isEmpty, claimed.count < free { continue }
            // Full: wait for a slot. Otherwise for a step to be queued, or a slot, or a second.
            let queue = self.queue, slots = slotFreed, full = claimed.count == free && free > 0 || free <= 0
            await withTaskGroup(of: Void.self) { waits in
                waits.addTask { await slots.wait() }
                if !full { waits.addTask { await queue.waitForSteps(upTo: .seconds(1)) } }
                await waits.next()
                waits.cancelAll()
            }
        }
    }

    /// Runs one claimed step and saves its outcome (unless the worker is stopping: then it goes back).
    func perform(_ claimed: ClaimedStep, signal: OneShotSignal, results: GroupCommitQueue<(id: Int64, outcome: QueuedOutcome), Void>) async {
        let step = claimed.step
        var used: [String] = []
        let outcome: StepOutcome
        let redactor: Redactor
        do {
            let secrets = self.secrets, me = queue.nodeID
            let value = { (name: String) throws -> String in
                guard let v = secrets.value(name) else {
                    throw EngineError(
                        .invalidInput, "secret \(name) is not set on worker \(me) (set \(SecretProvider.environmentPrefix)\(name) where it runs)")
                }
                used.append(v)
                return v
            }
            var request = try SealedSecrets.unseal(step.request, secrets: value)
            redactor = Redactor(secrets: used)
            var metadata: Logger.Metadata = [
                "execution": "\(step.executionID)", "step": "\(step.stepID)", "attempt": "\(step.request.attempt)", "claims": "\(claimed.claims)",
                "id": "\(claimed.id)",
            ]
            if let trace = request.trace { metadata["trace_id"] = "\(trace.traceID)" }
            logger.debug("step claimed", metadata: metadata)
            let span = tracing.map { tracing in
                var attributes = SpanAttributes()
                attributes["novacron.execution.id"] = request.executionID
                attributes["novacron.step.id"] = request.stepID
                attributes["novacron.attempt"] = request.attempt
                attributes["novacron.worker"] = queue.nodeID
                let span = tracing.start(
                    "run \(request.stepID)", parent: request.trace, kind: .consumer, at: runner.time.now(), attributes: attributes)
                request.trace = tracing.headers(of: span) ?? request.trace
                return span
            }
            outcome = redactor.redact(await run(request, signal: signal, redactor: redactor))
            if let span {
                span.attributes["novacron.status"] = outcome.status(cached: false).rawValue
                if let code = outcome.exitCode { span.attributes["process.exit.code"] = code }
                if !outcome.succeeded { span.fail(outcome.error) }
                span.end(at: runner.time.now())
            }
        } catch {
            redactor = Redactor(secrets: used)
            outcome = .failure("\(error)")
        }
        guard !stopping.load(ordering: .acquiring) else { return }
        if abandoned.withLock({ $0.remove(claimed.id) != nil }) {
            try? await queue.release([claimed.id])
            running.withLock { _ = $0.removeValue(forKey: claimed.id) }
            slotFreed.ring()
            return
        }
        let saved = QueuedOutcome(
            ending: outcome.ending.rawValue, outputs: outcome.outputs, error: outcome.error, exitCode: outcome.exitCode, log: outcome.log,
            worker: queue.nodeID)
        do { try await results.wait(for: results.enqueue([(claimed.id, saved)])) } catch {
            logger.warning("cannot save a step's outcome", metadata: ["step": "\(step.stepID)", "error": "\(error)"])
            return
        }
        running.withLock { _ = $0.removeValue(forKey: claimed.id) }
        slotFreed.ring()
    }

    /// Runs the attempt in a child task: stopping it cancels the task it runs in, and the
    /// caller goes on to save the outcome.
    private func run(_ request: StepRequest, signal: OneShotSignal, redactor: Redactor) async -> StepOutcome {
        let runner = self.runner
        return await withTaskGroup(of: StepOutcome.self) { group in
            group.addTask { await runner.run(request, signal: signal, redactor: redactor).outcome }
            return await group.next() ?? .failure("the attempt ended without a result")
        }
    }

    /// Every third of a claim: extends the claims and stops steps lost or asked to stop. When no
    /// heartbeat got through for five sixths of a claim (one hanging counts as not through), it
    /// stops everything: another worker may take those steps once the claims run out.
    func heartbeats() async {
        let clock = ContinuousClock(), claim = queue.claimDuration
        var lastGood = clock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: claim / 3)
            let ids = Set(running.withLock { $0.keys })
            let queue = self.queue, deadline = lastGood + claim * 5 / 6, asked = clock.now
            let answer = await withTimeLimit(max(.zero, clock.now.duration(to: deadline))) { try? await queue.heartbeat(ids) }
            logger.trace(
                "heartbeat", metadata: ["held": "\(ids.sorted())", "answer": "\(String(describing: answer))", "took": "\(clock.now - asked)"])
            if let answer {
                lastGood = clock.now
                let stop = answer.lost.union(answer.stop)
                for signal in running.withLock({ r in stop.compactMap { r[$0] } }) { signal.fire() }
            } else if clock.now >= deadline, !Task.isCancelled {
                logger.error("cannot reach the store to hold claimed steps; stopping them (they run again elsewhere)")
                let held = running.withLock { $0 }
                abandoned.withLock { $0.formUnion(held.keys) }
                for signal in held.values { signal.fire() }
                lastGood = clock.now
            }
        }
    }
}
