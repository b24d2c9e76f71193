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
            while used.contains(name) || name == "main" {
                name = "\(base)-\(n)"
                n += 1
            }
            used.insert(name)
            return name
        }
        var read = [Set<String>](repeating: [], count: model.steps.count)
        for s in model.steps {
            var refs = s.body.inputs.values.flatMap(\.references)
            if let c = s.condition { refs += c.references }
            if let list = s.step.forEach { refs += CompiledValue(list).references }
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

    mutating func build() -> ExporterOutput {
        let workflow = model.workflow
        var tasks: [JSONValue] = []
        var templates: [JSONValue] = []
        for s in model.steps {
            var parameters: [String: String] = [:]  // template input name → value in the DAG
            if let template = template(s, parameters: &parameters) { templates.append(.object(template)) }
            var task: [String: JSONValue] = ["name": .string(names[s.index]), "template": .string(names[s.index])]
            if !s.upstream.isEmpty {
                task["depends"] = .string(
                    s.upstream.map { u in
                        s.statusReads.contains(u)
                            ? "(\(names[u]).Succeeded || \(names[u]).Failed || \(names[u]).Errored || \(names[u]).Skipped || \(names[u]).Omitted)"
                            : "\(names[u]).Succeeded"
                    }.joined(separator: " && "))
            }
            if let condition = s.condition, let when = when(condition, step: s.id) { task["when"] = .string(when) }
            if !parameters.isEmpty {
                task["arguments"] = ["parameters": .array(parameters.keys.sorted().map { ["name": .string($0), "value": .string(parameters[$0]!)] })]
            }
            if s.continueOnFailure { task["continueOn"] = ["failed": true] }
            if let (key, value) = fanOut(s) { task[key] = value }
            tasks.append(.object(task))
        }
        // Rollbacks: tasks after every step has ended, each where its step succeeded and a step
        // that may not fail failed, one after another in reverse topological order.
        let ended = model.steps.map {
            "(\(names[$0.index]).Succeeded || \(names[$0.index]).Failed || \(names[$0.index]).Errored || \(names[$0.index]).Skipped || \(names[$0.index]).Omitted)"
        }
        let failed = model.steps.filter { !$0.continueOnFailure }.map {
            "'{{tasks.\(names[$0.index]).status}}' == 'Failed' || '{{tasks.\(names[$0.index]).status}}' == 'Error'"
        }
        var previous: String?
        var usedNames = Set(names)
        for i in model.topologicalOrder.reversed() {
            let s = model.steps[i]
            guard let rollback = s.rollback else { continue }
            var name = names[i] + "-rollback", n = 2
            while usedNames.contains(name) {
                name = names[i] + "-rollback-\(n)"
                n += 1
            }
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
            spec["arguments"] = [
                "parameters": .array(workflow.variables.keys.sorted().map { ["name": .string($0), "value": .string(workflow.variables[$0]!.text)] })
            ]
        }
        if let timeout = workflow.timeout { spec["activeDeadlineSeconds"] = .number(Double(seconds(timeout))) }
        if let limit = workflow.maxParallelism { spec["parallelism"] = .number(Double(limit)) }
        var none: [String: String] = [:]
        if let policy = workflow.concurrency, let lock = synchronization(policy, step: nil, parameters: &none) { spec["synchronization"] = lock }
        var metadata: [String: JSONValue] =
            model.options.argoKind == .workflow
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
            result: ExportResult(
                target: .argo, document: document, text: YAMLText.write(document, order: order), fileExtension: "yaml", warnings: warnings,
                layout: nil),
            problems: problems)
    }

    func kubernetesName(_ id: String) -> String {
        let lowered = id.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" }
        return String(String(lowered).trimmingCharacters(in: CharacterSet(charactersIn: "-")).prefix(60))
    }

    func seconds(_ d: Duration) -> Int { max(1, Int(d.seconds.rounded(.up))) }

    // MARK: Templates

    mutating func template(_ s: ExportModel.Step, parameters: inout [String: String]) -> [String: JSONValue]? {
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
            var declared = Set(s.step.outputs).union(readFields[s.index].subtracting(Self.resultFields))
            // A forEach step's own results are Argo's aggregate of its items' outputs.
            if s.step.forEach != nil { declared.subtract([ForEach.resultsOutput, ForEach.itemCountOutput, ForEach.failedItemsOutput]) }
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
                outputs = declared.sorted().map {
                    ["name": .string($0), "valueFrom": ["path": .string("/tmp/novacron-outputs/\($0)"), "default": ""]]
                }
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
        case .childWorkflow:
            guard childTemplate(s, &template, &parameters) else { return nil }
        case .waitForOutside:
            guard approvalTemplate(s, &template) else { return nil }
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
                return problem(
                    "Argo's HTTP templates cannot sign AWS requests; invoke the Lambda from a container step with the AWS CLI", "inputs.provider")
            }
            guard let url = body.functionURL(model.options), let urlText = text(url, s, "inputs.url", &parameters) else {
                return problem("\(provider == "azure" ? "Azure" : "GCP") functions are called over HTTPS on Argo: set inputs.url", "inputs.url")
            }
            if body.inputs["key"] != nil {
                warnings.append(
                    ExportProblem(
                        step: s.id, field: "inputs.key",
                        message: "a function key is a secret and is not written into the workflow; add it as a header from a Kubernetes Secret"))
            }
            var http: [String: JSONValue] = [
                "url": .string(urlText), "method": "POST", "headers": [["name": "Content-Type", "value": "application/json"]],
            ]
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
        if let policy = s.step.concurrency, s.body.id == s.step.id, let lock = synchronization(policy, step: s, parameters: &parameters) {
            template["synchronization"] = lock
        }
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
            } else if body.kind != .sleep && body.kind != .waitForOutside {
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

    func successCondition(_ expected: JSONValue?) -> String {
        switch expected {
        case .number(let n)?: return "response.statusCode == \(JSONValue.format(n))"
        case .array(let codes)?: return codes.map { "response.statusCode == \($0.text)" }.joined(separator: " || ")
        default: return "response.statusCode >= 200 && response.statusCode < 300"
        }
    }

    mutating func retryStrategy(_ policy: RetryPolicy, step: String) -> JSONValue? {
        guard policy.maxAttempts > 1 else { return nil }
        var backoff: [String: JSONValue] = [
            "duration": .string(DurationText.format(policy.initialDelay)), "cap": .string(DurationText.format(policy.maxDelay)),
        ]
        switch policy.backoffStrategy {
        case .fixed: break
        case .exponential:
            backoff["factor"] = .string(JSONValue.format(policy.multiplier))
        case .linear:
            warnings.append(
                ExportProblem(
                    step: step, field: "retryPolicy.backoffStrategy",
                    message: "Argo has no linear backoff; exported as fixed delays of \(DurationText.format(policy.initialDelay))"))
        }
        if policy.jitter == .full {
            warnings.append(
                ExportProblem(step: step, field: "retryPolicy.jitter", message: "Argo does not jitter retry delays; they are exported without jitter")
            )
        }
        let on: String
        switch (policy.retryOn.contains(.failure), policy.retryOn.contains(.timeout)) {
        case (true, false): on = "OnFailure"
        default: on = "Always"
        }
        return ["limit": .string(String(policy.maxAttempts - 1)), "retryPolicy": .string(on), "backoff": .object(backoff)]
    }
}
