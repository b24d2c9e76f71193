import Foundation
import Orchestration

/// forEach as a Map state: each item runs the step's work in the Map's iterator, with
/// `${item}` and `${itemIndex}` read from the iteration's input; the step's result lists the items'
/// outputs (`${step.results}`) and their count (`${step.itemCount}`).
extension ASLExporter {
    /// The Map state of forEach step `s` (its work inside), recording its result at `path`; a
    /// literal list is first put in the state by a Pass state, whose name is returned as the entry.
    mutating func fanState(_ s: ExportModel.Step, path: String, states: inout [String: JSONValue]) -> (state: [String: JSONValue], entry: String)? {
        guard let source = s.step.forEach else { return nil }
        func problem(_ message: String, _ field: String = "forEach") -> (state: [String: JSONValue], entry: String)? {
            problems.append(ExportProblem(step: s.id, field: field, message: message))
            return nil
        }
        if s.step.toleratedFailures != nil || s.step.toleratedFailurePercentage != nil {
            return problem(
                "Step Functions tolerates failed items only in a Distributed Map, which is not exported; an inline Map fails at the first failed item",
                "toleratedFailures")
        }
        guard s.body.kind != .waitForOutside, s.body.kind != .childWorkflow else {
            return problem("forEach over child workflows, approvals or waits is not exported to Step Functions")
        }
        let itemName = s.id + " (item)"
        guard var item = work(s.body, resultPath: "$.result", stepID: s.id, field: nil) else { return nil }
        var iterator: [String: JSONValue] = [:]
        if item["Type"] == "Wait" {
            item["Next"] = .string(itemName + " (done)")
            iterator[itemName + " (done)"] = ["Type": "Pass", "Result": [:], "End": true]
        } else {
            item["End"] = true
            item["OutputPath"] = "$.result.output"
        }
        iterator[itemName] = .object(item)
        var map: [String: JSONValue] = [
            "Type": "Map",
            "Iterator": ["StartAt": .string(itemName), "States": .object(iterator)],
            "Parameters": ["inputs.$": "$.inputs", "steps.$": "$.steps", "item.$": "$$.Map.Item.Value", "itemIndex.$": "$$.Map.Item.Index"],
            "ResultSelector": [
                "status": "success", "success": true, "failed": false, "timedOut": false,
                "output": ["results.$": "$", "itemCount.$": "States.ArrayLength($)"],
            ],
            "ResultPath": .string(path),
        ]
        if let n = s.step.maxConcurrency { map["MaxConcurrency"] = .number(Double(n)) }
        switch source {
        case .array(let list):
            guard list.allSatisfy({ !$0.text.contains("${") }) else { return problem("references inside a literal forEach list are not exported") }
            let slot = "$.items_\(names[s.index])"
            states[s.id + " (items)"] = ["Type": "Pass", "Result": source, "ResultPath": .string(slot), "Next": .string(s.id)]
            map["ItemsPath"] = .string(slot)
            return (map, s.id + " (items)")
        case .string(let text):
            guard let template = try? Template(text), template.parts.count == 1, case .reference(let r, _) = template.parts[0],
                case .path(let p)? = operand(r, stepID: s.id, field: "forEach")
            else { return problem("a Map's ItemsPath is one reference to a list in the state, not '\(text)'") }
            map["ItemsPath"] = .string(p)
            return (map, s.id)
        default:
            return problem("forEach needs a list")
        }
    }

    /// `${item…}` and `${itemIndex}` in a forEach step's work: the iteration's input.
    func itemOperand(_ reference: Reference, stepID: String) -> Operand? {
        guard let i = model.graph.index[stepID], model.steps[i].step.forEach != nil else { return nil }
        switch reference.head {
        case ForEach.itemName: return .path("$.item" + JSONPath.components(Array(reference.components.dropFirst())))
        case ForEach.indexName: return .path("$.itemIndex")
        default: return nil
        }
    }
}
