import Foundation
import Orchestration
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Recovery stops what an interrupted attempt left running — and only that.
@Suite("Process handles: recovery stops leftover process groups, never a stranger")
struct ProcessHandleTests {
    /// `sleep 60` leading a process group of its own, as a step's process does (Foundation's
    /// Process starts its child in a new group).
    func groupLeader() throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sleep")
        p.arguments = ["60"]
        try p.run()
        return p
    }

    @Test("a recorded group is found again and killed; one whose leader has another start time, or from another boot or host, is left alone")
    func stopOnlyWhatIsProvablyOurs() async throws {
        let p = try groupLeader()
        defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
        let pid = p.processIdentifier
        // Once it has exec'd sleep (polled on a thread of its own: the polling sleeps, and so do
        // the stops below while they wait for the group to die).
        let handle = await OwnThread.run { () -> ProcessHandle? in
            var handle: ProcessHandle?
            for _ in 0..<500 where handle?.processGroup != pid {
                if let h = ProcessHandle.ofGroupLeader(pid), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                    stat.contains("(sleep)")
                {
                    handle = h
                } else {
                    usleep(2000)
                }
            }
            return handle
        }
        let recorded = try #require(handle)
        #expect(recorded.host == ProcessHandle.hostName)

        var reused = recorded
        reused.startTicks += 1  // the same pid, another process
        let reusedStop = await OwnThread.run { [reused] in reused.stop(timeout: .milliseconds(200)) }
        #expect(reusedStop == .gone)
        var rebooted = recorded
        rebooted.bootID = "another-boot"
        if case .elsewhere = rebooted.stop() {} else { Issue.record("a handle from another boot was acted on") }
        var otherSession = recorded
        otherSession.session = (recorded.session ?? 0) + 1  // a later group reusing the number, in a session of its own
        let otherSessionStop = await OwnThread.run { [otherSession] in otherSession.stop(timeout: .milliseconds(200)) }
        #expect(otherSessionStop == .gone)
        var remote = recorded
        remote.host = "some-other-host"
        if case .elsewhere = remote.stop() {} else { Issue.record("a handle from another host was acted on") }
        #expect(p.isRunning)

        let stopped = await OwnThread.run { recorded.stop() }
        #expect(stopped == .stopped)
        await p.exited()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGKILL)
        #expect(recorded.stop() == .gone)
    }
}
