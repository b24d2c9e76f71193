import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// The GCP Workflows and Argo exporters, checked against the published JSON Schemas; the Logic
/// Apps exporter, checked for runAfter references, statuses and cycles; every example against
/// every target.
@Suite("Export to GCP Workflows, Argo and Azure Logic Apps")
struct CloudExportTests {
    static let argoSchema = Repository.path("Tests/Fixtures/cloud/argo-workflows.schema.json")
    static let gcpSchema = Repository.path("Tests/Fixtures/cloud/gcp-workflows.schema.json")
    static let gcpOptions = ExportOptions(
        gcpProject: "acme", gcpRegion: "europe-west1", azureFunctionApp: "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/scoring")

    /// Runs the Logic Apps structure checker on definitions.
    static func checkLogicApps(_ texts: [String]) async throws -> (Int32, String) {
        var files: [String] = []
        defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
        for text in texts { files.append(try ExportSupport.temporary(text, extension: "json")) }
        let run = try await ExternalTool.run(["python3", Repository.path("Tests/Fixtures/cloud/check_logic_app.py")] + files)
        return (run.status, run.output)
    }

    /// Validates documents with the schema; returns the validator's complaints.
    static func validate(_ texts: [String], schema: String, definition: String? = nil) async throws -> (Int32, String) {
        var files: [String] = []
        defer { for f in files { try? FileManager.default.removeItem(atPath: f) } }
        for text in texts { files.append(try ExportSupport.temporary(text, extension: "yaml")) }
        var arguments = ["python3", Repository.path("Tests/Fixtures/cloud/validate_schema.py"), schema]
        if let definition { arguments += ["--definition", definition] }
        let run = try await ExternalTool.run(arguments + files)
        return (run.status, run.output)
    }

    @Test("the GCP fixture exports to a document the GCP Workflows schema accepts, nested exactly")
    func gcpFixture() async throws {
        let result = try WorkflowExporter.export(
            try ExportSupport.graph(file: "Tests/Fixtures/cloud/gcp-pipeline.yaml"), to: .gcp, options: Self.gcpOptions)
        let (status, output) = try await Self.validate([result.text], schema: Self.gcpSchema)
        #expect(status == 0, "\(output)\n\(result.text)")
        // Implied dependencies (report on score-a through settle) do not break the nesting.
        #expect(result.layout?.exact == true)
        guard case .array(let steps)? = result.document["main"]?["steps"] else {
            Issue.record("no main steps")
            return
        }
        let names = steps.compactMap { step -> String? in if case .object(let o) = step { o.keys.first } else { nil } }
        #expect(names == ["init", "given", "fetch", "parallel_1", "settle", "report", "ready", "finish", "done"])
        let fetch = steps[2]["fetch"]?["steps"]?[0]?["fetch_run"]
        #expect(
            fetch?["retry"] == [
                "predicate": "${novacron_retry_all}", "max_retries": 3, "backoff": ["initial_delay": 2, "max_delay": 60, "multiplier": 2],
            ])
        #expect(
            fetch?["try"]?["steps"]?[0]?["fetch_call"]?["args"]?["url"]
                == #"${"https://orders.example.com/api/orders?region=" + string(inputs.region)}"#)
        let report = steps[5]["report"]?["switch"]?[0]
        // The upstream it does not read the status of must have succeeded; the condition decides the rest.
        #expect(
            report?["condition"]
                == #"${results.settle.status == "success" and (((results.score_a.status == "success") or (results.score_b.status == "success")))}"#)
        #expect(
            report?["steps"]?[0]?["report_run"]?["try"]?["steps"]?[0]?["report_call"] == [
                "call": "googleapis.run.v2.projects.locations.jobs.run",
                "args": [
                    "name": "projects/acme/locations/europe-west1/jobs/reporter",
                    "body": ["overrides": ["containerOverrides": [["args": ["sh", "-c", #"${"report --region " + string(inputs.region)}"#]]]]],
                ],
                "result": "report_result",
            ])
    }

    @Test("Argo gets the DAG as it is: depends, when, parameters between tasks, retries and deadlines")
    func argoDAG() async throws {
        let graph = try ExportSupport.graph(
            """
            name: argo-dag
            variables: {env: staging}
            steps:
              - {id: a, inputs: {command: "echo v=1 >> $NOVACRON_OUTPUT"}, outputs: [v], timeout: 1m,
                 retryPolicy: {maxAttempts: 3, initialDelay: 5s, multiplier: 3, maxDelay: 2m, jitter: none}}
              - {id: b, inputs: {command: "echo b"}}
              - {id: c, inputs: {command: "echo got ${a.v} in ${env}"}, dependencies: [b]}
              - {id: d, type: api, inputs: {url: "https://example.com/${env}", method: POST, json: {v: "${a.v}"}}, dependencies: [b],
                 condition: "${b.status} == 'failed' && startsWith(${env}, 'stag')", continueOnFailure: true}
            """)
        let result = try WorkflowExporter.export(graph, to: .argo)
        let (status, output) = try await Self.validate([result.text], schema: Self.argoSchema, definition: "io.argoproj.workflow.v1alpha1.Workflow")
        #expect(status == 0, "\(output)\n\(result.text)")
        let tasks = result.document["spec"]?["templates"]?[0]?["dag"]?["tasks"]
        #expect(
            tasks?[2] == [
                "name": "c", "template": "c", "depends": "b.Succeeded && a.Succeeded",
                "arguments": ["parameters": [["name": "p-a-v", "value": "{{tasks.a.outputs.parameters.v}}"]]],
            ])
        #expect(tasks?[3]?["depends"] == "(b.Succeeded || b.Failed || b.Errored || b.Skipped || b.Omitted) && a.Succeeded")
        #expect(
            tasks?[3]?["when"]
                == "('{{tasks.b.status}}' == 'Failed' || '{{tasks.b.status}}' == 'Error') && ('{{workflow.parameters.env}}' =~ '^stag')")
        #expect(tasks?[3]?["continueOn"] == ["failed": true])
        let a = result.document["spec"]?["templates"]?[1]
        #expect(a?["retryStrategy"] == ["limit": "2", "retryPolicy": "Always", "backoff": ["duration": "5s", "cap": "2m", "factor": "3"]])
        #expect(a?["activeDeadlineSeconds"] == "60")
        #expect(a?["outputs"] == ["parameters": [["name": "v", "valueFrom": ["path": "/tmp/novacron-outputs/v", "default": ""]]]])
        // The shell reads references from the environment, as it does locally.
        let c = result.document["spec"]?["templates"]?[3]?["script"]
        #expect(c?["source"] == #"echo got "${NOVACRON_REF_0}" in "${NOVACRON_REF_1}""#)
        #expect(
            c?["env"] == [
                ["name": "NOVACRON_REF_0", "value": "{{inputs.parameters.p-a-v}}"],
                ["name": "NOVACRON_REF_1", "value": "{{workflow.parameters.env}}"],
            ])
        let d = result.document["spec"]?["templates"]?[4]?["http"]
        #expect(
            d == [
                "url": "https://example.com/{{workflow.parameters.env}}", "method": "POST",
                "body": #"{"v":"{{inputs.parameters.p-a-v}}"}"#,
                "successCondition": "response.statusCode >= 200 && response.statusCode < 300",
            ])
    }

    @Test("a WorkflowTemplate validates against its own schema definition")
    func argoTemplate() async throws {
        let result = try WorkflowExporter.export(
            try ExportSupport.graph(file: "Examples/hello.yaml"), to: .argo, options: ExportOptions(argoKind: .workflowTemplate, namespace: "ci"))
        #expect(result.document["metadata"]?["name"] == "hello")
        #expect(result.document["metadata"]?["namespace"] == "ci")
        let (status, output) = try await Self.validate(
            [result.text], schema: Self.argoSchema, definition: "io.argoproj.workflow.v1alpha1.WorkflowTemplate")
        #expect(status == 0, "\(output)")
    }

    @Test("Logic Apps keeps the DAG in runAfter, wraps conditional steps in If and decides the run at the end")
    func logicApps() async throws {
        let result = try WorkflowExporter.export(
            try ExportSupport.graph(file: "Tests/Fixtures/cloud/azure-pipeline.yaml"), to: .azure, options: Self.gcpOptions)
        let (status, output) = try await Self.checkLogicApps([result.text])
        #expect(status == 0, "\(output)")
        let actions = result.document["actions"]
        #expect(
            actions?["settle"] == [
                "type": "Wait", "inputs": ["interval": ["count": 90, "unit": "Second"]],
                "runAfter": ["score": ["Succeeded"], "audit": ["Succeeded"]],
            ])
        #expect(
            actions?["fetch"]?["inputs"]?["uri"]
                == "https://orders.example.com/api/orders?region=@{coalesce(triggerBody()?['region'], parameters('region'))}&limit=@{coalesce(triggerBody()?['limit'], parameters('limit'))}"
        )
        #expect(
            actions?["fetch"]?["inputs"]?["retryPolicy"] == [
                "type": "exponential", "count": 3, "interval": "PT10S", "minimumInterval": "PT10S", "maximumInterval": "PT5M",
            ])
        #expect(actions?["fetch"]?["limit"] == ["timeout": "PT30S"])
        #expect(actions?["score"]?["type"] == "Function")
        #expect(
            actions?["score"]?["inputs"]?["function"] == [
                "id": "/subscriptions/s1/resourceGroups/rg/providers/Microsoft.Web/sites/scoring/functions/score"
            ])
        #expect(
            actions?["score"]?["inputs"]?["body"] == ["orders": "@body('fetch')", "limit": "@coalesce(triggerBody()?['limit'], parameters('limit'))"])
        #expect(actions?["publish"]?["type"] == "If")
        #expect(
            actions?["publish"]?["expression"]
                == "@and(equals(actions('score')?['status'], 'Succeeded'), greater(coalesce(triggerBody()?['limit'], parameters('limit')), 10))")
        #expect(
            actions?["publish"]?["actions"]?["publish-run"]?["inputs"]?["body"] == [
                "scores": "@body('score')?['scores']", "run": "@workflow()?['run']?['name']",
            ])
        // After a step that may have been skipped, the next one checks it ran.
        #expect(actions?["ready"]?["expression"] == "@equals(actions('publish-run')?['status'], 'Succeeded')")
        let result2 = actions?["NovaCron-result"]
        #expect(result2?["runAfter"] == ["ready": ["Succeeded", "Failed", "Skipped", "TimedOut"]])
        #expect(result2?["actions"]?["publish-rollback"]?["expression"] == "@equals(actions('publish-run')?['status'], 'Succeeded')")
        #expect(result2?["actions"]?["NovaCron-failed"]?["runAfter"] == ["publish-rollback": ["Succeeded", "Failed", "Skipped", "TimedOut"]])
        // audit may fail (continueOnFailure): it is not among the failures that fail the run.
        #expect(result2?["expression"]?.stringValue?.contains("actions('audit')") == false)
        // Exponential ×2 with full jitter is what Logic Apps does itself: nothing to warn about.
        #expect(result.warnings.isEmpty, "\(result.warnings)")
    }

    @Test("the Logic Apps checker finds what it checks for")
    func logicAppsChecker() async throws {
        let broken = """
            {"$schema": "https://schema.management.azure.com/providers/Microsoft.Logic/schemas/2016-06-01/workflowdefinition.json#",
             "contentVersion": "1.0.0.0", "triggers": {},
             "actions": {
               "a": {"type": "Http", "inputs": {"method": "GET", "uri": "https://x"}, "runAfter": {"b": ["Succeeded"]}},
               "b": {"type": "Http", "inputs": {"method": "GET", "uri": "https://x"}, "runAfter": {"a": ["Done"]}},
               "c": {"type": "Wait", "inputs": {}, "runAfter": {"nowhere": ["Succeeded"]}},
               "d": {"type": "Workflow", "inputs": {"host": {"workflow": {"id": "child"}}}, "runAfter": {}},
               "e": {"type": "Response", "inputs": {"body": {}}, "runAfter": {}}}}
            """
        let (status, output) = try await Self.checkLogicApps([broken])
        #expect(status == 1)
        #expect(output.contains("runAfter cycle"))
        #expect(output.contains("statuses ['Done']"))
        #expect(output.contains("runAfter names 'nowhere'"))
        #expect(output.contains("a Wait action needs"))
        #expect(output.contains("a Workflow action needs inputs.host.triggerName and inputs.host.workflow.id"))
        #expect(output.contains("a Response action needs inputs.statusCode"))
    }

    @Test("Argo rolls back after every step has ended, each rollback where its step succeeded, latest first")
    func argoRollback() async throws {
        let result = try WorkflowExporter.export(try ExportSupport.graph(file: "Tests/Fixtures/cloud/gcp-pipeline.yaml"), to: .argo)
        let (status, output) = try await Self.validate([result.text], schema: Self.argoSchema, definition: "io.argoproj.workflow.v1alpha1.Workflow")
        #expect(status == 0, "\(output)")
        guard case .array(let tasks)? = result.document["spec"]?["templates"]?[0]?["dag"]?["tasks"] else {
            Issue.record("no tasks")
            return
        }
        let rollback = try #require(tasks.first { $0["name"] == "report-rollback" })
        let depends = try #require(rollback["depends"]?.stringValue)
        #expect(depends.hasPrefix("report.Succeeded && (fetch.Succeeded || fetch.Failed || fetch.Errored || fetch.Skipped || fetch.Omitted)"))
        #expect(depends.contains("(ready.Succeeded || ready.Failed || ready.Errored || ready.Skipped || ready.Omitted)"))
        #expect(rollback["when"]?.stringValue?.hasPrefix("'{{tasks.fetch.status}}' == 'Failed' || '{{tasks.fetch.status}}' == 'Error'") == true)
        let template = result.document["spec"]?["templates"]?[7]
        #expect(template?["name"] == "report-rollback")
        #expect(template?["http"]?["method"] == "DELETE")
        // The container step runs its command in its image; the HTTP step reads another's body.
        #expect(
            result.document["spec"]?["templates"]?[5]?["container"] == [
                "image": "reporter", "command": ["sh", "-c"], "args": ["report --region {{workflow.parameters.region}}"],
            ])
        #expect(tasks[1]["arguments"] == ["parameters": [["name": "p-fetch-body", "value": "{{tasks.fetch.outputs.result}}"]]])
    }

    /// Which examples each target can express; the rest fail with their problems listed.
    static let expressible: [CloudTarget: [String]] = [
        .aws: ["Examples/release-announce.yaml"],
        .azure: ["Examples/release-announce.yaml"],
        .gcp: ["Examples/release-announce.yaml"],
        .argo: [
            "Examples/data-pipeline.yaml", "Examples/hello.yaml", "Examples/parallel-build.yaml", "Examples/release-announce.yaml",
            "Examples/rollback-demo.yaml",
        ],
    ]

    @Test("every example a target can express exports and validates; the others name what stops them", .ownThread, arguments: CloudTarget.allCases)
    func examples(target: CloudTarget) async throws {
        var exported: [String] = []
        var texts: [String] = []
        for file in try Repository.files(in: "Examples", withExtension: "yaml") {
            let graph = try ExportSupport.graph(file: file)
            do {
                let result = try WorkflowExporter.export(graph, to: target, options: Self.gcpOptions)
                exported.append(file)
                texts.append(result.text)
            } catch {
                #expect(!error.problems.isEmpty)
                #expect(error.problems.allSatisfy { !$0.message.isEmpty })
            }
        }
        #expect(exported == Self.expressible[target])
        guard !texts.isEmpty else { return }
        switch target {
        case .argo:
            let (status, output) = try await Self.validate(texts, schema: Self.argoSchema, definition: "io.argoproj.workflow.v1alpha1.Workflow")
            #expect(status == 0, "\(output)")
        case .gcp:
            let (status, output) = try await Self.validate(texts, schema: Self.gcpSchema)
            #expect(status == 0, "\(output)")
        case .azure:
            let (status, output) = try await Self.checkLogicApps(texts)
            #expect(status == 0, "\(output)")
        case .aws:
            for text in texts {
                let file = try ExportSupport.temporary(text, extension: "json")
                defer { try? FileManager.default.removeItem(atPath: file) }
                let lint = try await ExternalTool.run(["python3", "-m", "statelint", file])
                #expect(lint.status == 0, "\(lint.output)")
            }
        }
    }
}
