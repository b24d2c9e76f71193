/// Which ``StepExecutor`` runs a step: by action first (`noop`), else by step type.
///
/// ```swift
/// var executors = ExecutorRegistry()
/// executors.register(ShellExecutor(), for: .task)
/// executors.register(NoopExecutor(), forAction: "noop")
/// ```
public struct ExecutorRegistry: Sendable {
    var byType: [StepType: any StepExecutor] = [:]
    var byAction: [String: any StepExecutor] = [:]

    public init() {
        byAction["noop"] = NoopExecutor()
    }

    public mutating func register(_ executor: any StepExecutor, for type: StepType) {
        byType[type] = executor
    }

    public mutating func register(_ executor: any StepExecutor, forAction action: String) {
        byAction[action] = executor
    }

    public func executor(for request: StepRequest) -> (any StepExecutor)? {
        if let action = request.action, let e = byAction[action] { return e }
        return byType[request.type]
    }
}

/// Succeeds at once without doing anything (`action: noop`): placeholders and benchmarks.
public struct NoopExecutor: StepExecutor {
    public init() {}
    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        .success()
    }
}
