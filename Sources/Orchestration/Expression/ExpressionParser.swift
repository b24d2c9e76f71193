/// A reference found while parsing, with the offset of its `${` in the text.
package struct LocatedReference: Sendable, Hashable {
    package var reference: Reference
    package var offset: Int
}

/// Recursive-descent parser for the expression language (see ``Expression``).
///
/// Nesting is bounded (``maximumDepth``) and so is the text (``maximumLength``), so no input can
/// exhaust the stack.
package struct ExpressionParser {
    /// The deepest nesting of parentheses, lists, calls and `!` accepted.
    package static let maximumDepth = 64
    /// The longest expression accepted, in characters.
    package static let maximumLength = 16_384

    /// A parse result: the tree and every `${…}` it contains, located.
    package struct Result: Sendable {
        package var expression: Expression
        package var references: [LocatedReference]
    }

    private let chars: [Unicode.Scalar]
    private var i = 0
    private var depth = 0
    private var references: [LocatedReference] = []

    package init(_ text: String) {
        chars = Array(text.unicodeScalars)
    }

    /// Parses the whole text as one expression.
    package mutating func parse() throws(ExpressionError) -> Result {
        guard chars.count <= Self.maximumLength else {
            throw ExpressionError("expression is longer than \(Self.maximumLength) characters", offset: 0)
        }
        skipSpace()
        guard i < chars.count else { throw ExpressionError("empty expression", offset: 0) }
        let e = try parseOr()
        skipSpace()
        if i < chars.count {
            throw ExpressionError("unexpected \(describeHere()) after a complete expression; join conditions with && or ||", offset: i)
        }
        return Result(expression: e, references: references)
    }

    // MARK: Grammar

    private mutating func parseOr() throws(ExpressionError) -> Expression {
        var left = try parseAnd()
        while consume("||") { left = .binary(.or, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(ExpressionError) -> Expression {
        var left = try parseComparison()
        while consume("&&") { left = .binary(.and, left, try parseComparison()) }
        return left
    }

    private mutating func parseComparison() throws(ExpressionError) -> Expression {
        var left = try parseUnary()
        while true {
            skipSpace()
            let op: Expression.BinaryOperator
            if consume("==") {
                op = .equal
            } else if consume("!=") {
                op = .notEqual
            } else if consume("<=") {
                op = .lessOrEqual
            } else if consume(">=") {
                op = .greaterOrEqual
            } else if consume("<") {
                op = .less
            } else if consume(">") {
                op = .greater
            } else if consumeKeyword("in") {
                op = .in
            } else if peek("=") && !peek("==") {
                throw ExpressionError("'=' is not an operator; compare with '=='", offset: i)
            } else {
                return left
            }
            left = .binary(op, left, try parseUnary())
        }
    }

    private mutating func parseUnary() throws(ExpressionError) -> Expression {
        skipSpace()
        if peek("!") && !peek("!=") {
            i += 1
            return try nested { (p: inout ExpressionParser) throws(ExpressionError) in .not(try p.parseUnary()) }
        }
        return try parsePrimary()
    }

    private mutating func parsePrimary() throws(ExpressionError) -> Expression {
        skipSpace()
        guard i < chars.count else { throw ExpressionError("expression ends where a value is expected", offset: i) }
        let c = chars[i]
        switch c {
        case "(":
            let open = i
            i += 1
            let e = try nested { (p: inout ExpressionParser) throws(ExpressionError) in try p.parseOr() }
            skipSpace()
            guard consume(")") else { throw ExpressionError("missing ')' for the '(' at column \(open + 1)", offset: i) }
            return e
        case "[":
            let open = i
            i += 1
            return try nested { (p: inout ExpressionParser) throws(ExpressionError) in
                .list(try p.parseArguments(closing: "]", opener: open, what: "list"))
            }
        case "'", "\"":
            return .literal(.string(try parseString()))
        case "$":
            return try parseReference()
        case "-", "0"..."9", ".":
            return .literal(.number(try parseNumber()))
        default:
            guard isIdentifierStart(c) else {
                throw ExpressionError("unexpected \(describeHere()) where a value is expected", offset: i)
            }
            let start = i
            let word = identifier()
            switch word {
            case "true": return .literal(.bool(true))
            case "false": return .literal(.bool(false))
            case "null": return .literal(.null)
            default: break
            }
            skipSpace()
            guard peek("(") else {
                throw ExpressionError(
                    "unknown word '\(word)'; write text in quotes ('\(word)') or a reference as ${\(word)}", offset: start)
            }
            guard let function = Expression.Function(rawValue: word) else {
                let names = Expression.Function.allCases.map(\.rawValue)
                throw ExpressionError(
                    "unknown function '\(word)'\(DidYouMean.hint(word, among: names)); functions are \(names.joined(separator: ", "))",
                    offset: start)
            }
            let open = i
            i += 1
            let args = try nested { (p: inout ExpressionParser) throws(ExpressionError) in
                try p.parseArguments(closing: ")", opener: open, what: "call")
            }
            guard args.count == function.arity else {
                throw ExpressionError(
                    "\(word)() takes \(function.arity) argument\(function.arity == 1 ? "" : "s"), not \(args.count)",
                    offset: start)
            }
            return .call(function, args)
        }
    }

    private mutating func parseArguments(closing: Unicode.Scalar, opener: Int, what: String) throws(ExpressionError) -> [Expression] {
        var items: [Expression] = []
        skipSpace()
        if i < chars.count, chars[i] == closing {
            i += 1
            return items
        }
        while true {
            items.append(try parseOr())
            skipSpace()
            guard i < chars.count else {
                throw ExpressionError("missing '\(closing)' for the \(what) opened at column \(opener + 1)", offset: i)
            }
            if chars[i] == "," {
                i += 1
                continue
            }
            if chars[i] == closing {
                i += 1
                return items
            }
            throw ExpressionError("expected ',' or '\(closing)' in the \(what) opened at column \(opener + 1), found \(describeHere())", offset: i)
        }
    }

    private mutating func parseString() throws(ExpressionError) -> String {
        let quote = chars[i]
        let start = i
        i += 1
        var out = String.UnicodeScalarView()
        while i < chars.count {
            let c = chars[i]
            if c == quote {
                i += 1
                return String(out)
            }
            if c == "\\" {
                i += 1
                guard i < chars.count else { break }
                switch chars[i] {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "\\", "'", "\"": out.append(chars[i])
                default:
                    throw ExpressionError("unknown escape '\\\(chars[i])' in string; use \\\\, \\', \\\", \\n, \\t or \\r", offset: i - 1)
                }
                i += 1
                continue
            }
            out.append(c)
            i += 1
        }
        throw ExpressionError("string starting at column \(start + 1) is not closed with \(quote)", offset: start)
    }

    private mutating func parseNumber() throws(ExpressionError) -> Double {
        let start = i
        if chars[i] == "-" {
            i += 1
            skipSpace()
        }
        let digitsStart = i
        while i < chars.count,
            ("0"..."9").contains(chars[i]) || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
                || ((chars[i] == "+" || chars[i] == "-") && i > digitsStart && (chars[i - 1] == "e" || chars[i - 1] == "E"))
        {
            i += 1
        }
        let digits = String(String.UnicodeScalarView(chars[digitsStart..<i]))
        guard !digits.isEmpty, let first = digits.unicodeScalars.first, ("0"..."9").contains(first) || first == ".",
            let value = Double(digits), value.isFinite
        else {
            throw ExpressionError(digits.isEmpty ? "expected a number after '-'" : "malformed number '\(digits)'", offset: start)
        }
        if i < chars.count, isIdentifierStart(chars[i]) {
            throw ExpressionError("unexpected \(describeHere()) right after the number \(digits)", offset: i)
        }
        return chars[start] == "-" ? -value : value
    }

    private mutating func parseReference() throws(ExpressionError) -> Expression {
        let start = i
        guard i + 1 < chars.count, chars[i + 1] == "{" else {
            throw ExpressionError("'$' must start a reference like ${step.output}", offset: i)
        }
        i += 2
        let pathStart = i
        while i < chars.count, chars[i] != "}" { i += 1 }
        guard i < chars.count else { throw ExpressionError("reference starting at column \(start + 1) is not closed with '}'", offset: start) }
        let path = String(String.UnicodeScalarView(chars[pathStart..<i]))
        i += 1
        let reference: Reference
        do {
            reference = try Reference(parsing: path)
        } catch {
            throw ExpressionError(error.message, offset: pathStart + (error.offset ?? 0))
        }
        references.append(LocatedReference(reference: reference, offset: start))
        return .reference(reference)
    }

    // MARK: Helpers

    private mutating func nested<T>(_ body: (inout ExpressionParser) throws(ExpressionError) -> T) throws(ExpressionError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maximumDepth else {
            throw ExpressionError("expression is nested more than \(Self.maximumDepth) levels deep", offset: i)
        }
        return try body(&self)
    }

    private mutating func skipSpace() {
        while i < chars.count, chars[i] == " " || chars[i] == "\t" || chars[i] == "\n" || chars[i] == "\r" { i += 1 }
    }

    private func peek(_ s: String) -> Bool {
        var j = i
        for c in s.unicodeScalars {
            guard j < chars.count, chars[j] == c else { return false }
            j += 1
        }
        return true
    }

    private mutating func consume(_ s: String) -> Bool {
        skipSpace()
        guard peek(s) else { return false }
        i += s.unicodeScalars.count
        return true
    }

    private mutating func consumeKeyword(_ word: String) -> Bool {
        skipSpace()
        guard peek(word) else { return false }
        let end = i + word.unicodeScalars.count
        if end < chars.count, isIdentifierPart(chars[end]) { return false }
        i = end
        return true
    }

    private mutating func identifier() -> String {
        let start = i
        while i < chars.count, isIdentifierPart(chars[i]) { i += 1 }
        return String(String.UnicodeScalarView(chars[start..<i]))
    }

    private func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(c) || ("A"..."Z").contains(c) || c == "_"
    }

    private func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
        isIdentifierStart(c) || ("0"..."9").contains(c)
    }

    private func describeHere() -> String {
        guard i < chars.count else { return "end of expression" }
        if isIdentifierStart(chars[i]) {
            var j = i
            while j < chars.count, isIdentifierPart(chars[j]) { j += 1 }
            return "'\(String(String.UnicodeScalarView(chars[i..<j])))'"
        }
        return "'\(chars[i])'"
    }
}
