import Foundation
import Orchestration

/// Child workflows, approvals, signal waits and until waits on GCP Workflows.
///
/// - a `workflow` step runs the child workflow (exported on its own and deployed under its
///   workflow id, in the same project and location) with the Workflow Executions connector's
///   `run`, which waits for it; a child that declares `outputs` returns them;
/// - an approval or signal wait creates a callback endpoint, logs its URL and awaits the callback:
///   an approval's body is `{"decision": "approve"|"reject", "approvedBy", "comment", "data"}`, a
///   signal's body is its payload;
/// - `until` sleeps for the seconds left until the time.
extension GCPWorkflowsExporter {
    /// The steps (before the success record) and the output of a child, wait or until step.
    struct Work {
        var steps: [JSONValue]
        var output: JSONValue
    }

    mutating func childWork(_ body: ExportModel.Body, stepID: String, field: String?, result: String) -> Work? {
        guard field == nil, let index = model.graph.index[stepID], let child = model.steps[index].step.workflow else {
            problems.append(ExportProblem(step: stepID, field: field, message: ExportMessages.rollbackWaits(.gcp)))
            return nil
        }
        if model.steps[index].step.workflowVersion != nil {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "version", message: "GCP Workflows runs the child's latest revision; the version pin is not exported"))
        }
        var argument: [String: JSONValue] = [:]
        for key in body.inputs.keys.sorted() { argument[key] = value(body.inputs[key]!, stepID, "inputs." + key) }
        var args: [String: JSONValue] = [
            "workflow_id": .string(child), "argument": .object(argument),
            "project_id": #"${sys.get_env("GOOGLE_CLOUD_PROJECT_ID")}"#, "location": #"${sys.get_env("GOOGLE_CLOUD_LOCATION")}"#,
        ]
        if let timeout = body.timeout { args["connector_params"] = ["timeout": .number(max(1, timeout.seconds.rounded(.up)))] }
        let call: JSONValue = [
            "call": "googleapis.workflowexecutions.v1.projects.locations.workflows.executions.run", "args": .object(args), "result": .string(result),
        ]
        return Work(steps: [[result.replacingOccurrences(of: "_result", with: "_call"): call]], output: .string("${\(result)}"))
    }

    mutating func callbackWork(_ body: ExportModel.Body, stepID: String, result: String) -> Work {
        let base = result.replacingOccurrences(of: "_result", with: "")
        let approval = body.type == .approval
        var log: [String: JSONValue] = [
            "workflow": .string(model.workflow.name), "step": .string(stepID), "callback": .string("${\(base)_endpoint.url}"),
            "execution": #"${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}"#,
        ]
        if let message = body.inputs["message"] { log["message"] = value(message, stepID, "inputs.message") }
        if !approval, let signal = body.inputs["signal"] {
            log["signal"] = value(signal, stepID, "inputs.signal")
            warnings.append(
                ExportProblem(
                    step: stepID, field: "inputs.signal",
                    message:
                        "GCP Workflows has no named signals: the sender POSTs the payload to this step's callback URL (logged when the step starts waiting); a signal sent before the step waits is not kept"
                ))
        }
        var awaitArgs: [String: JSONValue] = ["callback": .string("${\(base)_endpoint}")]
        // await_callback waits 12 hours unless told; NovaCron waits without a limit unless told.
        awaitArgs["timeout"] = .number(min(31_536_000, max(1, (body.timeout ?? .seconds(31_536_000)).seconds.rounded(.up))))
        var steps: [JSONValue] = [
            [
                base + "_endpoint": [
                    "call": "events.create_callback_endpoint", "args": ["http_callback_method": "POST"], "result": .string(base + "_endpoint"),
                ]
            ],
            [base + "_announce": ["call": "sys.log", "args": ["severity": "NOTICE", "json": .object(log)]]],
        ]
        let awaitCall: JSONValue = ["call": "events.await_callback", "args": .object(awaitArgs), "result": .string(result)]
        let onTimeout = approval ? model.steps[model.graph.index[stepID]!].step.onTimeout : nil
        if let onTimeout {
            // Decided on timeout: a TimeoutError becomes that decision, by `timeout`.
            steps.append([
                base + "_await": [
                    "try": awaitCall,
                    "except": [
                        "as": "e",
                        "steps": [
                            [base + "_not_timeout": ["switch": [["condition": #"${not("TimeoutError" in e.tags)}"#, "raise": "${e}"]]]],
                            [
                                base + "_timed_out": [
                                    "assign": [
                                        [
                                            .init(stringLiteral: result): [
                                                "http_request": ["body": ["decision": .string(onTimeout), "approvedBy": "timeout"]]
                                            ]
                                        ]
                                    ]
                                ]
                            ],
                        ],
                    ],
                ]
            ])
        } else {
            steps.append([base + "_await": awaitCall])
        }
        let field = { (name: String) in "map.get(\(result).http_request, [\"body\", \"\(name)\"])" }
        guard approval else {
            let signal = body.inputs["signal"].map { value($0, stepID, "inputs.signal") } ?? .null
            return Work(steps: steps, output: ["signal": signal, "payload": .string("${\(result).http_request.body}")])
        }
        steps.append([
            base + "_decided": [
                "switch": [
                    [
                        "condition": .string("${\(field("decision")) != \"approve\"}"),
                        "raise": [
                            "message": .string("${\"rejected by \" + default(\(field("approvedBy")), \"callback\")}"), "tags": ["NovaCron.Rejected"],
                        ],
                    ]
                ]
            ]
        ])
        return Work(
            steps: steps,
            output: [
                "approved": true, "approvedBy": .string("${default(\(field("approvedBy")), \"callback\")}"),
                "comment": .string("${\(field("comment"))}"), "data": .string("${\(field("data"))}"),
            ])
    }

    /// Sleeps until the time: the seconds left, at least 0 (a time passed ends the step at once).
    mutating func untilWork(_ body: ExportModel.Body, stepID: String, field: String?, result: String) -> Work? {
        let place = [field, "inputs.until"].compactMap { $0 }.joined(separator: ".")
        guard body.timeout == nil else {
            problems.append(ExportProblem(step: stepID, field: "timeout", message: ExportMessages.untilTimeout(.gcp)))
            return nil
        }
        guard let until = body.inputs["until"] else { return nil }
        var time: String
        if case .literal(.string(let text)) = until {
            guard let date = TimeText.parse(text) else {
                problems.append(ExportProblem(step: stepID, field: place, message: "'\(text)' is not an ISO 8601 time"))
                return nil
            }
            time = Self.quote(TimeText.format(date))
        } else {
            guard case .string(let expression) = value(until, stepID, place), expression.hasPrefix("${"), expression.hasSuffix("}") else {
                return nil
            }
            time = String(expression.dropFirst(2).dropLast())
        }
        let sleep: JSONValue = ["call": "sys.sleep", "args": ["seconds": .string("${int(math.max(0, time.parse(\(time)) - sys.now()))}")]]
        return Work(
            steps: [[result.replacingOccurrences(of: "_result", with: "_sleep"): sleep]],
            output: ["until": .string("${time.format(time.parse(\(time)))}")])
    }
}
