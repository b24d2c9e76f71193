import Foundation

/// Signals and approval decisions: saved in the store first (``SignalStore``), then taken by the
/// engine running the execution — at once when it is this one, within a second when it is
/// another process or node (each engine reads the signals of its waiting executions), or when the
/// execution is resumed after a crash.
extension WorkflowEngine {
    /// Sends `signal` to its execution. Without a store, the execution must run here.
    public func send(_ signal: ExecutionSignal) async throws {
        if let signals = store as? any SignalStore {
            do { _ = try await signals.addSignal(signal) } catch {
                throw EngineError(.unavailable, "cannot save the \(signal.kind.rawValue): \(error)")
            }
            if runs[signal.executionID] != nil { await deliverSignals(signal.executionID) }
            return
        }
        guard let run = runs[signal.executionID], !run.machine.status.isTerminal else {
            throw EngineError(.notFound, "no running execution '\(signal.executionID)'")
        }
        await apply(run.machine.receive(signal, now: now()), to: run)
    }

    /// Hands execution `id` the signals saved for it since it last looked.
    func deliverSignals(_ id: String) async {
        guard let run = runs[id], !run.machine.status.isTerminal, !run.handedOver, let signals = store as? any SignalStore else { return }
        guard let new = try? await signals.signals(executionID: id, after: run.signalCursor) else { return }
        for signal in new where signal.seq > run.signalCursor && !run.machine.status.isTerminal {
            run.signalCursor = signal.seq
            await apply(run.machine.receive(signal, now: now()), to: run)
        }
    }

    /// Starts the timers of waiting unit `step` (its timeout, from its first start, so a wait
    /// carried on after a restart keeps its deadline; the time an `until:` waits for), if it still waits.
    func armWaitTimers(_ id: String, step: Int, attempt: Int, timeout: Duration?) {
        guard let run = runs[id], run.machine.isSuspended(step, attempt: attempt) else { return }
        let now = self.now()
        if let timeout {
            let started = run.machine.results[step].startedAt ?? now
            let left = max(.zero, timeout - .clamped(seconds: now.timeIntervalSince(started)))
            jobQueue.append(.timer(delay: left, fire: .waitTimeout(executionID: id, step: step), stop: run.timers, owner: run.identity))
        }
        if case .until(let time)? = run.machine.results[step].waitReason {
            let delay = Duration.clamped(seconds: max(0, time.timeIntervalSince(now)))
            jobQueue.append(.timer(delay: delay, fire: .waitUntil(executionID: id, step: step), stop: run.timers, owner: run.identity))
        }
    }

    /// The executions with a step waiting for a decision or a signal.
    func waitingExecutions() -> [String] {
        runs.compactMap { id, run in !run.machine.status.isTerminal && run.machine.waitsForOutside ? id : nil }
    }

    /// While ``run()`` runs: takes, every second, the signals other processes saved for the
    /// executions waiting here (real time, whatever the engine's clock).
    nonisolated func followSignals() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: .seconds(1)) } catch { return }
            for id in await waitingExecutions() { await deliverSignals(id) }
        }
    }
}
