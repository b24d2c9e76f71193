import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// Child workflows, approvals, signal waits, until waits and concurrency keys exported to each
/// target, or refused by name.
@Suite("Export of child workflows and waits")
struct WaitExportTests {
    static let child = """
        name: build-image
        variables: {service: web}
        outputs: {image: "${push.image}"}
        steps:
          - {id: push, type: lambda, inputs: {function_name: push, payload: {image: "registry/${service}:1"}}}
        """

    static let parent = """
        name: release
        variables: {releaseAt: "2020-01-01T00:00:00Z"}
        retryPolicy: {maxAttempts: 2}
        steps:
          - {id: build, workflow: build-image, inputs: {service: api}}
          - {id: gate, type: approval, dependencies: [build], timeout: 1h, inputs: {message: "Ship ${build.image}?"}}
          - {id: auto, type: approval, dependencies: [build], timeout: 1s, onTimeout: approve}
          - {id: ci, type: wait, dependencies: [build], inputs: {signal: ci-finished}}
          - {id: at, type: wait, dependencies: [gate], inputs: {until: "${inputs.releaseAt}"}}
          - id: ship
            type: lambda
            dependencies: [at, ci, auto]
            inputs: {function_name: ship, payload: {image: "${build.image}", by: "${gate.approvedBy}", build: "${ci.payload.build}", at: "${at.until}", auto: "${auto.approvedBy}", ok: "${gate.approved}", child: "${build.executionID}"}}
        """

    @Test(
        "Step Functions: a workflow step runs the child state machine and reads its outputs; approvals and signal waits answer their task tokens; until is a Wait (run in moto)"
    )
    func stepFunctions() async throws {
        let child = try WorkflowExporter.export(try ExportSupport.graph(Self.child), to: .aws)
        let parent = try WorkflowExporter.export(try ExportSupport.graph(Self.parent), to: .aws)
        let state = { (name: String) in ExportSupport.state(named: name, in: parent.document) }
        #expect(state("build")?["Resource"] == "arn:aws:states:::states:startExecution.sync:2")
        #expect(state("gate")?["Resource"] == "arn:aws:states:::events:putEvents.waitForTaskToken")
        #expect(state("at")?["TimestampPath"] == "$.inputs.releaseAt")
        #expect(state("build")?["Retry"] != nil)
        #expect(state("gate")?["Retry"] == nil, "a decision is final: a wait is never retried")
        #expect(child.document["States"]?["Outputs"]?["Parameters"] == ["image.$": "$.steps.push.output.image"])
        #expect(
            parent.warnings.map(\.description).contains { $0.hasPrefix("step 'ci' (inputs.signal): Step Functions has no named signals") },
            "\(parent.warnings)")

        let approved = try await ExportSupport.runInMoto(
            parent.text, functions: ["push", "ship"], machines: ["build-image": child.text],
            answers: ["gate": #"success:{"approvedBy": "alice", "comment": "go"}"#, "ci": #"success:{"build": 7}"#])
        #expect(approved["status"] == "SUCCEEDED", "\(approved)\n\(parent.text)")
        let steps = approved["output"]?["steps"]
        #expect(
            steps?["ship"]?["output"] == [
                "image": "registry/api:1", "by": "alice", "build": 7, "at": "2020-01-01T00:00:00Z", "auto": "timeout", "ok": true,
                "child": steps?["build"]?["executionID"] ?? nil,
            ], "\(approved)")
        #expect(steps?["gate"]?["output"] == ["approvedBy": "alice", "comment": "go"])
        #expect(steps?["ci"]?["output"] == ["signal": "ci-finished", "payload": ["build": 7]])
        if case .string(let child)? = steps?["ship"]?["output"]?["child"] {
            #expect(child.hasPrefix("arn:aws:states:us-east-1:123456789012:execution:build-image:"), "\(child)")
        } else {
            Issue.record("no child execution ARN in \(approved)")
        }
        #expect(steps?["auto"]?["output"] == ["approved": true, "approvedBy": "timeout", "comment": nil, "data": [:]])

        let rejected = try await ExportSupport.runInMoto(
            parent.text, functions: ["push", "ship"], machines: ["build-image": child.text],
            answers: ["gate": "failure:NovaCron.Rejected", "ci": "success:{}"])
        #expect(rejected["status"] == "FAILED", "\(rejected)")
        #expect(rejected["error"] == "NovaCron.StepFailed")
        let entered: [JSONValue]
        if case .array(let names)? = rejected["entered"] { entered = names } else { entered = [] }
        #expect(entered.contains("ship (skipped)"), "\(rejected)")

        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    "name: t\nsteps:\n  - {id: w, type: wait, inputs: {until: 'day ${inputs.x}'}}\n  - {id: v, type: wait, inputs: {until: 'soon'}}\n  - {id: Outputs, type: wait, inputs: {duration: 1s}}\n  - {id: u, type: wait, timeout: 1h, inputs: {until: '2026-01-01'}}\n"
                ),
                .aws) == [
                    "step 'w' (inputs.until): Step Functions waits until a time that is fixed or one reference (${inputs.releaseAt}), not text around references",
                    "step 'v' (inputs.until): 'soon' is not an ISO 8601 time",
                    "step 'Outputs': 'Outputs' is the name of a state the export writes; rename the step",
                    "step 'u' (timeout): a timeout on an until wait is not exported: AWS Step Functions waits for the time regardless",
                ])
    }

    @Test("Argo: concurrency keys become a mutex (limit 1) or a semaphore on the workflow or the step's template; a signal wait suspends")
    func argo() async throws {
        let graph = try ExportSupport.graph(
            """
            name: deploy
            variables: {env: prod}
            concurrency: "deploy-${inputs.env}"
            steps:
              - {id: list, inputs: {command: "echo db=main >> $NOVACRON_OUTPUT"}}
              - {id: migrate, concurrency: "db-${list.db}", inputs: {command: ./migrate.sh}}
              - {id: smoke, concurrency: {key: smoke-tests, limit: 3}, dependencies: [migrate], inputs: {command: ./smoke.sh}}
              - {id: ci, type: wait, dependencies: [smoke], inputs: {signal: ci-finished}}
            """)
        let result = try WorkflowExporter.export(graph, to: .argo)
        let (status, output) = try await CloudExportTests.validate(
            [result.text], schema: CloudExportTests.argoSchema, definition: "io.argoproj.workflow.v1alpha1.Workflow")
        #expect(status == 0, "\(output)\n\(result.text)")
        #expect(result.document["spec"]?["synchronization"] == ["mutexes": [["name": "deploy-{{workflow.parameters.env}}"]]])
        let templates = result.document["spec"]?["templates"]
        #expect(templates?[2]?["synchronization"] == ["mutexes": [["name": "db-{{inputs.parameters.p-list-db}}"]]], "\(result.text)")
        #expect(
            templates?[0]?["dag"]?["tasks"]?[1]?["arguments"] == [
                "parameters": [["name": "p-list-db", "value": "{{tasks.list.outputs.parameters.db}}"]]
            ])
        #expect(
            templates?[3]?["synchronization"] == ["semaphores": [["configMapKeyRef": ["name": "novacron-concurrency", "key": "smoke-tests"]]]])
        #expect(templates?[4]?["suspend"] == [:])
        #expect(
            result.warnings.map(\.description) == [
                "step 'smoke' (concurrency.limit): Argo reads a semaphore's limit from a ConfigMap: create ConfigMap novacron-concurrency with smoke-tests: \"3\" in the workflow's namespace",
                "step 'ci' (inputs.signal): Argo has no named signals: the sender resumes this step with argo resume (its payload is not passed on)",
            ])
        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    """
                    name: t
                    concurrency: {key: "a/${workflow.name}", onConflict: skip}
                    steps:
                      - {id: s, concurrency: {key: "x/y"}, inputs: {command: "true"}}
                      - {id: w, type: wait, timeout: 1h, inputs: {signal: go}}
                      - {id: r, inputs: {command: "echo ${w.payload}"}}
                    """), .argo) == [
                    "workflow (concurrency): Argo queues whoever waits for a lock; onConflict: skip cannot be expressed",
                    "step 's' (concurrency): Argo lock names are namespace/kind/name: '/' cannot be part of a key",
                    "step 'w' (timeout): an Argo suspend resumes (succeeds) when its duration passes; a signal wait that fails on timeout cannot be exported",
                    "step 'r' (inputs.command): '${w.payload}': on Argo a signal's payload cannot be read; only its status",
                ])
    }

    @Test(
        "GCP Workflows: a workflow step runs the child with the executions connector and reads what it returns; approvals and signals await callbacks; until sleeps"
    )
    func gcp() async throws {
        let child = try WorkflowExporter.export(
            try ExportSupport.graph(
                """
                name: build-image
                outputs: {image: "${push.body.image}"}
                steps:
                  - {id: push, type: api, inputs: {url: "https://registry.example.com/push", method: POST}}
                """), to: .gcp)
        let parent = try WorkflowExporter.export(
            try ExportSupport.graph(
                """
                name: release
                variables: {releaseAt: "2020-01-01T00:00:00Z"}
                steps:
                  - {id: build, workflow: build-image, timeout: 10m, inputs: {service: api}}
                  - {id: gate, type: approval, dependencies: [build], timeout: 1h, onTimeout: reject, inputs: {message: "Ship ${build.image}?"}}
                  - {id: ci, type: wait, dependencies: [build], inputs: {signal: ci-finished}}
                  - {id: at, type: wait, dependencies: [gate, ci], inputs: {until: "${inputs.releaseAt}"}}
                  - {id: ship, type: api, dependencies: [at], inputs: {url: "https://deploy.example.com", method: POST, json: {image: "${build.image}", by: "${gate.approvedBy}", build: "${ci.payload.build}"}}}
                """), to: .gcp)
        let (status, output) = try await CloudExportTests.validate([child.text, parent.text], schema: CloudExportTests.gcpSchema)
        #expect(status == 0, "\(output)\n\(child.text)\n\(parent.text)")
        guard case .array(let childSteps)? = child.document["main"]?["steps"] else {
            Issue.record("no steps in \(child.text)")
            return
        }
        #expect(childSteps.last?["done"] == ["return": ["image": "${results.push.output.body.image}"]], "\(child.text)")
        for piece in [
            "call: googleapis.workflowexecutions.v1.projects.locations.workflows.executions.run",
            "workflow_id: build-image", "connector_params:\n", "timeout: 600",
            "call: events.create_callback_endpoint", "call: events.await_callback", "timeout: 3600",
            #"decision: reject"#, "- NovaCron.Rejected", #"condition: ${map.get(gate_result.http_request, ["body", "decision"]) != "approve"}"#,
            #"payload: ${ci_result.http_request.body}"#, "signal: ci-finished",
            #"seconds: ${int(math.max(0, time.parse(inputs.releaseAt) - sys.now()))}"#,
            #"image: ${results.build.output.image}"#, #"build: ${results.ci.output.payload.build}"#,
        ] {
            #expect(parent.text.contains(piece), "missing \(piece) in\n\(parent.text)")
        }
        #expect(
            parent.warnings.map(\.description).contains { $0.hasPrefix("step 'ci' (inputs.signal): GCP Workflows has no named signals") },
            "\(parent.warnings)")
    }

    @Test("Logic Apps: until is a Wait until a timestamp; workflow steps, approvals and signal waits are refused with the reason")
    func logicApps() async throws {
        let result = try WorkflowExporter.export(
            try ExportSupport.graph(
                """
                name: release
                variables: {releaseAt: "2026-12-24T18:00:00+01:00"}
                steps:
                  - {id: at, type: wait, inputs: {until: "${inputs.releaseAt}"}}
                  - {id: fixed, type: wait, inputs: {until: "2026-12-24"}}
                """), to: .azure)
        let (status, output) = try await CloudExportTests.checkLogicApps([result.text])
        #expect(status == 0, "\(output)\n\(result.text)")
        let actions = result.document["actions"]
        #expect(
            actions?["at"]?["inputs"] == ["until": ["timestamp": "@coalesce(triggerBody()?['releaseAt'], parameters('releaseAt'))"]], "\(result.text)"
        )
        #expect(actions?["fixed"]?["inputs"] == ["until": ["timestamp": "2026-12-24T00:00:00Z"]])
        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    """
                    name: t
                    steps:
                      - {id: b, workflow: child}
                      - {id: g, type: approval}
                      - {id: w, type: wait, inputs: {until: "${inputs.x}"}}
                      - {id: r, type: api, inputs: {url: "https://x/${w.until}"}}
                    """), .azure) == [
                    "step 'b' (workflow): a nested logic app is called by its resource id: pass --azure-resource-group /subscriptions/…/resourceGroups/…",
                    "step 'g' (type): Logic Apps waits for people through approval connectors and for outside systems through HttpWebhook subscriptions, neither of which is exported; approvals and signal waits are not exported to Azure Logic Apps",
                    "step 'r' (inputs.url): '${w.until}': a Logic Apps Wait gives no output; read the time where the step read it",
                ])
    }

    @Test(
        "Logic Apps: a workflow step calls the child logic app by resource id; a child that declares outputs answers them in a Response before it succeeds"
    )
    func logicAppsChildren() async throws {
        let options = ExportOptions(azureResourceGroup: "/subscriptions/s1/resourceGroups/rg")
        let child = try WorkflowExporter.export(
            try ExportSupport.graph(
                """
                name: build-image
                outputs: {image: "${push.body.image}"}
                steps:
                  - {id: push, type: api, inputs: {url: "https://registry.example.com/push", method: POST}}
                """), to: .azure, options: options)
        let parent = try WorkflowExporter.export(
            try ExportSupport.graph(
                """
                name: release
                steps:
                  - {id: build, workflow: build-image, timeout: 10m, inputs: {service: api}}
                  - {id: ship, type: api, dependencies: [build], inputs: {url: "https://deploy.example.com", method: POST, json: {image: "${build.image}"}}}
                """), to: .azure, options: options)
        let (status, output) = try await CloudExportTests.checkLogicApps([child.text, parent.text])
        #expect(status == 0, "\(output)\n\(child.text)\n\(parent.text)")
        #expect(
            parent.document["actions"]?["build"]?["inputs"] == [
                "host": [
                    "triggerName": "manual",
                    "workflow": ["id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Logic/workflows/build-image"],
                ],
                "body": ["service": "api"],
            ], "\(parent.text)")
        #expect(parent.document["actions"]?["build"]?["limit"] == ["timeout": "PT10M"])
        #expect(parent.document["actions"]?["ship"]?["inputs"]?["body"]?["image"] == "@body('build')?['image']", "\(parent.text)")
        let ending = child.document["actions"]?["NovaCron-result"]?["else"]?["actions"]
        #expect(
            ending?["NovaCron-outputs"] == [
                "type": "Response", "kind": "Http", "inputs": ["statusCode": 200, "body": ["image": "@body('push')?['image']"]], "runAfter": [:],
            ], "\(child.text)")
        #expect(ending?["NovaCron-succeeded"]?["runAfter"] == ["NovaCron-outputs": ["Succeeded"]])
    }
}
