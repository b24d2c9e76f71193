import Foundation
import Orchestration

/// Conditions as Choice rules.
extension ASLExporter {
    /// A condition as a Choice rule (without Next), or nil after recording why not.
    mutating func rule(_ e: Condition, step: String) -> [String: JSONValue]? {
        func problem(_ message: String) -> [String: JSONValue]? {
            problems.append(ExportProblem(step: step, field: "condition", message: message))
            return nil
        }
        switch e {
        case .binary(.and, let l, let r), .binary(.or, let l, let r):
            let op = e.isAnd ? "And" : "Or"
            guard let a = rule(l, step: step), let b = rule(r, step: step) else { return nil }
            var items: [JSONValue] = []
            for x in [a, b] {
                if x.count == 1, case .array(let inner)? = x[op] { items += inner } else { items.append(.object(x)) }
            }
            return [op: .array(items)]
        case .not(let inner):
            guard let r = rule(inner, step: step) else { return nil }
            return ["Not": .object(r)]
        case .reference(let ref):
            guard let op = operand(ref, stepID: step, field: "condition") else { return nil }
            guard case .path(let p) = op else { return problem("'\(ref.template)' is a constant; write the condition without it") }
            return guarded(p, ["Variable": .string(p), "BooleanEquals": true])
        case .binary(.in, let l, .list(let items)):
            var rules: [JSONValue] = []
            for item in items {
                guard let r = rule(.binary(.equal, l, item), step: step) else { return nil }
                rules.append(.object(r))
            }
            return ["Or": .array(rules)]
        case .binary(let op, let l, let r):
            guard let comparison = Comparison(op) else { return problem("'\(op.rawValue)' has no Choice rule on Step Functions") }
            var lhs = l, rhs = r, cmp = comparison
            if case .literal = lhs {
                swap(&lhs, &rhs)
                cmp = cmp.flipped
            }
            guard case .reference(let ref) = lhs else {
                return problem("Step Functions compares a value from the run with a constant; '\(e)' is neither")
            }
            guard let op = operand(ref, stepID: step, field: "condition") else { return nil }
            guard case .path(let path) = op else { return problem("'\(ref.template)' is a constant here; compare something from the run") }
            guard case .literal(let value) = rhs else {
                return problem("Step Functions can compare '\(ref.template)' only with a constant, not with '\(rhs)'")
            }
            var test: [String: JSONValue] = ["Variable": .string(path)]
            switch value {
            case .string(let s):
                guard let name = cmp.name(prefix: "String") else { return nil }
                test[name] = .string(s)
            case .number(let n):
                guard let name = cmp.name(prefix: "Numeric") else { return nil }
                test[name] = .number(n)
            case .bool(let b):
                guard cmp == .equal || cmp == .notEqual else { return problem("booleans are only compared for equality") }
                test["BooleanEquals"] = .bool(b)
            case .null:
                guard cmp == .equal || cmp == .notEqual else { return problem("null is only compared for equality") }
                // Absent or null.
                let isNull: [String: JSONValue] = [
                    "Or": [["Variable": .string(path), "IsPresent": false], ["Variable": .string(path), "IsNull": true]]
                ]
                return cmp == .notEqual ? ["Not": .object(isNull)] : isNull
            default:
                return problem("Step Functions compares with text, numbers, booleans and null only")
            }
            let guardedTest = guarded(path, test)
            return cmp == .notEqual ? ["Not": .object(guardedTest)] : guardedTest
        case .call(let f, let args):
            guard f != .len, args.count == 2, case .reference(let ref) = args[0], case .literal(.string(let s)) = args[1] else {
                return problem(
                    "Step Functions has no rule for \(f.rawValue)(…) except contains, startsWith and endsWith of a text from the run and a constant text"
                )
            }
            guard let op = operand(ref, stepID: step, field: "condition"), case .path(let path) = op else { return nil }
            let pattern = Intrinsic.wildcardEscape(s)
            let matches: String
            switch f {
            case .startsWith: matches = pattern + "*"
            case .endsWith: matches = "*" + pattern
            default: matches = "*" + pattern + "*"
            }
            return guarded(path, ["Variable": .string(path), "StringMatches": .string(matches)])
        case .literal, .list:
            return problem("'\(e)' is not a test of anything from the run")
        }
    }

    /// A test on an output path holds only when the path exists (Step Functions fails the run on
    /// a missing path); statuses always exist.
    func guarded(_ path: String, _ test: [String: JSONValue]) -> [String: JSONValue] {
        guard path.contains(".output") || path.hasPrefix("$.inputs") else { return test }
        return ["And": [["Variable": .string(path), "IsPresent": true], .object(test)]]
    }

    enum Comparison: Equatable {
        case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual

        init?(_ op: Condition.BinaryOperator) {
            switch op {
            case .equal: self = .equal
            case .notEqual: self = .notEqual
            case .less: self = .less
            case .lessOrEqual: self = .lessOrEqual
            case .greater: self = .greater
            case .greaterOrEqual: self = .greaterOrEqual
            default: return nil
            }
        }

        var flipped: Comparison {
            switch self {
            case .less: .greater
            case .lessOrEqual: .greaterOrEqual
            case .greater: .less
            case .greaterOrEqual: .lessOrEqual
            default: self
            }
        }

        func name(prefix: String) -> String? {
            switch self {
            case .equal, .notEqual: prefix + "Equals"
            case .less: prefix + "LessThan"
            case .lessOrEqual: prefix + "LessThanEquals"
            case .greater: prefix + "GreaterThan"
            case .greaterOrEqual: prefix + "GreaterThanEquals"
            }
        }
    }
}
