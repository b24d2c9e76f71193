import Foundation
import Orchestration

/// Child workflows, approvals, signal waits and until waits on Step Functions.
///
/// - a `workflow` step runs the child's state machine with `states:startExecution.sync:2`: the
///   child is exported on its own and created under its workflow id, in the parent's account and
///   region (its ARN is computed from `$$.StateMachine.Id`); its declared outputs come back;
/// - an approval or signal wait is a task that publishes its task token on the default
///   EventBridge bus (`events:putEvents.waitForTaskToken`); the outside system answers with
///   `SendTaskSuccess` (a decision's details or a signal's payload) or `SendTaskFailure`;
/// - `until` is a Wait state on a timestamp.
extension ASLExporter {
    /// The event source and detail types an exported wait publishes.
    static let eventSource = "novacron"

    /// Parameters that start the child state machine of a `workflow` step.
    mutating func childParameters(_ body: ExportModel.Body, stepID: String, field: String?) -> [String: JSONValue]? {
        guard field == nil, let index = model.graph.index[stepID], let child = model.steps[index].step.workflow else {
            problems.append(ExportProblem(step: stepID, field: field, message: ExportMessages.rollbackWaits(.aws)))
            return nil
        }
        if model.steps[index].step.workflowVersion != nil {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "version",
                    message: "Step Functions runs the child state machine as it is deployed; the version pin is not exported"))
        }
        // arn:PARTITION:states:REGION:ACCOUNT:stateMachine:PARENT → the child's, beside it.
        let part = { (n: Int) in "States.ArrayGetItem(States.StringSplit($$.StateMachine.Id, ':'), \(n))" }
        var parameters: [String: JSONValue] = [
            "StateMachineArn.$": .string(
                "States.Format('arn:{}:states:{}:{}:stateMachine:\(Intrinsic.escape(child))', \(part(1)), \(part(3)), \(part(4)))")
        ]
        var input: [String: JSONValue] = ["AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id"]
        for key in body.inputs.keys.sorted() { put(&input, key, body.inputs[key]!, stepID, "inputs." + key) }
        parameters["Input"] = .object(input)
        return parameters
    }

    /// Parameters of the event that hands an approval's or signal wait's task token to the outside,
    /// and what the step's output is made of.
    mutating func waitParameters(_ body: ExportModel.Body, stepID: String) -> (parameters: [String: JSONValue], output: (String, JSONValue)) {
        var detail: [String: JSONValue] = [
            "TaskToken.$": "$$.Task.Token", "execution.$": "$$.Execution.Id", "workflow": .string(model.workflow.name), "step": .string(stepID),
        ]
        let approval = body.type == .approval
        if let message = body.inputs["message"] { put(&detail, "message", message, stepID, "inputs.message") }
        if !approval, let signal = body.inputs["signal"] {
            put(&detail, "signal", signal, stepID, "inputs.signal")
            warnings.append(
                ExportProblem(
                    step: stepID, field: "inputs.signal",
                    message:
                        "Step Functions has no named signals: the sender answers this step's task token (published on the default EventBridge bus) with SendTaskSuccess, its payload as the output; a signal sent before the step waits is not kept"
                ))
        }
        let entry: JSONValue = [
            "Source": .string(Self.eventSource), "DetailType": approval ? "NovaCron approval requested" : "NovaCron signal awaited",
            "Detail": .object(detail),
        ]
        // An approver sends {"approvedBy", "comment", "data"} with SendTaskSuccess, or rejects with
        // SendTaskFailure (`${step.approved}` reads the step's success); a signal's sender sends its payload.
        var signalOutput: [String: JSONValue] = ["payload.$": "$"]
        // ResultSelector paths read the task's answer, not the state: only a fixed name is copied.
        if !approval, let signal = body.constant("signal") { signalOutput["signal"] = .string(signal) }
        let output: (String, JSONValue) = approval ? ("output.$", "$") : ("output", .object(signalOutput))
        return (["Entries": [entry]], output)
    }

    /// A Wait state for `until`: a path to the time, or a fixed time.
    mutating func untilState(_ body: ExportModel.Body, stepID: String, field: String?) -> [String: JSONValue]? {
        let place = [field, "inputs.until"].compactMap { $0 }.joined(separator: ".")
        guard body.timeout == nil else {
            problems.append(ExportProblem(step: stepID, field: "timeout", message: ExportMessages.untilTimeout(.aws)))
            return nil
        }
        switch body.inputs["until"] {
        case .literal(.string(let text))?:
            guard let time = TimeText.parse(text) else {
                problems.append(ExportProblem(step: stepID, field: place, message: "'\(text)' is not an ISO 8601 time"))
                return nil
            }
            return ["Type": "Wait", "Timestamp": .string(TimeText.format(time))]
        case .template(let t)? where t.parts.count == 1:
            guard let operand = intrinsic(t, stepID: stepID, field: place) else { return nil }
            guard case .path(let path) = operand, !path.hasPrefix("States.") else {
                problems.append(ExportProblem(step: stepID, field: place, message: "Step Functions waits until a time in the state, not a constant"))
                return nil
            }
            warnings.append(
                ExportProblem(
                    step: stepID, field: place,
                    message: "Step Functions waits until a full RFC 3339 time (2026-12-24T18:00:00Z); a date alone fails the state there"))
            return ["Type": "Wait", "TimestampPath": .string(path)]
        default:
            problems.append(
                ExportProblem(
                    step: stepID, field: place,
                    message: "Step Functions waits until a time that is fixed or one reference (${inputs.releaseAt}), not text around references"))
            return nil
        }
    }

    /// What an until wait gives downstream once the time came: `${step.until}`.
    func untilOutput(_ wait: [String: JSONValue]) -> JSONValue {
        if let path = wait["TimestampPath"] { return ["until.$": path] }
        return ["until": wait["Timestamp"] ?? .null]
    }

    /// An approval that decides itself when its timeout passes: the Pass that records it.
    func decidedOnTimeout(_ onTimeout: String?, path: String, exit: Exit) -> [String: JSONValue]? {
        guard onTimeout == "approve" else { return nil }
        var state: [String: JSONValue] = [
            "Type": "Pass",
            "Result": [
                "status": "success", "success": true, "failed": false, "timedOut": false,
                "output": ["approved": true, "approvedBy": "timeout", "comment": .null, "data": [:]],
            ],
            "ResultPath": .string(path),
        ]
        exit.apply(to: &state)
        return state
    }
}
