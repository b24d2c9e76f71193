import Foundation

/// What an executor gets: the step with every `${…}` resolved.
public struct StepRequest: Sendable, Hashable, Codable {
    public var executionID: String
    public var workflowID: String
    public var stepID: String
    /// 1 for the first attempt.
    public var attempt: Int
    public var type: StepType
    public var action: String?
    /// Inputs with references resolved. For a shell `command`, the script with references rewritten
    /// to `NOVACRON_REF_n` variables (see ``ShellSplice``); their values are in ``environment``.
    public var inputs: [String: JSONValue]
    /// The values a shell `command`'s `NOVACRON_REF_n` variables stand for (see ``ShellSplice``).
    /// ``processEnvironment`` adds the rest of what a process gets.
    public var environment: [String: String]
    /// `<execution>/<step>`: the same for every attempt of the step in this execution.
    public var idempotencyKey: String
    /// The per-attempt timeout, if any (the engine enforces it; executors may use it to bound polling).
    public var timeout: Duration?
    /// Outputs the step's action adds on success (rendered from its inputs).
    public var actionOutputs: [String: JSONValue] = [:]
    /// When the step became ready (its last upstream ended, or its retry delay passed).
    public var queuedAt: Date?
    /// The attempt's span, when the engine traces: executors pass it on (`TRACEPARENT` for a
    /// process, `traceparent` for an HTTP call, the parent of a child execution).
    public var trace: TraceHeaders?

    public init(
        executionID: String, workflowID: String, stepID: String, attempt: Int, type: StepType, action: String?,
        inputs: [String: JSONValue], environment: [String: String] = [:], idempotencyKey: String? = nil,
        timeout: Duration? = nil
    ) {
        self.executionID = executionID
        self.workflowID = workflowID
        self.stepID = stepID
        self.attempt = attempt
        self.type = type
        self.action = action
        self.inputs = inputs
        self.environment = environment
        self.idempotencyKey = idempotencyKey ?? "\(executionID)/\(stepID)"
        self.timeout = timeout
    }

    /// Everything a step's process gets added to its environment: the splice bindings, every input
    /// (but `command`, `args`, `env`) as `INPUT_<NAME>`, and `NOVACRON_EXECUTION_ID`,
    /// `NOVACRON_WORKFLOW_ID`, `NOVACRON_STEP_ID`, `NOVACRON_ATTEMPT`, `NOVACRON_IDEMPOTENCY_KEY`,
    /// and `TRACEPARENT` (with `TRACESTATE`) when the attempt is traced.
    /// Built on demand, so steps that start no process (HTTP, no-op) do not pay for it.
    public var processEnvironment: [String: String] {
        var env = environment
        for (key, value) in inputs where key != "command" && key != "args" && key != "env" {
            env[Self.environmentName(forInput: key)] = value.text
        }
        env["NOVACRON_EXECUTION_ID"] = executionID
        env["NOVACRON_WORKFLOW_ID"] = workflowID
        env["NOVACRON_STEP_ID"] = stepID
        env["NOVACRON_ATTEMPT"] = String(attempt)
        env["NOVACRON_IDEMPOTENCY_KEY"] = idempotencyKey
        if let trace {
            env["TRACEPARENT"] = trace.traceparent
            env["TRACESTATE"] = trace.tracestate
        }
        return env
    }

    /// `INPUT_<NAME>`: upper-cased, anything but letters and digits as `_` (`image-tag` → `INPUT_IMAGE_TAG`).
    public static func environmentName(forInput key: String) -> String {
        var out = "INPUT_"
        for scalar in key.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) {
                out.unicodeScalars.append(contentsOf: String(scalar).uppercased().unicodeScalars)
            } else {
                out += "_"
            }
        }
        return out
    }

    /// The text of input `name`, if present and not null.
    public func text(_ name: String) -> String? {
        guard let v = inputs[name], v != .null else { return nil }
        return v.text
    }
}
