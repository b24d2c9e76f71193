import Foundation
import Orchestration

extension GCPWorkflowsExporter {

    /// A value with references as `${…}` expressions.
    mutating func value(_ v: CompiledValue, _ stepID: String, _ field: String) -> JSONValue {
        switch v {
        case .literal(let x): return Self.escapeLiteral(x)
        case .template(let t):
            if t.parts.count == 1, case .reference(let r, _) = t.parts[0] {
                return .string("${\(reference(r, stepID: stepID, field: field) ?? "null")}")
            }
            var pieces: [String] = []
            for part in t.parts {
                switch part {
                case .text(let text): pieces.append(Self.quote(text))
                case .reference(let r, _): pieces.append("string(\(reference(r, stepID: stepID, field: field) ?? "null"))")
                }
            }
            return .string("${" + pieces.joined(separator: " + ") + "}")
        case .array(let items): return .array(items.map { value($0, stepID, field) })
        case .object(let fields): return .object(fields.mapValues { value($0, stepID, field) })
        }
    }

    /// Literal text that starts with `${` would be evaluated.
    static func escapeLiteral(_ v: JSONValue) -> JSONValue {
        switch v {
        case .string(let s) where s.contains("${"): return .string("${" + quote(s) + "}")
        case .array(let items): return .array(items.map(escapeLiteral))
        case .object(let fields): return .object(fields.mapValues(escapeLiteral))
        default: return v
        }
    }

    static func quote(_ s: String) -> String { JSONValue.string(s).jsonText }

    /// A reference as an expression over `inputs` and `results`.
    mutating func reference(_ r: Reference, stepID: String, field: String) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: stepID, field: field, message: message))
            return nil
        }
        if let item = itemReference(r, stepID: stepID) { return item }
        switch model.target(r) {
        case .input(let name, let path):
            return "inputs" + Self.key(name) + Self.components(path)
        case .step(let id, let f, let path):
            guard let i = model.graph.index[id] else { return problem("'\(r.template)' names no step") }
            let base = "results.\(names[i])"
            switch f {
            case "status", "success", "failed", "timedOut", "error": return base + "." + f
            case "exitCode", "attempts", "durationMs", "cached": return problem("'\(r.template)': GCP Workflows does not report a step's \(f)")
            case "approved" where model.steps[i].step.type == .approval && path.isEmpty:
                // A rejection fails the step, so an approval succeeded exactly when it was approved.
                return base + ".success"
            case "executionID" where model.steps[i].body.kind == .childWorkflow:
                return problem("'\(r.template)': the executions connector's run returns the child's result only, not its execution id")
            default: return base + ".output" + Self.key(f) + Self.components(path)
            }
        case .execution(let path):
            if path == [.key("id")] { return "sys.get_env(\"GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID\")" }
            return problem("'\(r.template)': GCP Workflows knows the execution's id only")
        case .workflow(let path):
            guard let field = model.workflowField(path) else { return problem(ExportMessages.workflowField(r)) }
            return Self.quote(field)
        case .secret(let name):
            return problem("'${secrets.\(name)}': secrets must not be written into a workflow; read them with googleapis.secretmanager")
        case .trigger:
            return problem("'\(r.template)': triggers are not exported; pass the value as an execution argument")
        case .unknown(let head), .incomplete(let head):
            return problem(ExportMessages.unknown(r, head))
        }
    }

    static func key(_ name: String) -> String {
        let simple =
            name.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "_") } && !(name.first?.isNumber ?? true)
        return simple ? "." + name : "[" + quote(name) + "]"
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
