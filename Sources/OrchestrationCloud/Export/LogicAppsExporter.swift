import Foundation
import Orchestration

/// An Azure Logic Apps workflow definition (schema 2016-06-01).
///
/// The DAG is kept as it is through `runAfter`: `Succeeded` for an upstream that must succeed;
/// `Succeeded`, `Failed`, `Skipped`, `TimedOut` for one whose status the condition reads. A step
/// with a condition, or after a step that may have been skipped by one, is an `If` holding the
/// step's action (`<id>-run`). After the last steps, `NovaCron-result` decides the run: when a
/// step that may not fail failed, it rolls back (reverse topological order, each where its step
/// succeeded) and terminates the run as Failed; otherwise as Succeeded, so a tolerated failure
/// (`continueOnFailure`) does not fail the run.
///
/// `api` → Http (retry policies, timeouts as `limit.timeout`); Azure functions → Function
/// (with `--azure-function-app`) or Http to their `url`; health checks → Http retried at the
/// interval; `wait` → Wait. The trigger is a manual HTTP request whose body is the inputs.
struct LogicAppsExporter {
    let model: ExportModel
    var problems: [ExportProblem] = []
    var warnings: [ExportProblem] = []
    /// Steps wrapped in an If, whose action is `<id>-run`.
    var wrapped: [Bool]

    static let allStatuses: JSONValue = ["Succeeded", "Failed", "Skipped", "TimedOut"]

    init(model: ExportModel) {
        self.model = model
        var wrapped = [Bool](repeating: false, count: model.steps.count)
        for i in model.topologicalOrder {
            let s = model.steps[i]
            wrapped[i] = s.condition != nil || s.upstream.contains { !s.statusReads.contains($0) && wrapped[$0] }
        }
        self.wrapped = wrapped
    }

    func export() -> ExporterOutput {
        var builder = self
        return builder.build()
    }

    func runName(_ i: Int) -> String { wrapped[i] ? model.steps[i].id + "-run" : model.steps[i].id }

    mutating func build() -> ExporterOutput {
        var actions: [String: JSONValue] = [:]
        for s in model.steps {
            var runAfter: [String: JSONValue] = [:]
            for u in s.upstream { runAfter[model.steps[u].id] = s.statusReads.contains(u) ? Self.allStatuses : ["Succeeded"] }
            guard let made = action(s.body, stepID: s.id, field: nil), var action = fanned(s, made) else { continue }
            if wrapped[s.index] {
                var tests: [String] = s.upstream.filter { !s.statusReads.contains($0) && wrapped[$0] }.map {
                    "equals(actions('\(runName($0))')?['status'], 'Succeeded')"
                }
                if let condition = s.condition, let c = expression(condition, step: s.id) { tests.append(c) }
                action["runAfter"] = [:]
                let test = tests.count == 1 ? tests[0] : "and(\(tests.joined(separator: ", ")))"
                actions[s.id] = [
                    "type": "If", "expression": .string("@" + test), "actions": [.init(stringLiteral: runName(s.index)): .object(action)],
                    "else": ["actions": [:]], "runAfter": .object(runAfter),
                ]
            } else {
                action["runAfter"] = .object(runAfter)
                actions[s.id] = .object(action)
            }
        }
        // The end: after every last step, decide the run.
        let sinks = model.steps.filter { model.graph.downstream[$0.index].isEmpty }
        var failedTests = model.steps.filter { !$0.continueOnFailure }.map {
            "or(equals(actions('\(runName($0.index))')?['status'], 'Failed'), equals(actions('\(runName($0.index))')?['status'], 'TimedOut'))"
        }
        if failedTests.isEmpty { failedTests = ["false"] }
        var undo: [String: JSONValue] = [:]
        var previous: String?
        for i in model.topologicalOrder.reversed() {
            guard let rollback = model.steps[i].rollback else { continue }
            let name = model.steps[i].id + "-rollback"
            guard var action = action(rollback, stepID: model.steps[i].id, field: "rollback") else { continue }
            action["runAfter"] = [:]
            undo[name] = [
                "type": "If", "expression": .string("@equals(actions('\(runName(i))')?['status'], 'Succeeded')"),
                "actions": [.init(stringLiteral: name + "-run"): .object(action)], "else": ["actions": [:]],
                "runAfter": previous.map { [.init(stringLiteral: $0): Self.allStatuses] } ?? [:],
            ]
            previous = name
        }
        undo["NovaCron-failed"] = [
            "type": "Terminate", "inputs": ["runStatus": "Failed", "runError": ["code": "NovaCron.StepFailed", "message": "a step failed"]],
            "runAfter": previous.map { [.init(stringLiteral: $0): Self.allStatuses] } ?? [:],
        ]
        actions["NovaCron-result"] = [
            "type": "If",
            "expression": .string("@" + (failedTests.count == 1 ? failedTests[0] : "or(\(failedTests.joined(separator: ", ")))")),
            "actions": .object(undo),
            "else": ["actions": .object(succeeded())],
            "runAfter": .object(Dictionary(uniqueKeysWithValues: sinks.map { ($0.id, Self.allStatuses) })),
        ]
        var parameters: [String: JSONValue] = [:]
        for (name, value) in model.workflow.variables {
            parameters[name] = ["type": .string(Self.parameterType(value)), "defaultValue": value]
        }
        let definition: JSONValue = [
            "$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
            "contentVersion": "1.0.0.0",
            "parameters": .object(parameters),
            "triggers": ["manual": ["type": "Request", "kind": "Http", "inputs": ["schema": ["type": "object"]]]],
            "actions": .object(actions),
            "outputs": [:],
        ]
        if model.workflow.timeout != nil {
            warnings.append(
                ExportProblem(
                    field: "timeout",
                    message:
                        "a Logic Apps run's duration is a setting of the logic app (runtime configuration), not of its definition; the workflow timeout is not exported"
                ))
        }
        return ExporterOutput(
            result: ExportResult(
                target: .azure, document: definition, text: definition.prettyJSONText + "\n", fileExtension: "json", warnings: warnings, layout: nil),
            problems: problems)
    }

    static func parameterType(_ v: JSONValue) -> String {
        switch v {
        case .string: "String"
        case .number(let n): n == n.rounded() ? "Int" : "Float"
        case .bool: "Bool"
        case .array: "Array"
        default: "Object"
        }
    }

    // MARK: Actions

    mutating func action(_ body: ExportModel.Body, stepID: String, field: String?) -> [String: JSONValue]? {
        func problem(_ message: String, _ f: String? = nil) -> [String: JSONValue]? {
            problems.append(ExportProblem(step: stepID, field: [field, f].compactMap { $0 }.joined(separator: ".").nilIfEmpty, message: message))
            return nil
        }
        var action: [String: JSONValue] = [:]
        var inputs: [String: JSONValue] = [:]
        switch body.kind {
        case .shell: return problem(ExportMessages.shell(.azure))
        case .childWorkflow:
            return childAction(body, stepID: stepID, field: field)
        case .waitForOutside:
            guard let until = body.inputs["until"] else {
                return problem(
                    "Logic Apps waits for people through approval connectors and for outside systems through HttpWebhook subscriptions, neither of which is exported; approvals and signal waits are not exported to \(CloudTarget.azure)",
                    "type")
            }
            guard body.timeout == nil else { return problem(ExportMessages.untilTimeout(.azure), "timeout") }
            if case .literal(.string(let text)) = until {
                guard let time = TimeText.parse(text) else { return problem("'\(text)' is not an ISO 8601 time", "inputs.until") }
                return ["type": "Wait", "inputs": ["until": ["timestamp": .string(TimeText.format(time))]]]
            }
            return ["type": "Wait", "inputs": ["until": ["timestamp": value(until, stepID, "inputs.until")]]]
        case .containerRun, .containerOther:
            return problem(
                "Logic Apps runs containers through an Azure Container Instances connection, which is not exported; call an Azure Function or an HTTP endpoint instead"
            )
        case .http, .healthCheck:
            guard let url = body.inputs["url"] else { return problem("an HTTP step needs inputs.url", "inputs.url") }
            action["type"] = "Http"
            inputs["uri"] = value(url, stepID, "inputs.url")
            if body.kind == .healthCheck {
                inputs["method"] = "GET"
            } else {
                inputs["method"] = body.inputs["method"].map { value($0, stepID, "inputs.method") } ?? "GET"
                if let headers = body.inputs["headers"] { inputs["headers"] = value(headers, stepID, "inputs.headers") }
                if let payload = body.inputs["json"] ?? body.inputs["body"] { inputs["body"] = value(payload, stepID, "inputs.json") }
            }
        case .function(let provider):
            switch provider {
            case "azure":
                if let app = body.constant("functionApp") ?? model.options.azureFunctionApp, let name = body.constant("function_name") {
                    action["type"] = "Function"
                    inputs["function"] = ["id": .string(app + "/functions/" + name)]
                } else if let url = body.functionURL(model.options) {
                    action["type"] = "Http"
                    inputs["uri"] = value(url, stepID, "inputs.url")
                } else {
                    return problem(
                        "an Azure function needs --azure-function-app (or inputs.functionApp) and inputs.function_name, or inputs.url, or inputs.app and inputs.function_name",
                        "inputs")
                }
            case "gcp":
                guard let url = body.functionURL(model.options) else {
                    return problem("a GCP function is called over HTTPS from Logic Apps: set inputs.url", "inputs.url")
                }
                action["type"] = "Http"
                inputs["uri"] = value(url, stepID, "inputs.url")
            default:
                return problem(
                    "Logic Apps cannot sign AWS requests (SigV4); call the Lambda through a function URL as an api step", "inputs.provider")
            }
            inputs["method"] = "POST"
            inputs["body"] = value(LambdaPayload.payload(body.inputs), stepID, "inputs")
        case .sleep:
            guard let text = body.constant("duration"), let duration = try? DurationText.parse(text) else {
                return problem("a wait step needs inputs.duration as a fixed duration", "inputs.duration")
            }
            return ["type": "Wait", "inputs": ["interval": ["count": .number(max(1, duration.seconds.rounded(.up))), "unit": "Second"]]]
        }
        if body.kind == .healthCheck {
            let interval = (body.constant("interval").flatMap { try? DurationText.parse($0) } ?? .seconds(2)).seconds
            let maxWait = (body.constant("maxWait").flatMap { try? DurationText.parse($0) } ?? body.timeout ?? .seconds(300)).seconds
            inputs["retryPolicy"] = [
                "type": "fixed", "count": .number(min(90, max(1, (maxWait / max(interval, 1)).rounded(.down)))),
                "interval": .string(Self.iso8601(max(5, interval))),
            ]
            if interval < 5 {
                warnings.append(
                    ExportProblem(
                        step: stepID, field: "inputs.interval",
                        message: "Logic Apps retries at least 5 seconds apart; the health check polls every 5s"))
            }
        } else {
            inputs["retryPolicy"] = retryPolicy(body.retry, stepID: stepID)
            if let timeout = body.timeout { action["limit"] = ["timeout": .string(Self.iso8601(timeout.seconds))] }
        }
        action["inputs"] = .object(inputs)
        return action
    }

    mutating func retryPolicy(_ policy: RetryPolicy, stepID: String) -> JSONValue {
        guard policy.maxAttempts > 1 else { return ["type": "none"] }
        if policy.maxAttempts - 1 > 90 {
            warnings.append(ExportProblem(step: stepID, field: "retryPolicy.maxAttempts", message: "Logic Apps retries at most 90 times"))
        }
        let count = JSONValue.number(Double(min(90, policy.maxAttempts - 1)))
        let interval = max(5, policy.initialDelay.seconds)
        if policy.initialDelay.seconds < 5 {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "retryPolicy.initialDelay",
                    message: "Logic Apps waits at least 5 seconds between retries; \(DurationText.format(policy.initialDelay)) becomes 5s"))
        }
        if !policy.retryOn.contains(.failure) || !policy.retryOn.contains(.timeout) {
            warnings.append(
                ExportProblem(
                    step: stepID, field: "retryPolicy.retryOn",
                    message: "Logic Apps retries timeouts, 408, 429 and 5xx answers and connection failures, whatever retryOn says"))
        }
        switch policy.backoffStrategy {
        case .exponential:
            if policy.jitter == .none || policy.multiplier != 2 {
                warnings.append(
                    ExportProblem(
                        step: stepID, field: "retryPolicy",
                        message: "Logic Apps' exponential retries double a randomized interval; multiplier and jitter are not exported"))
            }
            return [
                "type": "exponential", "count": count, "interval": .string(Self.iso8601(interval)),
                "minimumInterval": .string(Self.iso8601(interval)), "maximumInterval": .string(Self.iso8601(max(interval, policy.maxDelay.seconds))),
            ]
        case .fixed, .linear:
            if policy.backoffStrategy == .linear {
                warnings.append(
                    ExportProblem(
                        step: stepID, field: "retryPolicy.backoffStrategy",
                        message: "Logic Apps has no linear backoff; exported as fixed delays of \(DurationText.format(.seconds(interval)))"))
            }
            return ["type": "fixed", "count": count, "interval": .string(Self.iso8601(interval))]
        }
    }

    /// `PT1H2M3S`.
    static func iso8601(_ seconds: Double) -> String {
        let total = max(1, Int(seconds.rounded(.up)))
        let h = total / 3600, m = total % 3600 / 60, s = total % 60
        var out = "PT"
        if h > 0 { out += "\(h)H" }
        if m > 0 { out += "\(m)M" }
        if s > 0 || out == "PT" { out += "\(s)S" }
        return out
    }

    // MARK: Values

    /// A value in the workflow definition language: `@expr` for one reference, `@{expr}` inside text.
    mutating func value(_ v: CompiledValue, _ stepID: String, _ field: String) -> JSONValue {
        switch v {
        case .literal(let x): return Self.escapeLiteral(x)
        case .template(let t):
            if t.parts.count == 1, case .reference(let r, _) = t.parts[0] {
                return .string("@" + (reference(r, stepID: stepID, field: field) ?? "null"))
            }
            var out = ""
            for part in t.parts {
                switch part {
                case .text(let text): out += text.hasPrefix("@") && out.isEmpty ? "@" + text : text
                case .reference(let r, _): out += "@{" + (reference(r, stepID: stepID, field: field) ?? "null") + "}"
                }
            }
            return .string(out)
        case .array(let items): return .array(items.map { value($0, stepID, field) })
        case .object(let fields): return .object(fields.mapValues { value($0, stepID, field) })
        }
    }

    /// Text starting with `@` is an expression; `@@` writes it literally.
    static func escapeLiteral(_ v: JSONValue) -> JSONValue {
        switch v {
        case .string(let s) where s.hasPrefix("@"): return .string("@" + s)
        case .array(let items): return .array(items.map(escapeLiteral))
        case .object(let fields): return .object(fields.mapValues(escapeLiteral))
        default: return v
        }
    }

    static func quote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "''") + "'" }

    static func path(_ components: [Reference.Component]) -> String {
        components.map { c in
            switch c {
            case .key(let k): "?[\(quote(k))]"
            case .index(let n): "?[\(n)]"
            }
        }.joined()
    }

    mutating func reference(_ r: Reference, stepID: String, field: String) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: stepID, field: field, message: message))
            return nil
        }
        if let item = itemReference(r, stepID: stepID, field: field) { return item }
        switch model.target(r) {
        case .input(let name, let path):
            let given = "triggerBody()?[\(Self.quote(name))]"
            let base = model.workflow.variables[name] != nil ? "coalesce(\(given), parameters(\(Self.quote(name))))" : given
            return path.isEmpty ? base : "(\(base))" + Self.path(path)
        case .step(let id, let f, let path):
            guard let i = model.graph.index[id] else { return problem("'\(r.template)' names no step") }
            if let fan = fanReference(r, of: i, field: f, stepID: stepID, field: field) { return fan }
            let run = Self.quote(runName(i))
            switch f {
            case "status", "success", "failed", "timedOut":
                return problem("'\(r.template)': a step's \(f) can be tested in a condition, not used as a value, on Logic Apps")
            case "error": return "actions(\(run))?['error']"
            case "exitCode", "attempts", "durationMs", "cached": return problem("'\(r.template)': Logic Apps does not report a step's \(f)")
            case "until" where model.steps[i].body.raw["until"] != nil:
                return problem("'\(r.template)': a Logic Apps Wait gives no output; read the time where the step read it")
            default:
                if model.steps[i].body.kind == .http || model.steps[i].body.kind == .healthCheck {
                    switch f {
                    case "body": return "body(\(run))" + Self.path(path)
                    case "statusCode": return "outputs(\(run))?['statusCode']"
                    case "headers": return "outputs(\(run))?['headers']" + Self.path(path)
                    default: return problem("'\(r.template)': an HTTP step's outputs are statusCode, headers and body")
                    }
                }
                return "body(\(run))?[\(Self.quote(f))]" + Self.path(path)
            }
        case .execution(let path):
            if path == [.key("id")] { return "workflow()?['run']?['name']" }
            return problem("'\(r.template)': Logic Apps knows the execution's id only")
        case .workflow(let path):
            guard let field = model.workflowField(path) else { return problem(ExportMessages.workflowField(r)) }
            return Self.quote(field)
        case .secret(let name):
            return problem("'${secrets.\(name)}': secrets must not be written into a definition; use a secure parameter or Key Vault")
        case .trigger:
            return problem("'\(r.template)': triggers are not exported; pass the value in the request body")
        case .unknown(let head), .incomplete(let head):
            return problem(ExportMessages.unknown(r, head))
        }
    }
}
