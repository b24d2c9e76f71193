import Foundation
import Orchestration

/// forEach on GCP Workflows: a `parallel` `for` over the items (`concurrency_limit` from
/// `maxConcurrency`), each iteration a `try` with the step's retry policy that records its output,
/// or its failure, under its index in a shared map; then the outputs in item order,
/// `{results, itemCount, failedItems}` as the step's output, and the tolerance checked.
extension GCPWorkflowsExporter {
    /// A step's success record, or a forEach item's output under `itemKey`.
    func record(_ output: JSONValue, _ key: String, _ itemKey: String?) -> JSONValue {
        if let itemKey { return ["assign": [[.init(stringLiteral: itemKey): output]]] }
        return [
            "assign": [[.init(stringLiteral: key): ["status": "success", "success": true, "failed": false, "timedOut": false, "output": output]]]
        ]
    }

    /// The steps of forEach step `s`, for its `try`.
    mutating func fanCall(_ s: ExportModel.Step) -> JSONValue? {
        guard let source = s.step.forEach else { return nil }
        let name = names[s.index]
        let items = name + "_items", outputs = name + "_outputs", failed = name + "_failed", ordered = name + "_results"
        let slot = "\(outputs)[string(itemIndex)]"
        guard let work = call(s.body, stepID: s.id, field: nil, result: name + "_item_result", itemKey: slot) else { return nil }
        var attempt: [String: JSONValue] = ["try": work]
        if let retry = attemptRetry(s) { attempt["retry"] = retry }
        attempt["except"] = [
            "as": "e",
            "steps": [
                [
                    name + "_item_failed": [
                        "assign": [
                            [.init(stringLiteral: slot): ["status": "failed", "error": "${e}"]],
                            [.init(stringLiteral: failed): .string("${\(failed) + 1}")],
                        ]
                    ]
                ]
            ],
        ]
        var parallel: [String: JSONValue] = [
            "shared": [.string(outputs), .string(failed)],
            "for": ["value": "item", "index": "itemIndex", "in": .string("${\(items)}"), "steps": [[name + "_item": .object(attempt)]]],
        ]
        if let limit = s.step.maxConcurrency { parallel["concurrency_limit"] = .number(Double(limit)) }
        var allowed = "0"
        if let n = s.step.toleratedFailures {
            allowed = String(n)
        } else if let p = s.step.toleratedFailurePercentage {
            allowed = "len(\(items)) * \(JSONValue.format(p)) / 100"
        }
        let list: JSONValue
        if case .string(let text) = source, let template = try? Template(text), template.parts.count == 1 {
            list = value(.template(template), s.id, "forEach")
        } else {
            list = value(CompiledValue(source), s.id, "forEach")
        }
        let steps: [JSONValue] = [
            [
                name + "_fan_init": [
                    "assign": [
                        [.init(stringLiteral: items): list], [.init(stringLiteral: outputs): [:]], [.init(stringLiteral: failed): 0],
                        [.init(stringLiteral: ordered): []],
                    ]
                ]
            ],
            [name + "_fan": ["parallel": .object(parallel)]],
            [
                name + "_in_order": [
                    "for": [
                        "value": .string(name + "_each"), "index": .string(name + "_n"), "in": .string("${\(items)}"),
                        "steps": [
                            [
                                name + "_add": [
                                    "assign": [[.init(stringLiteral: ordered): .string("${list.concat(\(ordered), \(outputs)[string(\(name)_n)])}")]]
                                ]
                            ]
                        ],
                    ]
                ]
            ],
            [
                name + "_tolerance": [
                    "switch": [
                        [
                            "condition": .string("${\(failed) > \(allowed)}"),
                            "raise": [
                                "message": .string("${string(\(failed)) + \" of \" + string(len(\(items))) + \" items failed\"}"),
                                "tags": ["NovaCron.ItemsFailed"],
                            ],
                        ]
                    ]
                ]
            ],
            [
                name + "_ok": record(
                    ["results": .string("${\(ordered)}"), "itemCount": .string("${len(\(items))}"), "failedItems": .string("${\(failed)}")],
                    "results.\(name)", nil)
            ],
        ]
        return ["steps": .array(steps)]
    }

    /// `${item…}` and `${itemIndex}` inside a forEach step: the loop's variables.
    func itemReference(_ r: Reference, stepID: String) -> String? {
        guard let i = model.graph.index[stepID], model.steps[i].step.forEach != nil else { return nil }
        switch r.head {
        case ForEach.itemName: return "item" + Self.components(Array(r.components.dropFirst()))
        case ForEach.indexName: return "itemIndex"
        default: return nil
        }
    }
}
