import Foundation

/// Evaluates expressions against values supplied by a resolver.
///
/// Coercion: when a string meets a number or a bool (in `==`, `!=`, `<`, `<=`, `>`, `>=`, `in`),
/// the string is parsed as that type, since shell outputs are text: `'3' == 3` and
/// `'true' == true` hold, `'abc' == 3` does not. Truthiness (for `&&`, `||`, `!` and the final
/// result): `false`, `null`, `0`, `''`, `'false'`, `'0'`, `[]` and `{}` are false; all else is true.
///
/// ```swift
/// let e = try Expression.parse("${build.exitCode} == 0 && contains(${labels}, 'deploy')")
/// let ok = try ExpressionEvaluator.evaluateCondition(e) { ref in values[ref.description] }
/// ```
package enum ExpressionEvaluator {
    /// Looks up the value of a reference; `nil` means "no such value" and evaluates as `null`.
    package typealias Resolver = (Reference) throws -> JSONValue?

    /// Evaluates `expression` to a value.
    package static func evaluate(_ expression: Expression, resolve: Resolver) throws -> JSONValue {
        switch expression {
        case .literal(let v): return v
        case .reference(let r): return try resolve(r) ?? .null
        case .list(let items): return .array(try items.map { try evaluate($0, resolve: resolve) })
        case .not(let e): return .bool(!truthy(try evaluate(e, resolve: resolve)))
        case .binary(.and, let l, let r):
            guard truthy(try evaluate(l, resolve: resolve)) else { return .bool(false) }
            return .bool(truthy(try evaluate(r, resolve: resolve)))
        case .binary(.or, let l, let r):
            if truthy(try evaluate(l, resolve: resolve)) { return .bool(true) }
            return .bool(truthy(try evaluate(r, resolve: resolve)))
        case .binary(let op, let l, let r):
            let a = try evaluate(l, resolve: resolve)
            let b = try evaluate(r, resolve: resolve)
            return .bool(try compare(op, a, b))
        case .call(let f, let args):
            let values = try args.map { try evaluate($0, resolve: resolve) }
            return try call(f, values)
        }
    }

    /// Evaluates `expression` and applies truthiness.
    package static func evaluateCondition(_ expression: Expression, resolve: Resolver) throws -> Bool {
        truthy(try evaluate(expression, resolve: resolve))
    }

    /// The truthiness rule described on ``ExpressionEvaluator``.
    package static func truthy(_ v: JSONValue) -> Bool {
        switch v {
        case .null: return false
        case .bool(let b): return b
        case .number(let n): return n != 0 && !n.isNaN
        case .string(let s):
            let t = s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            return !(t.isEmpty || t == "false" || t == "0")
        case .array(let a): return !a.isEmpty
        case .object(let o): return !o.isEmpty
        }
    }

    /// Loose equality with the string coercion rule.
    package static func looselyEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.string(let s), .number(let n)), (.number(let n), .string(let s)):
            return number(from: s).map { $0 == n } ?? false
        case (.string(let s), .bool(let x)), (.bool(let x), .string(let s)):
            return bool(from: s).map { $0 == x } ?? false
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { looselyEqual($0, $1) }
        default:
            return a == b
        }
    }

    static func number(from s: String) -> Double? {
        let t = s.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let first = t.unicodeScalars.first, ("0"..."9").contains(first) || first == "-" || first == "." || first == "+" else {
            return nil
        }
        return Double(t)
    }

    static func bool(from s: String) -> Bool? {
        switch s.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() {
        case "true": return true
        case "false": return false
        default: return nil
        }
    }

    private static func compare(_ op: Expression.BinaryOperator, _ a: JSONValue, _ b: JSONValue) throws -> Bool {
        switch op {
        case .equal: return looselyEqual(a, b)
        case .notEqual: return !looselyEqual(a, b)
        case .in: return try contains(b, a, operation: "in")
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            let order: ComparisonResult
            switch (a, b) {
            case (.number(let x), .number(let y)): order = x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame)
            case (.string(let s), .number(let y)):
                guard let x = number(from: s) else { throw ExpressionError("cannot compare '\(s)' with the number \(JSONValue.format(y))") }
                order = x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame)
            case (.number(let x), .string(let s)):
                guard let y = number(from: s) else { throw ExpressionError("cannot compare the number \(JSONValue.format(x)) with '\(s)'") }
                order = x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame)
            case (.string(let x), .string(let y)):
                if let nx = number(from: x), let ny = number(from: y) {
                    order = nx < ny ? .orderedAscending : (nx > ny ? .orderedDescending : .orderedSame)
                } else {
                    order = x < y ? .orderedAscending : (x > y ? .orderedDescending : .orderedSame)
                }
            default:
                throw ExpressionError("cannot order a \(a.kindName) and a \(b.kindName) with \(op.rawValue)")
            }
            switch op {
            case .less: return order == .orderedAscending
            case .lessOrEqual: return order != .orderedDescending
            case .greater: return order == .orderedDescending
            default: return order != .orderedAscending
            }
        case .and, .or:
            return truthy(a) && truthy(b)
        }
    }

    private static func contains(_ haystack: JSONValue, _ needle: JSONValue, operation: String) throws -> Bool {
        switch haystack {
        case .array(let items): return items.contains { looselyEqual($0, needle) }
        case .string(let s): return needle.text.isEmpty || s.contains(needle.text)
        case .object(let o): return o[needle.text] != nil
        case .null: return false
        default: throw ExpressionError("'\(operation)' needs a list, a string or an object on its right, not a \(haystack.kindName)")
        }
    }

    private static func call(_ f: Expression.Function, _ args: [JSONValue]) throws -> JSONValue {
        switch f {
        case .contains: return .bool(try contains(args[0], args[1], operation: "contains"))
        case .startsWith: return .bool(args[0].text.hasPrefix(args[1].text))
        case .endsWith: return .bool(args[0].text.hasSuffix(args[1].text))
        case .len:
            switch args[0] {
            case .null: return 0
            case .string(let s): return .number(Double(s.count))
            case .array(let a): return .number(Double(a.count))
            case .object(let o): return .number(Double(o.count))
            default: throw ExpressionError("len() needs a string, a list or an object, not a \(args[0].kindName)")
            }
        }
    }
}
