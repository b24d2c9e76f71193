import Foundation
import Orchestration

/// forEach as a `Foreach` action around the step's action (`<id>-item`): `${item}` is
/// `items('<loop>')`, `maxConcurrency` the loop's `repetitions` (Logic Apps allows 1 to 50), and
/// downstream `${step.results}` is the item action's body from outside the loop — one per item.
extension LogicAppsExporter {
    func itemName(_ i: Int) -> String { model.steps[i].id + "-item" }

    /// `action` as it runs for `s`: itself, or inside a Foreach when `s` has forEach; nil (with a
    /// problem) when Logic Apps cannot express it.
    mutating func fanned(_ s: ExportModel.Step, _ action: [String: JSONValue]) -> [String: JSONValue]? {
        guard let source = s.step.forEach else { return action }
        func problem(_ message: String, _ field: String = "forEach") -> [String: JSONValue]? {
            problems.append(ExportProblem(step: s.id, field: field, message: message))
            return nil
        }
        if s.step.toleratedFailures != nil || s.step.toleratedFailurePercentage != nil {
            return problem(
                "a Logic Apps Foreach fails when any iteration fails; a tolerance of failed items cannot be expressed", "toleratedFailures")
        }
        var inner = action
        inner["runAfter"] = [:]
        var loop: [String: JSONValue] = ["type": "Foreach", "actions": [.init(stringLiteral: itemName(s.index)): .object(inner)]]
        switch source {
        case .array(let list):
            guard list.allSatisfy({ !$0.text.contains("${") }) else { return problem("references inside a literal forEach list are not exported") }
            loop["foreach"] = .string("@json(\(Self.quote(source.jsonText)))")
        case .string(let text):
            guard let template = try? Template(text), template.parts.count == 1, case .reference(let r, _) = template.parts[0] else {
                return problem("a Foreach takes one reference to a list, not '\(text)'")
            }
            guard let list = reference(r, stepID: s.id, field: "forEach") else { return nil }
            loop["foreach"] = .string("@" + list)
        default:
            return problem("forEach needs a list")
        }
        if let n = s.step.maxConcurrency {
            if n > 50 {
                warnings.append(
                    ExportProblem(step: s.id, field: "maxConcurrency", message: "Logic Apps runs at most 50 iterations at once; \(n) becomes 50"))
            }
            loop["runtimeConfiguration"] = ["concurrency": ["repetitions": .number(Double(min(n, 50)))]]
        }
        return loop
    }

    /// `${item…}` in a forEach step's inputs; nil when `r` reads something else.
    mutating func itemReference(_ r: Reference, stepID: String, field: String) -> String?? {
        guard let i = model.graph.index[stepID], model.steps[i].step.forEach != nil else { return nil }
        switch r.head {
        case ForEach.itemName:
            return .some("items(\(Self.quote(runName(i))))" + Self.path(Array(r.components.dropFirst())))
        case ForEach.indexName:
            problems.append(ExportProblem(step: stepID, field: field, message: "'\(r.template)': a Logic Apps Foreach gives its items no index"))
            return .some(nil)
        default:
            return nil
        }
    }

    /// `${fan.results}` and `${fan.itemCount}` of a forEach step, read downstream.
    mutating func fanReference(_ r: Reference, of i: Int, field f: String, stepID: String, field: String) -> String?? {
        guard model.steps[i].step.forEach != nil, [ForEach.resultsOutput, ForEach.itemCountOutput, ForEach.failedItemsOutput].contains(f) else {
            return nil
        }
        let bodies = "body(\(Self.quote(itemName(i))))"
        switch f {
        case ForEach.resultsOutput where r.components.count == 2: return .some(bodies)
        case ForEach.itemCountOutput: return .some("length(\(bodies))")
        default:
            problems.append(
                ExportProblem(
                    step: stepID, field: field, message: "'\(r.template)': Logic Apps gives the items' bodies (${…results}) and their count only"))
            return .some(nil)
        }
    }
}
