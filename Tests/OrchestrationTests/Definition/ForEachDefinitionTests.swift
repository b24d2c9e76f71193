@testable import Orchestration
import TestSupport
import Testing

@Suite("forEach in workflow files")
struct ForEachDefinitionTests {
    func problems(_ text: String) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: text, file: "wf.yaml")
            return []
        } catch {
            return error.errors.filter { $0.severity == .error }.map(\.description)
        }
    }

    @Test("forEach, maxConcurrency and the tolerances decode, add the list's step as an upstream, and encode back")
    func decodesAndEncodes() throws {
        let doc = try WorkflowLoader.load(
            source: """
                name: w
                steps:
                  - {id: list, inputs: {command: ls}}
                  - id: convert
                    forEach: ${list.files}
                    maxConcurrency: 8
                    toleratedFailures: 2
                    toleratedFailurePercentage: 10
                    inputs: {command: 'convert "${item}" --index ${itemIndex}'}
                """, file: "wf.yaml")
        let step = doc.workflow.steps[1]
        #expect(step.forEach == .string("${list.files}"))
        #expect(step.maxConcurrency == 8)
        #expect(step.toleratedFailures == 2)
        #expect(step.toleratedFailurePercentage == 10)
        #expect(doc.graph.upstream[1] == [0], "the list's step runs first")
        #expect(doc.warnings.allSatisfy { !$0.message.contains("item") }, "${item} is no undeclared input: \(doc.warnings)")
        let again = try WorkflowLoader.load(source: doc.workflow.document.jsonText, file: "again.json")
        #expect(again.workflow.steps[1] == step)
    }

    @Test("bad forEach fields are refused where they are written")
    func locatedErrors() {
        #expect(
            problems(
                """
                name: w
                steps:
                  - id: a
                    forEach: 42
                    maxConcurrency: 0
                    toleratedFailures: -1
                    toleratedFailurePercentage: 150
                    inputs: {v: "${item}"}
                """)
                == [
                    "wf.yaml:4:14: error: steps[0].forEach: forEach needs a list: a literal list, or a ${…} reference to one (an upstream output like ${list.files}, an input or a variable), not a number",
                    "wf.yaml:5:21: error: steps[0].maxConcurrency: maxConcurrency must be at least 1, not 0",
                    "wf.yaml:6:24: error: steps[0].toleratedFailures: toleratedFailures must be 0 or more, not -1",
                    "wf.yaml:7:33: error: steps[0].toleratedFailurePercentage: toleratedFailurePercentage must be between 0 and 100, not 150",
                ])
        #expect(
            problems(
                """
                name: w
                steps:
                  - {id: a, maxConcurrency: 2, inputs: {v: x}}
                """) == ["wf.yaml:3:29: error: steps[0].maxConcurrency: maxConcurrency applies only to a step with forEach"])
    }

    @Test("${item} is refused in a forEach step's condition and rollback, and names an unknown step elsewhere")
    func itemOutsideInputs() {
        let found = problems(
            """
            name: w
            steps:
              - id: a
                forEach: [1, 2]
                condition: "${item} == 1"
                inputs: {v: "${item}"}
                rollback: {inputs: {command: "undo ${item}"}}
              - {id: b, inputs: {v: "${item.x}"}}
            """)
        #expect(found.count == 3, "\(found)")
        #expect(found[0].contains("steps[0].condition: ${item} is only available in the inputs of a forEach step"))
        #expect(found[1].contains("steps[0].rollback.inputs.command: ${item} is only available in the inputs of a forEach step"))
        #expect(found[2].contains("steps[1].inputs.v: ${item.x} refers to unknown step 'item'"))
    }

    @Test("a literal list longer than 10,000 items is refused")
    func literalLimit() {
        let items = (0...ForEach.maximumItems).map(String.init).joined(separator: ", ")
        #expect(
            problems("name: w\nsteps:\n  - {id: a, forEach: [\(items)], inputs: {v: x}}\n")
                == ["wf.yaml:3:22: error: steps[0].forEach: forEach lists 10001 items, more than the limit of 10000"])
    }
}
