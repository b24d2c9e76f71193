import Foundation
import Synchronization
import Testing

/// Runs a test on a thread of its own instead of Swift's cooperative pool: for tests that compute
/// for seconds without an `await` (thousands of random cases, 100,000-step workflows).
///
/// The pool has as many threads as cores (two in CI). Two such tests side by side held both for
/// 45 s at the start of every full run (``PoolWatchdog`` named them): every other test stood still
/// meanwhile, PostgreSQL ended the transactions it left idle, and tests that kill a process at a
/// given moment killed it tens of seconds late. Whatever the test awaits runs on its thread too
/// (child tasks inherit the preference), so it no longer competes for the pool.
///
/// ```swift
/// @Test("1,500 random histories …", .ownThread)
/// ```
package struct OwnThreadTrait: TestTrait, SuiteTrait, TestScoping {
    package var isRecursive: Bool { true }

    package func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        // A suite's scope holds its tests' scopes: each test gets its own thread, not the suite.
        guard testCase != nil else { return try await function() }
        let executor = ThreadExecutor(name: test.name)
        defer { executor.stop() }
        try await withTaskExecutorPreference(executor) { try await function() }
    }
}

extension Trait where Self == OwnThreadTrait {
    /// Runs the test on a thread of its own (``OwnThreadTrait``).
    package static var ownThread: Self { OwnThreadTrait() }
}

/// A task executor that runs every job it is given, in order, on one thread it owns, until
/// ``stop()``; jobs that come later (a task the test left running) run on Dispatch's threads.
final class ThreadExecutor: TaskExecutor, Sendable {
    private struct State {
        var jobs: [UnownedJob] = []
        var stopped = false
    }
    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in
            // Below the pool's threads: these tests are CPU-bound, the pool's work waits on timers
            // and sockets. (Linux keeps nice values per thread: who 0 is this thread alone.)
            #if os(Linux)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
            #endif
            loop()
        }
        thread.name = String(name.prefix(15))
        thread.stackSize = 8 << 20
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let stopped = state.withLock { s in
            if !s.stopped { s.jobs.append(job) }
            return s.stopped
        }
        if stopped {
            DispatchQueue.global().async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
        } else {
            ready.signal()
        }
    }

    /// Ends the thread once the jobs already given have run.
    func stop() {
        state.withLock { $0.stopped = true }
        ready.signal()
    }

    private func loop() {
        while true {
            ready.wait()
            let (jobs, stopped) = state.withLock { s in
                defer { s.jobs.removeAll() }
                return (s.jobs, s.stopped)
            }
            for job in jobs { job.runSynchronously(on: asUnownedTaskExecutor()) }
            if stopped { return }
        }
    }
}
