import Foundation
import Synchronization

/// Says so when Swift's cooperative pool runs nothing for a while, and what every thread is doing.
///
/// The pool has as many threads as cores (two in CI): a test that blocks them (a process waited
/// for, a pipe read, seconds of work without an `await`) freezes every task of the test process,
/// servers and database clients included, and a run that froze for good used to end at the
/// 20-minute limit with nothing to go on. A thread of its own hands the pool an empty task every
/// second; when one has not run after ``reportAfter``, `scripts/hang-report` prints each thread's
/// stack (the NovaCron frames) and the test PostgreSQL servers' sessions to standard error. When
/// the pool is still stuck after ``giveUpAfter``, the process exits: the run fails at once, saying
/// why, instead of waiting for the limit.
package enum PoolWatchdog {
    static let reportAfter: Duration = .seconds(10)
    static let giveUpAfter: Duration = .seconds(240)

    /// Starts watching (once per process; later calls do nothing).
    package static func start() { _ = started }

    private static let started: Bool = {
        Thread.detachNewThread { watch() }
        return true
    }()

    private static func watch() {
        let clock = ContinuousClock()
        while true {
            let ran = Arc()
            let sent = clock.now
            Task { ran.flag.store(true, ordering: .releasing) }
            var reported = false
            while !ran.flag.load(ordering: .acquiring) {
                usleep(100_000)
                let stuck = clock.now - sent
                if !reported, stuck >= reportAfter {
                    reported = true
                    report("the cooperative pool has run nothing for \(stuck.components.seconds) s")
                }
                if stuck >= giveUpAfter {
                    report("the cooperative pool is still stuck after \(stuck.components.seconds) s; the test process exits")
                    exit(70)
                }
            }
            if reported { FileHandle.standardError.write(Data("test watchdog: the cooperative pool runs again\n".utf8)) }
            usleep(1_000_000)
        }
    }

    private static func report(_ what: String) {
        FileHandle.standardError.write(Data("test watchdog: \(what); every thread and database session:\n".utf8))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Repository.path("scripts/hang-report"))
        process.arguments = [String(getpid())]
        process.standardOutput = FileHandle.standardError
        process.standardError = FileHandle.standardError
        do {
            try process.run()
            process.waitUntilExit()  // on the watchdog's own thread, never the pool's
        } catch {
            FileHandle.standardError.write(Data("test watchdog: cannot run scripts/hang-report: \(error)\n".utf8))
        }
    }

    private final class Arc: Sendable {
        let flag = Atomic<Bool>(false)
    }
}
