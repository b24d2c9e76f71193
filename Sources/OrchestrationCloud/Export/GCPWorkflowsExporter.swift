import Foundation
import Orchestration

/// Google Cloud Workflows YAML.
///
/// As for Step Functions, every step records its status in the map `results`, a failed step
/// skips what depends on it, and a failed run rolls back and raises at the end. Series-parallel
/// DAGs nest exactly as `parallel` branches (sharing `results`); other DAGs are layered. `api`
/// steps and health checks → `http.request` / `http.get`; GCP functions → `http.post` with OIDC;
/// Azure functions → `http.post` to their `url`; `container` (docker-run) → a Cloud Run job run
/// with the command as an override; `wait` → `sys.sleep`; retry policies → `retry` with
/// `backoff`.
struct GCPWorkflowsExporter {
    let model: ExportModel
    let names: [String]
    var problems: [ExportProblem] = []
    var warnings: [ExportProblem] = []
    var parallelCount = 0
    var usesRetry: Set<String> = []

    init(model: ExportModel) {
        self.model = model
        self.names = model.safeNames()
    }

    func export() -> ExporterOutput {
        var builder = self
        return builder.build()
    }

    mutating func build() -> ExporterOutput {
        let layout = model.decomposition()
        if let w = model.layoutWarning(layout, target: .gcp) { warnings.append(w) }
        if model.workflow.timeout != nil {
            warnings.append(
                ExportProblem(field: "timeout", message: "GCP Workflows has no timeout for a whole execution; the workflow timeout is not exported"))
        }
        var steps: [JSONValue] = [
            ["init": ["assign": [["inputs": .object(model.workflow.variables)], ["results": [:]]]]],
            ["given": ["switch": [["condition": "${input != null}", "assign": [["inputs": "${map.merge(inputs, input)}"]]]]]],
        ]
        steps += structure(layout.structure)
        // The end: roll back and raise if a step that may not fail failed.
        let mayFail = model.steps.filter { !$0.continueOnFailure }
        if !mayFail.isEmpty {
            var undo: [JSONValue] = []
            for i in model.topologicalOrder.reversed() {
                guard let rollback = model.steps[i].rollback else { continue }
                guard let call = call(rollback, stepID: model.steps[i].id, field: "rollback", result: "\(names[i])_rollback") else { continue }
                undo.append([
                    "\(names[i])_rollback": [
                        "switch": [
                            [
                                "condition": .string("${results.\(names[i]).status == \"success\"}"),
                                "steps": [
                                    [
                                        "\(names[i])_undo": [
                                            "try": call,
                                            "except": [
                                                "as": "e",
                                                "steps": [["\(names[i])_undo_failed": ["assign": [["results.\(names[i])_rollback": "${e}"]]]]],
                                            ],
                                        ]
                                    ]
                                ],
                            ]
                        ]
                    ]
                ])
            }
            undo.append(["failed": ["raise": ["code": 1, "message": "NovaCron.StepFailed: a step failed; see results"]]])
            let anyFailed = mayFail.map { "results.\(names[$0.index]).status == \"failed\"" }.joined(separator: " or ")
            steps.append(["finish": ["switch": [["condition": .string("${\(anyFailed)}"), "steps": .array(undo)]]]])
        }
        if let outputs = model.workflow.outputs, !outputs.isEmpty {
            // A workflow that declares outputs returns them, as NovaCron's child does to its parent.
            let before = problems.count
            var values: [String: JSONValue] = [:]
            for (key, v) in outputs { values[key] = self.value(CompiledValue(v), "", "outputs." + key) }
            for p in before..<problems.count { problems[p].step = nil }
            steps.append(["done": ["return": .object(values)]])
        } else {
            steps.append(["done": ["return": "${results}"]])
        }
        var document: [String: JSONValue] = ["main": ["params": ["input"], "steps": .array(steps)]]
        for predicate in usesRetry.sorted() {
            let test: String
            switch predicate {
            case "novacron_retry_failures": test = "${not(\"TimeoutError\" in e.tags)}"
            case "novacron_retry_timeouts": test = "${\"TimeoutError\" in e.tags}"
            default: test = "${true}"
            }
            document[predicate] = ["params": ["e"], "steps": [["decide": ["return": .string(test)]]]]
        }
        let value = JSONValue.object(document)
        let order = ["main", "params", "steps", "call", "args", "result", "try", "retry", "except", "condition", "assign", "switch"]
        return ExporterOutput(
            result: ExportResult(
                target: .gcp, document: value, text: YAMLText.write(value, order: order), fileExtension: "yaml", warnings: warnings, layout: layout),
            problems: problems)
    }

    mutating func structure(_ s: SeriesParallel.Structure) -> [JSONValue] {
        switch s {
        case .step(let i): return [step(i)]
        case .series(let parts): return parts.flatMap { structure($0) }
        case .parallel(let parts):
            // At most 10 branches each: more nest.
            var branches = parts.map { structure($0) }
            while branches.count > 10 {
                let chunk = Array(branches.prefix(10))
                branches = [[parallel(chunk)]] + branches.dropFirst(10)
            }
            return [parallel(branches)]
        }
    }

    mutating func parallel(_ branches: [[JSONValue]]) -> JSONValue {
        parallelCount += 1
        let n = parallelCount
        return [
            "parallel_\(n)": [
                "parallel": [
                    "shared": ["results"],
                    "branches": .array(branches.enumerated().map { b, steps in ["branch_\(n)_\(b + 1)": ["steps": .array(steps)]] }),
                ]
            ]
        ]
    }

    mutating func step(_ i: Int) -> JSONValue {
        let s = model.steps[i]
        let name = names[i]
        let fan = s.step.forEach != nil
        let work = (fan ? fanCall(s) : call(s.body, stepID: s.id, field: nil, result: name + "_result")) ?? [:]
        var attempt: [String: JSONValue] = ["try": work]
        // A forEach step retries each item (in fanCall), not the whole fan.
        if !fan, let retry = attemptRetry(s) { attempt["retry"] = retry }
        attempt["except"] = [
            "as": "e",
            "steps": [
                [
                    name + "_failed": [
                        "assign": [
                            [
                                "results.\(name)": [
                                    "status": "failed", "success": false, "failed": true, "timedOut": "${\"TimeoutError\" in e.tags}",
                                    "error": "${e}",
                                ]
                            ]
                        ]
                    ]
                ]
            ],
        ]
        let skipped: JSONValue = ["assign": [["results.\(name)": ["status": "skipped", "success": false, "failed": false, "timedOut": false]]]]
        var gate: [String] = s.upstream.filter { !s.statusReads.contains($0) }.map { "results.\(names[$0]).status == \"success\"" }
        if let condition = s.condition {
            if case .literal(.bool(false)) = condition { return [name: skipped] }
            if let c = expression(condition, step: s.id) { gate.append("(\(c))") }
        }
        let run: JSONValue = [name + "_run": .object(attempt)]
        guard !gate.isEmpty else { return [name: ["steps": [run]]] }
        return [
            name: [
                "switch": [
                    ["condition": .string("${\(gate.joined(separator: " and "))}"), "steps": [run]],
                    ["condition": true, "steps": [[name + "_skipped": skipped]]],
                ]
            ]
        ]
    }

    /// The steps that do a body's work and record its success, for a `try`.
    /// `itemKey` records an item's output there (a forEach item) instead of the step's result record.
    mutating func call(_ body: ExportModel.Body, stepID: String, field: String?, result: String, itemKey: String? = nil) -> JSONValue? {
        func problem(_ message: String, _ f: String? = nil) -> JSONValue? {
            problems.append(ExportProblem(step: stepID, field: [field, f].compactMap { $0 }.joined(separator: ".").nilIfEmpty, message: message))
            return nil
        }
        let key = field == nil ? "results.\(names[model.graph.index[stepID]!])" : "results.\(names[model.graph.index[stepID]!])_rollback"
        var call: [String: JSONValue] = [:]
        var output = JSONValue.string("${\(result)}")
        switch body.kind {
        case .shell: return problem(ExportMessages.shell(.gcp))
        case .containerOther: return problem(ExportMessages.containerOther(.gcp))
        case .childWorkflow, .waitForOutside:
            let made: Work?
            if body.kind == .childWorkflow {
                made = childWork(body, stepID: stepID, field: field, result: result)
            } else if body.raw["until"] != nil {
                made = untilWork(body, stepID: stepID, field: field, result: result)
            } else if field == nil {
                made = callbackWork(body, stepID: stepID, result: result)
            } else {
                return problem(ExportMessages.rollbackWaits(.gcp))
            }
            guard let work = made else { return nil }
            return ["steps": .array(work.steps + [[result.replacingOccurrences(of: "_result", with: "_ok"): record(work.output, key, itemKey)]])]
        case .http, .healthCheck:
            guard let url = body.inputs["url"] else { return problem("an HTTP step needs inputs.url", "inputs.url") }
            var args: [String: JSONValue] = [:]
            args["url"] = value(url, stepID, "inputs.url")
            if body.kind == .healthCheck {
                call["call"] = "http.get"
            } else {
                call["call"] = "http.request"
                args["method"] = body.inputs["method"].map { value($0, stepID, "inputs.method") } ?? "GET"
                if let headers = body.inputs["headers"] { args["headers"] = value(headers, stepID, "inputs.headers") }
                if let payload = body.inputs["json"] ?? body.inputs["body"] { args["body"] = value(payload, stepID, "inputs.json") }
            }
            if let timeout = body.timeout { args["timeout"] = .number(min(1800, max(1, timeout.seconds.rounded(.up)))) }
            call["args"] = .object(args)
            output = .object([
                "statusCode": .string("${\(result).code}"), "headers": .string("${\(result).headers}"), "body": .string("${\(result).body}"),
            ])
        case .function(let provider):
            var args: [String: JSONValue] = [:]
            switch provider {
            case "gcp", "azure":
                guard let url = body.functionURL(model.options) else {
                    return problem(
                        provider == "gcp"
                            ? "a Cloud Function is called at its URL: set inputs.url, or inputs.function_name with inputs.project and inputs.region (or --gcp-project and --gcp-region)"
                            : "an Azure function is called over HTTPS from GCP Workflows: set inputs.url, or inputs.app and inputs.function_name",
                        "inputs")
                }
                args["url"] = value(url, stepID, "inputs.url")
                if provider == "gcp" { args["auth"] = ["type": "OIDC"] }
                if body.inputs["key"] != nil {
                    warnings.append(
                        ExportProblem(
                            step: stepID, field: "inputs.key",
                            message:
                                "a function key is a secret and is not written into the workflow; allow the call another way (a key read from Secret Manager in a step before, or an anonymous function)"
                        ))
                }
            default:
                return problem(
                    "GCP Workflows calls GCP and Azure functions over HTTPS; an AWS Lambda needs SigV4 signing it cannot do", "inputs.provider")
            }
            args["body"] = value(LambdaPayload.payload(body.inputs), stepID, "inputs")
            if let timeout = body.timeout { args["timeout"] = .number(min(1800, max(1, timeout.seconds.rounded(.up)))) }
            call["call"] = "http.post"
            call["args"] = .object(args)
            output = .string("${\(result).body}")
        case .containerRun:
            guard let job = body.constant("job") else {
                return problem(
                    "Cloud Run runs jobs, not images: create a job for \(body.constant("image") ?? "the image") and set inputs.job", "inputs")
            }
            guard let project = body.constant("project") ?? model.options.gcpProject, let region = body.constant("region") ?? model.options.gcpRegion
            else {
                return problem("a Cloud Run job needs a project and region: pass --gcp-project and --gcp-region", "inputs")
            }
            guard let command = body.inputs["command"] else { return problem("a container step needs inputs.command", "inputs.command") }
            call["call"] = "googleapis.run.v2.projects.locations.jobs.run"
            call["args"] = [
                "name": .string("projects/\(project)/locations/\(region)/jobs/\(job)"),
                "body": ["overrides": ["containerOverrides": [["args": ["sh", "-c", value(command, stepID, "inputs.command")]]]]],
            ]
        case .sleep:
            guard let text = body.constant("duration"), let duration = try? DurationText.parse(text) else {
                return problem("a wait step needs inputs.duration as a fixed duration", "inputs.duration")
            }
            call["call"] = "sys.sleep"
            call["args"] = ["seconds": .number(max(0, duration.seconds.rounded(.up)))]
            output = [:]
        }
        if output != [:] { call["result"] = .string(result) }
        let record = record(output, key, itemKey)
        return [
            "steps": [
                [result.replacingOccurrences(of: "_result", with: "_call"): .object(call)],
                [result.replacingOccurrences(of: "_result", with: "_ok"): record],
            ]
        ]
    }

    /// How a step's attempt is retried: a health check at its interval, a wait never (a decision or
    /// timeout is final), anything else by its retry policy.
    mutating func attemptRetry(_ s: ExportModel.Step) -> JSONValue? {
        if s.body.kind == .healthCheck {
            let interval = (s.body.constant("interval").flatMap { try? DurationText.parse($0) } ?? .seconds(2)).seconds
            let maxWait = (s.body.constant("maxWait").flatMap { try? DurationText.parse($0) } ?? s.body.timeout ?? .seconds(300)).seconds
            usesRetry.insert("novacron_retry_all")
            return [
                "predicate": "${novacron_retry_all}", "max_retries": .number(max(1, (maxWait / max(interval, 1)).rounded(.down))),
                "backoff": [
                    "initial_delay": .number(max(1, interval.rounded(.up))), "max_delay": .number(max(1, interval.rounded(.up))), "multiplier": 1,
                ],
            ]
        }
        guard s.body.kind != .waitForOutside else { return nil }
        return retry(s.body.retry, stepID: s.id)
    }

    mutating func retry(_ policy: RetryPolicy, stepID: String) -> JSONValue? {
        guard policy.maxAttempts > 1 else { return nil }
        let predicate: String
        switch (policy.retryOn.contains(.failure), policy.retryOn.contains(.timeout)) {
        case (true, true): predicate = "novacron_retry_all"
        case (true, false): predicate = "novacron_retry_failures"
        case (false, true): predicate = "novacron_retry_timeouts"
        case (false, false): return nil
        }
        usesRetry.insert(predicate)
        var multiplier = 1.0
        switch policy.backoffStrategy {
        case .fixed: multiplier = 1
        case .exponential: multiplier = max(1, policy.multiplier)
        case .linear:
            warnings.append(
                ExportProblem(
                    step: stepID, field: "retryPolicy.backoffStrategy",
                    message: "GCP Workflows has no linear backoff; exported as fixed delays of \(DurationText.format(policy.initialDelay))"))
        }
        if policy.jitter == .full {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "retryPolicy.jitter", message: "GCP Workflows does not jitter retry delays; they are exported without jitter"
                ))
        }
        return [
            "predicate": .string("${\(predicate)}"), "max_retries": .number(Double(policy.maxAttempts - 1)),
            "backoff": [
                "initial_delay": .number(max(1, policy.initialDelay.seconds.rounded(.up))),
                "max_delay": .number(max(1, policy.maxDelay.seconds.rounded(.up))),
                "multiplier": .number(multiplier),
            ],
        ]
    }
}
