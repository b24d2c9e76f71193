import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Enough to find a step's process group again after the engine that started it died, and to be
/// sure it is still that group: the host, the boot (a reboot reuses every pid), the group id, and
/// the start time of its leader in clock ticks since boot (a pid reused within one boot has
/// another start time). Recorded with the attempt when its process starts; recovery stops the
/// group before it runs the next attempt, so one step never runs twice at the same time.
public struct ProcessHandle: Sendable, Hashable, Codable {
    public var host: String
    public var bootID: String
    public var processGroup: Int32
    public var startTicks: UInt64
    /// The session the group belongs to (the engine's): a group that reuses the number later, in
    /// a daemon's session of its own, is never taken for it.
    public var session: Int32?

    public init(host: String, bootID: String, processGroup: Int32, startTicks: UInt64, session: Int32? = nil) {
        self.host = host
        self.bootID = bootID
        self.processGroup = processGroup
        self.startTicks = startTicks
        self.session = session
    }

    /// The handle of the group led by `pid` (a process started in a group of its own — it may not
    /// have moved into it yet when this is read right after the spawn), read from /proc; `nil`
    /// where there is no /proc or the process is already gone.
    public static func ofGroupLeader(_ pid: Int32) -> ProcessHandle? {
        guard pid > 0, let stat = ProcStat(pid: pid), let boot = Self.bootID else { return nil }
        return ProcessHandle(host: Self.hostName, bootID: boot, processGroup: pid, startTicks: stat.startTicks, session: stat.session)
    }

    /// What ``stop(timeout:)`` found.
    public enum StopResult: Sendable, Hashable {
        /// Members of the group were alive and are now dead.
        case stopped
        /// Nothing of it was alive any more.
        case gone
        /// It ran on another host or before a reboot: nothing here can stop it (or it is gone).
        case elsewhere(String)
        /// Still alive after the timeout (it ignores nothing SIGKILL sends, so this means the kernel
        /// has not reaped it yet — or this process may not signal it).
        case stillRunning
    }

    /// Kills every process of the group that is provably this one: the leader with the recorded
    /// start time, or — once the leader is gone — members of the same session started no earlier
    /// than it (Linux does not hand out a pid still in use as a group id, so while they live they
    /// are its children; the session rules out a later group that reuses the number). Waits until
    /// they are dead, at most `timeout`.
    public func stop(timeout: Duration = .seconds(5)) -> StopResult {
        guard host == Self.hostName else { return .elsewhere("it ran on host \(host)") }
        guard bootID == Self.bootID else { return .elsewhere("it ran before this machine restarted") }
        var members = self.members()
        guard !members.isEmpty else { return .gone }
        let deadline = ContinuousClock.now + timeout
        while !members.isEmpty {
            for pid in members { kill(pid, SIGKILL) }
            if ContinuousClock.now >= deadline { return .stillRunning }
            usleep(10_000)
            members = self.members()
        }
        return .stopped
    }

    /// Live (not zombie) processes of this group that belong to it.
    func members() -> [Int32] {
        if let leader = ProcStat(pid: processGroup), leader.processGroup == processGroup, leader.startTicks != startTicks {
            // The leader's pid now names another process: the group is not ours.
            return []
        }
        return ProcStat.all().filter {
            $0.processGroup == processGroup && $0.isLive && $0.startTicks >= startTicks && (session == nil || $0.session == session)
        }.map(\.pid)
    }

    /// This machine's name.
    public static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// This boot's id (Linux); `nil` elsewhere.
    public static let bootID: String? = {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }()
}

extension ExecutionRecord {
    /// The pid `owner` (`host:pid`) names when it is a live (not zombie) process on this host
    /// other than this one; `nil` otherwise.
    public static func liveOtherProcess(_ owner: String) -> Int32? {
        guard let colon = owner.lastIndex(of: ":"), let pid = Int32(owner[owner.index(after: colon)...]),
            String(owner[..<colon]) == ProcessInfo.processInfo.hostName, pid != ProcessInfo.processInfo.processIdentifier,
            ProcStat(pid: pid)?.isLive == true
        else { return nil }
        return pid
    }
}

extension ProcessHandle {
    /// Whether a process of group `pgid` is alive (not a zombie), from /proc.
    public static func groupHasLiveMember(_ pgid: Int32) -> Bool {
        ProcStat.all().contains { $0.processGroup == pgid && $0.isLive }
    }
}

/// The fields of /proc/PID/stat recovery needs.
struct ProcStat {
    var pid: Int32
    var state: Character
    var processGroup: Int32
    var session: Int32
    var startTicks: UInt64

    var isLive: Bool { state != "Z" && state != "X" }

    init?(pid: Int32) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return nil }
        self.init(pid: pid, stat: text)
    }

    /// `pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime
    /// stime cutime cstime priority nice threads itrealvalue starttime …`; comm may hold spaces
    /// and parentheses, so fields are counted after the last `)`.
    init?(pid: Int32, stat: String) {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let state = fields[0].first, let group = Int32(fields[2]), let session = Int32(fields[3]),
            let start = UInt64(fields[19])
        else { return nil }
        self.pid = pid
        self.state = state
        self.processGroup = group
        self.session = session
        self.startTicks = start
    }

    static func all() -> [ProcStat] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { entry in Int32(entry).flatMap { ProcStat(pid: $0) } }
    }
}
