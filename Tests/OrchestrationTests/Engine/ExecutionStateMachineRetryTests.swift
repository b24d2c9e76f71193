import Foundation
import Orchestration
import TestSupport
import Testing

extension ExecutionStateMachineTests {
    @Test("retries follow the policy: exponential delays, attempt numbers, retryOn")
    func retries() throws {
        var m = try machine(
            """
            name: w
            steps:
              - id: flaky
                inputs: {command: x}
                retryPolicy: {maxAttempts: 3, backoffStrategy: exponential, initialDelay: 1s, multiplier: 3, jitter: none}
              - id: only-timeouts
                inputs: {command: x}
                timeout: 5s
                retryPolicy: {maxAttempts: 3, retryOn: [timeout], jitter: none}
            """)
        _ = m.start(now: t0)
        let flaky = m.index("flaky")
        var actions = m.finish("flaky", .failure("1"))
        #expect(actions.retries.map(\.delay) == [.seconds(1)])
        actions = m.retryDue(step: flaky, now: t0)
        #expect(actions.requests.map(\.attempt) == [2])
        actions = m.finish("flaky", .failure("2"))
        #expect(actions.retries.map(\.delay) == [.seconds(3)])
        actions = m.retryDue(step: flaky, now: t0)
        actions = m.finish("flaky", .failure("3"))
        #expect(actions.retries.isEmpty)
        #expect(m.result("flaky").status == .failed)
        #expect(m.result("flaky").attempts == 3)

        actions = m.finish("only-timeouts", .failure("not a timeout"))
        #expect(actions.retries.isEmpty)
        #expect(m.retryCount == 2)
        #expect(actions.finish == .failed)
    }

    @Test("a timed-out attempt is retried when retryOn has timeout, and records timedOut")
    func timeoutRetry() throws {
        var m = try machine(
            """
            name: w
            steps:
              - id: slow
                inputs: {command: x}
                timeout: 5s
                retryPolicy: {maxAttempts: 2, backoffStrategy: fixed, initialDelay: 2s, jitter: none, retryOn: [timeout]}
            """)
        _ = m.start(now: t0)
        var actions = m.finish("slow", StepOutcome.timedOut("timed out after 5s"))
        #expect(actions.retries.map(\.delay) == [.seconds(2)])
        _ = m.retryDue(step: 0, now: t0)
        actions = m.finish("slow", StepOutcome.timedOut("timed out after 5s"))
        #expect(actions.finish == .failed)
        #expect(m.result("slow").timedOut)
        #expect(m.result("slow").value(of: "timedOut") == .bool(true))
    }

    @Test("a retry that came due but waits for a slot is cancelled with the rest, and the execution ends")
    func cancelQueuedRetry() throws {
        var m = try machine(
            """
            name: w
            maxParallelism: 1
            steps:
              - {id: a, inputs: {command: x}, retryPolicy: {maxAttempts: 2, backoffStrategy: fixed, initialDelay: 1s, jitter: none}}
              - {id: b, inputs: {command: y}}
            """)
        #expect(m.start(now: t0).started(m) == ["a"])
        var actions = m.finish("a", .failure("boom"))
        #expect(actions.retries.map(\.step) == [m.index("a")])
        #expect(actions.started(m) == ["b"])
        // a's retry is due while b holds the only slot: it waits in the queue.
        actions = m.retryDue(step: m.index("a"), now: t0.addingTimeInterval(2))
        #expect(actions.started(m).isEmpty)
        actions = m.cancel(reason: "cancelled by user", now: t0.addingTimeInterval(3))
        #expect(m.result("a").status == .cancelled)
        #expect(m.result("a").error == "not retried: cancelled by user")
        #expect(actions.cancelled == [m.index("b")])
        actions = m.finish("b", .cancelled(), at: 4)
        #expect(actions.finish == .cancelled)
        #expect(m.status == .cancelled)
    }
}
