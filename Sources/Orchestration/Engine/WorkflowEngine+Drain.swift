import Foundation

extension WorkflowEngine {
    /// Drains before a shutdown: nothing new starts (in any execution, from now on), and this
    /// returns once no attempt runs or `grace` has passed, whichever comes first. What is still
    /// running afterwards is handed back: cancel ``run()``, and the next process carries it on
    /// (``recover()``) from the saved state. New executions are refused while draining.
    ///
    /// Once this returns, what still runs is handed back as it is: the attempts that end when
    /// ``run()`` is cancelled are neither saved nor reported (no `stepFinished`, no end), so
    /// observers and the event bus never announce an end the next process will not agree with.
    public func drain(grace: Duration) async {
        draining = true
        defer {
            handedBack = true
            for run in runs.values where !run.machine.status.isTerminal { traceHandedBack(run) }
        }
        for run in runs.values where !run.machine.status.isTerminal { run.machine.hold() }
        guard runningAttempts > 0 else { return }
        let time = self.time
        let idle = drainIdle, cut = drainCut
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await idle.wait() }
            group.addTask { await cut.wait() }
            group.addTask { try? await time.sleep(for: grace) }
            await group.next()
            group.cancelAll()
        }
    }

    /// Ends a ``drain(grace:)`` under way (or the next one) at once, as if its grace had run out:
    /// what still runs is handed back now. For a second SIGTERM or Ctrl-C during the drain.
    public nonisolated func endDrainNow() { drainCut.fire() }

    /// Whether ``drain(grace:)`` was called.
    public var isDraining: Bool { draining }

    /// Steps ready and waiting for a slot, across every execution.
    public func readyQueueDepth() -> Int {
        runs.values.reduce(0) { $0 + ($1.machine.status.isTerminal ? 0 : $1.machine.readyCount) }
    }

    var runningAttempts: Int {
        runs.values.reduce(0) { $0 + ($1.machine.status.isTerminal ? 0 : $1.machine.runningAttempts) }
    }

    func resumeDrainWaitersIfIdle() {
        if runningAttempts == 0 { drainIdle.fire() }
    }
}
