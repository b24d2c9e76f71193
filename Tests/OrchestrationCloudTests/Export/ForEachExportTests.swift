import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// forEach steps exported as each target's fan-out, or refused by name.
@Suite("Export of forEach steps")
struct ForEachExportTests {
    @Test(
        "Argo: a reference becomes withParam, a literal list withItems, ${item} a parameter filled with {{item}}, ${step.results} the aggregated outputs"
    )
    func argo() async throws {
        let graph = try ExportSupport.graph(
            """
            name: argo-fan
            variables: {regions: [eu, us]}
            steps:
              - {id: list, inputs: {command: "echo files=[1,2] >> $NOVACRON_OUTPUT"}}
              - id: convert
                forEach: ${list.files}
                maxConcurrency: 4
                outputs: [pdf]
                inputs: {command: "convert ${item} && echo pdf=${item}.pdf >> $NOVACRON_OUTPUT"}
              - {id: deploy, forEach: "${regions}", inputs: {command: "deploy ${item.name}"}}
              - {id: report, inputs: {command: "echo ${convert.results}"}}
            """)
        let result = try WorkflowExporter.export(graph, to: .argo)
        let (status, output) = try await CloudExportTests.validate(
            [result.text], schema: CloudExportTests.argoSchema, definition: "io.argoproj.workflow.v1alpha1.Workflow")
        #expect(status == 0, "\(output)\n\(result.text)")
        let tasks = result.document["spec"]?["templates"]?[0]?["dag"]?["tasks"]
        #expect(
            tasks?[1] == [
                "name": "convert", "template": "convert", "depends": "list.Succeeded",
                "withParam": "{{tasks.list.outputs.parameters.files}}",
                "arguments": ["parameters": [["name": "p-item", "value": "{{item}}"]]],
            ])
        #expect(tasks?[2]?["withParam"] == "{{workflow.parameters.regions}}")
        #expect(tasks?[2]?["arguments"] == ["parameters": [["name": "p-item-name", "value": "{{item.name}}"]]])
        #expect(tasks?[3]?["arguments"] == ["parameters": [["name": "p-convert-results", "value": "{{tasks.convert.outputs.parameters}}"]]])
        let list = result.document["spec"]?["templates"]?[1]
        #expect(list?["outputs"] == ["parameters": [["name": "files", "valueFrom": ["path": "/tmp/novacron-outputs/files", "default": ""]]]])
        #expect(
            result.warnings.map(\.description) == [
                "step 'convert' (maxConcurrency): Argo limits parallelism per template or workflow, not per task: maxConcurrency 4 is not exported"
            ])

        let literal = try WorkflowExporter.export(
            try ExportSupport.graph("name: lit\nsteps:\n  - {id: a, forEach: [x, y], inputs: {command: 'echo ${item}'}}\n"), to: .argo)
        #expect(literal.document["spec"]?["templates"]?[0]?["dag"]?["tasks"]?[0]?["withItems"] == ["x", "y"])
        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    "name: t\nsteps:\n  - {id: a, forEach: [1], toleratedFailures: 1, inputs: {command: 'echo ${item} ${itemIndex}'}}\n"), .argo) == [
                    "step 'a' (inputs.command): '${itemIndex}': Argo gives withParam items no index; put it in the items",
                    "step 'a' (toleratedFailures): Argo fails a withParam task when any item fails; a tolerance of failed items cannot be expressed",
                ])
    }

    @Test(
        "Step Functions: a Map runs the step's Lambda per item in moto, with ${item} and ${itemIndex}; downstream reads the results and their count")
    func stepFunctions() async throws {
        let graph = try ExportSupport.graph(
            """
            name: sfn-fan
            variables: {regions: [eu, us, ap]}
            steps:
              - id: deploy
                type: lambda
                forEach: ${regions}
                maxConcurrency: 2
                inputs: {function_name: deploy, payload: {region: "${item}", index: "${itemIndex}"}}
              - id: report
                type: lambda
                inputs: {function_name: report, payload: {all: "${deploy.results}", count: "${deploy.itemCount}"}}
              - {id: extra, type: lambda, forEach: [1, 2], dependencies: [report], inputs: {function_name: deploy, payload: {n: "${item}"}}}
            """)
        let result = try WorkflowExporter.export(graph, to: .aws)
        let file = try ExportSupport.temporary(result.text, extension: "json")
        let out = file + ".result.json"
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: out)
        }
        let lint = try await ExternalTool.run(["python3", "-m", "statelint", file])
        #expect(lint.status == 0, "statelint: \(lint.output)\n\(result.text)")
        let states = result.document["States"]
        #expect(states?["deploy"]?["Type"] == "Map")
        #expect(states?["deploy"]?["MaxConcurrency"] == 2)
        #expect(states?["deploy"]?["ItemsPath"] == "$.inputs.regions")
        let moto = try await ExternalTool.run([
            "python3", Repository.path("Tests/Fixtures/cloud/run_state_machine.py"), file, "{}", "deploy,report", out,
        ])
        try #require(moto.status == 0, "moto: \(moto.output.suffix(3000))")
        let run = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
        #expect(run["status"] == "SUCCEEDED", "\(run)\n\(result.text)")
        let steps = run["output"]?["steps"]
        // moto's Lambda answers with its payload: each item's output is what the item was sent.
        #expect(
            steps?["deploy"]?["output"]?["results"] == [["region": "eu", "index": 0], ["region": "us", "index": 1], ["region": "ap", "index": 2]],
            "\(run)")
        #expect(steps?["deploy"]?["output"]?["itemCount"] == 3)
        #expect(steps?["report"]?["output"]?["count"] == 3)
        #expect(steps?["extra"]?["output"]?["results"] == [["n": 1], ["n": 2]], "a literal list")
        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    "name: t\nsteps:\n  - {id: a, type: lambda, forEach: [1], toleratedFailurePercentage: 5, inputs: {function_name: f}}\n"), .aws)
                == [
                    "step 'a' (toleratedFailures): Step Functions tolerates failed items only in a Distributed Map, which is not exported; an inline Map fails at the first failed item"
                ])
    }

    @Test(
        "GCP Workflows: a parallel for over the items with their own retries; results in item order, counts and the tolerance (run in workflows-emulator against a local server)"
    )
    func gcp() async throws {
        let server = try await TestHTTPServer.start { request, _ in
            let path = request.uri.split(separator: "?")[0]
            if path == "/b" { return .init(status: 500, body: "down") }
            return .init(headers: [("Content-Type", "application/json")], body: #"{"host": "\#(path.dropFirst())"}"#)
        }
        defer { Task { await server.stop() } }
        func workflow(tolerated: Int?) throws -> ExportResult {
            try WorkflowExporter.export(
                try ExportSupport.graph(
                    """
                    name: gcp-fan
                    variables: {hosts: [a, b, c]}
                    steps:
                      - id: ping
                        type: api
                        forEach: ${hosts}
                        maxConcurrency: 2
                        \(tolerated.map { "toleratedFailures: \($0)" } ?? "")
                        inputs: {url: "\(server.url)/${item}?i=${itemIndex}", method: GET}
                      - id: report
                        type: api
                        dependencies: [ping]
                        inputs: {url: "\(server.url)/report", method: POST, json: {count: "${ping.itemCount}", failed: "${ping.failedItems}", first: "${ping.results}"}}
                    """), to: .gcp)
        }
        let tolerant = try workflow(tolerated: 1)
        let (status, output) = try await CloudExportTests.validate([tolerant.text], schema: CloudExportTests.gcpSchema)
        #expect(status == 0, "\(output)\n\(tolerant.text)")
        #expect(tolerant.text.contains("concurrency_limit: 2"), "\(tolerant.text)")
        let run = try await ExportSupport.runInGCPEmulator(tolerant.text)
        #expect(run["status"] == "SUCCEEDED", "\(run)\n\(tolerant.text)")
        let ping = run["result"]?["ping"]?["output"]
        #expect(ping?["itemCount"] == 3)
        #expect(ping?["failedItems"] == 1)
        #expect(ping?["results"]?[0]?["body"] == ["host": "a"], "\(run)")
        #expect(ping?["results"]?[1]?["status"] == "failed", "\(run)")
        #expect(ping?["results"]?[2]?["body"] == ["host": "c"], "\(run)")
        #expect(run["result"]?["report"]?["status"] == "success", "\(run)")
        let hits = server.requests.map { String($0.uri) }
        #expect(hits.contains("/a?i=0") && hits.contains("/b?i=1") && hits.contains("/c?i=2"), "\(hits)")

        let strict = try await ExportSupport.runInGCPEmulator(try workflow(tolerated: nil).text)
        #expect(strict["status"] == "FAILED", "\(strict)")
    }

    @Test("Logic Apps: a Foreach around the step's action; ${item} is items(); results and count downstream; tolerances and indexes refused")
    func logicApps() async throws {
        let graph = try ExportSupport.graph(
            """
            name: la-fan
            variables: {hosts: [a, b]}
            steps:
              - {id: ping, type: api, forEach: "${hosts}", maxConcurrency: 80, inputs: {url: "https://${item}.example.com/health", method: GET}}
              - {id: lit, type: api, forEach: [{n: 1}], inputs: {url: "https://example.com/${item.n}", method: GET}}
              - {id: report, type: api, dependencies: [ping, lit], inputs: {url: "https://example.com/report", method: POST, json: {all: "${ping.results}", count: "${ping.itemCount}"}}}
            """)
        let result = try WorkflowExporter.export(graph, to: .azure)
        let (status, output) = try await CloudExportTests.checkLogicApps([result.text])
        #expect(status == 0, "\(output)\n\(result.text)")
        let ping = result.document["actions"]?["ping"]
        #expect(ping?["type"] == "Foreach")
        #expect(ping?["foreach"] == "@coalesce(triggerBody()?['hosts'], parameters('hosts'))")
        #expect(ping?["runtimeConfiguration"] == ["concurrency": ["repetitions": 50]])
        #expect(ping?["actions"]?["ping-item"]?["inputs"]?["uri"] == "https://@{items('ping')}.example.com/health", "\(result.text)")
        #expect(result.document["actions"]?["lit"]?["foreach"] == #"@json('[{"n":1}]')"#)
        let body = result.document["actions"]?["report"]?["inputs"]?["body"]
        #expect(body?["all"] == "@body('ping-item')", "\(result.text)")
        #expect(body?["count"] == "@length(body('ping-item'))")
        #expect(
            result.warnings.map(\.description).contains("step 'ping' (maxConcurrency): Logic Apps runs at most 50 iterations at once; 80 becomes 50"))
        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    "name: t\nsteps:\n  - {id: a, type: api, forEach: [1], toleratedFailures: 1, inputs: {url: 'https://x/${itemIndex}'}}\n"), .azure)
                == [
                    "step 'a' (inputs.url): '${itemIndex}': a Logic Apps Foreach gives its items no index",
                    "step 'a' (toleratedFailures): a Logic Apps Foreach fails when any iteration fails; a tolerance of failed items cannot be expressed",
                ])
    }

    @Test(
        "Argo: a workflow step creates a Workflow from the child's WorkflowTemplate; an approval suspends (resumed on timeout only with onTimeout: approve)"
    )
    func argoChildrenAndApprovals() async throws {
        let graph = try ExportSupport.graph(
            """
            name: release
            variables: {env: prod}
            steps:
              - {id: build, workflow: build-image, inputs: {service: "api-${env}"}}
              - {id: gate, type: approval, dependencies: [build], timeout: 1h, onTimeout: approve}
              - {id: ship, type: approval, dependencies: [gate]}
              - {id: after, dependencies: [ship], inputs: {command: "echo ${build.status}"}}
            """)
        let result = try WorkflowExporter.export(graph, to: .argo)
        let (status, output) = try await CloudExportTests.validate(
            [result.text], schema: CloudExportTests.argoSchema, definition: "io.argoproj.workflow.v1alpha1.Workflow")
        #expect(status == 0, "\(output)\n\(result.text)")
        let templates = result.document["spec"]?["templates"]
        let build = templates?[1]?["resource"]
        #expect(build?["action"] == "create")
        #expect(build?["successCondition"] == "status.phase == Succeeded")
        #expect(build?["manifest"]?.text.contains("workflowTemplateRef:\n    name: build-image") == true, "\(build?["manifest"] ?? .null)")
        #expect(build?["manifest"]?.text.contains("value: api-{{workflow.parameters.env}}") == true, "\(build?["manifest"] ?? .null)")
        #expect(templates?[2]?["suspend"] == ["duration": "3600s"])
        #expect(templates?[3]?["suspend"] == [:])
        #expect(
            ExportSupport.problems(
                try ExportSupport.graph(
                    """
                    name: t
                    steps:
                      - {id: b, workflow: child}
                      - {id: g, type: approval, timeout: 1h}
                      - {id: s, type: wait, inputs: {until: "2026-01-01"}}
                      - {id: r, inputs: {command: "echo ${b.image} ${g.approvedBy}"}}
                    """), .argo) == [
                    "step 'g' (timeout): an Argo suspend resumes (approves) when its duration passes; only a timeout with onTimeout: approve can be exported",
                    "step 's' (inputs.until): Argo suspends for a duration, not until a time; an until wait cannot be exported",
                    "step 'r' (inputs.command): '${b.image}': on Argo a child workflow's outputs cannot be read; only its status",
                    "step 'r' (inputs.command): '${g.approvedBy}': on Argo a decision's details cannot be read; only its status",
                ])
    }
}
