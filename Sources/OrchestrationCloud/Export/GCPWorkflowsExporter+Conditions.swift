import Foundation
import Orchestration

extension GCPWorkflowsExporter {

    mutating func expression(_ e: Condition, step: String) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: step, field: "condition", message: message))
            return nil
        }
        switch e {
        case .literal(let v):
            return v.expressionLiteral(quote: Self.quote) ?? problem("objects cannot be written in a GCP expression")
        case .reference(let r): return reference(r, stepID: step, field: "condition")
        case .list(let items):
            var out: [String] = []
            for item in items {
                guard let x = expression(item, step: step) else { return nil }
                out.append(x)
            }
            return "[" + out.joined(separator: ", ") + "]"
        case .not(let inner):
            guard let x = expression(inner, step: step) else { return nil }
            return "not(\(x))"
        case .binary(let op, let l, let r):
            guard let a = expression(l, step: step), let b = expression(r, step: step) else { return nil }
            let symbol: String
            switch op {
            case .and: symbol = "and"
            case .or: symbol = "or"
            case .in: symbol = "in"
            default: symbol = op.rawValue
            }
            return "(\(a) \(symbol) \(b))"
        case .call(let f, let args):
            var xs: [String] = []
            for a in args {
                guard let x = expression(a, step: step) else { return nil }
                xs.append(x)
            }
            switch f {
            case .len: return "len(\(xs[0]))"
            case .contains: return "(text.find_substring(\(xs[0]), \(xs[1])) >= 0)"
            case .startsWith: return "(text.find_substring(\(xs[0]), \(xs[1])) == 0)"
            case .endsWith: return "text.match_regex(\(xs[0]), \(regexSuffix(args[1], xs[1])))"
            }
        }
    }

    func regexSuffix(_ e: Condition, _ text: String) -> String {
        if case .literal(.string(let s)) = e { return Self.quote(NSRegularExpression.escapedPattern(for: s) + "$") }
        return "\(text) + \"$\""
    }
}
