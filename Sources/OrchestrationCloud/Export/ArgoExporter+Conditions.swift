import Foundation
import Orchestration

/// Conditions as Argo `when` expressions.
extension ArgoExporter {
    /// A condition as an Argo `when` expression (govaluate).
    mutating func when(_ e: Condition, step: String) -> String? {
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
            for item in items {
                guard let t = when(.binary(.equal, l, item), step: step) else { return nil }
                tests.append(t)
            }
            return tests.joined(separator: " || ")
        case .binary(let op, let l, let r):
            guard ["==", "!=", "<", "<=", ">", ">="].contains(op.rawValue) else { return problem("'\(op.rawValue)' has no Argo form") }
            if case .reference(let ref) = l, case .literal(.string(let s)) = r, op == .equal || op == .notEqual,
                let status = statusTest(ref, equals: s)
            {
                return op == .equal ? status : "!(\(status))"
            }
            if case .literal(.string(let s)) = l, case .reference(let ref) = r, op == .equal || op == .notEqual,
                let status = statusTest(ref, equals: s)
            {
                return op == .equal ? status : "!(\(status))"
            }
            if case .reference(let ref) = l, case .literal(.bool(let b)) = r, op == .equal || op == .notEqual,
                let status = statusTest(ref, equals: nil)
            {
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

    mutating func operand(_ e: Condition, quoted: Bool, step: String) -> String? {
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
            problems.append(
                ExportProblem(step: step, field: "condition", message: "Argo conditions compare a value with a constant; '\(e)' is neither"))
            return nil
        }
    }

    /// A test of a step's status: `${a.status} == 'success'`, `${a.failed}`…
    func statusTest(_ r: Reference, equals value: String?) -> String? {
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
