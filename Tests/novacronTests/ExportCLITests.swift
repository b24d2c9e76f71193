import Foundation
import Testing
#if canImport(Glibc)
    import Glibc
#endif

@Suite("novacron export and sync")
struct ExportCLITests {
    @Test("export writes the document to stdout or --out; what a target cannot express exits 2 with every problem")
    func export() async throws {
        let argo = try await CLI.run("export", "Examples/hello.yaml", "--target", "argo")
        #expect(argo.status == 0, "\(argo.stderr)")
        #expect(argo.stdout.hasPrefix("apiVersion: argoproj.io/v1alpha1\nkind: Workflow\n"))
        let folder = try CLI.temporaryFolder()
        let out = folder + "/hello.yaml"
        let written = try await CLI.run("export", "Examples/hello.yaml", "--target", "argo", "--argo-template", "--out", out)
        #expect(written.status == 0)
        #expect(written.stdout.isEmpty)
        #expect(try String(contentsOfFile: out, encoding: .utf8).contains("kind: WorkflowTemplate"))
        let aws = try await CLI.run("export", "Examples/hello.yaml", "--target", "aws")
        #expect(aws.status == 2)
        #expect(aws.stdout.isEmpty)
        #expect(
            aws.stderr == """
                Examples/hello.yaml: cannot export to AWS Step Functions: 2 problems
                  step 'greet': a task step runs a shell command on the machine running NovaCron, which AWS Step Functions cannot do; make it a container, api or lambda step
                  step 'show': a task step runs a shell command on the machine running NovaCron, which AWS Step Functions cannot do; make it a container, api or lambda step

                """)
    }

    @Test("sync without credentials says which variable to set and exits 1")
    func syncWithoutCredentials() async throws {
        let file = try CLI.temporaryFolder() + "/fn.yaml"
        try "name: fn\nsteps:\n  - {id: call, type: lambda, inputs: {function_name: f}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        var environment = CLI.environment
        for key in environment.keys where key.hasPrefix("AWS_") { environment[key] = nil }
        environment["HOME"] = try CLI.temporaryFolder()
        let run = try await CLI.run(["sync", file, "--provider", "aws"], environment: environment)
        #expect(run.status == 1)
        #expect(run.stderr == "novacron: aws: no AWS region: set AWS_REGION (e.g. eu-west-1)\n")
        environment["AWS_REGION"] = "eu-west-1"
        let keys = try await CLI.run(["sync", file, "--provider", "aws"], environment: environment)
        #expect(
            keys.stderr.hasPrefix("novacron: aws: no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put profile 'default' in "))
        environment["AWS_REGION"] = "europe"
        let region = try await CLI.run(["sync", file, "--provider", "aws"], environment: environment)
        #expect(region.stderr == "novacron: aws: 'europe' is not an AWS region name like eu-west-1\n")
        // Several providers (the guide's SyncWorkflow with a list): every export comes first, so one
        // a target cannot express stops all of them before anything is deployed…
        let first = try await CLI.run(["sync", file, "--provider", "aws,gcp"], environment: environment)
        #expect(first.status == 2)
        #expect(first.stderr.contains("cannot export to GCP Workflows") && !first.stderr.contains("novacron: aws:"), "\(first.stderr)")
        // …then each provider is tried and reported in order; one failing does not stop the next.
        let hook = try CLI.temporaryFolder() + "/hook.yaml"
        try "name: hook\nsteps:\n  - {id: call, type: api, inputs: {url: 'https://example.com/hook', method: POST}, timeout: 30s}\n".write(
            toFile: hook, atomically: true, encoding: .utf8)
        for key in environment.keys where key.hasPrefix("AZURE_") || key.hasPrefix("GOOGLE_") || key.hasPrefix("CLOUDSDK_") { environment[key] = nil }
        environment["AWS_REGION"] = "eu-west-1"
        let several = try await CLI.run(
            [
                "sync", hook, "--provider", "aws,azure", "--provider", "gcp,aws", "--aws-connection-arn",
                "arn:aws:events:eu-west-1:123456789012:connection/x/y",
            ], environment: environment)
        #expect(several.status == 1)
        let lines = several.stderr.split(separator: "\n").map {
            $0.prefix(while: { $0 != ":" }) + ":" + $0.dropFirst("novacron: ".count).prefix(while: { $0 != ":" })
        }
        #expect(lines == ["novacron:aws", "novacron:azure", "novacron:gcp"], "\(several.stderr)")
        let unknown = try await CLI.run(["sync", file, "--provider", "aws,oracle"], environment: environment)
        #expect(
            unknown.status == 64 && unknown.stderr.contains("unknown provider 'oracle'; expected aws, azure or gcp"),
            "\(unknown.status) \(unknown.stderr)")
    }
}

@Suite("novacron export --learned")
struct ExportLearnedCLITests {
    @Test("the parallelism lost to waves is reported with the durations learned from past runs")
    func learned() async throws {
        let folder = try CLI.temporaryFolder()
        let file = folder + "/n.yaml"
        // The N shape: d waits for a and b, c for a only. Not series-parallel, so AWS runs it in two waves.
        try """
        name: n-shape
        steps:
          - {id: a, type: wait, action: sleep, inputs: {duration: 2ms}}
          - {id: b, type: wait, action: sleep, inputs: {duration: 400ms}}
          - {id: c, type: wait, action: sleep, inputs: {duration: 400ms}, dependencies: [a]}
          - {id: d, type: wait, action: sleep, inputs: {duration: 2ms}, dependencies: [a, b]}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        let db = folder + "/runs.db"
        let before = try await CLI.run("export", file, "--target", "aws", "--learned", "--db", db)
        #expect(before.status == 0)
        #expect(
            before.stderr.hasPrefix("warning: nothing learned yet about 'n-shape' in \(db) (a step needs 10 executions); using the estimates\n"),
            "\(before.stderr)")
        for _ in 0..<10 {
            let run = try await CLI.run("run", file, "--db", db)
            try #require(run.status == 0, "\(run.stderr)")
        }
        let estimated = try await CLI.run("export", file, "--target", "aws")
        #expect(estimated.stderr.contains("estimated 2s as a DAG, 2s in waves"), "\(estimated.stderr)")
        let learned = try await CLI.run("export", file, "--target", "aws", "--learned", "--db", db)
        #expect(learned.status == 0, "\(learned.stderr)")
        // About 402 ms as a DAG (a then c, or b then d) and 800 ms in waves (b, then c). The long
        // steps are long so that a loaded machine's overhead per step (seen: 70 ms in CI, which
        // made 50 ms steps' ratio 1.46) cannot close the gap.
        let numbers =
            learned.stderr.split(separator: "estimated ").last.map { text in
                text.split(separator: " ").compactMap { word -> Double? in
                    let w = word.trimmingCharacters(in: CharacterSet(charactersIn: ","))
                    if w.hasSuffix("ms") { return Double(w.dropLast(2)).map { $0 / 1000 } }
                    if w.hasSuffix("s") { return Double(w.dropLast()) }
                    return nil
                }
            } ?? []
        try #require(numbers.count == 2, "\(learned.stderr)")
        #expect(numbers[0] >= 0.4 && numbers[0] < 2)
        #expect(numbers[1] > numbers[0] * 1.5)
    }
}
