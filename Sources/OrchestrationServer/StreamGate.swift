import Hummingbird
import NIOCore
import Synchronization

/// How many event streams (Server-Sent Events) may be open, and how long one may stall.
public struct StreamLimits: Sendable, Equatable {
    /// Streams open at once per token (per caller, without tokens). Default 16.
    public var perPrincipal: Int
    /// Streams open at once in all. Default 256.
    public var total: Int
    /// A stream whose client takes longer than this to accept the next write is ended (the
    /// connection is closed), so a client that stops reading holds no memory. Default 30 s.
    public var stallTimeout: Duration
    /// A stream with nothing to send writes a comment this often, so a client that left is
    /// noticed (and its place given back) on a quiet server too. Default 15 s.
    public var heartbeat: Duration

    public init(perPrincipal: Int = 16, total: Int = 256, stallTimeout: Duration = .seconds(30), heartbeat: Duration = .seconds(15)) {
        self.perPrincipal = perPrincipal
        self.total = total
        self.stallTimeout = stallTimeout
        self.heartbeat = heartbeat
    }
}

/// Counts open event streams against ``StreamLimits``. A stream holds a ``Ticket`` for as long as
/// its response exists; the ticket gives its place back when it is released, however the stream
/// ends (finished, client gone, the response never written).
final class StreamGate: Sendable {
    let limits: StreamLimits
    private let open = Mutex<(total: Int, by: [String: Int])>((0, [:]))

    init(limits: StreamLimits) {
        self.limits = limits
    }

    final class Ticket: Sendable {
        let gate: StreamGate
        let principal: String

        init(gate: StreamGate, principal: String) {
            self.gate = gate
            self.principal = principal
        }

        deinit { gate.leave(principal) }
    }

    /// A place for one more stream of `principal`, or 429 when its share or the total is taken.
    func enter(_ principal: String) throws(Problem) -> Ticket {
        let admitted = open.withLock { state -> Bool in
            let mine = state.by[principal, default: 0]
            guard mine < limits.perPrincipal, state.total < limits.total else { return false }
            state.by[principal] = mine + 1
            state.total += 1
            return true
        }
        guard admitted else {
            throw Problem(
                .tooManyRequests,
                "too many open event streams (at most \(limits.perPrincipal) per token and \(limits.total) in all); close one first",
                headers: [.retryAfter: "5"])
        }
        return Ticket(gate: self, principal: principal)
    }

    fileprivate func leave(_ principal: String) {
        open.withLock { state in
            state.total -= 1
            let left = state.by[principal, default: 1] - 1
            state.by[principal] = left > 0 ? left : nil
        }
    }

    /// Streams open now.
    var openCount: Int { open.withLock { $0.total } }
}

/// The stream's client stopped taking what is written for longer than the stall timeout.
struct StalledClient: Error {}

/// Runs `produce`, which writes an event stream through the `send` it is given, until it
/// returns; throws ``StalledClient`` when one write waits longer than `stallTimeout`. A write
/// waits while the connection's buffers are full (back-pressure), so a client that stops reading
/// stops the producer instead of growing a buffer, and is dropped after the timeout (it may
/// reconnect with `Last-Event-ID` to resume).
func streamEvents(
    to writer: inout any ResponseBodyWriter, stallTimeout: Duration,
    produce: @escaping @Sendable (_ send: @escaping @Sendable (String) async throws -> Void) async throws -> Void
) async throws {
    /// The writer, used by one task at a time: the producer's.
    final class Box: @unchecked Sendable {
        var writer: any ResponseBodyWriter
        init(_ writer: any ResponseBodyWriter) { self.writer = writer }
    }
    let box = Box(writer)
    defer { writer = box.writer }
    /// When the write under way started, while one is.
    final class Pending: Sendable { let since = Mutex<ContinuousClock.Instant?>(nil) }
    let pending = Pending()
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            try await produce { text in
                pending.since.withLock { $0 = .now }
                try await box.writer.write(ByteBuffer(string: text))
                pending.since.withLock { $0 = nil }
            }
        }
        group.addTask {
            while true {
                try await Task.sleep(for: stallTimeout / 4)
                if let since = pending.since.withLock({ $0 }), since.duration(to: .now) > stallTimeout { throw StalledClient() }
            }
        }
        try await group.next()
        group.cancelAll()
    }
}
