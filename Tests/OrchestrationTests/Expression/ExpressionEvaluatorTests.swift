import Orchestration
import TestSupport
import Testing

@Suite("Expression evaluation")
struct ExpressionEvaluatorTests {
    let values: [String: JSONValue] = [
        "deploy.status": "success", "tests.success": true, "analyze.auto_fixable": "true",
        "build.exitCode": 0, "replicas": "3", "env": "prod", "labels": ["deploy", "urgent"],
        "version": "1.10", "empty": "",
    ]

    func holds(_ text: String) throws -> Bool {
        try ExpressionEvaluator.evaluateCondition(try Expression.parse(text)) { values[$0.description] }
    }

    @Test(
        "the guide's conditions",
        arguments: [
            ("${deploy.status} == 'success'", true),
            ("${tests.success} == true", true),
            ("${analyze.auto_fixable} == true", true),
            ("${deploy.status} == 'failed'", false),
            ("${environment} == 'production' && ${tests_passed} == true", false),
        ])
    func guide(text: String, expected: Bool) throws {
        #expect(try holds(text) == expected)
    }

    @Test(
        "text from shells compares as a number or a bool",
        arguments: [
            ("${replicas} == 3", true), ("${replicas} > 2", true), ("${replicas} <= 2.5", false),
            ("${replicas} != 3", false), ("'abc' == 3", false), ("'TRUE' == true", true),
            ("${version} > 1.9", false), ("'b' > 'a'", true), ("${build.exitCode} == '0'", true),
        ])
    func coercion(text: String, expected: Bool) throws {
        #expect(try holds(text) == expected)
    }

    @Test(
        "in, functions, truthiness and missing values",
        arguments: [
            ("${env} in ['prod', 'staging']", true), ("'urgent' in ${labels}", true), ("'od' in ${env}", true),
            ("contains(${labels}, 'deploy')", true), ("startsWith(${env}, 'pr')", true), ("endsWith(${env}, 'x')", false),
            ("len(${labels}) == 2", true), ("len(${missing}) == 0", true), ("${missing} == null", true),
            ("!${empty}", true), ("${missing.output} == true", false), ("${replicas} && !false", true),
        ])
    func forms(text: String, expected: Bool) throws {
        #expect(try holds(text) == expected)
    }

    @Test("ordering values that have no order is an error, not a guess")
    func errors() {
        #expect(throws: ExpressionError("cannot order a list and a number with <")) { try holds("${labels} < 3") }
        #expect(throws: ExpressionError("cannot compare 'prod' with the number 3")) { try holds("${env} > 3") }
    }

    @Test("&& and || short-circuit: the right side is not evaluated")
    func shortCircuit() throws {
        #expect(try holds("false && ${labels} < 3") == false)
        #expect(try holds("true || ${labels} < 3") == true)
    }
}
