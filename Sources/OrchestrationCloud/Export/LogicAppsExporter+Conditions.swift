import Foundation
import Orchestration

/// Conditions as workflow definition language expressions.
extension LogicAppsExporter {
    /// `boolean`: the expression stands where a test is expected (a reference is tested for
    /// `true`); otherwise it is an operand.
    mutating func expression(_ e: Condition, step: String, boolean: Bool = true) -> String? {
        func problem(_ message: String) -> String? {
            problems.append(ExportProblem(step: step, field: "condition", message: message))
            return nil
        }
        switch e {
        case .literal(let v):
            return v.expressionLiteral(quote: Self.quote) ?? problem("objects cannot be written in a Logic Apps expression")
        case .reference(let r):
            if boolean, let status = statusTest(r, equals: nil) { return status }
            guard let x = reference(r, stepID: step, field: "condition") else { return nil }
            return boolean ? "equals(\(x), true)" : x
        case .list:
            return problem("a list is only compared with 'in' on Logic Apps")
        case .not(let inner):
            guard let x = expression(inner, step: step) else { return nil }
            return "not(\(x))"
        case .binary(.in, let l, .list(let items)):
            var tests: [String] = []
            for item in items {
                guard let t = expression(.binary(.equal, l, item), step: step) else { return nil }
                tests.append(t)
            }
            return tests.count == 1 ? tests[0] : "or(\(tests.joined(separator: ", ")))"
        case .binary(let op, let l, let r):
            if op == .equal || op == .notEqual {
                for (a, b) in [(l, r), (r, l)] {
                    if case .reference(let ref) = a, case .literal(let lit) = b {
                        let wanted: String? = if case .string(let s) = lit { s } else { nil }
                        if case .bool(let flag) = lit, let status = statusTest(ref, equals: nil) {
                            return (op == .equal) == flag ? status : "not(\(status))"
                        }
                        if let wanted, let status = statusTest(ref, equals: wanted) {
                            return op == .equal ? status : "not(\(status))"
                        }
                    }
                }
            }
            let logical = op == .and || op == .or
            guard let a = expression(l, step: step, boolean: logical), let b = expression(r, step: step, boolean: logical) else { return nil }
            switch op {
            case .and: return "and(\(a), \(b))"
            case .or: return "or(\(a), \(b))"
            case .equal: return "equals(\(a), \(b))"
            case .notEqual: return "not(equals(\(a), \(b)))"
            case .less: return "less(\(a), \(b))"
            case .lessOrEqual: return "lessOrEquals(\(a), \(b))"
            case .greater: return "greater(\(a), \(b))"
            case .greaterOrEqual: return "greaterOrEquals(\(a), \(b))"
            case .in: return "contains(\(b), \(a))"
            }
        case .call(let f, let args):
            var xs: [String] = []
            for a in args {
                guard let x = expression(a, step: step, boolean: false) else { return nil }
                xs.append(x)
            }
            switch f {
            case .len: return "length(\(xs[0]))"
            case .contains: return "contains(\(xs[0]), \(xs[1]))"
            case .startsWith: return "startsWith(\(xs[0]), \(xs[1]))"
            case .endsWith: return "endsWith(\(xs[0]), \(xs[1]))"
            }
        }
    }

    /// A test of a step's status: `${a.status} == 'success'`, `${a.failed}`…
    func statusTest(_ r: Reference, equals value: String?) -> String? {
        guard case .step(let id, let field, let path) = model.target(r), path.isEmpty, let i = model.graph.index[id] else { return nil }
        let status = "actions(\(Self.quote(runName(i))))?['status']"
        func any(_ phases: [String]) -> String {
            let tests = phases.map { "equals(\(status), '\($0)')" }
            return tests.count == 1 ? tests[0] : "or(\(tests.joined(separator: ", ")))"
        }
        switch (field, value) {
        case ("status", "success"?), ("success", nil): return any(["Succeeded"])
        case ("status", "failed"?), ("failed", nil): return any(["Failed", "TimedOut"])
        case ("timedOut", nil): return any(["TimedOut"])
        case ("status", "skipped"?): return any(["Skipped"])
        case ("status", "cancelled"?): return any(["Cancelled"])
        default: return nil
        }
    }
}
