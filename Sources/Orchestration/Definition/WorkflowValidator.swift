/// Checks a workflow and collects every problem, each located when a ``SourceMap`` is given.
///
/// Errors: malformed, duplicate or reserved ids; unknown or self dependencies (with the nearest
/// id suggested); cycles (printed as the cycle); `${…}` references to unknown steps; conditions
/// that do not parse (with the column); bad durations; impossible retry policies; invalid
/// triggers (a cron expression that does not parse); size limits. Warnings: steps without a
/// timeout, inputs without a default, webhook secrets written in clear.
///
/// On success the result carries the ``WorkflowGraph`` the planner and engine run on.
///
/// ```swift
/// let result = WorkflowValidator().validate(workflow)
/// if let graph = result.graph { let plan = Planner().plan(graph) }
/// ```
public struct WorkflowValidator: Sendable {
    /// The most attempts a retry policy may ask for.
    public static let maximumAttempts = 100

    /// Errors, warnings and, when there are no errors, the graph.
    public struct Result: Sendable {
        public var errors: [DefinitionError]
        public var warnings: [DefinitionError]
        public var graph: WorkflowGraph?
    }

    /// The actions steps may name.
    public var actions: ActionCatalog

    public init(actions: ActionCatalog = .builtIn) {
        self.actions = actions
    }

    /// Validates `workflow`; `sourceMap` locates the problems in its file.
    public func validate(_ workflow: Workflow, sourceMap: SourceMap? = nil) -> Result {
        var context = ValidationContext(workflow: workflow, sourceMap: sourceMap, actions: actions)
        context.checkWorkflow()
        context.checkSteps()
        context.checkOutputs()
        context.checkWorkflowConcurrency()
        context.checkTriggers()
        let graph = context.buildGraph()
        context.checkCycles(graph)
        context.collectWarnings()
        context.collectBestPracticeWarnings(graph)
        let errors = context.problems.filter { $0.severity == .error }.sortedByLocation()
        let warnings = context.problems.filter { $0.severity == .warning }.sortedByLocation()
        return Result(errors: errors, warnings: warnings, graph: errors.isEmpty ? graph : nil)
    }
}

/// The working state of one validation.
struct ValidationContext {
    let workflow: Workflow
    let sourceMap: SourceMap?
    let actions: ActionCatalog
    var problems: [DefinitionError] = []
    /// Step id → index of its first definition.
    var index: [String: Int] = [:]
    var stepIDSet: Set<String> = []
    /// After this many problems the rest are summarized, so a huge broken file stays fast to check.
    static let maximumProblems = 1000
    let variables: Set<String>
    /// Per step: parsed condition, references by kind.
    var conditions: [Expression?]
    var implicit: [[Int]]
    var statusReads: [Set<Int>]
    var undeclaredInputs: [(name: String, path: String, offset: Int?, text: String?)] = []

    init(workflow: Workflow, sourceMap: SourceMap?, actions: ActionCatalog = .builtIn) {
        self.workflow = workflow
        self.sourceMap = sourceMap
        self.actions = actions
        self.variables = Set(workflow.variables.keys)
        let n = workflow.steps.count
        conditions = Array(repeating: nil, count: n)
        implicit = Array(repeating: [], count: n)
        statusReads = Array(repeating: [], count: n)
        for (i, step) in workflow.steps.enumerated() where index[step.id] == nil && !step.id.isEmpty {
            index[step.id] = i
        }
        stepIDSet = Set(index.keys)
    }

    var isFull: Bool { problems.count >= Self.maximumProblems }

    func location(_ path: String) -> SourceLocation? { sourceMap?.location(of: path) }

    mutating func error(_ code: DefinitionError.Code, _ message: String, path: String, location: SourceLocation? = nil) {
        guard !isFull else { return }
        problems.append(DefinitionError(code, message, path: path, location: location ?? self.location(path)))
    }

    mutating func warning(_ code: DefinitionError.Code, _ message: String, path: String, location: SourceLocation? = nil) {
        guard !isFull else { return }
        problems.append(DefinitionError(code, message, path: path, location: location ?? self.location(path), severity: .warning))
    }

    /// Whether the file had a value at `path` (always true for workflows built in code).
    func present(_ path: String) -> Bool {
        guard let sourceMap else { return true }
        return sourceMap.hasValue(at: path)
    }

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty
            && id.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
            }
    }

    // MARK: Workflow

    mutating func checkWorkflow() {
        if workflow.name.trimmingWhitespace().isEmpty, present("name") {
            error(.invalidValue, "the workflow name must not be empty", path: "name")
        }
        if !workflow.name.isEmpty, !Self.isValidID(workflow.id) {
            error(
                .invalidID,
                workflow.id.isEmpty
                    ? "the name '\(workflow.name)' gives no usable id; add an 'id' made of letters, digits, '_' and '-'"
                    : "workflow id '\(workflow.id)' may only contain letters, digits, '_' and '-'",
                path: present("id") ? "id" : "name")
        }
        if let timeout = workflow.timeout, timeout <= .zero {
            error(.invalidDuration, "the workflow timeout must be longer than 0s", path: "timeout")
        }
        if let p = workflow.maxParallelism, p < 1 {
            error(.invalidValue, "maxParallelism must be at least 1, not \(p)", path: "maxParallelism")
        }
        if workflow.steps.isEmpty, present("steps") {
            error(.missingField, "a workflow needs at least one step", path: "steps")
        }
        if workflow.steps.count > WorkflowDecoder.maximumSteps {
            error(.tooLarge, "the workflow has \(workflow.steps.count) steps; the limit is \(WorkflowDecoder.maximumSteps)", path: "steps")
        }
        if let policy = workflow.retryPolicy {
            checkRetryPolicy(policy, path: "retryPolicy", stepTimeout: nil)
        }
    }
}
