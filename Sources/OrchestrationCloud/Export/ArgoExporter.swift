import Foundation
import Orchestration

/// Argo Workflows: a `Workflow` (or `WorkflowTemplate`) whose entrypoint is a `dag` template
/// holding the DAG as it is, and one template per step.
///
/// - `task` steps → `script` templates (`sh`, in `--argo-image` or `inputs.image`); references
///   reach the script through environment variables as they do locally, and `key=value` lines
///   written to `$NOVACRON_OUTPUT` become output parameters;
/// - `container` (docker-run) → `container`; `api`, health checks and Azure/GCP functions with a
///   `url` → `http`; `wait` → `suspend`;
/// - dependencies → `depends` (`a.Succeeded`, or any end for upstreams whose status the condition
///   reads); conditions → `when`; retry policies → `retryStrategy`; timeouts →
///   `activeDeadlineSeconds`; `continueOnFailure` → `continueOn.failed`.
struct ArgoExporter {
    let model: ExportModel
    let names: [String]
    var problems: [ExportProblem] = []
    var warnings: [ExportProblem] = []
    /// Per step: the output fields other steps read.
    var readFields: [Set<String>]

    init(model: ExportModel) {
        self.model = model
        var used = Set<String>()
        self.names = model.steps.map { s in
            var base = String(s.id.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") ? $0 : "-" })
            if base.first == "-" { base = "s" + base }
            var name = base, n = 2
            while used.contains(name) || name == "main" { name = "\(base)-\(n)"; n += 1 }
            used.insert(name)
            return name
        }
        var read = [Set<String>](repeating: [], count: model.steps.count)
        for s in model.steps {
            var refs = s.body.inputs.values.flatMap(\.references)
            if let c = s.condition { refs += c.references }
            for r in refs {
                if case .step(let id, let field, _) = model.target(r), let i = model.graph.index[id] { read[i].insert(field) }
            }
        }
        self.readFields = read
    }

    func export() -> ExporterOutput {
        var builder = self
        return builder.build()
    }

    static let resultFields: Set<String> = ["status", "success", "failed", "timedOut", "exitCode", "attempts", "durationMs", "error", "cached"]

    private mutating func build() -> ExporterOutput {
        let workflow = model.workflow
        var tasks: [JSONValue] = []
        var templates: [JSONValue] = []
        for s in model.steps {
            var parameters: [String: String] = [:]  // template input name → value in the DAG
            if let template = template(s, parameters: &parameters) { templates.append(.object(template)) }
            var task: [String: JSONValue] = ["name": .string(names[s.index]), "template": .string(names[s.index])]
            if !s.upstream.isEmpty {
                task["depends"] = .string(s.upstream.map { u in
                    s.statusReads.contains(u) ? "(\(names[u]).Succeeded || \(names[u]).Failed || \(names[u]).Errored || \(names[u]).Skipped || \(names[u]).Omitted)" : "\(names[u]).Succeeded"
                }.joined(separator: " && "))
            }
            if let condition = s.condition, let when = when(condition, step: s.id) { task["when"] = .string(when) }
            if !parameters.isEmpty {
                task["arguments"] = ["parameters": .array(parameters.keys.sorted().map { ["name": .string($0), "value": .string(parameters[$0]!)] })]
            }
            if s.continueOnFailure { task["continueOn"] = ["failed": true] }
            tasks.append(.object(task))
        }
        // Rollbacks: tasks after every step has ended, each where its step succeeded and a step
        // that may not fail failed, one after another in reverse topological order.
        let ended = model.steps.map { "(\(names[$0.index]).Succeeded || \(names[$0.index]).Failed || \(names[$0.index]).Errored || \(names[$0.index]).Skipped || \(names[$0.index]).Omitted)" }
        let failed = model.steps.filter { !$0.continueOnFailure }.map { "'{{tasks.\(names[$0.index]).status}}' == 'Failed' || '{{tasks.\(names[$0.index]).status}}' == 'Error'" }
        var previous: String?
        var usedNames = Set(names)
        for i in model.topologicalOrder.reversed() {
            let s = model.steps[i]
            guard let rollback = s.rollback else { continue }
            var name = names[i] + "-rollback", n = 2
            while usedNames.contains(name) { name = names[i] + "-rollback-\(n)"; n += 1 }
            usedNames.insert(name)
            var parameters: [String: String] = [:]
            let body = ExportModel.Step(
                index: i, body: rollback, condition: nil, upstream: [], statusReads: [], continueOnFailure: true, rollback: nil, step: s.step)
            guard var template = template(body, parameters: &parameters) else { continue }
            template["name"] = .string(name)
            templates.append(.object(template))
            var depends = ["\(names[i]).Succeeded"] + ended.enumerated().filter { $0.offset != i }.map(\.element)
            if let previous { depends.append("(\(previous).Succeeded || \(previous).Failed || \(previous).Errored || \(previous).Skipped)") }
            var task: [String: JSONValue] = [
                "name": .string(name), "template": .string(name), "depends": .string(depends.joined(separator: " && ")),
                "when": .string(failed.isEmpty ? "false" : failed.joined(separator: " || ")),
                "continueOn": ["failed": true],
            ]
            if !parameters.isEmpty {
                task["arguments"] = ["parameters": .array(parameters.keys.sorted().map { ["name": .string($0), "value": .string(parameters[$0]!)] })]
            }
            tasks.append(.object(task))
            previous = name
        }
        let dag: JSONValue = ["name": "main", "dag": ["tasks": .array(tasks), "failFast": .bool(workflow.failFast)]]
        var spec: [String: JSONValue] = ["entrypoint": "main", "templates": .array([dag] + templates)]
        if !workflow.variables.isEmpty {
            spec["arguments"] = ["parameters": .array(workflow.variables.keys.sorted().map { ["name": .string($0), "value": .string(workflow.variables[$0]!.text)] })]
        }
        if let timeout = workflow.timeout { spec["activeDeadlineSeconds"] = .number(Double(seconds(timeout))) }
        if let limit = workflow.maxParallelism { spec["parallelism"] = .number(Double(limit)) }
        var metadata: [String: JSONValue] = model.options.argoKind == .workflow
            ? ["generateName": .string(kubernetesName(workflow.id) + "-")]
            : ["name": .string(kubernetesName(workflow.id))]
        if let namespace = model.options.namespace { metadata["namespace"] = .string(namespace) }
        var annotations: [String: JSONValue] = ["novacron.dev/workflow": .string(workflow.name)]
        if let description = workflow.description { annotations["workflows.argoproj.io/description"] = .string(description) }
        metadata["annotations"] = .object(annotations)
        let document: JSONValue = [
            "apiVersion": "argoproj.io/v1alpha1", "kind": .string(model.options.argoKind.rawValue),
            "metadata": .object(metadata), "spec": .object(spec),
        ]
        let order = ["apiVersion", "kind", "metadata", "spec", "entrypoint", "name", "inputs", "dag", "tasks", "template", "depends", "when"]
        return ExporterOutput(
            result: ExportResult(target: .argo, document: document, text: YAMLText.write(document, order: order), fileExtension: "yaml", warnings: warnings, layout: nil),
            problems: problems)
    }

    private func kubernetesName(_ id: String) -> String {
        let lowered = id.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }
        return String(String(lowered).trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(60))
    }

    private func seconds(_ d: Duration) -> Int { max(1, Int(d.seconds.rounded(.up))) }

    // MARK: Templates

    private mutating func template(_ s: ExportModel.Step, parameters: inout [String: String]) -> [String: JSONValue]? {
        let body = s.body
        func problem(_ message: String, _ field: String? = nil) -> [String: JSONValue]? {
            problems.append(ExportProblem(step: s.id, field: field, message: message))
            return nil
        }
        var template: [String: JSONValue] = ["name": .string(names[s.index])]
        var outputs: [JSONValue] = []
        switch body.kind {
        case .shell:
            guard let command = body.text("command") ?? body.raw["args"].flatMap(Self.joinArgs) else {
                return problem("a task step needs inputs.command", "inputs.command")
            }
            let splice: ShellSplice
            do { splice = try ShellSplice(command) } catch { return problem(error.message, "inputs.command") }
            var env: [JSONValue] = []
            for binding in splice.bindings {
                guard let value = referenceText(binding.reference, s, "inputs.command", &parameters) else { continue }
                env.append(["name": .string(binding.variable), "value": .string(value)])
            }
            for key in body.inputs.keys.sorted() where key != "command" && key != "image" && Self.isEnvironmentName(key) {
                guard let value = text(body.inputs[key]!, s, "inputs." + key, &parameters) else { continue }
                env.append(["name": .string(key), "value": .string(value)])
            }
            let declared = Set(s.step.outputs).union(readFields[s.index].subtracting(Self.resultFields))
            var source = splice.script
            if !declared.isEmpty {
                source = """
                    export NOVACRON_OUTPUT=/tmp/novacron-output
                    : > "$NOVACRON_OUTPUT"
                    (
                    \(splice.script)
                    )
                    status=$?
                    mkdir -p /tmp/novacron-outputs
                    while IFS='=' read -r key value; do [ -n "$key" ] && printf '%s' "$value" > "/tmp/novacron-outputs/$key"; done < "$NOVACRON_OUTPUT"
                    exit $status
                    """
                outputs = declared.sorted().map { ["name": .string($0), "valueFrom": ["path": .string("/tmp/novacron-outputs/\($0)"), "default": ""]] }
            }
            var script: [String: JSONValue] = [
                "image": .string(body.constant("image") ?? model.options.argoImage), "command": ["sh"], "source": .string(source),
            ]
            if !env.isEmpty { script["env"] = .array(env) }
            template["script"] = .object(script)
        case .containerRun:
            guard let image = body.inputs["image"], let command = body.inputs["command"],
                  let imageText = text(image, s, "inputs.image", &parameters), let commandText = text(command, s, "inputs.command", &parameters)
            else { return problem("a container step needs inputs.image and inputs.command", "inputs") }
            template["container"] = ["image": .string(imageText), "command": ["sh", "-c"], "args": [.string(commandText)]]
        case .containerOther:
            return problem(ExportMessages.containerOther(.argo))
        case .http, .healthCheck:
            guard let url = body.inputs["url"], let urlText = text(url, s, "inputs.url", &parameters) else {
                return problem("an HTTP step needs inputs.url", "inputs.url")
            }
            var http: [String: JSONValue] = ["url": .string(urlText)]
            if body.kind == .http {
                if let method = body.inputs["method"], let m = text(method, s, "inputs.method", &parameters) { http["method"] = .string(m) }
                if case .object(let headers)? = body.inputs["headers"] {
                    var list: [JSONValue] = []
                    for key in headers.keys.sorted() {
                        guard let v = text(headers[key]!, s, "inputs.headers." + key, &parameters) else { continue }
                        list.append(["name": .string(key), "value": .string(v)])
                    }
                    http["headers"] = .array(list)
                }
                if let json = body.inputs["json"], let b = jsonText(json, s, "inputs.json", &parameters) {
                    http["body"] = .string(b)
                } else if let b = body.inputs["body"], let t = text(b, s, "inputs.body", &parameters) {
                    http["body"] = .string(t)
                }
            } else {
                http["method"] = "GET"
            }
            http["successCondition"] = .string(successCondition(body.raw["expectedStatus"]))
            template["http"] = .object(http)
        case .function(let provider):
            guard provider == "azure" || provider == "gcp" else {
                return problem("Argo's HTTP templates cannot sign AWS requests; invoke the Lambda from a container step with the AWS CLI", "inputs.provider")
            }
            guard let url = body.functionURL(model.options), let urlText = text(url, s, "inputs.url", &parameters) else {
                return problem("\(provider == "azure" ? "Azure" : "GCP") functions are called over HTTPS on Argo: set inputs.url", "inputs.url")
            }
            if body.inputs["key"] != nil {
                warnings.append(ExportProblem(step: s.id, field: "inputs.key", message: "a function key is a secret and is not written into the workflow; add it as a header from a Kubernetes Secret"))
            }
            var http: [String: JSONValue] = ["url": .string(urlText), "method": "POST", "headers": [["name": "Content-Type", "value": "application/json"]]]
            if let b = jsonText(LambdaPayload.payload(body.inputs), s, "inputs", &parameters) { http["body"] = .string(b) }
            http["successCondition"] = "response.statusCode >= 200 && response.statusCode < 300"
            template["http"] = .object(http)
        case .sleep:
            guard let text = body.constant("duration"), let duration = try? DurationText.parse(text) else {
                return problem("a wait step needs inputs.duration as a fixed duration", "inputs.duration")
            }
            template["suspend"] = ["duration": .string("\(seconds(duration))s")]
        }
        if !outputs.isEmpty { template["outputs"] = ["parameters": .array(outputs)] }
        if !parameters.isEmpty {
            template["inputs"] = ["parameters": .array(parameters.keys.sorted().map { ["name": .string($0)] })]
        }
        // Kubernetes IntOrString fields are written as text, as Argo's schema has them.
        if let timeout = body.timeout {
            if template["http"] != nil {
                if case .object(var http)? = template["http"] {
                    http["timeoutSeconds"] = .number(Double(seconds(timeout)))
                    template["http"] = .object(http)
                }
            } else if body.kind != .sleep {
                template["activeDeadlineSeconds"] = .string(String(seconds(timeout)))
            }
        }
        if body.kind == .healthCheck {
            let interval = (body.constant("interval").flatMap { try? DurationText.parse($0) } ?? .seconds(2)).seconds
            let maxWait = (body.constant("maxWait").flatMap { try? DurationText.parse($0) } ?? body.timeout ?? .seconds(300)).seconds
            template["retryStrategy"] = [
                "limit": .string(JSONValue.format(max(1, (maxWait / max(interval, 1)).rounded(.down)))), "retryPolicy": "Always",
                "backoff": ["duration": .string("\(Int(max(1, interval.rounded(.up))))s")],
            ]
        } else if let retry = retryStrategy(body.retry, step: s.id) {
            template["retryStrategy"] = retry
        }
        return template
    }

    static func joinArgs(_ v: JSONValue) -> String? {
        guard case .array(let items) = v else { return nil }
        return items.map { "'" + $0.text.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }

    static func isEnvironmentName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, !CharacterSet.decimalDigits.contains(first) else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") }
    }

    private func successCondition(_ expected: JSONValue?) -> String {
        switch expected {
        case .number(let n)?: return "response.statusCode == \(JSONValue.format(n))"
        case .array(let codes)?: return codes.map { "response.statusCode == \($0.text)" }.joined(separator: " || ")
        default: return "response.statusCode >= 200 && response.statusCode < 300"
        }
    }

    private mutating func retryStrategy(_ policy: RetryPolicy, step: String) -> JSONValue? {
        guard policy.maxAttempts > 1 else { return nil }
        var backoff: [String: JSONValue] = [
            "duration": .string(DurationText.format(policy.initialDelay)), "cap": .string(DurationText.format(policy.maxDelay)),
        ]
        switch policy.backoffStrategy {
        case .fixed: break
        case .exponential:
            backoff["factor"] = .string(JSONValue.format(policy.multiplier))
        case .linear:
            warnings.append(ExportProblem(step: step, field: "retryPolicy.backoffStrategy", message: "Argo has no linear backoff; exported as fixed delays of \(DurationText.format(policy.initialDelay))"))
        }
        if policy.jitter == .full {
            warnings.append(ExportProblem(step: step, field: "retryPolicy.jitter", message: "Argo does not jitter retry delays; they are exported without jitter"))
        }
        let on: String
        switch (policy.retryOn.contains(.failure), policy.retryOn.contains(.timeout)) {
        case (true, false): on = "OnFailure"
        default: on = "Always"
        }
        return ["limit": .string(String(policy.maxAttempts - 1)), "retryPolicy": .string(on), "backoff": .object(backoff)]
    }

    // MARK: Values

    /// A value as the text Argo substitutes into a template: `{{workflow.parameters.x}}` for
    /// inputs, `{{inputs.parameters.p}}` for what other steps produce (passed in by the DAG task).
    private mutating func text(_ value: CompiledValue, _ s: ExportModel.Step, _ field: String, _ parameters: inout [String: String]) -> String? {
        switch value {
        case .literal(let v): return Self.escapeBraces(v.text)
        case .template(let t):
            var out = ""
            for part in t.parts {
                switch part {
                case .text(let text): out += Self.escapeBraces(text)
                case .reference(let r, _):
                    guard let piece = referenceText(r, s, field, &parameters) else { return nil }
                    out += piece
                }
            }
            return out
        case .array, .object:
            return jsonText(value, s, field, &parameters)
        }
    }

    /// A reference inside a step's template: what other tasks produce comes in as an input
    /// parameter the DAG task passes.
    private mutating func referenceText(_ r: Reference, _ s: ExportModel.Step, _ field: String, _ parameters: inout [String: String]) -> String? {
        guard let dag = dagValue(r, step: s.id, field: field) else { return nil }
        guard dag.hasPrefix("{{tasks.") || dag.hasPrefix("{{=jsonpath(tasks[") else { return dag }
        let name = "p-" + String(r.description.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
        parameters[name] = dag
        return "{{inputs.parameters.\(name)}}"
    }

    /// A structured value as JSON text with references spliced in as text.
    private mutating func jsonText(_ value: CompiledValue, _ s: ExportModel.Step, _ field: String, _ parameters: inout [String: String]) -> String? {
        switch value {
        case .literal(let v): return Self.escapeBraces(v.jsonText)
        case .template:
            // Argo parameters are text: a reference becomes a JSON string.
            guard let inner = text(value, s, field, &parameters) else { return nil }
            return "\"" + inner.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let items):
            var parts: [String] = []
            for item in items { guard let t = jsonText(item, s, field, &parameters) else { return nil }; parts.append(t) }
            return "[" + parts.joined(separator: ",") + "]"
        case .object(let fields):
            var parts: [String] = []
            for key in fields.keys.sorted() {
                guard let t = jsonText(fields[key]!, s, field + "." + key, &parameters) else { return nil }
                parts.append(JSONValue.string(key).jsonText + ":" + t)
            }
            return "{" + parts.joined(separator: ",") + "}"
        }
    }

    /// `{{` in literal text would be read as an Argo expression.
    static func escapeBraces(_ s: String) -> String {
        s.contains("{{") ? s.replacingOccurrences(of: "{{", with: "{{'{{'}}") : s
    }

    /// A reference as Argo variable text in the DAG (or workflow) scope.
    private mutating func dagValue(_ r: Reference, step: String, field: String) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: step, field: field, message: message))
            return nil
        }
        switch model.target(r) {
        case .input(let name, let path):
            guard path.isEmpty else { return problem("'\(r.template)': Argo parameters are text; a path inside one cannot be read") }
            guard model.workflow.variables[name] != nil else {
                return problem("'\(r.template)': Argo workflows take only declared parameters; give '\(name)' a default in variables")
            }
            return "{{workflow.parameters.\(name)}}"
        case .step(let id, let f, let path):
            guard let i = model.graph.index[id] else { return problem("'\(r.template)' names no step") }
            let task = "tasks.\(names[i])"
            let answersJSON = [.http, .healthCheck].contains(model.steps[i].body.kind) || model.steps[i].body.type == .lambda
            guard path.isEmpty || answersJSON else { return problem("'\(r.template)': Argo output parameters are text; a path inside one cannot be read") }
            switch f {
            case "status": return "{{\(task).status}}"
            case "exitCode": return "{{\(task).exitCode}}"
            case "success", "failed", "timedOut", "attempts", "durationMs", "error", "cached":
                return problem("'\(r.template)': Argo has no \(f) of a task outside a condition")
            default:
                if answersJSON {
                    // The response body is the task's result; a field of a JSON answer is read with jsonpath.
                    let inBody = model.steps[i].body.type == .lambda ? [.key(f)] + path : path
                    if model.steps[i].body.type != .lambda, f != "body" {
                        return problem("'\(r.template)': an Argo HTTP template's output is its response body (${\(id).body})")
                    }
                    if inBody.isEmpty { return "{{\(task).outputs.result}}" }
                    let jsonPath = "$" + inBody.map { c -> String in
                        switch c {
                        case .key(let k): "['" + k.replacingOccurrences(of: "'", with: "\\'") + "']"
                        case .index(let n): "[\(n)]"
                        }
                    }.joined()
                    return "{{=jsonpath(tasks['\(names[i])'].outputs.result, '\(jsonPath)')}}"
                }
                return "{{\(task).outputs.parameters.\(f)}}"
            }
        case .execution(let path):
            if path == [.key("id")] { return "{{workflow.uid}}" }
            return problem("'\(r.template)': Argo knows the execution's id only")
        case .workflow(let path):
            guard let field = model.workflowField(path) else { return problem(ExportMessages.workflowField(r)) }
            return field
        case .secret(let name):
            return problem("'${secrets.\(name)}': secrets must not be written into a workflow; mount a Kubernetes Secret instead")
        case .trigger:
            return problem("'\(r.template)': triggers are not exported; pass the value as a workflow parameter")
        case .unknown(let head), .incomplete(let head):
            return problem(ExportMessages.unknown(r, head))
        }
    }

    // MARK: Conditions

    /// A condition as an Argo `when` expression (govaluate).
    private mutating func when(_ e: Condition, step: String) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: step, field: "condition", message: message))
            return nil
        }
        switch e {
        case .binary(.and, let l, let r), .binary(.or, let l, let r):
            guard let a = when(l, step: step), let b = when(r, step: step) else { return nil }
            return "(\(a)) \(e.isAnd ? "&&" : "||") (\(b))"
        case .not(let inner):
            guard let a = when(inner, step: step) else { return nil }
            return "!(\(a))"
        case .literal(.bool(let b)):
            return b ? "true" : "false"
        case .reference(let r):
            if let status = statusTest(r, equals: nil) { return status }
            guard let v = dagValue(r, step: step, field: "condition") else { return nil }
            return "\(v) == true"
        case .binary(.in, let l, .list(let items)):
            var tests: [String] = []
            for item in items { guard let t = when(.binary(.equal, l, item), step: step) else { return nil }; tests.append(t) }
            return tests.joined(separator: " || ")
        case .binary(let op, let l, let r):
            guard ["==", "!=", "<", "<=", ">", ">="].contains(op.rawValue) else { return problem("'\(op.rawValue)' has no Argo form") }
            if case .reference(let ref) = l, case .literal(.string(let s)) = r, op == .equal || op == .notEqual,
               let status = statusTest(ref, equals: s) {
                return op == .equal ? status : "!(\(status))"
            }
            if case .literal(.string(let s)) = l, case .reference(let ref) = r, op == .equal || op == .notEqual,
               let status = statusTest(ref, equals: s) {
                return op == .equal ? status : "!(\(status))"
            }
            if case .reference(let ref) = l, case .literal(.bool(let b)) = r, op == .equal || op == .notEqual,
               let status = statusTest(ref, equals: nil) {
                return (op == .equal) == b ? status : "!(\(status))"
            }
            let stringy = [l, r].contains { if case .literal(.string) = $0 { true } else { false } }
            guard let a = operand(l, quoted: stringy, step: step), let b = operand(r, quoted: stringy, step: step) else { return nil }
            return "\(a) \(op.rawValue) \(b)"
        case .call(let f, let args):
            guard f != .len, args.count == 2, case .literal(.string(let s)) = args[1], let subject = operand(args[0], quoted: true, step: step) else {
                return problem("Argo conditions have no \(f.rawValue)(…) except contains, startsWith and endsWith of a constant text")
            }
            let pattern = NSRegularExpression.escapedPattern(for: s).replacingOccurrences(of: "'", with: "\\'")
            switch f {
            case .startsWith: return "\(subject) =~ '^\(pattern)'"
            case .endsWith: return "\(subject) =~ '\(pattern)$'"
            default: return "\(subject) =~ '\(pattern)'"
            }
        case .literal, .list:
            return problem("'\(e)' is not a test of anything from the run")
        }
    }

    private mutating func operand(_ e: Condition, quoted: Bool, step: String) -> String? {
        switch e {
        case .literal(let v):
            switch v {
            case .string(let s): return "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
            case .number(let n): return JSONValue.format(n)
            case .bool(let b): return b ? "true" : "false"
            default:
                problems.append(ExportProblem(step: step, field: "condition", message: "Argo conditions compare text, numbers and booleans"))
                return nil
            }
        case .reference(let r):
            guard let v = dagValue(r, step: step, field: "condition") else { return nil }
            return quoted ? "'\(v)'" : v
        default:
            problems.append(ExportProblem(step: step, field: "condition", message: "Argo conditions compare a value with a constant; '\(e)' is neither"))
            return nil
        }
    }

    /// A test of a step's status: `${a.status} == 'success'`, `${a.failed}`…
    private func statusTest(_ r: Reference, equals value: String?) -> String? {
        guard case .step(let id, let field, let path) = model.target(r), path.isEmpty, let i = model.graph.index[id] else { return nil }
        let status = "'{{tasks.\(names[i]).status}}'"
        func any(_ phases: [String]) -> String { phases.map { "\(status) == '\($0)'" }.joined(separator: " || ") }
        switch (field, value) {
        case ("status", "success"?), ("success", nil): return any(["Succeeded"])
        case ("status", "failed"?), ("failed", nil): return any(["Failed", "Error"])
        case ("status", "skipped"?): return any(["Skipped", "Omitted"])
        case ("status", "cancelled"?): return "false"
        default: return nil
        }
    }
}
