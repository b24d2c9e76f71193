import Foundation

/// What one step of an execution did, mirroring the guide's `StepResult`.
///
/// Its fields are what `${step-id.field}` reads besides the step's outputs: `status`, `success`,
/// `failed`, `timedOut`, `exitCode`, `attempts`, `durationMs`, `error`, `cached`.
public struct StepResult: Sendable, Hashable, Codable {
    public var stepID: String
    public var status: StepStatus
    public var outputs: [String: JSONValue]
    public var error: String?
    /// Why the step was skipped ("upstream build failed", "condition is false").
    public var skipReason: String?
    public var exitCode: Int?
    public var attempts: Int
    public var timedOut: Bool
    public var cached: Bool
    public var startedAt: Date?
    public var finishedAt: Date?
    public var duration: Duration
    /// For a `forEach` step, how many items it has once its list is known; `nil` for other steps.
    public var itemCount: Int?
    /// For a `workflow` step, the child execution of its latest attempt.
    public var childExecutionID: String?
    /// While the step waits, what for: `approval`, or `signal:<name>`.
    public var waitingFor: String?

    public init(
        stepID: String, status: StepStatus = .pending, outputs: [String: JSONValue] = [:], error: String? = nil,
        skipReason: String? = nil, exitCode: Int? = nil, attempts: Int = 0, timedOut: Bool = false,
        cached: Bool = false, startedAt: Date? = nil, finishedAt: Date? = nil, duration: Duration = .zero
    ) {
        self.stepID = stepID
        self.status = status
        self.outputs = outputs
        self.error = error
        self.skipReason = skipReason
        self.exitCode = exitCode
        self.attempts = attempts
        self.timedOut = timedOut
        self.cached = cached
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.duration = duration
    }

    /// The value of `${stepID.field}`: an output named `field`, else the result field of that name.
    ///
    /// Outputs win over result fields except for `status`, which always reports the step status.
    public func value(of field: String) -> JSONValue? {
        if field != "status", let output = outputs[field] { return output }
        switch field {
        case "status": return .string(status.rawValue)
        case "success": return .bool(status == .success)
        case "failed": return .bool(status == .failed)
        case "timedOut": return .bool(timedOut)
        case "exitCode": return exitCode.map { .number(Double($0)) } ?? .null
        case "attempts": return .number(Double(attempts))
        case "durationMs": return .number((duration.seconds * 1000).rounded())
        case "error": return error.map { .string($0) } ?? .null
        case "cached": return .bool(cached)
        default: return nil
        }
    }

    /// The result fields every step has, whatever its outputs.
    public static let resultFields: Set<String> = [
        "status", "success", "failed", "timedOut", "exitCode", "attempts", "durationMs", "error", "cached",
    ]

    /// Result fields that a condition reads to decide about a step that did not succeed.
    public static let statusFields: Set<String> = ["status", "success", "failed", "timedOut"]
}

extension StepResult {
    /// The id a step's rollback is recorded under: `<step>.rollback`. The one place that spells it.
    public static func rollbackID(of stepID: String) -> String { stepID + ".rollback" }

    /// Whether `id` names a rollback's result rather than a step's.
    public static func isRollbackID(_ id: String) -> Bool { id.hasSuffix(".rollback") }
}
