import ArgumentParser
import Foundation
import Orchestration
import OrchestrationCloud
import OrchestrationExecutors

/// `novacron export FILE --target aws|azure|gcp|argo [--out F]`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a workflow as an AWS Step Functions, Azure Logic Apps, GCP Workflows or Argo document.",
        discussion: """
            AWS and Azure documents are JSON, GCP and Argo documents YAML. Steps or fields the target
            cannot express are listed and nothing is written (exit status 2); differences worth knowing
            (lost parallelism, approximated retry curves) are printed as warnings on stderr.
            """
    )

    enum Target: String, ExpressibleByArgument, CaseIterable {
        case aws, azure, gcp, argo
    }

    @Argument(help: "A workflow file (YAML or JSON).")
    var file: String

    @Option(name: .shortAndLong, help: "aws, azure, gcp or argo.")
    var target: Target

    @Option(name: .long, help: ArgumentHelp("Write the document here instead of standard output.", valueName: "file"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp("An action catalog file adding to the built-in actions.", valueName: "file"))
    var actions: String?

    @Option(name: .long, help: "AWS: the EventBridge connection HTTP tasks authenticate with.")
    var awsConnectionArn: String?

    @Option(name: .long, help: "AWS: the ECS cluster container steps run on.")
    var ecsCluster: String?

    @Option(name: .long, help: "GCP: the project of Cloud Run jobs and Cloud Functions.")
    var gcpProject: String?

    @Option(name: .long, help: "GCP: their region.")
    var gcpRegion: String?

    @Option(name: .long, help: "Azure: the Functions app (resource id) function steps call.")
    var azureFunctionApp: String?

    @Option(name: .long, help: "Argo: the image task steps' shell commands run in.")
    var argoImage: String = "alpine:3.20"

    @Flag(name: .long, help: "Argo: write a WorkflowTemplate instead of a Workflow.")
    var argoTemplate = false

    @Option(name: .long, help: "Argo: the namespace.")
    var namespace: String?

    func run() throws {
        var catalog = ActionCatalog.builtIn
        if let actions {
            do { catalog.merge(try ActionCatalog.load(contentsOf: actions)) } catch {
                Console.err("novacron: \(error)")
                throw ExitStatus.invalidInput
            }
        }
        let document: WorkflowDocument
        do {
            document = try WorkflowLoader.load(contentsOf: file, actions: catalog)
        } catch {
            Console.report(error.errors)
            throw ExitStatus.invalidInput
        }
        let options = ExportOptions(
            awsConnectionArn: awsConnectionArn, ecsCluster: ecsCluster, gcpProject: gcpProject, gcpRegion: gcpRegion,
            azureFunctionApp: azureFunctionApp, argoImage: argoImage, argoKind: argoTemplate ? .workflowTemplate : .workflow,
            namespace: namespace)
        let result: ExportResult
        do {
            result = try WorkflowExporter.export(document.graph, to: CloudTarget(rawValue: target.rawValue)!, options: options, actions: catalog)
        } catch {
            Console.err("\(file): \(error)")
            throw ExitStatus.invalidInput
        }
        for warning in result.warnings { Console.err("warning: \(warning)") }
        if let out {
            do { try result.text.write(toFile: out, atomically: true, encoding: .utf8) } catch {
                Console.err("novacron: cannot write \(out): \(error.localizedDescription)")
                throw ExitCode(1)
            }
        } else {
            FileHandle.standardOutput.write(Data(result.text.utf8))
        }
    }
}

extension ExecutorRegistry {
    /// The standard executors, with `lambda`/`function` steps run on the cloud providers.
    static func withCloudFunctions() -> ExecutorRegistry {
        var registry = ExecutorRegistry.standard()
        registry.registerCloudFunctions()
        return registry
    }
}
