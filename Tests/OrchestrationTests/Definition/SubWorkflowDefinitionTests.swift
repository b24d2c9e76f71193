import Orchestration
import TestSupport
import Testing

@Suite("Workflow steps and outputs in workflow files")
struct SubWorkflowDefinitionTests {
    func problems(_ text: String) -> [String] {
        do {
            _ = try WorkflowLoader.load(source: text, file: "wf.yaml")
            return []
        } catch {
            return error.errors.filter { $0.severity == .error }.map(\.description)
        }
    }

    @Test("`workflow:` makes a workflow step; outputs and the pin decode and encode back")
    func decodes() throws {
        let doc = try WorkflowLoader.load(
            source: """
                name: parent
                outputs: {image: "${build.image}"}
                steps:
                  - {id: build, workflow: build-image, version: 3f2a, inputs: {service: api}}
                """, file: "wf.yaml")
        let step = doc.workflow.steps[0]
        #expect(step.type == .workflow)
        #expect(step.workflow == "build-image")
        #expect(step.workflowVersion == "3f2a")
        #expect(doc.workflow.outputs == ["image": "${build.image}"])
        let again = try WorkflowLoader.load(source: doc.workflow.document.jsonText, file: "again.json")
        #expect(again.workflow.steps[0] == step)
        #expect(again.workflow.outputs == doc.workflow.outputs)
    }

    @Test("workflow steps without a child, running themselves, on a queue or with a bad pin, and bad outputs, are refused where written")
    func refused() {
        #expect(
            problems(
                """
                name: parent
                outputs: {image: "${nothing.here}", "bad name": x}
                steps:
                  - {id: a, type: workflow}
                  - {id: b, workflow: parent, queue: q, version: v1}
                  - {id: c, type: task, workflow: other, inputs: {command: x}}
                """)
                == [
                    "wf.yaml:2:19: error: outputs.image: ${nothing.here} refers to unknown step 'nothing'; for a field of an input write ${inputs.nothing.here}",
                    "wf.yaml:2:49: error: outputs.bad name: output name 'bad name' may only contain letters, digits, '_' and '-'",
                    "wf.yaml:4:19: error: steps[0].type: a workflow step needs 'workflow': the id of the registered workflow it runs",
                    "wf.yaml:5:23: error: steps[1].workflow: workflow parent cannot run itself as a child",
                    "wf.yaml:5:38: error: steps[1].queue: a workflow step starts its child where the execution runs; it takes no queue",
                    "wf.yaml:5:50: error: steps[1].version: version 'v1' is not a version hash (hex digits, as `workflows versions` lists them)",
                    "wf.yaml:6:35: error: steps[2].workflow: 'workflow' names the child of a workflow step, and this step is a task step",
                ])
    }

    @Test("waiting steps: onTimeout needs an approval with a timeout; a wait is for a signal or a time, not both; a retry policy on a wait is warned")
    func waits() throws {
        #expect(
            problems(
                """
                name: w
                steps:
                  - {id: a, type: approval, onTimeout: later}
                  - {id: b, type: task, onTimeout: approve, inputs: {command: x}}
                  - {id: c, type: wait, inputs: {signal: go, until: "2026-12-24"}}
                  - {id: d, type: approval, onTimeout: approve}
                """)
                == [
                    "wf.yaml:3:40: error: steps[0].onTimeout: onTimeout is approve or reject, not 'later'",
                    "wf.yaml:4:36: error: steps[1].onTimeout: onTimeout decides an approval step's timeout; this step is a task step",
                    "wf.yaml:5:42: error: steps[2].inputs.signal: a wait step waits until a time or for a signal, not both",
                    "wf.yaml:6:40: error: steps[3].onTimeout: onTimeout needs a timeout to act on",
                ])
        let doc = try WorkflowLoader.load(
            source: "name: w\nsteps:\n  - {id: a, type: approval, retryPolicy: {maxAttempts: 3}}\n", file: "wf.yaml")
        #expect(doc.warnings.map(\.message).contains("a step that waits is not retried: a rejection or a timeout is final; remove the retry policy"))
    }
}
