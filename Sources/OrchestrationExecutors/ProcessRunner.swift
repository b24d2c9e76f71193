import Foundation
import Orchestration
import Subprocess
import Synchronization
import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one process in its own process group, keeping the tail of its combined stdout/stderr.
///
/// Cancellation (the step's timeout, or the execution cancelled) sends SIGTERM to the whole
/// group, then SIGKILL after the grace period. When the process ends, whatever it left running
/// in its group is killed too, so a step never leaks processes (detach a daemon with `setsid`).
struct ProcessRunner: Sendable {
    struct Result: Sendable {
        var exitCode: Int?
        var signal: Int32?
        var log: String
        var launchError: String?
    }

    var executable: String
    var arguments: [String]
    var environment: [String: String]
    var workingDirectory: String?
    var grace: Duration
    var logLimit: Int
    var redactor: Redactor

    func run() async -> Result {
        var env: [Environment.Key: String] = [:]
        for (k, v) in environment {
            guard let key = Environment.Key(rawValue: k) else {
                return Result(log: "", launchError: "invalid environment variable name '\(k)'")
            }
            env[key] = v
        }
        var options = PlatformOptions()
        options.processGroupID = 0
        options.teardownSequence = [.gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: grace)]
        let group = Mutex<pid_t>(0)
        let tail = Mutex(LogTail(limit: logLimit, redactor: redactor))
        let exe: Executable = executable.contains("/") ? .path(FilePath(executable)) : .name(executable)
        do {
            let result = try await Subprocess.run(
                exe, arguments: Arguments(arguments), environment: .custom(env),
                workingDirectory: workingDirectory.map { FilePath($0) }, platformOptions: options,
                input: .none, output: .sequence, error: .combinedWithOutput
            ) { execution in
                group.withLock { $0 = execution.processIdentifier.value }
                do {
                    for try await chunk in execution.standardOutput {
                        chunk.withUnsafeBytes { bytes in tail.withLock { $0.append(bytes) } }
                    }
                } catch {
                    // Reading stops when the process ends or the attempt is cancelled.
                }
            }
            killGroup(group.withLock { $0 })
            let log = tail.withLock { $0.text }
            switch result.terminationStatus {
            case .exited(let code): return Result(exitCode: Int(code), log: log)
            case .signaled(let signal): return Result(signal: signal, log: log)
            }
        } catch let error as SubprocessError {
            killGroup(group.withLock { $0 })
            return Result(log: tail.withLock { $0.text }, launchError: describe(error))
        } catch {
            killGroup(group.withLock { $0 })
            return Result(log: tail.withLock { $0.text }, launchError: "\(error)")
        }
    }

    /// Kills what is left of the group and returns once none of it is alive, so a step is never
    /// reported done while a process of it still runs. SIGKILL is delivered asynchronously; the
    /// common case (nothing left) costs one `kill`.
    private func killGroup(_ pgid: pid_t) {
        guard pgid > 0, kill(-pgid, SIGKILL) == 0 else { return }
        // Something was left: wait (at most 2 s) until every member is dead. A dead member may
        // linger as a zombie until its new parent reaps it; it runs nothing.
        for _ in 0..<200 {
            guard kill(-pgid, 0) == 0, Self.groupHasLiveMember(pgid) else { return }
            usleep(10_000)
        }
    }

    /// Whether a process of group `pgid` is alive (not a zombie), from /proc.
    static func groupHasLiveMember(_ pgid: pid_t) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return false }
        for entry in entries where entry.first?.isNumber == true {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            // After "pid (comm)": state ppid pgrp …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 2, Int32(fields[2]) == pgid else { continue }
            if fields[0] != "Z" && fields[0] != "X" { return true }
        }
        return false
    }

    private func describe(_ error: SubprocessError) -> String {
        switch error.code {
        case .executableNotFound: return "command not found: \(executable)"
        case .failedToChangeWorkingDirectory: return "cannot change to working directory \(workingDirectory ?? "")"
        default: return "cannot run \(executable): \(error)"
        }
    }
}
