import Foundation
import Orchestration

/// Amazon States Language for AWS Step Functions (JSONPath).
///
/// The state carries `{"inputs": {…}, "steps": {"<id>": {"status": …, "output": …}}}`: every
/// step records its status (`success`, `failed`, `skipped`), so later conditions can read it and
/// the run behaves as NovaCron's does: a failed step skips what depends on it, the rest goes on,
/// and at the end a failed run rolls back (reverse topological order, each rollback only where
/// its step succeeded) and ends in a Fail state.
///
/// - series-parallel DAGs become nested Parallel states exactly; other DAGs are layered into
///   waves, and the export reports the makespan before and after;
/// - `lambda` (AWS) → `lambda:invoke`; `api` and health checks → `http:invoke` (needs an
///   EventBridge connection); `container` (docker-run) → `ecs:runTask.sync`; `wait` → Wait;
/// - retry policies → Retry (IntervalSeconds, MaxAttempts, BackoffRate, MaxDelaySeconds,
///   JitterStrategy); step timeouts → TimeoutSeconds; conditions → Choice states.
struct ASLExporter {
    let model: ExportModel
    let names: [String]
    var problems: [ExportProblem] = []
    var warnings: [ExportProblem] = []
    var parallelCount = 0

    init(model: ExportModel) {
        self.model = model
        self.names = model.safeNames()
    }

    func export() -> ExporterOutput {
        var builder = self
        return builder.build()
    }

    enum Exit {
        case next(String)
        case end

        func apply(to state: inout [String: JSONValue]) {
            switch self {
            case .next(let name): state["Next"] = .string(name)
            case .end:
                // Only branches end; they hand back their steps (see `structure`).
                state["End"] = true
                state["OutputPath"] = "$.steps"
            }
        }
    }

    private mutating func build() -> ExporterOutput {
        let layout = model.decomposition()
        if let w = model.layoutWarning(layout, target: .aws) { warnings.append(w) }
        if model.workflow.failFast {
            warnings.append(ExportProblem(field: "failFast", message: "Step Functions runs the other branches to their end after a failure (failFast is not exported); the run still fails and rolls back"))
        }
        var states: [String: JSONValue] = [:]
        // The end: fail (after rollbacks) if a step that may not fail failed.
        states["Succeeded"] = ["Type": "Succeed"]
        states["Failed"] = ["Type": "Fail", "Error": "NovaCron.StepFailed", "Cause": "a step failed; the execution history says which"]
        var failure: Exit = .next("Failed")
        for i in model.topologicalOrder.reversed() {
            guard let rollback = model.steps[i].rollback else { continue }
            let name = model.steps[i].id + ".rollback"
            let skip = failure
            var task = work(rollback, resultPath: "$.rollbacks.\(names[i])", stepID: model.steps[i].id, field: "rollback") ?? [:]
            failure.apply(to: &task)
            task["Catch"] = [["ErrorEquals": ["States.ALL"], "ResultPath": .string("$.rollbacks.\(names[i])"), "Next": .string(skip.name ?? "Failed")]]
            states[name] = .object(task)
            var gate: [String: JSONValue] = [
                "Type": "Choice",
                "Choices": [["Variable": .string("$.steps.\(names[i]).status"), "StringEquals": "success", "Next": .string(name)]],
            ]
            gate["Default"] = .string(skip.name ?? "Failed")
            states[name + "?"] = .object(gate)
            failure = .next(name + "?")
        }
        let mayFail = model.steps.filter { !$0.continueOnFailure }
        var check: Exit = .next("Succeeded")
        if !mayFail.isEmpty {
            let rules: [JSONValue] = mayFail.map { ["Variable": .string("$.steps.\(names[$0.index]).status"), "StringEquals": "failed"] }
            states["Any step failed?"] = [
                "Type": "Choice",
                "Choices": [["Or": .array(rules), "Next": .string(failure.name ?? "Failed")]],
                "Default": "Succeeded",
            ]
            check = .next("Any step failed?")
        }
        let first = structure(layout.structure, exit: check, states: &states)
        var initial: [String: JSONValue] = ["Type": "Pass", "Next": .string(first)]
        if model.workflow.variables.isEmpty {
            initial["Parameters"] = ["inputs.$": "$", "steps": [:], "rollbacks": [:]]
            states["Inputs"] = .object(initial)
        } else {
            initial["Parameters"] = ["inputs.$": "States.JsonMerge($.defaults, $.given, false)", "steps": [:], "rollbacks": [:]]
            states["Inputs"] = .object(initial)
            states["Defaults"] = ["Type": "Pass", "Parameters": ["given.$": "$", "defaults": .object(model.workflow.variables)], "Next": "Inputs"]
        }
        var machine: [String: JSONValue] = [
            "Comment": .string(model.workflow.description ?? model.workflow.name),
            "StartAt": model.workflow.variables.isEmpty ? "Inputs" : "Defaults",
            "States": .object(states),
        ]
        if let timeout = model.workflow.timeout { machine["TimeoutSeconds"] = .number(Double(seconds(timeout))) }
        let document = JSONValue.object(machine)
        return ExporterOutput(
            result: ExportResult(target: .aws, document: document, text: Self.text(document), fileExtension: "json", warnings: warnings, layout: layout),
            problems: problems)
    }

    /// Indented JSON, with BackoffRate written as a decimal (`2.0`): the language says it is one,
    /// and validators such as statelint refuse `2`.
    static func text(_ document: JSONValue) -> String {
        var out = ""
        for line in document.prettyJSONText.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.contains("\"BackoffRate\": "), !line.contains("."),
               let colon = line.range(of: ": ") {
                let value = line[colon.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: ","))
                out += line[..<colon.upperBound] + value + ".0" + (line.hasSuffix(",") ? "," : "") + "\n"
            } else {
                out += line + "\n"
            }
        }
        return String(out.dropLast())
    }

    /// Adds the states of `s` and returns the name of its first.
    private mutating func structure(_ s: SeriesParallel.Structure, exit: Exit, states: inout [String: JSONValue]) -> String {
        switch s {
        case .step(let i):
            return step(i, exit: exit, states: &states)
        case .series(let parts):
            var next = exit
            var first = ""
            for part in parts.reversed() {
                first = structure(part, exit: next, states: &states)
                next = .next(first)
            }
            return first
        case .parallel(let parts):
            parallelCount += 1
            let name = "Parallel \(parallelCount)"
            var branches: [JSONValue] = []
            for part in parts {
                var inner: [String: JSONValue] = [:]
                let start = structure(part, exit: .end, states: &inner)
                branches.append(["StartAt": .string(start), "States": .object(inner)])
            }
            // Each branch hands back its steps; they are merged into the state.
            var merged = "$.branches[0]"
            for b in 1..<parts.count { merged = "States.JsonMerge(\(merged), $.branches[\(b)], false)" }
            let state: [String: JSONValue] = [
                "Type": "Parallel", "Branches": .array(branches), "ResultPath": "$.branches", "Next": .string(name + " (merge)"),
            ]
            var merge: [String: JSONValue] = [
                "Type": "Pass", "Parameters": ["inputs.$": "$.inputs", "steps.$": .string(merged), "rollbacks.$": "$.rollbacks"],
            ]
            exit.apply(to: &merge)
            states[name + " (merge)"] = .object(merge)
            states[name] = .object(state)
            return name
        }
    }

    /// A step: a Choice when it has a gate, its work, and Pass states recording a skip or failure.
    private mutating func step(_ i: Int, exit: Exit, states: inout [String: JSONValue]) -> String {
        let s = model.steps[i]
        let id = s.id, path = "$.steps.\(names[i])"
        let gate = gateRule(s)
        let result: (String, JSONValue) -> JSONValue = { status, extra in
            var fields: [String: JSONValue] = ["status": .string(status), "success": .bool(status == "success"), "failed": .bool(status == "failed")]
            if case .object(let more) = extra { fields.merge(more) { _, b in b } }
            return .object(fields)
        }
        var skipped: [String: JSONValue] = ["Type": "Pass", "Result": result("skipped", ["timedOut": false]), "ResultPath": .string(path)]
        exit.apply(to: &skipped)
        guard var work = work(s.body, resultPath: path, stepID: id, field: nil) else { return id }
        let isWait = work["Type"] == "Wait"
        if isWait {
            var done: [String: JSONValue] = ["Type": "Pass", "Result": result("success", ["timedOut": false]), "ResultPath": .string(path)]
            exit.apply(to: &done)
            states[id + " (done)"] = .object(done)
            work["Next"] = .string(id + " (done)")
        } else {
            exit.apply(to: &work)
            var failed: [String: JSONValue] = [
                "Type": "Pass", "Parameters": result("failed", ["timedOut": false, "error.$": .string(path)]), "ResultPath": .string(path),
            ]
            var timedOut = failed
            timedOut["Parameters"] = result("failed", ["timedOut": true, "error.$": .string(path)])
            exit.apply(to: &failed)
            exit.apply(to: &timedOut)
            states[id + " (failed)"] = .object(failed)
            states[id + " (timed out)"] = .object(timedOut)
            work["Catch"] = [
                ["ErrorEquals": ["States.Timeout"], "ResultPath": .string(path), "Next": .string(id + " (timed out)")],
                ["ErrorEquals": ["States.ALL"], "ResultPath": .string(path), "Next": .string(id + " (failed)")],
            ]
        }
        states[id] = .object(work)
        switch gate {
        case .always:
            return id
        case .never:
            states[id + " (skipped)"] = .object(skipped)
            return id + " (skipped)"
        case .when(let rule):
            states[id + " (skipped)"] = .object(skipped)
            var choice = rule
            choice["Next"] = .string(id)
            states[id + "?"] = ["Type": "Choice", "Choices": [.object(choice)], "Default": .string(id + " (skipped)")]
            return id + "?"
        }
    }

    enum Gate {
        case always, never
        case when([String: JSONValue])
    }

    /// When a step runs: every upstream it does not read the status of succeeded, and its condition holds.
    private mutating func gateRule(_ s: ExportModel.Step) -> Gate {
        var rules: [JSONValue] = s.upstream.filter { !s.statusReads.contains($0) }.map {
            ["Variable": .string("$.steps.\(names[$0]).status"), "StringEquals": "success"]
        }
        if let condition = s.condition {
            switch constant(condition) {
            case false?: return .never
            case true?: break
            case nil:
                guard let test = rule(condition, step: s.id) else { return .always }
                rules.append(.object(test))
            }
        }
        if rules.isEmpty { return .always }
        if rules.count == 1, case .object(let only) = rules[0] { return .when(only) }
        return .when(["And": .array(rules)])
    }

    private func constant(_ e: Condition) -> Bool? {
        if case .literal(.bool(let b)) = e { return b }
        return nil
    }

    // MARK: Work states

    /// The state that does a body's work, without Next/End or Catch.
    private mutating func work(_ body: ExportModel.Body, resultPath: String, stepID: String, field: String?) -> [String: JSONValue]? {
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
                return problem("Step Functions HTTP tasks authenticate through an EventBridge connection: pass --aws-connection-arn (or set inputs.connectionArn)")
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
            guard let text = body.constant("duration") else { return problem("a wait step needs inputs.duration as a fixed duration", "inputs.duration") }
            guard let duration = try? DurationText.parse(text) else { return problem("'\(text)' is not a duration", "inputs.duration") }
            return ["Type": "Wait", "Seconds": .number(Double(seconds(duration)))]
        case .containerRun:
            guard let taskDefinition = body.inputs["taskDefinition"] else {
                return problem("ECS runs task definitions, not images: set inputs.taskDefinition (a task definition whose container runs \(body.constant("image") ?? "the image")) and inputs.containerName", "inputs")
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
        state["ResultSelector"] = .object(selector)
        state["ResultPath"] = .string(resultPath)
        if let timeout = body.timeout { state["TimeoutSeconds"] = .number(Double(seconds(timeout))) }
        if body.kind == .healthCheck {
            let interval = (body.constant("interval").flatMap { try? DurationText.parse($0) } ?? .seconds(2)).seconds
            let maxWait = (body.constant("maxWait").flatMap { try? DurationText.parse($0) } ?? body.timeout ?? .seconds(300)).seconds
            state["Retry"] = [[
                "ErrorEquals": ["States.ALL"], "IntervalSeconds": .number(max(1, interval.rounded(.up))),
                "MaxAttempts": .number(max(1, (maxWait / max(interval, 1)).rounded(.down))), "BackoffRate": 1,
            ]]
            state["TimeoutSeconds"] = nil
        } else if let retry = retrier(body.retry, stepID: stepID) {
            state["Retry"] = [retry]
        }
        return state
    }

    /// A retry policy as one retrier.
    private mutating func retrier(_ policy: RetryPolicy, stepID: String) -> JSONValue? {
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
            warnings.append(ExportProblem(step: stepID, field: "retryPolicy.initialDelay", message: "Step Functions waits whole seconds, at least 1: \(DurationText.format(policy.initialDelay)) becomes \(max(1, Int(initial.rounded(.up))))s"))
        }
        var rate = 1.0
        switch policy.backoffStrategy {
        case .fixed: rate = 1
        case .exponential:
            rate = policy.multiplier
            if rate < 1 {
                warnings.append(ExportProblem(step: stepID, field: "retryPolicy.multiplier", message: "Step Functions' BackoffRate is at least 1; \(policy.multiplier) becomes 1"))
                rate = 1
            }
        case .linear:
            // Delays d, 2d, 3d…: the exponential rate that gives the same last delay.
            let n = Double(policy.maxAttempts - 1)
            rate = n > 1 ? pow(n, 1 / (n - 1)) : 1
            warnings.append(ExportProblem(step: stepID, field: "retryPolicy.backoffStrategy", message: "Step Functions has no linear backoff; exported as exponential with BackoffRate \(JSONValue.format((rate * 100).rounded() / 100)), which reaches the same last delay"))
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

    private func seconds(_ d: Duration) -> Int { max(1, Int(d.seconds.rounded(.up))) }

    // MARK: Values

    enum Operand {
        case path(String)
        case constant(JSONValue)
    }

    /// Where a reference's value is in the state, or the constant it is.
    private mutating func operand(_ reference: Reference, stepID: String, field: String?) -> Operand? {
        func problem(_ message: String) -> Operand? {
            problems.append(ExportProblem(step: stepID, field: field, message: message))
            return nil
        }
        switch model.target(reference) {
        case .input(let name, let path):
            return .path("$.inputs" + JSONPath.key(name) + JSONPath.components(path))
        case .step(let id, let f, let path):
            guard let index = model.graph.index[id] else { return problem("'\(reference.template)' names no step") }
            let base = "$.steps.\(names[index])"
            switch f {
            case "status", "success", "failed", "timedOut": return .path(base + "." + f)
            case "error": return .path(base + ".error")
            case "exitCode", "attempts", "durationMs", "cached":
                return problem("'\(reference.template)': Step Functions does not report a step's \(f)")
            default: return .path(base + ".output" + JSONPath.key(f) + JSONPath.components(path))
            }
        case .execution(let path):
            if path == [.key("id")] { return .path("$$.Execution.Id") }
            if path == [.key("startedAt")] { return .path("$$.Execution.StartTime") }
            return problem("'\(reference.template)': Step Functions knows the execution's id and startedAt only")
        case .workflow(let path):
            guard let field = model.workflowField(path) else { return problem(ExportMessages.workflowField(reference)) }
            return .constant(.string(field))
        case .secret(let name):
            return problem("'${secrets.\(name)}': secrets must not be written into a state machine definition; keep them in Secrets Manager and read them in the function")
        case .trigger:
            return problem("'\(reference.template)': triggers are not exported; pass the value as an execution input")
        case .unknown(let head), .incomplete(let head):
            return problem(ExportMessages.unknown(reference, head))
        }
    }

    /// Sets `key` (as `key.$` when it is computed) in a Parameters-like object.
    private mutating func put(_ object: inout [String: JSONValue], _ key: String, _ value: CompiledValue, _ stepID: String, _ field: String) {
        guard let (dynamic, rendered) = render(value, stepID: stepID, field: field) else { return }
        object[dynamic ? key + ".$" : key] = rendered
    }

    /// A value for a Parameters field: constant, or a path or intrinsic to evaluate.
    private mutating func render(_ value: CompiledValue, stepID: String, field: String) -> (Bool, JSONValue)? {
        switch value {
        case .literal(let v):
            return (false, v)
        case .template(let t):
            guard let text = intrinsic(t, stepID: stepID, field: field) else { return nil }
            if case .constant(let c) = text { return (false, c) }
            if case .path(let p) = text { return (true, .string(p)) }
            return nil
        case .array(let items):
            var args: [String] = []
            for item in items {
                switch item {
                case .literal(let v):
                    guard let lit = Intrinsic.literal(v) else {
                        problems.append(ExportProblem(step: stepID, field: field, message: "a list with computed items may hold only text, numbers, booleans and null on Step Functions"))
                        return nil
                    }
                    args.append(lit)
                case .template(let t):
                    guard let op = intrinsic(t, stepID: stepID, field: field) else { return nil }
                    switch op {
                    case .path(let p): args.append(p)
                    case .constant(let c): args.append(Intrinsic.literal(c) ?? "null")
                    }
                default:
                    problems.append(ExportProblem(step: stepID, field: field, message: "a list with computed items may hold only text, numbers, booleans and null on Step Functions"))
                    return nil
                }
            }
            return (true, .string("States.Array(\(args.joined(separator: ", ")))"))
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (k, v) in fields { put(&out, k, v, stepID, field + "." + k) }
            return (false, .object(out))
        }
    }

    /// A template as a path (one reference), `States.Format(…)` (text with references), or a constant.
    private mutating func intrinsic(_ t: Template, stepID: String, field: String) -> Operand? {
        if t.parts.count == 1, case .reference(let r, _) = t.parts[0] { return operand(r, stepID: stepID, field: field) }
        var format = "", args: [String] = []
        for part in t.parts {
            switch part {
            case .text(let text): format += Intrinsic.escape(text)
            case .reference(let r, _):
                guard let op = operand(r, stepID: stepID, field: field) else { return nil }
                switch op {
                case .path(let p):
                    format += "{}"
                    args.append(p)
                case .constant(let c): format += Intrinsic.escape(c.text)
                }
            }
        }
        if args.isEmpty { return .constant(.string(format)) }
        return .path("States.Format('\(format)', \(args.joined(separator: ", ")))")
    }

    // MARK: Conditions

    /// A condition as a Choice rule (without Next), or nil after recording why not.
    private mutating func rule(_ e: Condition, step: String) -> [String: JSONValue]? {
        func problem(_ message: String) -> [String: JSONValue]? {
            problems.append(ExportProblem(step: step, field: "condition", message: message))
            return nil
        }
        switch e {
        case .binary(.and, let l, let r), .binary(.or, let l, let r):
            let op = e.isAnd ? "And" : "Or"
            guard let a = rule(l, step: step), let b = rule(r, step: step) else { return nil }
            var items: [JSONValue] = []
            for x in [a, b] {
                if x.count == 1, case .array(let inner)? = x[op] { items += inner } else { items.append(.object(x)) }
            }
            return [op: .array(items)]
        case .not(let inner):
            guard let r = rule(inner, step: step) else { return nil }
            return ["Not": .object(r)]
        case .reference(let ref):
            guard let op = operand(ref, stepID: step, field: "condition") else { return nil }
            guard case .path(let p) = op else { return problem("'\(ref.template)' is a constant; write the condition without it") }
            return guarded(p, ["Variable": .string(p), "BooleanEquals": true])
        case .binary(.in, let l, .list(let items)):
            var rules: [JSONValue] = []
            for item in items {
                guard let r = rule(.binary(.equal, l, item), step: step) else { return nil }
                rules.append(.object(r))
            }
            return ["Or": .array(rules)]
        case .binary(let op, let l, let r):
            guard let comparison = Comparison(op) else { return problem("'\(op.rawValue)' has no Choice rule on Step Functions") }
            var lhs = l, rhs = r, cmp = comparison
            if case .literal = lhs { swap(&lhs, &rhs); cmp = cmp.flipped }
            guard case .reference(let ref) = lhs else { return problem("Step Functions compares a value from the run with a constant; '\(e)' is neither") }
            guard let op = operand(ref, stepID: step, field: "condition") else { return nil }
            guard case .path(let path) = op else { return problem("'\(ref.template)' is a constant here; compare something from the run") }
            guard case .literal(let value) = rhs else {
                return problem("Step Functions can compare '\(ref.template)' only with a constant, not with '\(rhs)'")
            }
            var test: [String: JSONValue] = ["Variable": .string(path)]
            switch value {
            case .string(let s):
                guard let name = cmp.name(prefix: "String") else { return nil }
                test[name] = .string(s)
            case .number(let n):
                guard let name = cmp.name(prefix: "Numeric") else { return nil }
                test[name] = .number(n)
            case .bool(let b):
                guard cmp == .equal || cmp == .notEqual else { return problem("booleans are only compared for equality") }
                test["BooleanEquals"] = .bool(b)
            case .null:
                guard cmp == .equal || cmp == .notEqual else { return problem("null is only compared for equality") }
                // Absent or null.
                let isNull: [String: JSONValue] = ["Or": [["Variable": .string(path), "IsPresent": false], ["Variable": .string(path), "IsNull": true]]]
                return cmp == .notEqual ? ["Not": .object(isNull)] : isNull
            default:
                return problem("Step Functions compares with text, numbers, booleans and null only")
            }
            let guardedTest = guarded(path, test)
            return cmp == .notEqual ? ["Not": .object(guardedTest)] : guardedTest
        case .call(let f, let args):
            guard f != .len, args.count == 2, case .reference(let ref) = args[0], case .literal(.string(let s)) = args[1] else {
                return problem("Step Functions has no rule for \(f.rawValue)(…) except contains, startsWith and endsWith of a text from the run and a constant text")
            }
            guard let op = operand(ref, stepID: step, field: "condition"), case .path(let path) = op else { return nil }
            let pattern = Intrinsic.wildcardEscape(s)
            let matches: String
            switch f {
            case .startsWith: matches = pattern + "*"
            case .endsWith: matches = "*" + pattern
            default: matches = "*" + pattern + "*"
            }
            return guarded(path, ["Variable": .string(path), "StringMatches": .string(matches)])
        case .literal, .list:
            return problem("'\(e)' is not a test of anything from the run")
        }
    }

    /// A test on an output path holds only when the path exists (Step Functions fails the run on
    /// a missing path); statuses always exist.
    private func guarded(_ path: String, _ test: [String: JSONValue]) -> [String: JSONValue] {
        guard path.contains(".output") || path.hasPrefix("$.inputs") else { return test }
        return ["And": [["Variable": .string(path), "IsPresent": true], .object(test)]]
    }

    enum Comparison: Equatable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual

        init?(_ op: Condition.BinaryOperator) {
            switch op {
            case .equal: self = .equal
            case .notEqual: self = .notEqual
            case .less: self = .less
            case .lessOrEqual: self = .lessOrEqual
            case .greater: self = .greater
            case .greaterOrEqual: self = .greaterOrEqual
            default: return nil
            }
        }

        var flipped: Comparison {
            switch self {
            case .less: .greater
            case .lessOrEqual: .greaterOrEqual
            case .greater: .less
            case .greaterOrEqual: .lessOrEqual
            default: self
            }
        }

        func name(prefix: String) -> String? {
            switch self {
            case .equal, .notEqual: prefix + "Equals"
            case .less: prefix + "LessThan"
            case .lessOrEqual: prefix + "LessThanEquals"
            case .greater: prefix + "GreaterThan"
            case .greaterOrEqual: prefix + "GreaterThanEquals"
            }
        }
    }
}

extension ASLExporter.Exit {
    var name: String? {
        if case .next(let n) = self { return n }
        return nil
    }
}

extension Condition {
    var isAnd: Bool {
        if case .binary(.and, _, _) = self { return true }
        return false
    }
}

extension String {
    var nilIfEmpty: String? { isEmpty ? nil : self }
}

/// JSONPath text for Step Functions.
enum JSONPath {
    static func key(_ name: String) -> String {
        let simple = name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
            && !(name.first?.isNumber ?? true)
        return simple ? "." + name : "['" + name + "']"
    }

    static func components(_ path: [Reference.Component]) -> String {
        path.map { c in
            switch c {
            case .key(let k): key(k)
            case .index(let n): "[\(n)]"
            }
        }.joined()
    }
}

/// Intrinsic-function text.
enum Intrinsic {
    /// Text inside `'…'` of an intrinsic: `'`, `{`, `}` and `\` escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for c in text {
            if "'{}\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// A constant as an intrinsic argument.
    static func literal(_ v: JSONValue) -> String? {
        switch v {
        case .string(let s): "'" + escape(s) + "'"
        case .number(let n): JSONValue.format(n)
        case .bool(let b): b ? "true" : "false"
        case .null: "null"
        default: nil
        }
    }

    /// Text for StringMatches: `*` and `\` escaped.
    static func wildcardEscape(_ text: String) -> String {
        var out = ""
        for c in text {
            if c == "*" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}
