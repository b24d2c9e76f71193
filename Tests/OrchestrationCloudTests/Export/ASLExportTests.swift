import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// The Step Functions exporter, checked by statelint and run in moto's Step Functions interpreter.
@Suite("Export to AWS Step Functions")
struct ASLExportTests {
    static let functions = "extract,transform,load,unload,report"

    /// Exports the fixture, checks it with statelint and runs it in moto with `input`.
    func run(input: String) async throws -> JSONValue {
        let result = try WorkflowExporter.export(try ExportSupport.graph(file: "Tests/Fixtures/cloud/lambda-pipeline.yaml"), to: .aws)
        let file = try ExportSupport.temporary(result.text, extension: "json")
        let out = file + ".result.json"
        defer {
            try? FileManager.default.removeItem(atPath: file)
            try? FileManager.default.removeItem(atPath: out)
        }
        let lint = try await ExternalTool.run(["python3", "-m", "statelint", file])
        #expect(lint.status == 0, "statelint: \(lint.output)")
        let moto = try await ExternalTool.run([
            "python3", Repository.path("Tests/Fixtures/cloud/run_state_machine.py"), file, input, Self.functions, out,
        ])
        try #require(moto.status == 0, "moto: \(moto.output.suffix(3000))")
        return try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: URL(fileURLWithPath: out)))
    }

    @Test("a run that succeeds: outputs flow between Lambda steps, a tolerated failure, a false condition skips")
    func succeeds() async throws {
        let run = try await run(input: "{}")
        #expect(run["status"] == "SUCCEEDED", "\(run)")
        let steps = run["output"]?["steps"]
        // moto's Lambda answers with its payload: the values the exporter put in it.
        #expect(steps?["extract"]?["output"] == ["rows": 5, "source": "s3://bucket/eu/in"])
        #expect(steps?["transform_a"]?["output"] == ["part": "a", "rows": 5])
        #expect(steps?["load"]?["output"] == ["summary": "rows=5 from eu"])
        #expect(steps?["settle"]?["status"] == "success")
        #expect(steps?["audit"]?["status"] == "failed")
        #expect(steps?["small"]?["status"] == "skipped")
        #expect(steps?["publish"]?["status"] == "skipped")
        #expect(run["output"]?["rollbacks"] == [:])
    }

    @Test("inputs override variables and conditions take the other branch")
    func otherBranch() async throws {
        let run = try await run(input: #"{"rows": 1}"#)
        #expect(run["status"] == "SUCCEEDED", "\(run)")
        let steps = run["output"]?["steps"]
        #expect(steps?["small"]?["output"] == ["note": "small"])
        #expect(steps?["load"]?["status"] == "skipped")
        #expect(steps?["publish"]?["status"] == "skipped")
    }

    @Test("a failed step fails the run after rolling back the steps that succeeded")
    func rollsBack() async throws {
        let run = try await run(input: #"{"publish_cluster": "missing"}"#)
        #expect(run["status"] == "FAILED")
        #expect(run["error"] == "NovaCron.StepFailed")
        guard case .array(let entered)? = run["entered"] else {
            Issue.record("no history: \(run)")
            return
        }
        let names = entered.map(\.text)
        #expect(names.contains("publish (failed)"))
        #expect(Array(names.suffix(4)) == ["Any step failed?", "load.rollback?", "load.rollback", "Failed"])
    }

    @Test("a series-parallel DAG nests exactly; retries, timeouts and waits map to their fields")
    func nesting() throws {
        let graph = try ExportSupport.graph(
            """
            name: fan
            timeout: 5m
            steps:
              - {id: a, type: lambda, inputs: {function_name: a}, timeout: 30s,
                 retryPolicy: {maxAttempts: 4, initialDelay: 3s, multiplier: 1.5, maxDelay: 1m, jitter: none, retryOn: [failure]}}
              - {id: b, type: lambda, inputs: {function_name: b}, dependencies: [a]}
              - {id: c, type: wait, action: sleep, inputs: {duration: 90s}, dependencies: [a]}
              - {id: d, type: lambda, inputs: {function_name: d, note: "it's {x}", say: "it's {${who}}"}, dependencies: [b, c]}
            variables: {who: me}
            """)
        let result = try WorkflowExporter.export(graph, to: .aws)
        #expect(result.layout?.exact == true)
        #expect(result.warnings.isEmpty)
        let states = result.document["States"]
        #expect(result.document["TimeoutSeconds"] == 300)
        #expect(states?["a"]?["TimeoutSeconds"] == 30)
        #expect(
            states?["a"]?["Retry"] == [
                [
                    "ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 3, "MaxAttempts": 3, "BackoffRate": 1.5,
                    "MaxDelaySeconds": 60, "JitterStrategy": "NONE",
                ]
            ])
        #expect(states?["a"]?["Next"] == "Parallel 1")
        guard case .array(let branches)? = states?["Parallel 1"]?["Branches"] else {
            Issue.record("no Parallel state")
            return
        }
        #expect(branches.map { $0["StartAt"] } == ["b?", "c?"])
        #expect(branches[1]["States"]?["c"] == ["Type": "Wait", "Seconds": 90, "Next": "c (done)"])
        // Quotes and braces are escaped inside intrinsic functions.
        #expect(states?["d"]?["Parameters"]?["Payload"] == ["note": "it's {x}", "say.$": #"States.Format('it\'s \{{}\}', $.inputs.who)"#])
        #expect(result.text.contains(#""BackoffRate": 1.5"#))
    }

    @Test("HTTP tasks, health checks and ECS tasks pass statelint, with the connection and cluster they need")
    func httpAndContainers() async throws {
        let graph = try ExportSupport.graph(
            """
            name: web
            variables: {env: prod}
            steps:
              - {id: call, type: api, inputs: {url: "https://api.example.com/${env}/deploy", method: POST, headers: {X-Env: "${env}"}, json: {env: "${env}"}},
                 timeout: 30s, retryPolicy: {maxAttempts: 3, backoffStrategy: linear, initialDelay: 2s}}
              - {id: ready, type: wait, action: health-check, inputs: {url: "https://api.example.com/healthz", interval: 5s}, timeout: 1m, dependencies: [call]}
              - {id: job, type: container, action: docker-run, inputs: {image: tools, command: "migrate ${call.body}", taskDefinition: tools:3}, dependencies: [ready]}
            """)
        let options = ExportOptions(awsConnectionArn: "arn:aws:events:eu-west-1:123456789012:connection/api/abc", ecsCluster: "main")
        let result = try WorkflowExporter.export(graph, to: .aws, options: options)
        let states = result.document["States"]
        #expect(states?["call"]?["Resource"] == "arn:aws:states:::http:invoke")
        #expect(
            states?["call"]?["Parameters"] == [
                "ApiEndpoint.$": "States.Format('https://api.example.com/{}/deploy', $.inputs.env)", "Method": "POST",
                "Headers": ["X-Env.$": "$.inputs.env"], "RequestBody": ["env.$": "$.inputs.env"],
                "Authentication": ["ConnectionArn": "arn:aws:events:eu-west-1:123456789012:connection/api/abc"],
            ])
        #expect(states?["ready"]?["Retry"] == [["ErrorEquals": ["States.ALL"], "IntervalSeconds": 5, "MaxAttempts": 12, "BackoffRate": 1]])
        #expect(
            states?["job"]?["Parameters"]?["Overrides"] == [
                "ContainerOverrides": [
                    [
                        "Name": "job", "Command.$": "States.Array('sh', '-c', States.Format('migrate {}', $.steps.call.output.body))",
                    ]
                ]
            ])
        #expect(
            result.warnings.map(\.description) == [
                "step 'call' (retryPolicy.backoffStrategy): Step Functions has no linear backoff; exported as exponential with BackoffRate 2, which reaches the same last delay"
            ])
        let file = try ExportSupport.temporary(result.text, extension: "json")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let lint = try await ExternalTool.run(["python3", "-m", "statelint", file])
        #expect(lint.status == 0, "statelint: \(lint.output)")
    }

    @Test("an N-shaped DAG is layered into waves and the lost parallelism is reported")
    func waves() throws {
        let graph = try ExportSupport.graph(
            """
            name: n-shape
            steps:
              - {id: a, type: lambda, inputs: {function_name: a}, estimatedDuration: 1s}
              - {id: b, type: lambda, inputs: {function_name: b}, estimatedDuration: 10s}
              - {id: c, type: lambda, inputs: {function_name: c}, dependencies: [a], estimatedDuration: 10s}
              - {id: d, type: lambda, inputs: {function_name: d}, dependencies: [a, b], estimatedDuration: 1s}
            """)
        let result = try WorkflowExporter.export(graph, to: .aws)
        #expect(result.layout?.exact == false)
        #expect(
            result.warnings.map(\.description) == [
                "workflow: the dependencies are not series-parallel, so AWS Step Functions runs the steps in waves (each waits for the whole wave before it): estimated 11s as a DAG, 20s in waves"
            ])
    }

    @Test("steps and values Step Functions cannot express are reported, each with its place")
    func problems() throws {
        let graph = try ExportSupport.graph(
            """
            name: local
            variables: {token: x}
            steps:
              - {id: build, type: task, inputs: {command: make}}
              - {id: call, type: api, inputs: {url: "https://example.com/${secrets.KEY}"}}
              - {id: fn, type: lambda, inputs: {provider: azure, function_name: f}}
              - {id: count, type: lambda, inputs: {function_name: c, n: "${build.exitCode}"}}
              - {id: when, type: lambda, inputs: {function_name: w}, dependencies: [fn], condition: "len(${token}) > 2"}
            """)
        #expect(
            ExportSupport.problems(graph, .aws) == [
                "step 'build': a task step runs a shell command on the machine running NovaCron, which AWS Step Functions cannot do; make it a container, api or lambda step",
                "step 'call': Step Functions HTTP tasks authenticate through an EventBridge connection: pass --aws-connection-arn (or set inputs.connectionArn)",
                "step 'fn' (inputs.provider): Step Functions invokes AWS Lambda functions only (provider: aws), not provider: azure",
                "step 'count' (inputs.n): '${build.exitCode}': Step Functions does not report a step's exitCode",
                "step 'when' (condition): Step Functions compares a value from the run with a constant; 'len(${token}) > 2' is neither",
            ])
    }
}
