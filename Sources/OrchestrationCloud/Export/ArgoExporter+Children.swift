import Foundation
import Orchestration

/// Workflow steps and approvals on Argo: a child execution is a `resource` template that creates a
/// Workflow from the child's WorkflowTemplate (export the child with `--argo-kind
/// WorkflowTemplate`) and succeeds or fails with it; an approval is a `suspend` template, approved
/// with `argo resume` (and rejected with `argo stop`); a signal wait is a `suspend` too, resumed by
/// the sender.
extension ArgoExporter {
    /// Fills `template` for a `workflow` step; false (with a problem) when it cannot be.
    mutating func childTemplate(_ s: ExportModel.Step, _ template: inout [String: JSONValue], _ parameters: inout [String: String]) -> Bool {
        guard let child = s.step.workflow else { return false }
        var arguments: [JSONValue] = []
        for key in s.body.inputs.keys.sorted() {
            guard let value = text(s.body.inputs[key]!, s, "inputs." + key, &parameters) else { return false }
            arguments.append(["name": .string(key), "value": .string(value)])
        }
        if s.step.workflowVersion != nil {
            warnings.append(
                ExportProblem(
                    step: s.id, field: "version", message: "Argo runs the WorkflowTemplate as it is in the cluster; the version pin is not exported"))
        }
        let name = kubernetesName(child)
        var spec: [String: JSONValue] = ["workflowTemplateRef": ["name": .string(name)]]
        if !arguments.isEmpty { spec["arguments"] = ["parameters": .array(arguments)] }
        let manifest: JSONValue = [
            "apiVersion": "argoproj.io/v1alpha1", "kind": "Workflow", "metadata": ["generateName": .string(name + "-")], "spec": .object(spec),
        ]
        template["resource"] = [
            "action": "create", "manifest": .string(YAMLText.write(manifest, order: ["apiVersion", "kind", "metadata", "spec"])),
            "successCondition": "status.phase == Succeeded", "failureCondition": "status.phase in (Failed, Error)",
        ]
        return true
    }

    /// Fills `template` for an approval step; false (with a problem) for what Argo cannot wait for.
    mutating func approvalTemplate(_ s: ExportModel.Step, _ template: inout [String: JSONValue]) -> Bool {
        guard s.body.type == .approval else {
            guard s.body.raw["signal"] != nil else {
                problems.append(
                    ExportProblem(
                        step: s.id, field: "inputs.until", message: "Argo suspends for a duration, not until a time; an until wait cannot be exported"
                    ))
                return false
            }
            guard s.body.timeout == nil else {
                problems.append(
                    ExportProblem(
                        step: s.id, field: "timeout",
                        message: "an Argo suspend resumes (succeeds) when its duration passes; a signal wait that fails on timeout cannot be exported"
                    ))
                return false
            }
            warnings.append(
                ExportProblem(
                    step: s.id, field: "inputs.signal",
                    message: "Argo has no named signals: the sender resumes this step with argo resume (its payload is not passed on)"))
            template["suspend"] = [:]
            return true
        }
        switch (s.body.timeout, s.step.onTimeout) {
        case (nil, _):
            template["suspend"] = [:]
        case (let timeout?, "approve"?):
            // Argo resumes a suspend when its duration passes: an approval on timeout.
            template["suspend"] = ["duration": .string("\(seconds(timeout))s")]
        default:
            problems.append(
                ExportProblem(
                    step: s.id, field: "timeout",
                    message: "an Argo suspend resumes (approves) when its duration passes; only a timeout with onTimeout: approve can be exported"))
            return false
        }
        return true
    }

    /// What a workflow or approval step gives downstream on Argo: its status only.
    mutating func suspendedValue(_ r: Reference, of i: Int, field f: String, step: String, field: String) -> String?? {
        let kind = model.steps[i].body.kind
        guard kind == .childWorkflow || kind == .waitForOutside, f != "status" else { return nil }
        problems.append(
            ExportProblem(
                step: step, field: field,
                message:
                    "'\(r.template)': on Argo \(kind == .childWorkflow ? "a child workflow's outputs" : model.steps[i].step.type == .approval ? "a decision's details" : "a signal's payload") cannot be read; only its status"
            ))
        return .some(nil)
    }
}
