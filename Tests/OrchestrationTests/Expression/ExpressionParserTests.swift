import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Expression parser")
struct ExpressionParserTests {
    @Test("precedence: && binds tighter than ||, comparisons tighter than &&")
    func precedence() throws {
        let e = try Expression.parse("${a.status} == 'success' || ${b} > 2 && !${c}")
        let expected: Expression = .binary(
            .or,
            .binary(.equal, .reference(try Reference(parsing: "a.status")), .literal("success")),
            .binary(.and, .binary(.greater, .reference(try Reference(parsing: "b")), .literal(2)), .not(.reference(try Reference(parsing: "c")))))
        #expect(e == expected)
        #expect(e.description == "${a.status} == 'success' || ${b} > 2 && !${c}")
    }

    @Test("literals, lists, in and functions")
    func forms() throws {
        #expect(
            try Expression.parse("${env} in ['prod', \"staging\"]")
                == .binary(.in, .reference(try Reference(parsing: "env")), .list([.literal("prod"), .literal("staging")])))
        #expect(
            try Expression.parse("len(${items}) >= -1.5")
                == .binary(.greaterOrEqual, .call(.len, [.reference(try Reference(parsing: "items"))]), .literal(-1.5)))
        #expect(try Expression.parse("null == false") == .binary(.equal, .literal(.null), .literal(false)))
        #expect(try Expression.parse("${trigger.commits[0].id}").references == [try Reference(parsing: "trigger.commits[0].id")])
    }

    @Test(
        "errors name the column",
        arguments: [
            ("${a} = 1", 5, "'=' is not an operator; compare with '=='"),
            ("(${a} == 1", 10, "missing ')' for the '(' at column 1"),
            ("${a} == 'x", 8, "string starting at column 9 is not closed with '"),
            ("${a} == prod", 8, "unknown word 'prod'; write text in quotes ('prod') or a reference as ${prod}"),
            ("contain(${a}, 'x')", 0, "unknown function 'contain'; did you mean 'contains'?; functions are contains, startsWith, endsWith, len"),
            ("len(${a}, 2)", 0, "len() takes 1 argument, not 2"),
            ("${a} == 1 ${b}", 10, "unexpected '$' after a complete expression; join conditions with && or ||"),
            ("${a..b} == 1", 4, "unexpected '.' in reference '${a..b}'; names use letters, digits, '_' and '-'"),
            ("${a.} == 1", 4, "reference '${a.}' ends where a name is expected"),
            ("", 0, "empty expression"),
        ])
    func errors(text: String, offset: Int, message: String) {
        #expect(throws: ExpressionError(message, offset: offset)) { try Expression.parse(text) }
    }

    @Test("nesting is bounded instead of exhausting the stack")
    func deepNesting() throws {
        let deep = String(repeating: "(", count: 100_000) + "1" + String(repeating: ")", count: 100_000)
        #expect(throws: ExpressionError.self) { try Expression.parse(deep) }
        let bangs = String(repeating: "!", count: 10_000) + "true"
        #expect(throws: ExpressionError.self) { try Expression.parse(bangs) }
        let fine = String(repeating: "(", count: 60) + "1" + String(repeating: ")", count: 60)
        #expect(try Expression.parse(fine) == .literal(1))
    }

    @Test("property: 2,000 random expressions print and parse back to the same tree")
    func roundTrip() throws {
        var rng = SeededGenerator(seed: 20261126)
        for _ in 0..<2000 {
            let e = RandomExpression.make(depth: 4, using: &rng)
            let text = e.description
            let parsed = try Expression.parse(text)
            #expect(parsed == e, "\(text)")
            #expect(parsed.description == text)
        }
    }

    @Test("property: 20,000 random inputs never crash the parser", .ownThread)
    func fuzz() {
        var rng = SeededGenerator(seed: 99)
        let alphabet = Array("${}()[]'\"\\!=<>&|,.-+e0123456789 abcinltrufs_\t\n\u{00e9}\u{1F600}")
        var parsed = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...40, using: &rng)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &rng)! })
            if (try? Expression.parse(text)) != nil { parsed += 1 }
            // Mutations of valid expressions, too.
            var valid = Array(RandomExpression.make(depth: 3, using: &rng).description)
            if !valid.isEmpty {
                valid[Int.random(in: 0..<valid.count, using: &rng)] = alphabet.randomElement(using: &rng)!
            }
            _ = try? Expression.parse(String(valid))
        }
        #expect(parsed > 0)
    }
}

/// Random syntax trees of the shapes the parser produces.
enum RandomExpression {
    static func make(depth: Int, using rng: inout SeededGenerator) -> Expression {
        let leaf = depth <= 0 || Int.random(in: 0..<3, using: &rng) == 0
        if leaf {
            switch Int.random(in: 0..<6, using: &rng) {
            case 0: return .literal(.number(Double(Int.random(in: -1000...1000, using: &rng))))
            case 1: return .literal(.number(Double(Int.random(in: -1000...1000, using: &rng)) / 8))
            case 2: return .literal(.string(randomText(using: &rng)))
            case 3: return .literal(Bool.random(using: &rng) ? .bool(Bool.random(using: &rng)) : .null)
            default:
                let heads = ["build", "deploy-app", "inputs", "trigger", "x_1"]
                var components: [Reference.Component] = [.key(heads.randomElement(using: &rng)!)]
                for _ in 0..<Int.random(in: 0...2, using: &rng) {
                    components.append(
                        Bool.random(using: &rng)
                            ? .key(["status", "out", "a-b"].randomElement(using: &rng)!) : .index(Int.random(in: 0...9, using: &rng)))
                }
                return .reference(Reference(components: components))
            }
        }
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: return .not(make(depth: depth - 1, using: &rng))
        case 1: return .list((0..<Int.random(in: 0...3, using: &rng)).map { _ in make(depth: depth - 1, using: &rng) })
        case 2:
            let f = Expression.Function.allCases.randomElement(using: &rng)!
            return .call(f, (0..<f.arity).map { _ in make(depth: depth - 1, using: &rng) })
        default:
            let op = Expression.BinaryOperator.allCases.randomElement(using: &rng)!
            return .binary(op, make(depth: depth - 1, using: &rng), make(depth: depth - 1, using: &rng))
        }
    }

    static func randomText(using rng: inout SeededGenerator) -> String {
        let pieces = ["a", "Z", " ", "'", "\"", "\\", "\n", "${x}", "é", "😀", "&&", "\t"]
        return (0..<Int.random(in: 0...5, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
    }
}
