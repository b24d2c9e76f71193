import Foundation
import Orchestration

/// forEach as Argo's own fan-out: a literal list becomes the task's `withItems`, a reference
/// `withParam`; `${item}` reaches the template as a parameter the task fills with `{{item}}`, and
/// `${step.results}` downstream is the task's aggregated output parameters (one map per item).
extension ArgoExporter {
    /// The task's `withItems` or `withParam`, or nil (with a problem) when Argo cannot express it.
    mutating func fanOut(_ s: ExportModel.Step) -> (key: String, value: JSONValue)? {
        guard let source = s.step.forEach else { return nil }
        func problem(_ message: String, _ field: String = "forEach") -> (key: String, value: JSONValue)? {
            problems.append(ExportProblem(step: s.id, field: field, message: message))
            return nil
        }
        if s.step.toleratedFailures != nil || s.step.toleratedFailurePercentage != nil {
            _ = problem("Argo fails a withParam task when any item fails; a tolerance of failed items cannot be expressed", "toleratedFailures")
        }
        if let n = s.step.maxConcurrency {
            warnings.append(
                ExportProblem(
                    step: s.id, field: "maxConcurrency",
                    message: "Argo limits parallelism per template or workflow, not per task: maxConcurrency \(n) is not exported"))
        }
        switch source {
        case .array(let items):
            guard items.allSatisfy({ !$0.text.contains("${") }) else { return problem("references inside a literal forEach list are not exported") }
            return ("withItems", .array(items))
        case .string(let text):
            guard let template = try? Template(text), template.parts.count == 1, case .reference(let r, _) = template.parts[0] else {
                return problem("Argo's withParam takes one reference to a JSON list, not '\(text)'")
            }
            guard let value = dagValue(r, step: s.id, field: "forEach") else { return nil }
            return ("withParam", .string(value))
        default:
            return problem("forEach needs a list")
        }
    }

    /// `${item…}` and `${itemIndex}` inside a forEach step, as Argo's `{{item…}}`; nil when `r`
    /// reads something else or the step has no forEach.
    mutating func itemValue(_ r: Reference, step: String, field: String) -> String?? {
        guard let i = model.graph.index[step], model.steps[i].step.forEach != nil else { return nil }
        switch r.head {
        case ForEach.itemName:
            var path = "item"
            for component in r.components.dropFirst() {
                guard case .key(let key) = component else {
                    problems.append(ExportProblem(step: step, field: field, message: "'\(r.template)': Argo reads item fields by name only"))
                    return .some(nil)
                }
                path += "." + key
            }
            return .some("{{\(path)}}")
        case ForEach.indexName:
            problems.append(
                ExportProblem(step: step, field: field, message: "'\(r.template)': Argo gives withParam items no index; put it in the items"))
            return .some(nil)
        default:
            return nil
        }
    }

    /// `${fan.results}` of a forEach step read downstream: Argo's aggregated output parameters.
    mutating func fanValue(_ r: Reference, of i: Int, field f: String, step: String, field: String) -> String?? {
        guard model.steps[i].step.forEach != nil, [ForEach.resultsOutput, ForEach.itemCountOutput, ForEach.failedItemsOutput].contains(f)
        else { return nil }
        guard f == ForEach.resultsOutput, r.components.count == 2 else {
            problems.append(
                ExportProblem(step: step, field: field, message: "'\(r.template)': Argo aggregates only the items' outputs (${…results})"))
            return .some(nil)
        }
        return .some("{{tasks.\(names[i]).outputs.parameters}}")
    }
}
