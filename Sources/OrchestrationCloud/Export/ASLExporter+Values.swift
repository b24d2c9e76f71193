import Foundation
import Orchestration

/// Values as JSONPath, intrinsic functions and constants.
extension ASLExporter {
    enum Operand {
        case path(String)
        case constant(JSONValue)
    }

    /// Where a reference's value is in the state, or the constant it is.
    mutating func operand(_ reference: Reference, stepID: String, field: String?) -> Operand? {
        func problem(_ message: String) -> Operand? {
            problems.append(ExportProblem(step: stepID, field: field, message: message))
            return nil
        }
        if let item = itemOperand(reference, stepID: stepID) { return item }
        switch model.target(reference) {
        case .input(let name, let path):
            return .path("$.inputs" + JSONPath.key(name) + JSONPath.components(path))
        case .step(let id, let f, let path):
            guard let index = model.graph.index[id] else { return problem("'\(reference.template)' names no step") }
            let base = "$.steps.\(names[index])"
            switch f {
            case "status", "success", "failed", "timedOut": return .path(base + "." + f)
            case "executionID" where model.steps[index].body.kind == .childWorkflow && path.isEmpty:
                return .path(base + ".executionID")
            case "approved" where model.steps[index].step.type == .approval && path.isEmpty:
                // A rejection fails the task, so an approval's step succeeded exactly when it was approved.
                return .path(base + ".success")
            case "error": return .path(base + ".error")
            case "exitCode", "attempts", "durationMs", "cached":
                return problem("'\(reference.template)': Step Functions does not report a step's \(f)")
            case ForEach.failedItemsOutput where model.steps[index].step.forEach != nil:
                return problem("'\(reference.template)': an inline Map does not count failed items (it fails at the first)")
            default:
                // A child state machine hands back its whole state; its declared outputs are under `outputs`.
                let child = model.steps[index].body.kind == .childWorkflow ? ".outputs" : ""
                return .path(base + ".output" + child + JSONPath.key(f) + JSONPath.components(path))
            }
        case .execution(let path):
            if path == [.key("id")] { return .path("$$.Execution.Id") }
            if path == [.key("startedAt")] { return .path("$$.Execution.StartTime") }
            return problem("'\(reference.template)': Step Functions knows the execution's id and startedAt only")
        case .workflow(let path):
            guard let field = model.workflowField(path) else { return problem(ExportMessages.workflowField(reference)) }
            return .constant(.string(field))
        case .secret(let name):
            return problem(
                "'${secrets.\(name)}': secrets must not be written into a state machine definition; keep them in Secrets Manager and read them in the function"
            )
        case .trigger:
            return problem("'\(reference.template)': triggers are not exported; pass the value as an execution input")
        case .unknown(let head), .incomplete(let head):
            return problem(ExportMessages.unknown(reference, head))
        }
    }

    /// Sets `key` (as `key.$` when it is computed) in a Parameters-like object.
    mutating func put(_ object: inout [String: JSONValue], _ key: String, _ value: CompiledValue, _ stepID: String, _ field: String) {
        guard let (dynamic, rendered) = render(value, stepID: stepID, field: field) else { return }
        object[dynamic ? key + ".$" : key] = rendered
    }

    /// A value for a Parameters field: constant, or a path or intrinsic to evaluate.
    mutating func render(_ value: CompiledValue, stepID: String, field: String) -> (Bool, JSONValue)? {
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
                        problems.append(
                            ExportProblem(
                                step: stepID, field: field,
                                message: "a list with computed items may hold only text, numbers, booleans and null on Step Functions"))
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
                    problems.append(
                        ExportProblem(
                            step: stepID, field: field,
                            message: "a list with computed items may hold only text, numbers, booleans and null on Step Functions"))
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
    mutating func intrinsic(_ t: Template, stepID: String, field: String) -> Operand? {
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
}
