/// Where an execution is in its life.
public enum ExecutionStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, running, paused, completed, failed, cancelled

    /// `completed`, `failed` and `cancelled` are final.
    public var isTerminal: Bool {
        switch self {
        case .completed, .failed, .cancelled: return true
        case .pending, .running, .paused: return false
        }
    }
}

/// Where a step is in its life. Terminal statuses are the ones `${step.status}` can read.
public enum StepStatus: String, Sendable, Hashable, Codable, CaseIterable {
    case pending, running, success, failed, skipped, cancelled

    /// `success`, `failed`, `skipped` and `cancelled` are final.
    public var isTerminal: Bool {
        switch self {
        case .success, .failed, .skipped, .cancelled: return true
        case .pending, .running: return false
        }
    }
}
