import Foundation

/// Runs one attempt of one step. Implementations do the I/O (a process, an HTTP call, a timer).
///
/// A step that fails — exit code 1, HTTP 503, a health check that never passes — is a
/// ``StepOutcome`` with `succeeded == false`, not a thrown error. The engine enforces the
/// per-attempt timeout by cancelling the task that calls ``execute(_:context:)``; an executor
/// must stop promptly when cancelled (kill its process group, drop its connection) and return.
///
/// ```swift
/// struct Echo: StepExecutor {
///     func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
///         .success(outputs: ["said": request.inputs["text"] ?? .null])
///     }
/// }
/// ```
public protocol StepExecutor: Sendable {
    /// Runs `request` to its end and reports what happened.
    func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome
}

/// What an executor may use besides the request: the engine's clock (so waits run on virtual time
/// in tests) and the grace period between SIGTERM and SIGKILL.
public struct ExecutorContext: Sendable {
    public var clock: any Clock<Duration>
    /// How long a cancelled process gets after SIGTERM before SIGKILL.
    public var killGracePeriod: Duration
    /// The largest log tail kept per attempt, in bytes.
    public var logLimit: Int
    /// The execution's secrets: executors redact what they keep before they cut it to
    /// ``logLimit``, so no piece of a secret survives at the cut. The engine sets it per execution.
    public var redactor: Redactor
    /// Called by an executor once the process group of this attempt exists; the engine records
    /// it with the attempt, so recovery after a crash can stop what is left of it.
    public var processStarted: @Sendable (ProcessHandle) -> Void = { _ in }

    public init(
        clock: any Clock<Duration> = ContinuousClock(), killGracePeriod: Duration = .seconds(5), logLimit: Int = 64 * 1024,
        redactor: Redactor = Redactor(secrets: [])
    ) {
        self.clock = clock
        self.killGracePeriod = killGracePeriod
        self.logLimit = logLimit
        self.redactor = redactor
    }
}

/// The result of one attempt.
public struct StepOutcome: Sendable, Hashable {
    /// How an attempt ended: exactly one of these.
    public enum Ending: String, Sendable, Hashable, CaseIterable {
        case succeeded, failed
        /// It ran out of time (set by the engine when it enforces the timeout).
        case timedOut
        /// It was stopped because the execution was cancelled.
        case cancelled
    }

    public var ending: Ending
    public var outputs: [String: JSONValue]
    public var error: String?
    public var exitCode: Int?
    /// The tail of stdout and stderr, bounded by ``ExecutorContext/logLimit``.
    public var log: String

    public init(ending: Ending, outputs: [String: JSONValue] = [:], error: String? = nil, exitCode: Int? = nil, log: String = "") {
        self.ending = ending
        self.outputs = outputs
        self.error = error
        self.exitCode = exitCode
        self.log = log
    }

    public var succeeded: Bool { ending == .succeeded }
    public var timedOut: Bool { ending == .timedOut }
    public var cancelled: Bool { ending == .cancelled }

    /// The attempt's status as recorded (`cached` when its outputs came from the cache).
    public func status(cached: Bool) -> AttemptStatus {
        if cached { return .cached }
        switch ending {
        case .succeeded: return .succeeded
        case .failed: return .failed
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        }
    }

    public static func success(outputs: [String: JSONValue] = [:], exitCode: Int? = nil, log: String = "") -> StepOutcome {
        StepOutcome(ending: .succeeded, outputs: outputs, exitCode: exitCode, log: log)
    }

    public static func failure(_ error: String, exitCode: Int? = nil, outputs: [String: JSONValue] = [:], log: String = "") -> StepOutcome {
        StepOutcome(ending: .failed, outputs: outputs, error: error, exitCode: exitCode, log: log)
    }

    public static func cancelled(_ error: String = "cancelled", log: String = "") -> StepOutcome {
        StepOutcome(ending: .cancelled, error: error, log: log)
    }

    public static func timedOut(_ error: String, log: String = "") -> StepOutcome {
        StepOutcome(ending: .timedOut, error: error, log: log)
    }
}
