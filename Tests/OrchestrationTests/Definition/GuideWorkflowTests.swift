import Foundation
import Orchestration
import TestSupport
import Testing

/// The guide's workflows, transcribed field for field into Tests/GuideWorkflows/, validate as the
/// guide writes them. What is only missing for a real run is a warning, never an error.
@Suite("The guide's workflows, as the guide writes them")
struct GuideWorkflowTests {
    static func load(_ name: String) throws -> WorkflowDocument {
        try WorkflowLoader.load(contentsOf: Repository.path("Tests/GuideWorkflows/\(name).yaml"))
    }

    static func warnings(_ document: WorkflowDocument) -> String {
        document.warnings.map(\.description).joined(separator: "\n")
    }

    @Test(
        "each of the five validates without an error",
        arguments: ["deploy-application", "ci-cd-pipeline", "data-pipeline", "incident-response", "multi-cloud-deployment"])
    func validates(_ name: String) throws {
        let document = try Self.load(name)
        #expect(!document.workflow.steps.isEmpty)
        #expect(Planner().plan(document.graph).stages.count >= 1)
    }

    @Test("the five files are valid for the JSON Schema too")
    func schema() async throws {
        let files = try Repository.files(in: "Tests/GuideWorkflows", withExtension: "yaml")
        #expect(files.count == 5)
        let verdicts = try await SchemaChecker.verdicts(files)
        for file in files { #expect(verdicts[file] == [], "\(file): \(verdicts[file] ?? ["not checked"])") }
    }

    @Test("multi-cloud: steps with only a name get stable ids derived from it")
    func idsFromNames() throws {
        let document = try Self.load("multi-cloud-deployment")
        #expect(document.workflow.steps.map(\.id) == ["deploy-to-aws", "deploy-to-azure", "deploy-to-gcp"])
        // The same text gives the same ids; a clash gets a suffix rather than an error.
        let twice = try WorkflowLoader.load(
            source: "name: x\nsteps:\n  - {name: Deploy}\n  - {name: deploy}\n  - {id: deploy-3, name: other}\n  - {name: Deploy}\n", file: "x.yaml")
        #expect(twice.workflow.steps.map(\.id) == ["deploy", "deploy-2", "deploy-3", "deploy-4"])
        // Neither id nor name: still an error, with its place.
        #expect(throws: DefinitionErrors.self) { try WorkflowLoader.load(source: "name: x\nsteps:\n  - {type: task}\n", file: "x.yaml") }
    }

    @Test("deploy-application: an action's own type wins over the step's, and missing inputs are warnings that name the input")
    func deployApplication() throws {
        let document = try Self.load("deploy-application")
        let text = Self.warnings(document)
        #expect(text.contains("action 'registry-push' runs as a container step; the step's type api is ignored"))
        #expect(text.contains("action 'docker-build' needs input 'image' to run; without it the step fails"))
        #expect(text.contains("action 'health-check' needs input 'url' to run"))
        #expect(document.warnings.allSatisfy { $0.location != nil })
        // It runs as a container step.
        let compiled = try CompiledWorkflow(graph: document.graph)
        #expect(compiled.bodies[1].type == .container)
    }

    @Test("ci-cd and data pipelines: steps with nothing to run are named in one warning; api and lambda steps without retries are named too")
    func nothingToRun() throws {
        let ci = Self.warnings(try Self.load("ci-cd-pipeline"))
        #expect(ci.contains("4 steps with nothing to run: 'build', 'deploy-staging', 'integration-tests', 'deploy-production'"))
        let incident = Self.warnings(try Self.load("incident-response"))
        #expect(incident.contains("step calling another service without retries: 'notify-team'"))
        // The guide's severity: critical can never match a PagerDuty incident: said, not silent.
        #expect(incident.contains("PagerDuty incidents have an urgency (high, low) or a priority (P1…P5), never 'critical'"))
        let cloud = Self.warnings(try Self.load("multi-cloud-deployment"))
        #expect(cloud.contains("3 steps calling another service without retries"))
    }

    @Test("the optimization score is filled in at registration but is not part of the version: the same file is the same version")
    func scoreIsNotTheVersion() async throws {
        let document = try Self.load("data-pipeline")
        var scored = document.workflow
        scored.optimizationScore = 2.5
        #expect(try scored.contentHash() == document.workflow.contentHash())
        try await WorkflowEngine.withEngine(executors: ExecutorRegistry()) { engine in
            try await engine.registerWorkflow(document)
            let registered = try #require(await engine.workflow(document.workflow.id))
            // extract, three transforms side by side, load: 5 steps of 1 s in 3 s of plan.
            #expect(abs(registered.optimizationScore - 5.0 / 3.0) < 0.01, "\(registered.optimizationScore)")
            #expect(try registered.contentHash() == document.workflow.contentHash())
        }
    }

    @Test("the guide's _optimization_level is refused with a message, not passed to the step")
    func optimizationLevel() throws {
        let yaml = "name: x\nsteps:\n  - {id: slow, inputs: {command: 'true', _optimization_level: aggressive}}\n"
        do {
            _ = try WorkflowLoader.load(source: yaml, file: "x.yaml")
            Issue.record("_optimization_level was accepted")
        } catch {
            #expect(error.errors.first?.description.hasPrefix("x.yaml:3:") == true)
            #expect(error.errors.first?.message.contains("_optimization_level (the guide's troubleshooting hint) does nothing in NovaCron") == true)
        }
    }

    @Test("a stage of more than 1,000 steps ready at once is warned about")
    func wideStage() throws {
        var yaml = "name: wide\nsteps:\n"
        for i in 0..<1001 { yaml += "  - {id: s\(i), inputs: {command: 'true'}, timeout: 1m}\n" }
        let text = Self.warnings(try WorkflowLoader.load(source: yaml, file: "wide.yaml"))
        #expect(text.contains("stage 1 holds 1001 steps that all become ready at once"))
    }
}
