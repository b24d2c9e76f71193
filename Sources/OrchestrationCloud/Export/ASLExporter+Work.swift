import Foundation
import Orchestration

/// Task states for each kind of step body, and their retriers.
extension ASLExporter {

    /// The state that does a body's work, without Next/End or Catch.
    mutating func work(_ body: ExportModel.Body, resultPath: String, stepID: String, field: String?) -> [String: JSONValue]? {
        func problem(_ message: String, _ f: String? = nil) -> [String: JSONValue]? {
            problems.append(ExportProblem(step: stepID, field: [field, f].compactMap { $0 }.joined(separator: ".").nilIfEmpty, message: message))
            return nil
        }
        var state: [String: JSONValue] = ["Type": "Task"]
        var parameters: [String: JSONValue] = [:]
        var output: (key: String, value: JSONValue) = ("output", [:])
        switch body.kind {
        case .shell:
            return problem(ExportMessages.shell(.aws))
        case .containerOther:
            return problem(ExportMessages.containerOther(.aws))
        case .childWorkflow:
            guard let child = childParameters(body, stepID: stepID, field: field) else { return nil }
            state["Resource"] = "arn:aws:states:::states:startExecution.sync:2"
            parameters = child
            output = ("output.$", "$.Output")
        case .waitForOutside:
            if body.raw["until"] != nil { return untilState(body, stepID: stepID, field: field) }
            let wait = waitParameters(body, stepID: stepID)
            state["Resource"] = "arn:aws:states:::events:putEvents.waitForTaskToken"
            parameters = wait.parameters
            output = wait.output
        case .function(let provider):
            guard provider == "aws" else {
                return problem("Step Functions invokes AWS Lambda functions only (provider: aws), not provider: \(provider)", "inputs.provider")
            }
            guard let name = body.inputs["function_name"] ?? body.inputs["function"] else {
                return problem("a Lambda step needs inputs.function_name", "inputs")
            }
            state["Resource"] = "arn:aws:states:::lambda:invoke"
            put(&parameters, "FunctionName", name, stepID, "inputs.function_name")
            if let qualifier = body.inputs["qualifier"] { put(&parameters, "Qualifier", qualifier, stepID, "inputs.qualifier") }
            put(&parameters, "Payload", LambdaPayload.payload(body.inputs), stepID, "inputs")
            output = ("output.$", "$.Payload")
        case .http, .healthCheck:
            guard let arn = body.constant("connectionArn") ?? model.options.awsConnectionArn else {
                return problem(
                    "Step Functions HTTP tasks authenticate through an EventBridge connection: pass --aws-connection-arn (or set inputs.connectionArn)"
                )
            }
            guard let url = body.inputs["url"] else { return problem("an HTTP step needs inputs.url", "inputs") }
            state["Resource"] = "arn:aws:states:::http:invoke"
            put(&parameters, "ApiEndpoint", url, stepID, "inputs.url")
            if body.kind == .healthCheck {
                parameters["Method"] = "GET"
            } else if let method = body.inputs["method"] {
                put(&parameters, "Method", method, stepID, "inputs.method")
            } else {
                parameters["Method"] = "GET"
            }
            if let headers = body.inputs["headers"], body.kind == .http { put(&parameters, "Headers", headers, stepID, "inputs.headers") }
            if body.kind == .http, let payload = body.inputs["json"] ?? body.inputs["body"] {
                put(&parameters, "RequestBody", payload, stepID, "inputs.json")
            }
            parameters["Authentication"] = ["ConnectionArn": .string(arn)]
            output = ("output", ["statusCode.$": "$.StatusCode", "headers.$": "$.Headers", "body.$": "$.ResponseBody"])
        case .sleep:
            guard let text = body.constant("duration") else {
                return problem("a wait step needs inputs.duration as a fixed duration", "inputs.duration")
            }
            guard let duration = try? DurationText.parse(text) else { return problem("'\(text)' is not a duration", "inputs.duration") }
            return ["Type": "Wait", "Seconds": .number(Double(seconds(duration)))]
        case .containerRun:
            guard let taskDefinition = body.inputs["taskDefinition"] else {
                return problem(
                    "ECS runs task definitions, not images: set inputs.taskDefinition (a task definition whose container runs \(body.constant("image") ?? "the image")) and inputs.containerName",
                    "inputs")
            }
            guard let cluster = body.inputs["cluster"] ?? model.options.ecsCluster.map({ .literal(.string($0)) }) else {
                return problem("an ECS task needs a cluster: pass --ecs-cluster or set inputs.cluster", "inputs")
            }
            guard let command = body.inputs["command"] else { return problem("a container step needs inputs.command", "inputs.command") }
            state["Resource"] = "arn:aws:states:::ecs:runTask.sync"
            put(&parameters, "Cluster", cluster, stepID, "inputs.cluster")
            put(&parameters, "TaskDefinition", taskDefinition, stepID, "inputs.taskDefinition")
            if let launchType = body.inputs["launchType"] { put(&parameters, "LaunchType", launchType, stepID, "inputs.launchType") }
            var override: [String: JSONValue] = [:]
            put(&override, "Name", body.inputs["containerName"] ?? .literal(.string(stepID)), stepID, "inputs.containerName")
            put(&override, "Command", .array([.literal("sh"), .literal("-c"), command]), stepID, "inputs.command")
            parameters["Overrides"] = ["ContainerOverrides": [.object(override)]]
            output = ("output.$", "$")
        }
        state["Parameters"] = .object(parameters)
        var selector: [String: JSONValue] = ["status": "success", "success": true, "failed": false, "timedOut": false]
        selector[output.key] = output.value
        if body.kind == .childWorkflow { selector["executionID.$"] = "$.ExecutionArn" }
        state["ResultSelector"] = .object(selector)
        state["ResultPath"] = .string(resultPath)
        if let timeout = body.timeout { state["TimeoutSeconds"] = .number(Double(seconds(timeout))) }
        if body.kind == .healthCheck {
            let interval = (body.constant("interval").flatMap { try? DurationText.parse($0) } ?? .seconds(2)).seconds
            let maxWait = (body.constant("maxWait").flatMap { try? DurationText.parse($0) } ?? body.timeout ?? .seconds(300)).seconds
            state["Retry"] = [
                [
                    "ErrorEquals": ["States.ALL"], "IntervalSeconds": .number(max(1, interval.rounded(.up))),
                    "MaxAttempts": .number(max(1, (maxWait / max(interval, 1)).rounded(.down))), "BackoffRate": 1,
                ]
            ]
            state["TimeoutSeconds"] = nil
        } else if body.kind != .waitForOutside, let retry = retrier(body.retry, stepID: stepID) {
            state["Retry"] = [retry]
        }
        return state
    }

    /// A retry policy as one retrier.
    mutating func retrier(_ policy: RetryPolicy, stepID: String) -> JSONValue? {
        guard policy.maxAttempts > 1 else { return nil }
        let errors: [JSONValue]
        switch (policy.retryOn.contains(.failure), policy.retryOn.contains(.timeout)) {
        case (true, true): errors = ["States.ALL"]
        case (true, false): errors = ["States.TaskFailed"]
        case (false, true): errors = ["States.Timeout"]
        case (false, false): return nil
        }
        let initial = policy.initialDelay.seconds
        if initial < 1 || initial != initial.rounded() {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "retryPolicy.initialDelay",
                    message:
                        "Step Functions waits whole seconds, at least 1: \(DurationText.format(policy.initialDelay)) becomes \(max(1, Int(initial.rounded(.up))))s"
                ))
        }
        var rate = 1.0
        switch policy.backoffStrategy {
        case .fixed: rate = 1
        case .exponential:
            rate = policy.multiplier
            if rate < 1 {
                warnings.append(
                    ExportProblem(
                        step: stepID, field: "retryPolicy.multiplier",
                        message: "Step Functions' BackoffRate is at least 1; \(policy.multiplier) becomes 1"))
                rate = 1
            }
        case .linear:
            // Delays d, 2d, 3d…: the exponential rate that gives the same last delay.
            let n = Double(policy.maxAttempts - 1)
            rate = n > 1 ? pow(n, 1 / (n - 1)) : 1
            warnings.append(
                ExportProblem(
                    step: stepID, field: "retryPolicy.backoffStrategy",
                    message:
                        "Step Functions has no linear backoff; exported as exponential with BackoffRate \(JSONValue.format((rate * 100).rounded() / 100)), which reaches the same last delay"
                ))
            rate = (rate * 100).rounded() / 100
        }
        return [
            "ErrorEquals": .array(errors),
            "IntervalSeconds": .number(max(1, initial.rounded(.up))),
            "MaxAttempts": .number(Double(policy.maxAttempts - 1)),
            "BackoffRate": .number(rate),
            "MaxDelaySeconds": .number(max(1, policy.maxDelay.seconds.rounded(.up))),
            "JitterStrategy": policy.jitter == .full ? "FULL" : "NONE",
        ]
    }

    func seconds(_ d: Duration) -> Int { max(1, Int(d.seconds.rounded(.up))) }
}
