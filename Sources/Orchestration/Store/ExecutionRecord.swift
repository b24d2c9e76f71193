import Foundation

/// An execution as stored: what users see, plus what the engine needs to carry it on.
public struct ExecutionRecord: Sendable, Hashable, Codable {
    public var execution: WorkflowExecution
    /// The content hash of the workflow definition the execution runs (its pinned version).
    public var workflowHash: String
    public var options: StoredOptions
    public var createdAt: Date
    /// The process running the execution (`host:pid`), so another one does not run it too.
    public var owner: String?

    public init(execution: WorkflowExecution, workflowHash: String, options: StoredOptions, createdAt: Date, owner: String? = nil) {
        self.execution = execution
        self.workflowHash = workflowHash
        self.options = options
        self.createdAt = createdAt
        self.owner = owner
    }

    /// `host:pid` of this process.
    public static var currentProcess: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }
}

/// The execution options that must survive a restart.
public struct StoredOptions: Sendable, Hashable, Codable {
    public var maxParallelism: Int?
    public var debug: Bool
    public var paused: Bool
    public var trigger: JSONValue
    /// A child execution's parent.
    public var parent: ParentLink?
    /// The execution's root span (docs/observability.md): spans of its attempts, on any node and
    /// after a restart, are its children.
    public var trace: TraceHeaders?

    public init(maxParallelism: Int? = nil, debug: Bool = false, paused: Bool = false, trigger: JSONValue = .null) {
        self.maxParallelism = maxParallelism
        self.debug = debug
        self.paused = paused
        self.trigger = trigger
    }
}

/// One attempt of one step.
public struct AttemptRecord: Sendable, Hashable, Codable {
    public var executionID: String
    public var stepID: String
    public var attempt: Int
    public var status: AttemptStatus
    public var startedAt: Date
    public var finishedAt: Date?
    public var error: String?
    public var exitCode: Int?
    /// The process group the attempt started, while it may still run (see ``ProcessHandle``).
    public var process: ProcessHandle?

    public init(
        executionID: String, stepID: String, attempt: Int, status: AttemptStatus, startedAt: Date, finishedAt: Date? = nil,
        error: String? = nil, exitCode: Int? = nil, process: ProcessHandle? = nil
    ) {
        self.process = process
        self.executionID = executionID
        self.stepID = stepID
        self.attempt = attempt
        self.status = status
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.error = error
        self.exitCode = exitCode
    }
}

extension ExecutionRecord {
    /// The record without its step results: what a store keeps in the execution's own row (the
    /// results have rows of their own).
    package var header: ExecutionRecord {
        var header = self
        header.execution.stepResults = [:]
        return header
    }
}
