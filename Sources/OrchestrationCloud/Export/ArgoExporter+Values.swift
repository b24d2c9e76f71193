import Foundation
import Orchestration

/// Values as the text Argo substitutes, and references as Argo variables.
extension ArgoExporter {
    /// A value as the text Argo substitutes into a template: `{{workflow.parameters.x}}` for
    /// inputs, `{{inputs.parameters.p}}` for what other steps produce (passed in by the DAG task).
    mutating func text(_ value: CompiledValue, _ s: ExportModel.Step, _ field: String, _ parameters: inout [String: String]) -> String? {
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
    mutating func referenceText(_ r: Reference, _ s: ExportModel.Step, _ field: String, _ parameters: inout [String: String]) -> String? {
        guard let dag = dagValue(r, step: s.id, field: field) else { return nil }
        guard dag.hasPrefix("{{tasks.") || dag.hasPrefix("{{=jsonpath(tasks[") || dag.hasPrefix("{{item") else { return dag }
        let name = "p-" + String(r.description.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "-" })
        parameters[name] = dag
        return "{{inputs.parameters.\(name)}}"
    }

    /// A structured value as JSON text with references spliced in as text.
    mutating func jsonText(_ value: CompiledValue, _ s: ExportModel.Step, _ field: String, _ parameters: inout [String: String]) -> String? {
        switch value {
        case .literal(let v): return Self.escapeBraces(v.jsonText)
        case .template:
            // Argo parameters are text: a reference becomes a JSON string.
            guard let inner = text(value, s, field, &parameters) else { return nil }
            return "\"" + inner.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .array(let items):
            var parts: [String] = []
            for item in items {
                guard let t = jsonText(item, s, field, &parameters) else { return nil }
                parts.append(t)
            }
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
    mutating func dagValue(_ r: Reference, step: String, field: String) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: step, field: field, message: message))
            return nil
        }
        if let item = itemValue(r, step: step, field: field) { return item }
        switch model.target(r) {
        case .input(let name, let path):
            guard path.isEmpty else { return problem("'\(r.template)': Argo parameters are text; a path inside one cannot be read") }
            guard model.workflow.variables[name] != nil else {
                return problem("'\(r.template)': Argo workflows take only declared parameters; give '\(name)' a default in variables")
            }
            return "{{workflow.parameters.\(name)}}"
        case .step(let id, let f, let path):
            guard let i = model.graph.index[id] else { return problem("'\(r.template)' names no step") }
            if let fan = fanValue(r, of: i, field: f, step: step, field: field) { return fan }
            if let waited = suspendedValue(r, of: i, field: f, step: step, field: field) { return waited }
            let task = "tasks.\(names[i])"
            let answersJSON = [.http, .healthCheck].contains(model.steps[i].body.kind) || model.steps[i].body.type == .lambda
            guard path.isEmpty || answersJSON else {
                return problem("'\(r.template)': Argo output parameters are text; a path inside one cannot be read")
            }
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
                    let jsonPath =
                        "$"
                        + inBody.map { c -> String in
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
}
