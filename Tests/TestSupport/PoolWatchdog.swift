import Foundation
import Synchronization

/// Says so when Swift's cooperative pool runs nothing for a while, and what every thread is doing.
///
/// The pool has as many threads as cores (two in CI): a test that blocks them (a process waited
/// for, a pipe read, seconds of work without an `await`) freezes every task of the test process,
/// servers and database clients included, and a run that froze for good used to end at the
/// 20-minute limit with nothing to go on. A thread of its own hands the pool an empty task every
/// second. When one has not run after ``noteAfter``, it says which threads are on a CPU (read
/// from /proc, without stopping the process); after ``reportAfter``, `scripts/hang-report` prints
/// each thread's stack (the NovaCron frames) and the test PostgreSQL servers' sessions to
/// standard error. That report attaches a debugger, which stops the whole process for as long as
/// it reads the stacks (17 s on a loaded 2-core machine): done at every short stall, it made the
/// stalls it reported, and leases and timeouts ran out in tests that were only slow. When the
/// pool is still stuck after ``giveUpAfter``, the process exits: the run fails at once, saying
/// why, instead of waiting for the limit.
package enum PoolWatchdog {
    static let noteAfter: Duration = .seconds(10)
    static let reportAfter: Duration = .seconds(60)
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
            var (noted, reported) = (false, false)
            while !ran.flag.load(ordering: .acquiring) {
                usleep(100_000)
                let stuck = clock.now - sent
                if !noted, stuck >= noteAfter {
                    noted = true
                    note("the cooperative pool has run nothing for \(stuck.components.seconds) s")
                }
                if !reported, stuck >= reportAfter {
                    reported = true
                    report("the cooperative pool has run nothing for \(stuck.components.seconds) s")
                }
                if stuck >= giveUpAfter {
                    report("the cooperative pool is still stuck after \(stuck.components.seconds) s; the test process exits")
                    exit(70)
                }
            }
            if noted { FileHandle.standardError.write(Data("test watchdog: the cooperative pool runs again\n".utf8)) }
            usleep(1_000_000)
        }
    }

    /// The threads on a CPU now or waiting for one (state R), by name, read from /proc: what keeps
    /// the pool's threads busy, without stopping anything.
    private static func note(_ what: String) {
        var running: [String: Int] = [:]
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for tid in tasks {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")"), let open = stat.firstIndex(of: "(")
            else { continue }
            let state = stat[stat.index(after: close)...].split(separator: " ").first
            if state == "R" { running[String(stat[stat.index(after: open)..<close]), default: 0] += 1 }
        }
        let names = running.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
        let load = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
        FileHandle.standardError.write(
            Data("test watchdog: \(what); threads of \(tasks.count) on a CPU: \(names.isEmpty ? "none" : names); load \(load)\n".utf8))
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
