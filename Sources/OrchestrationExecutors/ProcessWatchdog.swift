import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes step processes die with the process that started them, even by SIGKILL.
///
/// Steps run in process groups of their own, so nothing the kernel does on our death reaches
/// them (`PR_SET_PDEATHSIG` follows the spawning *thread*, and covers only the direct child).
/// Instead, one small `/bin/sh` per engine process reads a pipe only we hold: `+PGID` when a step's
/// group starts, `-PGID` when it has ended. When the pipe closes — we exited or were killed — it
/// kills every group still listed, then exits. It ignores SIGINT, SIGTERM and SIGHUP, so a Ctrl-C
/// that reaches it does not stop it before we have stopped our steps ourselves.
///
/// Recovery still stops leftovers from the attempt's recorded ``ProcessHandle``: the watchdog
/// cannot help when the whole machine or its own process died.
final class ProcessWatchdog: Sendable {
    static let shared = ProcessWatchdog()

    /// The pipe's write end, or -1 when no watchdog could be started.
    private let writeEnd = Mutex<Int32?>(nil)

    static let script = """
        trap '' INT TERM HUP
        groups=
        while read -r op pg; do
          case "$op" in
            +) groups="$groups $pg" ;;
            -) kept=; for g in $groups; do [ "$g" = "$pg" ] || kept="$kept $g"; done; groups=$kept ;;
          esac
        done
        for g in $groups; do kill -KILL -"$g" 2>/dev/null; done
        """

    /// `pgid` is a step's group: kill it if we die before ``ended(_:)``.
    func started(_ pgid: pid_t) { send("+ \(pgid)\n") }

    /// `pgid` has ended (and been killed to the last member).
    func ended(_ pgid: pid_t) { send("- \(pgid)\n") }

    private func send(_ line: String) {
        writeEnd.withLock { fd in
            if fd == nil { fd = Self.start() }
            guard let f = fd, f >= 0 else { return }
            var bytes = Array(line.utf8)
            let n = bytes.withUnsafeMutableBytes { write(f, $0.baseAddress, $0.count) }
            if n != bytes.count, errno == EPIPE {
                // It died: the next step starts a new one. (A watchdog that only stopped reading
                // keeps its pipe — closing it would make it kill the steps it knows when it wakes;
                // the line is dropped, and recovery still stops leftovers from the recorded handles.)
                close(f)
                fd = nil
            }
        }
    }

    /// The descriptors open in this process, from /proc/self/fd.
    static func openDescriptors() -> [Int32] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []).compactMap(Int32.init)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which the Glibc module
    /// does not declare; nil where the C library has none.
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: CloseFrom? = dlsym(dlopen(nil, RTLD_NOW), "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }

    /// Starts the watchdog (posix_spawn, synchronously: no task to wait for); returns the write
    /// end of its pipe, or -1.
    private static func start() -> Int32 {
        // A dead watchdog must not kill us with SIGPIPE on the next write.
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [0, 0]
        // Called with the lock held, so no other step spawns between pipe() and FD_CLOEXEC here
        // (and the step spawner closes every other descriptor in its children anyway).
        guard pipe(&fds) == 0 else { return -1 }
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        // Never block a step's start on a watchdog that stopped reading (SIGSTOP, a frozen cgroup).
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
            close(fds[0])
        }
        posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        // It holds nothing else of ours open: a pipe it inherited would never reach end-of-file
        // for whoever reads it (a socket, a child's output). Closed in the child at spawn time, so
        // an fd another thread opens meanwhile is closed too (a list of the fds open now missed
        // those, and a test's pipe then never ended: seen as a hung CLI test).
        if Self.addCloseFrom?(&actions, 3) != 0 {
            // glibc ignores a close of an fd that was closed meanwhile.
            for fd in Self.openDescriptors() where fd > 2 {
                posix_spawn_file_actions_addclose(&actions, fd)
            }
        }
        // A group of its own: a Ctrl-C for our group does not reach it.
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
        defer { for p in argv + envp { free(p) } }
        guard posix_spawn(&pid, "/bin/sh", &actions, &attributes, argv, envp) == 0 else {
            close(fds[1])
            return -1
        }
        return fds[1]
    }
}
