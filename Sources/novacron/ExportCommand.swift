import ArgumentParser
import Foundation
import Orchestration
import OrchestrationCloud
import OrchestrationExecutors

/// `novacron export FILE --target aws|azure|gcp|argo [--out F]`.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a workflow as an AWS Step Functions, Azure Logic Apps, GCP Workflows or Argo document.",
        discussion: """
            AWS and Azure documents are JSON, GCP and Argo documents YAML. Steps or fields the target \
            cannot express are listed and nothing is written (exit status 2); differences worth knowing \
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

    @OptionGroup var target_: ExportTargetOptions

    @Flag(name: .long, help: "Report lost parallelism with the step durations learned from past executions (in the store) instead of the estimates.")
    var learned = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        var durations: [String: Double] = [:]
        if learned {
            let (document, _) = try target_.load(file)
            let learning = LearningEngine(store: try await store.openExisting())
            let statistics = await learning.statistics(workflowID: document.workflow.id)
            durations = Suggester().learnedDurations(statistics).mapValues(\.seconds)
            if durations.isEmpty {
                Console.err(
                    "warning: nothing learned yet about '\(document.workflow.id)' in \(self.store.location) (a step needs \(OptimizationConfig().minimumExecutions) executions); using the estimates"
                )
            }
        }
        let (_, result) = try target_.export(file, to: CloudTarget(rawValue: target.rawValue)!, durations: durations)
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

/// Where things live on the target, for `export` and `sync`.
struct ExportTargetOptions: ParsableArguments {
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

    @Option(name: .long, help: "Azure: the resource group (/subscriptions/…/resourceGroups/…) whose logic apps workflow steps call.")
    var azureResourceGroup: String?

    @Option(name: .long, help: "Argo: the image task steps' shell commands run in.")
    var argoImage: String = "alpine:3.20"

    @Flag(name: .long, help: "Argo: write a WorkflowTemplate instead of a Workflow.")
    var argoTemplate = false

    @Option(name: .long, help: "Argo: the namespace.")
    var namespace: String?

    var options: ExportOptions {
        ExportOptions(
            awsConnectionArn: awsConnectionArn, ecsCluster: ecsCluster, gcpProject: gcpProject, gcpRegion: gcpRegion,
            azureFunctionApp: azureFunctionApp, azureResourceGroup: azureResourceGroup, argoImage: argoImage,
            argoKind: argoTemplate ? .workflowTemplate : .workflow,
            namespace: namespace)
    }

    /// The workflow file exported to `target`, warnings printed; exit status 2 when the file is
    /// invalid or the target cannot express it.
    func export(_ file: String, to target: CloudTarget, durations: [String: Double] = [:]) throws -> (WorkflowDocument, ExportResult) {
        let (document, catalog) = try load(file)
        var options = self.options
        options.durations = durations
        do {
            let result = try WorkflowExporter.export(document.graph, to: target, options: options, actions: catalog)
            for warning in result.warnings { Console.err("warning: \(warning)") }
            return (document, result)
        } catch {
            Console.err("\(file): \(error)")
            throw ExitStatus.invalidInput
        }
    }

    /// The workflow file with the action catalog; exit status 2 when either is invalid.
    func load(_ file: String) throws -> (WorkflowDocument, ActionCatalog) {
        var catalog = ActionCatalog.builtIn
        if let actions {
            do { catalog.merge(try ActionCatalog.load(contentsOf: actions)) } catch {
                Console.err("novacron: \(error)")
                throw ExitStatus.invalidInput
            }
        }
        do {
            return (try WorkflowLoader.load(contentsOf: file, actions: catalog), catalog)
        } catch {
            Console.report(error.errors)
            throw ExitStatus.invalidInput
        }
    }
}

/// `novacron sync FILE --provider aws[,azure,gcp]`.
struct SyncCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sync",
        abstract: "Create or update the workflow's deployed definition on AWS Step Functions, Azure Logic Apps and/or GCP Workflows.",
        discussion: """
            Exports the workflow, looks the deployed one up by name (the workflow id), and creates it, \
            updates it, or leaves it when it is the same — on each provider given, in order (the \
            guide's SyncWorkflow with several providers), one line per provider; a provider that \
            fails does not stop the others, and the exit status is then 1. Credentials and endpoints come from each \
            provider's standard variables: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, \
            AWS_REGION, AWS_PROFILE, AWS_ENDPOINT_URL; AZURE_TENANT_ID, AZURE_CLIENT_ID, \
            AZURE_CLIENT_SECRET, AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP, AZURE_LOCATION; \
            GOOGLE_APPLICATION_CREDENTIALS, GOOGLE_CLOUD_PROJECT, GOOGLE_CLOUD_REGION.
            """
    )

    enum Provider: String, ExpressibleByArgument, CaseIterable {
        case aws, azure, gcp
    }

    @Argument(help: "A workflow file (YAML or JSON).")
    var file: String

    @Option(
        name: .shortAndLong, help: ArgumentHelp("aws, azure or gcp; several as aws,azure,gcp or by repeating the option.", valueName: "providers"))
    var provider: [String]

    /// The providers named, in order, each once.
    func providers() throws -> [Provider] {
        var out: [Provider] = []
        for name in provider.flatMap({ $0.split(separator: ",") }).map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let p = Provider(rawValue: name) else {
                throw ValidationError("unknown provider '\(name)'; expected aws, azure or gcp")
            }
            if !out.contains(p) { out.append(p) }
        }
        guard !out.isEmpty else { throw ValidationError("name at least one provider: --provider aws,azure,gcp") }
        return out
    }

    func validate() throws { _ = try providers() }

    @Option(name: .long, help: "The deployed name (default: the workflow id).")
    var name: String?

    @Option(name: .long, help: "AWS: the IAM role a new state machine runs as.")
    var awsRoleArn: String?

    @Option(name: .long, help: "Azure: the resource group (default AZURE_RESOURCE_GROUP).")
    var resourceGroup: String?

    @Option(name: .long, help: "Azure: the location of a new logic app (default AZURE_LOCATION).")
    var location: String?

    @Option(name: .long, help: "GCP: the region (default GOOGLE_CLOUD_REGION).")
    var region: String?

    @OptionGroup var target_: ExportTargetOptions

    func run() async throws {
        // Every export first: a definition a target cannot express stops everything (exit 2)
        // before anything is deployed anywhere.
        var exports: [(Provider, WorkflowDocument, ExportResult)] = []
        for provider in try providers() {
            let (document, result) = try target_.export(file, to: CloudTarget(rawValue: provider.rawValue)!)
            exports.append((provider, document, result))
        }
        let sync = WorkflowSync(
            options: SyncOptions(awsRoleArn: awsRoleArn, azureResourceGroup: resourceGroup, azureLocation: location, gcpRegion: region))
        var failed = false
        for (provider, document, result) in exports {
            do {
                let done = try await sync.sync(result, name: name ?? document.workflow.id, description: document.workflow.description)
                Console.out(done.description)
            } catch let error as CloudError {
                Console.err("novacron: \(provider.rawValue): \(error)")
                failed = true
            } catch let error as AWSEnvironment.Missing {
                Console.err("novacron: \(provider.rawValue): \(error)")
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
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
