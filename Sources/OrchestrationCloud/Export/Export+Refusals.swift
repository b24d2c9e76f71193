import Orchestration

extension WorkflowExporter {
    /// The targets whose exporter writes forEach steps (as their own fan-out construct).
    static let forEachTargets: Set<CloudTarget> = [.argo, .aws, .azure, .gcp]

    /// forEach steps a target's exporter does not write yet: refused by name rather than exported
    /// as a single run.
    static func forEachProblems(_ workflow: Workflow, target: CloudTarget) -> [ExportProblem] {
        guard !forEachTargets.contains(target) else { return [] }
        return workflow.steps.filter { $0.forEach != nil }.map {
            ExportProblem(step: $0.id, field: "forEach", message: "forEach steps are not exported to \(target) yet")
        }
    }

    /// The targets whose exporter writes concurrency keys (Argo's `synchronization`).
    static let concurrencyTargets: Set<CloudTarget> = [.argo]

    /// Concurrency keys span executions in NovaCron's store; where an exporter does not write them,
    /// they are refused by name rather than exported as if executions could overlap freely.
    static func concurrencyProblems(_ workflow: Workflow, target: CloudTarget) -> [ExportProblem] {
        guard !concurrencyTargets.contains(target) else { return [] }
        let message = "concurrency keys are not exported to \(target) yet"
        var out = workflow.concurrency == nil ? [] : [ExportProblem(step: nil, field: "concurrency", message: message)]
        out += workflow.steps.filter { $0.concurrency != nil }.map { ExportProblem(step: $0.id, field: "concurrency", message: message) }
        return out
    }
}

/// Steps of a kind no target can express, with the same words everywhere.
enum ExportMessages {
    static func shell(_ target: CloudTarget) -> String {
        "a task step runs a shell command on the machine running NovaCron, which \(target) cannot do; make it a container, api or lambda step"
    }

    static func workflowField(_ r: Reference) -> String { "'\(r.template)': only workflow.name, id and version exist" }

    static func unknown(_ r: Reference, _ head: String) -> String { "'\(r.template)': '\(head)' names no input, step or namespace" }

    /// NovaCron fails an until wait whose timeout passes first; the targets' waits cannot.
    static func untilTimeout(_ target: CloudTarget) -> String {
        "a timeout on an until wait is not exported: \(target) waits for the time regardless"
    }

    /// A rollback (or a step without its child's name) that would wait or run a child workflow.
    static func rollbackWaits(_ target: CloudTarget) -> String {
        "a rollback that waits or runs a child workflow is not exported to \(target)"
    }

    static func containerOther(_ target: CloudTarget) -> String {
        "only containers that run a command (docker-run: image and command) can be exported to \(target); building and pushing images needs a build service there"
    }
}
