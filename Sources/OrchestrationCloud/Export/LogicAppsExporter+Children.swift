import Foundation
import Orchestration

/// Child workflows on Logic Apps: a `workflow` step is a `Workflow` action calling the logic app
/// named by the child's id in `--azure-resource-group` through its `manual` trigger, with the
/// step's inputs as the body. A nested logic app gives its caller outputs only through a Response
/// action, so an exported workflow that declares `outputs` answers with them (`NovaCron-outputs`)
/// before it ends as Succeeded; `${build.image}` reads that answer's body.
extension LogicAppsExporter {
    mutating func childAction(_ body: ExportModel.Body, stepID: String, field: String?) -> [String: JSONValue]? {
        guard field == nil, let index = model.graph.index[stepID], let child = model.steps[index].step.workflow else {
            problems.append(ExportProblem(step: stepID, field: field, message: ExportMessages.rollbackWaits(.azure)))
            return nil
        }
        guard let group = model.options.azureResourceGroup?.trimmingCharacters(in: CharacterSet(charactersIn: "/")), !group.isEmpty else {
            problems.append(
                ExportProblem(
                    step: stepID, field: "workflow",
                    message: "a nested logic app is called by its resource id: pass --azure-resource-group /subscriptions/…/resourceGroups/…"))
            return nil
        }
        if model.steps[index].step.workflowVersion != nil {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "version", message: "Logic Apps calls the child logic app as it is deployed; the version pin is not exported"
                ))
        }
        warnings.append(
            ExportProblem(
                step: stepID, field: "workflow",
                message:
                    "the parent waits for the child's Response (an exported workflow that declares outputs has one), within Logic Apps' limit for a synchronous answer; a child that takes longer fails the call"
            ))
        var inputs: [String: JSONValue] = [
            "host": ["triggerName": "manual", "workflow": ["id": .string("/\(group)/providers/Microsoft.Logic/workflows/\(child)")]]
        ]
        var payload: [String: JSONValue] = [:]
        for key in body.inputs.keys.sorted() { payload[key] = value(body.inputs[key]!, stepID, "inputs." + key) }
        inputs["body"] = .object(payload)
        var action: [String: JSONValue] = ["type": "Workflow", "inputs": .object(inputs)]
        if let timeout = body.timeout { action["limit"] = ["timeout": .string(Self.iso8601(timeout.seconds))] }
        return action
    }

    /// The run's end when no step that may not fail failed: the declared outputs answered to the
    /// caller (a parent's Workflow action), then Succeeded.
    mutating func succeeded() -> [String: JSONValue] {
        var terminate: [String: JSONValue] = ["type": "Terminate", "inputs": ["runStatus": "Succeeded"], "runAfter": [:]]
        guard let outputs = model.workflow.outputs, !outputs.isEmpty else { return ["NovaCron-succeeded": .object(terminate)] }
        var answer: [String: JSONValue] = [:]
        let before = problems.count
        for key in outputs.keys.sorted() { answer[key] = value(CompiledValue(outputs[key]!), "", "outputs." + key) }
        for p in before..<problems.count { problems[p].step = nil }
        terminate["runAfter"] = ["NovaCron-outputs": ["Succeeded"]]
        return [
            "NovaCron-outputs": ["type": "Response", "kind": "Http", "inputs": ["statusCode": 200, "body": .object(answer)], "runAfter": [:]],
            "NovaCron-succeeded": .object(terminate),
        ]
    }
}
