import Foundation
import Logging
import Synchronization

extension WorkflowEngine {
    /// The attempt as its queue keeps it: the request with the execution's secret values sealed
    /// (``SealedSecrets``), so they are not written to the shared store.
    func queued(_ request: StepRequest, on queue: String, run: Run) -> QueuedStep {
        QueuedStep(queue: queue, request: SealedSecrets.seal(request, secrets: run.machine.values.secrets))
    }

    /// Runs an attempt on a worker serving its queue: queues it, then waits for its outcome, the
    /// stop signal (cancel: withdrawn, or the worker asked to stop it) or its timeout (plus a
    /// claim's length, so the worker's own timeout, with the log, is the one that usually ends it).
    nonisolated func runQueued(_ step: QueuedStep, signal: OneShotSignal) async -> StepOutcome {
        guard let queue = store as? any StepQueue, let enqueuer else {
            return .failure(
                "step \(step.stepID) names queue '\(step.queue)', and only a store several nodes share has queues: run it on PostgreSQL (--database-url) with a worker serving the queue (novacron worker --queue \(step.queue))"
            )
        }
        let id: Int64
        do {
            guard let queued = try await enqueuer.submit(step) else {
                await leaseLost(step.executionID, because: "another node holds it")
                return .failure("another node holds the execution")
            }
            id = queued
        } catch {
            return .failure("could not queue the step on '\(step.queue)': \(error)")
        }
        enum Race: Sendable { case outcome(QueuedOutcome?), stop, timeout }
        let waiters = queuedOutcomes, time = self.time, grace = queue.claimDuration
        let first = await withTaskGroup(of: Race.self) { group -> Race in
            group.addTask { .outcome(await waiters.wait(id)) }
            group.addTask {
                await signal.wait()
                return .stop
            }
            if let timeout = step.request.timeout {
                group.addTask {
                    do { try await time.sleep(for: timeout + grace) } catch { return .stop }
                    return .timeout
                }
            }
            let first = await group.next() ?? .stop
            group.cancelAll()
            return first
        }
        if case .outcome(let outcome?) = first { return Self.outcome(outcome) }
        let timedOut: Bool
        if case .timeout = first { timedOut = true } else { timedOut = false }
        // Stopped or out of time: withdraw it, or wait (a while) for the worker to say it stopped.
        let withdrawn = (try? await queue.withdraw(id)) ?? false
        if !withdrawn {
            if let confirmed = await withTimeLimit(grace * 2, { await waiters.wait(id) }) {
                var outcome = Self.outcome(confirmed)
                if timedOut, outcome.ending == .cancelled { outcome.ending = .timedOut }
                return outcome
            }
        }
        let whose = withdrawn ? "before a worker serving queue '\(step.queue)' took it" : "(the worker did not confirm it stopped)"
        if timedOut {
            return StepOutcome(ending: .timedOut, error: "timed out after \(DurationText.format(step.request.timeout ?? .zero)) \(whose)")
        }
        return StepOutcome(ending: .cancelled, error: "cancelled \(whose)")
    }

    static func outcome(_ q: QueuedOutcome) -> StepOutcome {
        StepOutcome(ending: StepOutcome.Ending(rawValue: q.ending) ?? .failed, outputs: q.outputs, error: q.error, exitCode: q.exitCode, log: q.log)
    }

    /// Takes outcomes of queued attempts for whoever waits for them (``runQueued(_:signal:)``),
    /// woken by `NOTIFY`, polling every second as the fallback. A child task of ``run()``.
    nonisolated func followOutcomes(_ queue: any StepQueue) async {
        let waiters = queuedOutcomes
        while !Task.isCancelled {
            let ids = waiters.ids
            guard !ids.isEmpty else {
                await waiters.someoneWaits()
                continue
            }
            var taken = 0
            do {
                let outcomes = try await queue.takeOutcomes(ids)
                taken = outcomes.count
                waiters.settle(outcomes)
            } catch {
                logger.warning("cannot take outcomes of queued steps", metadata: ["error": "\(error)"])
            }
            if taken == 0 { await queue.waitForOutcomes(upTo: .seconds(1)) }
        }
    }
}

/// Who waits for which queued attempt's outcome; outcomes taken for a waiter that stopped
/// waiting are kept for its next wait.
final class OutcomeWaiters: Sendable {
    struct State {
        var waiting: [Int64: CheckedContinuation<QueuedOutcome?, Never>] = [:]
        var arrived: [Int64: QueuedOutcome] = [:]
    }
    let state = Mutex(State())
    /// Rung when someone starts waiting.
    let bell = Doorbell()

    var ids: Set<Int64> { state.withLock { Set($0.waiting.keys) } }

    /// The outcome of `id`, or `nil` when the calling task is cancelled first.
    func wait(_ id: Int64) async -> QueuedOutcome? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<QueuedOutcome?, Never>) in
                let ready = state.withLock { s -> QueuedOutcome?? in
                    if let o = s.arrived.removeValue(forKey: id) { return .some(o) }
                    // Checked under the lock the cancellation handler takes: one of the two sees the other.
                    if Task.isCancelled { return .some(nil) }
                    s.waiting[id] = c
                    return nil
                }
                if let ready { c.resume(returning: ready) } else { bell.ring() }
            }
        } onCancel: {
            state.withLock { $0.waiting.removeValue(forKey: id) }?.resume(returning: nil)
        }
    }

    func settle(_ outcomes: [Int64: QueuedOutcome]) {
        let ready = state.withLock { s in
            outcomes.map { id, outcome -> (CheckedContinuation<QueuedOutcome?, Never>, QueuedOutcome)? in
                guard let c = s.waiting.removeValue(forKey: id) else {
                    s.arrived[id] = outcome
                    return nil
                }
                return (c, outcome)
            }
        }
        for case let (c, outcome)? in ready { c.resume(returning: outcome) }
    }

    /// Returns when someone starts waiting (or the calling task is cancelled).
    func someoneWaits() async {
        await bell.wait()
    }
}
