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
/// If this process dies first, ``ProcessWatchdog`` kills the group; recovery stops what is
/// left from the ``ProcessHandle`` recorded with the attempt.
///
/// The process starts behind a gate: a `/bin/sh` that waits for `go` on a pipe before it execs the
/// real program (stdin then /dev/null). The gate opens once the group is known to the watchdog
/// and reported to the engine; should this process die before that, the pipe closes without `go`
/// and the step never runs — so no step can start that nothing would stop.
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
    /// Told the group's ``ProcessHandle`` once it exists (the engine records it with the attempt).
    var processStarted: @Sendable (ProcessHandle) -> Void = { _ in }

    /// Waits for the word `go` on stdin, then becomes the step's program.
    static let gate = #"IFS= read -r word || exit 125; [ "$word" = go ] || exit 125; exec "$0" "$@" </dev/null"#
    /// The same wait at the top of a shell step's own script, so it costs no second shell.
    static let inlineGate =
        #"IFS= read -r __novacron_gate || exit 125; [ "$__novacron_gate" = go ] || exit 125; unset __novacron_gate; exec </dev/null"# + "\n"

    /// What to spawn: a `/bin/sh -c SCRIPT` step gets the gate in its script; anything else runs
    /// behind a gate shell that execs it.
    static func gated(_ program: String, _ arguments: [String]) -> (String, [String]) {
        if program == "/bin/sh", arguments.count == 2, arguments[0] == "-c" {
            return (program, ["-c", inlineGate + arguments[1]])
        }
        return ("/bin/sh", ["-c", gate, program] + arguments)
    }

    func run() async -> Result {
        guard let program = Self.resolve(executable, path: environment["PATH"], in: workingDirectory) else {
            return Result(log: "", launchError: "command not found: \(executable)")
        }
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
        // The gate's pipe: its write end stays here (close-on-exec, so no child holds it).
        var gate: [Int32] = [-1, -1]
        guard pipe(&gate) == 0 else { return Result(log: "", launchError: "cannot create a pipe: errno \(errno)") }
        _ = fcntl(gate[1], F_SETFD, FD_CLOEXEC)
        let (readEnd, writeEnd) = (gate[0], gate[1])
        defer { close(writeEnd) }
        let (spawned, spawnedArguments) = Self.gated(program, arguments)
        do {
            let result = try await Subprocess.run(
                .path(FilePath(spawned)), arguments: Arguments(spawnedArguments), environment: .custom(env),
                workingDirectory: workingDirectory.map { FilePath($0) }, platformOptions: options,
                input: .fileDescriptor(FileDescriptor(rawValue: readEnd), closeAfterSpawningProcess: true),
                output: .sequence, error: .combinedWithOutput
            ) { execution in
                let pgid = execution.processIdentifier.value
                group.withLock { $0 = pgid }
                ProcessWatchdog.shared.started(pgid)
                if let handle = ProcessHandle.ofGroupLeader(pgid) { processStarted(handle) }
                // Known to the watchdog and to the engine: let it run.
                _ = "go\n".withCString { write(writeEnd, $0, 3) }
                do {
                    for try await chunk in execution.standardOutput {
                        chunk.withUnsafeBytes { bytes in tail.withLock { $0.append(bytes) } }
                    }
                } catch {
                    // Reading stops when the process ends or the attempt is cancelled.
                }
            }
            await killGroup(group.withLock { $0 })
            let log = tail.withLock { $0.text }
            switch result.terminationStatus {
            case .exited(let code): return Result(exitCode: Int(code), log: log)
            case .signaled(let signal): return Result(signal: signal, log: log)
            }
        } catch let error as SubprocessError {
            await killGroup(group.withLock { $0 })
            return Result(log: tail.withLock { $0.text }, launchError: describe(error))
        } catch {
            await killGroup(group.withLock { $0 })
            return Result(log: tail.withLock { $0.text }, launchError: "\(error)")
        }
    }

    /// Kills what is left of the group and returns once none of it is alive, so a step is never
    /// reported done while a process of it still runs. SIGKILL is delivered asynchronously; the
    /// common case (nothing left) costs one `kill`.
    private func killGroup(_ pgid: pid_t) async {
        guard pgid > 0 else { return }
        defer { ProcessWatchdog.shared.ended(pgid) }
        guard kill(-pgid, SIGKILL) == 0 else { return }
        // Something was left: wait (at most 2 s) until every member is dead, on a thread of its
        // own (not one of the pool's few). A dead member may linger as a zombie until its new
        // parent reaps it; it runs nothing.
        await OwnThread.run {
            for _ in 0..<200 {
                guard kill(-pgid, 0) == 0, ProcessHandle.groupHasLiveMember(pgid) else { return }
                usleep(10_000)
            }
        }
    }

    /// `name` as a path to an executable file: itself when it holds a `/`, else the first match
    /// along `path` (the step's PATH); `nil` when there is none.
    static func resolve(_ name: String, path: String?, in directory: String? = nil) -> String? {
        if name.contains("/") {
            // A relative path is relative to where the step runs.
            let located = name.hasPrefix("/") || directory == nil ? name : "\(directory!)/\(name)"
            return access(located, X_OK) == 0 ? name : nil
        }
        for folder in (path ?? "/usr/bin:/bin").split(separator: ":") where !folder.isEmpty {
            let candidate = "\(folder)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private func describe(_ error: SubprocessError) -> String {
        switch error.code {
        case .executableNotFound: return "command not found: \(executable)"
        case .failedToChangeWorkingDirectory: return "cannot change to working directory \(workingDirectory ?? "")"
        default: return "cannot run \(executable): \(error)"
        }
    }
}
