import Foundation
import Orchestration

/// A cloud workflow engine a workflow can be exported to.
public enum CloudTarget: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// AWS Step Functions (Amazon States Language).
    case aws
    /// Azure Logic Apps (workflow definition language).
    case azure
    /// Google Cloud Workflows.
    case gcp
    /// Argo Workflows on Kubernetes.
    case argo

    public var description: String {
        switch self {
        case .aws: "AWS Step Functions"
        case .azure: "Azure Logic Apps"
        case .gcp: "GCP Workflows"
        case .argo: "Argo Workflows"
        }
    }
}

/// What the exporters need to know that a workflow file does not say: where things live on the
/// target. Each is also read from a step's inputs where it names one thing of one step.
public struct ExportOptions: Sendable, Hashable {
    /// Step Functions HTTP tasks authenticate through an EventBridge connection.
    public var awsConnectionArn: String?
    /// The ECS cluster `container` steps run on (a step's `inputs.cluster` wins).
    public var ecsCluster: String?
    /// GCP project and region, for Cloud Run jobs and Cloud Functions URLs.
    public var gcpProject: String?
    public var gcpRegion: String?
    /// The Azure Functions app `lambda` steps with `provider: azure` call, as a resource id
    /// (`/subscriptions/…/resourceGroups/…/providers/Microsoft.Web/sites/APP`).
    public var azureFunctionApp: String?
    /// The resource group child logic apps are in (`/subscriptions/…/resourceGroups/…`): a
    /// `workflow` step calls the logic app named by its child's id there.
    public var azureResourceGroup: String?
    /// The image Argo runs `task` steps' shell commands in (a step's `inputs.image` wins).
    public var argoImage: String
    /// `Workflow` (one run) or `WorkflowTemplate` (submitted by name).
    public var argoKind: ArgoKind
    public var namespace: String?
    /// Step durations in seconds for the makespan report (learned ones); else each step's
    /// `estimatedDuration`, else 1 s.
    public var durations: [String: Double]

    public enum ArgoKind: String, Sendable, Hashable, CaseIterable {
        case workflow = "Workflow"
        case workflowTemplate = "WorkflowTemplate"
    }

    public init(
        awsConnectionArn: String? = nil, ecsCluster: String? = nil, gcpProject: String? = nil, gcpRegion: String? = nil,
        azureFunctionApp: String? = nil, azureResourceGroup: String? = nil, argoImage: String = "alpine:3.20", argoKind: ArgoKind = .workflow,
        namespace: String? = nil, durations: [String: Double] = [:]
    ) {
        self.azureResourceGroup = azureResourceGroup
        self.awsConnectionArn = awsConnectionArn
        self.ecsCluster = ecsCluster
        self.gcpProject = gcpProject
        self.gcpRegion = gcpRegion
        self.azureFunctionApp = azureFunctionApp
        self.argoImage = argoImage
        self.argoKind = argoKind
        self.namespace = namespace
        self.durations = durations
    }
}

/// Something a target cannot express, or expresses differently, and where it is.
public struct ExportProblem: Sendable, Hashable, CustomStringConvertible {
    /// The step, or nil for the workflow.
    public var step: String?
    /// The field inside it: `inputs.command`, `condition`, `retryPolicy`.
    public var field: String?
    public var message: String

    public init(step: String? = nil, field: String? = nil, message: String) {
        self.step = step
        self.field = field
        self.message = message
    }

    public var description: String {
        var place = step.map { "step '\($0)'" } ?? "workflow"
        if let field { place += " (\(field))" }
        return "\(place): \(message)"
    }
}

/// An export that failed: every step or field the target cannot express.
public struct ExportError: Error, Sendable, Hashable, CustomStringConvertible {
    public var target: CloudTarget
    public var problems: [ExportProblem]

    public var description: String {
        "cannot export to \(target): "
            + (problems.count == 1
                ? problems[0].description : "\(problems.count) problems\n" + problems.map { "  " + $0.description }.joined(separator: "\n"))
    }
}

/// An exported document.
public struct ExportResult: Sendable {
    public var target: CloudTarget
    /// The document as a value (JSON, or the YAML's data).
    public var document: JSONValue
    /// The document as the target's tools read it: JSON for AWS and Azure, YAML for GCP and Argo.
    public var text: String
    /// `json` or `yaml`.
    public var fileExtension: String
    /// Differences a user should know about: approximated retry curves, lost parallelism.
    public var warnings: [ExportProblem]
    /// For the nesting targets (AWS, GCP): how the DAG was nested, and what it costs.
    package var layout: SeriesParallel.Decomposition?
}

/// Turns workflows into documents for other engines. Pure: nothing is contacted.
///
/// ```swift
/// let document = try WorkflowLoader.load(contentsOf: "deploy.yaml")
/// let asl = try WorkflowExporter.export(document.graph, to: .aws)
/// print(asl.text)
/// ```
public enum WorkflowExporter {
    public static func export(
        _ graph: WorkflowGraph, to target: CloudTarget, options: ExportOptions = ExportOptions(), actions: ActionCatalog = .builtIn
    ) throws(ExportError) -> ExportResult {
        var model = ExportModel(graph: graph, actions: actions, options: options)
        let result: ExporterOutput
        switch target {
        case .aws: result = ASLExporter(model: model).export()
        case .gcp: result = GCPWorkflowsExporter(model: model).export()
        case .argo: result = ArgoExporter(model: model).export()
        case .azure: result = LogicAppsExporter(model: model).export()
        }
        model.problems += result.problems
        model.problems += forEachProblems(graph.workflow, target: target)
        model.problems += concurrencyProblems(graph.workflow, target: target)
        if !model.problems.isEmpty {
            // In the order of the file: the workflow's own first, then step by step.
            let order = { (p: ExportProblem) in p.step.flatMap { graph.index[$0] }.map { $0 + 1 } ?? 0 }
            let sorted = model.problems.enumerated().sorted { (order($0.element), $0.offset) < (order($1.element), $1.offset) }.map(\.element)
            var seen = Set<ExportProblem>()
            throw ExportError(target: target, problems: sorted.filter { seen.insert($0).inserted })
        }
        return result.result
    }
}

/// A parsed condition (the name `Expression` is also Foundation's).
typealias Condition = Orchestration.Expression

/// What each exporter returns: the result, and the problems it found.
struct ExporterOutput {
    var result: ExportResult
    var problems: [ExportProblem]
}

/// The workflow as the exporters see it: steps with their actions applied and their inputs'
/// templates parsed, upstreams by id, and what each step's condition reads.
struct ExportModel {
    struct Body {
        var id: String
        var type: StepType
        var action: String?
        var inputs: [String: CompiledValue]
        var raw: [String: JSONValue]
        var timeout: Duration?
        var retry: RetryPolicy

        /// The input as written, `${…}` and all (for shell commands, which splice references themselves).
        func text(_ key: String) -> String? {
            if case .string(let s)? = raw[key] { return s }
            if case .number? = raw[key] { return raw[key]?.text }
            return nil
        }

        /// The input as fixed text; nil when it is absent or computed from references.
        func constant(_ key: String) -> String? {
            guard case .literal(let v)? = inputs[key] else { return nil }
            switch v {
            case .string(let s): return s
            case .number: return v.text
            default: return nil
            }
        }

        /// Where a function step is called over HTTPS: `url`; for Azure `app` and `function_name`;
        /// for GCP `function_name` with `project` and `region` (or the options). References stay
        /// references.
        func functionURL(_ options: ExportOptions) -> CompiledValue? {
            if let url = inputs["url"] { return url }
            guard let name = text("function_name") else { return nil }
            switch kind {
            case .function(provider: "azure"):
                guard let app = text("app") else { return nil }
                return CompiledValue(.string("https://\(app).azurewebsites.net/api/\(name)"))
            case .function(provider: "gcp"):
                guard let project = text("project") ?? options.gcpProject, let region = text("region") ?? options.gcpRegion else { return nil }
                return CompiledValue(.string("https://\(region)-\(project).cloudfunctions.net/\(name)"))
            default:
                return nil
            }
        }

        /// What the step does, in the terms the exporters map.
        var kind: Kind {
            switch type {
            case .task: return .shell
            case .api: return .http
            case .wait:
                if raw["signal"] != nil || raw["until"] != nil { return .waitForOutside }
                return raw["url"].map { $0 != .null } == true ? .healthCheck : .sleep
            case .approval: return .waitForOutside
            case .lambda: return .function(provider: text("provider")?.lowercased() ?? "aws")
            case .container:
                if raw["image"] != nil, raw["command"] != nil { return .containerRun }
                if case .array(let args)? = raw["args"], args.first == "run" { return .containerRun }
                return .containerOther
            case .workflow: return .childWorkflow
            }
        }

        enum Kind: Equatable {
            case shell, http, healthCheck, sleep, containerRun, containerOther, childWorkflow, waitForOutside
            case function(provider: String)
        }
    }

    struct Step {
        var index: Int
        var body: Body
        var condition: Condition?
        var upstream: [Int]
        /// Upstreams whose status the condition reads: they only need to have ended.
        var statusReads: Set<Int>
        var continueOnFailure: Bool
        var rollback: Body?
        var step: WorkflowStep
        var id: String { body.id }
    }

    let graph: WorkflowGraph
    let options: ExportOptions
    var workflow: Workflow { graph.workflow }
    var steps: [Step]
    var problems: [ExportProblem] = []

    init(graph: WorkflowGraph, actions: ActionCatalog, options: ExportOptions) {
        self.graph = graph
        self.options = options
        self.stepIDs = Set(graph.index.keys)
        self.variableNames = Set(graph.workflow.variables.keys)
        var problems: [ExportProblem] = []
        func body(
            id: String, stepID: String, type: StepType, action name: String?, inputs: [String: JSONValue], timeout: Duration?, retry: RetryPolicy?
        ) -> Body {
            var raw = inputs
            if let name {
                if let action = actions[name] {
                    do { raw = try action.apply(to: inputs) } catch {
                        problems.append(ExportProblem(step: stepID, field: "action", message: error.message))
                    }
                } else {
                    problems.append(ExportProblem(step: stepID, field: "action", message: "unknown action '\(name)'"))
                }
            }
            return Body(
                id: id, type: type, action: name, inputs: raw.mapValues(CompiledValue.init), raw: raw, timeout: timeout,
                retry: retry ?? graph.workflow.retryPolicy ?? RetryPolicy())
        }
        steps = graph.workflow.steps.enumerated().map { i, s in
            Step(
                index: i,
                body: body(id: s.id, stepID: s.id, type: s.type, action: s.action, inputs: s.inputs, timeout: s.timeout, retry: s.retryPolicy),
                condition: graph.conditions[i], upstream: graph.upstream[i], statusReads: graph.statusReads[i],
                continueOnFailure: s.continueOnFailure,
                rollback: s.rollback.map { r in
                    body(
                        id: StepResult.rollbackID(of: s.id), stepID: s.id, type: r.type, action: r.action, inputs: r.inputs, timeout: r.timeout,
                        retry: r.retryPolicy)
                },
                step: s)
        }
        self.problems = problems
    }

    /// Computed once: every reference resolves against them.
    let stepIDs: Set<String>
    let variableNames: Set<String>

    func target(_ reference: Reference) -> ReferenceTarget {
        reference.target(stepIDs: stepIDs, variables: variableNames)
    }

    /// `${workflow.name}`, `.id` and `.version`: constants on every target; nil for any other path.
    func workflowField(_ path: [Reference.Component]) -> String? {
        switch path {
        case [.key("name")]: workflow.name
        case [.key("id")]: workflow.id
        case [.key("version")]: workflow.version ?? ""
        default: nil
        }
    }

    /// Estimated seconds of each step, for the makespan report.
    var durations: [Double] {
        steps.map { s in options.durations[s.id] ?? s.step.estimatedDuration?.seconds ?? 1 }
    }

    /// The nesting of the DAG for targets without arbitrary dependencies.
    func decomposition() -> SeriesParallel.Decomposition {
        SeriesParallel.decompose(upstream: graph.upstream, durations: durations)
    }

    /// Steps in a topological order, by index.
    var topologicalOrder: [Int] { graph.topologicalOrder }

    /// A warning when the DAG had to be layered.
    func layoutWarning(_ layout: SeriesParallel.Decomposition, target: CloudTarget) -> ExportProblem? {
        guard !layout.exact else { return nil }
        let before = DurationText.format(.seconds(layout.makespanBefore))
        let after = DurationText.format(.seconds(layout.makespanAfter))
        return ExportProblem(
            message:
                "the dependencies are not series-parallel, so \(target) runs the steps in waves (each waits for the whole wave before it): estimated \(before) as a DAG, \(after) in waves"
        )
    }

    /// Names safe in every target's identifiers and paths: letters, digits and `_`; unique.
    func safeNames() -> [String] {
        var used = Set<String>()
        return steps.map { s in
            var base = String(s.id.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) && $0.isASCII ? Character($0) : "_" })
            if let first = base.unicodeScalars.first, CharacterSet.decimalDigits.contains(first) { base = "s_" + base }
            var name = base
            var n = 2
            while used.contains(name) {
                name = "\(base)_\(n)"
                n += 1
            }
            used.insert(name)
            return name
        }
    }
}

/// What a function step sends: `inputs.payload` when given, else every input that is not about
/// where the function is or how to call it (keys and tokens never go in a payload). The exporters
/// and ``FunctionExecutor`` agree on it.
enum LambdaPayload {
    static let addressing: Set<String> = [
        "provider", "function_name", "function", "qualifier", "region", "url", "auth", "method", "project", "app", "functionApp", "key", "token",
    ]

    static func payload(_ inputs: [String: CompiledValue]) -> CompiledValue {
        if let payload = inputs["payload"] { return payload }
        return .object(inputs.filter { !addressing.contains($0.key) })
    }
}

extension JSONValue {
    /// A scalar as a literal of a target's expression language, text written by `quote`; nil for
    /// lists and objects, which those languages cannot write inline.
    func expressionLiteral(quote: (String) -> String) -> String? {
        switch self {
        case .string(let s): quote(s)
        case .number(let n): JSONValue.format(n)
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        default: nil
        }
    }
}
