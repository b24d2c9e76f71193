extension ValidationContext {
    /// `approval` steps and `wait` steps with `signal:` wait for something from outside where the
    /// execution runs: no queue, no action; `onTimeout` belongs to approvals with a timeout.
    mutating func checkWaitStep(_ step: WorkflowStep, path: String) {
        let signal = step.type == .wait ? step.inputs["signal"] : nil
        if step.type == .wait, let until = step.inputs["until"] {
            if case .string = until {
            } else {
                error(.wrongType, "inputs.until is a time (2026-12-24T18:00:00Z) or a ${…} reference to one", path: "\(path).inputs.until")
            }
            for other in ["duration", "url", "signal"] where step.inputs[other] != nil {
                error(
                    .invalidValue, "a wait step waits until a time or for \(other == "signal" ? "a signal" : other), not both",
                    path: "\(path).inputs.\(other)")
            }
            if step.queue != nil { error(.invalidValue, "a step that waits until a time takes no queue", path: "\(path).queue") }
        }
        if step.type == .approval || signal != nil {
            if step.queue != nil {
                error(.invalidValue, "a step that waits for \(signal == nil ? "approval" : "a signal") takes no queue", path: "\(path).queue")
            }
            if step.action != nil {
                error(.invalidAction, "a step that waits for \(signal == nil ? "approval" : "a signal") runs no action", path: "\(path).action")
            }
        }
        if let signal {
            if case .string(let name) = signal, !name.trimmingWhitespace().isEmpty {
                for other in ["duration", "url"] where step.inputs[other] != nil {
                    error(.invalidValue, "a wait step waits for a signal or for \(other), not both", path: "\(path).inputs.\(other)")
                }
            } else {
                error(.wrongType, "inputs.signal names the signal to wait for (text)", path: "\(path).inputs.signal")
            }
        }
        let waits = step.type == .approval || (step.type == .wait && (step.inputs["signal"] != nil || step.inputs["until"] != nil))
        if waits, let policy = step.retryPolicy, policy.maxAttempts > 1 {
            warning(
                .invalidRetryPolicy, "a step that waits is not retried: a rejection or a timeout is final; remove the retry policy",
                path: "\(path).retryPolicy")
        }
        guard let decision = step.onTimeout else { return }
        if step.type != .approval {
            error(.invalidValue, "onTimeout decides an approval step's timeout; this step is a \(step.type.rawValue) step", path: "\(path).onTimeout")
        } else if decision != "approve" && decision != "reject" {
            error(.invalidValue, "onTimeout is approve or reject, not '\(decision)'", path: "\(path).onTimeout")
        } else if step.timeout == nil {
            error(.invalidValue, "onTimeout needs a timeout to act on", path: "\(path).onTimeout")
        }
    }
}
