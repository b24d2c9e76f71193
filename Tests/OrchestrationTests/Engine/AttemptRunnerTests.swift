import Foundation
import OrchestrationTesting
import Synchronization
import Testing

@testable import Orchestration

/// The attempt runs in the calling task: a stop or a timeout cancels that task (and says so), an
/// attempt that ended is never cancelled afterwards, and one stopped before it began never starts.
@Suite("Attempt runner: the attempt in the caller's task")
struct AttemptRunnerTests {
    /// Waits, on the machine's clock, until its task is cancelled; says whether it was.
    struct UntilCancelled: StepExecutor {
        let started = OneShotSignal()
        func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
            started.fire()
            try? await Task.sleep(for: .seconds(3600))
            return Task.isCancelled ? .failure("stopped by cancellation") : .success(outputs: ["slept": .bool(true)])
        }
    }

    func runner(_ executor: some StepExecutor, clock: VirtualClock = VirtualClock()) -> AttemptRunner {
        var executors = ExecutorRegistry()
        for type in StepType.allCases { executors.register(executor, for: type) }
        return AttemptRunner(executors: executors, context: ExecutorContext(clock: clock), time: TimeSource(clock))
    }

    func request(timeout: Duration? = nil) -> StepRequest {
        StepRequest(executionID: "e1", workflowID: "w", stepID: "s", attempt: 1, type: .task, action: nil, inputs: [:], timeout: timeout)
    }

    @Test("a stop signal cancels the attempt in the caller's task: the outcome is cancelled and the task says it was cancelled")
    func stopped() async {
        let executor = UntilCancelled(), signal = OneShotSignal()
        let runner = runner(executor)
        let task = Task { () -> (AttemptRunner.Ran, Bool) in
            let ran = await runner.run(request(), signal: signal, redactor: Redactor(secrets: []))
            return (ran, Task.isCancelled)
        }
        await executor.started.wait()
        signal.fire()
        let (ran, cancelled) = await task.value
        #expect(ran.outcome.ending == .cancelled)
        #expect(ran.outcome.error == "stopped by cancellation")
        #expect(ran.cancelledTask && cancelled)
    }

    @Test("the timeout, on the engine's clock, cancels the attempt and names itself; a stop after that changes nothing")
    func timedOut() async {
        let clock = VirtualClock(), executor = UntilCancelled(), signal = OneShotSignal()
        let runner = runner(executor, clock: clock)
        let task = Task { await runner.run(request(timeout: .seconds(30)), signal: signal, redactor: Redactor(secrets: [])) }
        await executor.started.wait()
        await clock.waitForSleepers(1)
        clock.advance(by: .seconds(30))
        let ran = await task.value
        signal.fire()
        #expect(ran.outcome.ending == .timedOut)
        #expect(ran.outcome.error == "timed out after 30s")
        #expect(ran.cancelledTask)
    }

    @Test("an attempt that ended leaves its task uncancelled, whatever fires after; its timer is gone")
    func endedIsNotCancelled() async {
        let clock = VirtualClock(), signal = OneShotSignal()
        let runner = runner(NoopExecutor(), clock: clock)
        let task = Task { () -> (AttemptRunner.Ran, Bool) in
            let ran = await runner.run(request(timeout: .seconds(30)), signal: signal, redactor: Redactor(secrets: []))
            signal.fire()
            clock.advance(by: .seconds(60))
            await Task.yield()
            return (ran, Task.isCancelled)
        }
        let (ran, cancelled) = await task.value
        #expect(ran.outcome.ending == .succeeded)
        #expect(!ran.cancelledTask && !cancelled)
        #expect(clock.sleeperCount == 0)
    }

    @Test("a signal fired before the attempt starts: the executor is never called, the outcome is cancelled")
    func firedBefore() async {
        let signal = OneShotSignal(), executor = UntilCancelled()
        signal.fire()
        let ran = await runner(executor).run(request(), signal: signal, redactor: Redactor(secrets: []))
        #expect(ran.outcome.ending == .cancelled)
        #expect(ran.outcome.error == "not started: the execution stopped before this attempt began")
        #expect(!ran.cancelledTask && !Task.isCancelled)
        #expect(!executor.started.isFired)
    }

    @Test("an action registered with a signal runs once when it fires, at once when it fired already, never once forgotten")
    func signalActions() {
        let signal = OneShotSignal(), calls = Mutex([String]())
        let kept = signal.whenFired { calls.withLock { $0.append("kept") } }
        let dropped = signal.whenFired { calls.withLock { $0.append("dropped") } }
        signal.forget(dropped)
        signal.fire()
        signal.fire()
        _ = signal.whenFired { calls.withLock { $0.append("late") } }
        signal.forget(kept)
        #expect(calls.withLock { $0 } == ["kept", "late"])
    }
}
