import Orchestration
import TestSupport
import Testing

@Suite("Concurrency keys in workflow files")
struct ConcurrencyDefinitionTests {
    func problems(_ text: String) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: text, file: "wf.yaml")
            return []
        } catch {
            return error.errors.filter { $0.severity == .error }.map(\.description)
        }
    }

    @Test("a key alone means limit 1 and queue; the full form decodes; both encode back; a step key reading an upstream depends on it")
    func decodes() throws {
        let doc = try WorkflowLoader.load(
            source: """
                name: deploy
                variables: {env: prod}
                concurrency: "deploy-${inputs.env}"
                steps:
                  - {id: build, inputs: {command: x}}
                  - {id: migrate, concurrency: {key: "db-${build.schema}", limit: 2, onConflict: cancel-running}, inputs: {command: y}}
                """, file: "wf.yaml")
        #expect(doc.workflow.concurrency == ConcurrencyPolicy(key: "deploy-${inputs.env}", limit: 1, onConflict: .queue))
        #expect(doc.workflow.steps[1].concurrency == ConcurrencyPolicy(key: "db-${build.schema}", limit: 2, onConflict: .cancelRunning))
        #expect(doc.graph.upstream[1] == [0], "the key reads build, so migrate waits for it")
        let again = try WorkflowLoader.load(source: doc.workflow.document.jsonText, file: "again.json")
        #expect(again.workflow == doc.workflow)
    }

    @Test("bad keys, limits and choices are refused where written")
    func refused() {
        #expect(
            problems(
                """
                name: w
                concurrency: {key: "d-${build.out}", limit: 0, onConflict: cancel}
                steps:
                  - {id: build, inputs: {command: x}}
                """) == [
                    "wf.yaml:2:23: error: concurrency.key: ${build.out}: a workflow's concurrency key is rendered when the execution starts, before any step runs; use inputs, variables or trigger fields",
                    "wf.yaml:2:45: error: concurrency.limit: a concurrency limit is 1 to 10000, not 0",
                    "wf.yaml:2:60: error: concurrency.onConflict: unknown onConflict 'cancel'; expected one of queue, cancel-running, skip",
                ])
        #expect(
            problems(
                """
                name: w
                steps:
                  - {id: gate, type: approval, concurrency: deploy}
                  - {id: a, concurrency: {key: "k-${secrets.TOKEN}"}, inputs: {command: x}}
                  - {id: b, concurrency: {limit: 2}, inputs: {command: x}}
                """) == [
                    "wf.yaml:3:45: error: steps[0].concurrency: a step that waits for a decision, a signal or a time holds no slot; it takes no concurrency key",
                    "wf.yaml:4:32: error: steps[1].concurrency.key: concurrency keys are saved and shown: they may not read secrets",
                    "wf.yaml:5:26: error: steps[2].concurrency.key: a concurrency setting needs a 'key'",
                ])
    }
}
