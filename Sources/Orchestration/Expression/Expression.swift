/// A parsed condition: the syntax tree of the expression language.
///
/// Operators, loosest first: `||`; `&&`; `==` `!=` `<` `<=` `>` `>=` `in`; `!`. Operands are
/// string literals (`'…'` or `"…"`), numbers, `true`, `false`, `null`, lists `[a, b]`,
/// `${…}` references, parentheses and the functions `contains`, `startsWith`, `endsWith`, `len`.
///
/// ```swift
/// let condition = try Expression.parse("${deploy.status} == 'success' && ${replicas} > 2")
/// print(condition)  // ${deploy.status} == 'success' && ${replicas} > 2
/// ```
package indirect enum Expression: Sendable, Hashable {
    case literal(JSONValue)
    case reference(Reference)
    case list([Expression])
    case not(Expression)
    case binary(BinaryOperator, Expression, Expression)
    case call(Function, [Expression])

    /// Binary operators, with their precedence.
    package enum BinaryOperator: String, Sendable, Hashable, CaseIterable {
        case or = "||"
        case and = "&&"
        case equal = "=="
        case notEqual = "!="
        case less = "<"
        case lessOrEqual = "<="
        case greater = ">"
        case greaterOrEqual = ">="
        case `in` = "in"

        /// Higher binds tighter.
        package var precedence: Int {
            switch self {
            case .or: return 1
            case .and: return 2
            default: return 3
            }
        }
    }

    /// Built-in functions.
    package enum Function: String, Sendable, Hashable, CaseIterable {
        case contains, startsWith, endsWith, len

        /// How many arguments the function takes.
        package var arity: Int { self == .len ? 1 : 2 }
    }

    /// Parses `text`; errors carry the offset of the problem.
    package static func parse(_ text: String) throws(ExpressionError) -> Expression {
        var parser = ExpressionParser(text)
        return try parser.parse().expression
    }

    /// Every reference in the expression, in source order.
    package var references: [Reference] {
        var out: [Reference] = []
        collectReferences(into: &out)
        return out
    }

    private func collectReferences(into out: inout [Reference]) {
        switch self {
        case .literal: break
        case .reference(let r): out.append(r)
        case .list(let items), .call(_, let items): for item in items { item.collectReferences(into: &out) }
        case .not(let e): e.collectReferences(into: &out)
        case .binary(_, let l, let r):
            l.collectReferences(into: &out)
            r.collectReferences(into: &out)
        }
    }
}

extension Expression: CustomStringConvertible {
    /// Canonical text that parses back to the same tree.
    package var description: String {
        var out = ""
        write(into: &out)
        return out
    }

    private var precedence: Int {
        switch self {
        case .binary(let op, _, _): return op.precedence
        case .not: return 4
        default: return 5
        }
    }

    private func write(into out: inout String) {
        switch self {
        case .literal(let value): Expression.writeLiteral(value, into: &out)
        case .reference(let r): out += r.template
        case .list(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                item.write(into: &out)
            }
            out += "]"
        case .not(let e):
            out += "!"
            e.writeOperand(minimum: 4, into: &out)
        case .binary(let op, let l, let r):
            l.writeOperand(minimum: op.precedence, into: &out)
            out += " \(op.rawValue) "
            r.writeOperand(minimum: op.precedence + 1, into: &out)
        case .call(let f, let args):
            out += f.rawValue + "("
            for (i, arg) in args.enumerated() {
                if i > 0 { out += ", " }
                arg.write(into: &out)
            }
            out += ")"
        }
    }

    private func writeOperand(minimum: Int, into out: inout String) {
        if precedence < minimum {
            out += "("
            write(into: &out)
            out += ")"
        } else {
            write(into: &out)
        }
    }

    private static func writeLiteral(_ value: JSONValue, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += JSONValue.format(n)
        case .string(let s):
            out += "'"
            for c in s.unicodeScalars {
                switch c {
                case "'": out += "\\'"
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\t": out += "\\t"
                case "\r": out += "\\r"
                default: out.unicodeScalars.append(c)
                }
            }
            out += "'"
        case .array(let items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += ", " }
                writeLiteral(item, into: &out)
            }
            out += "]"
        case .object:
            out += value.jsonText
        }
    }
}
