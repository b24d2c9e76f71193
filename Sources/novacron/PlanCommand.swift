import ArgumentParser
import Foundation
import Orchestration

/// `novacron plan FILE [--output text|json|dot|mermaid]`.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show how a workflow will run: stages, critical path, estimates, score and findings.",
        discussion: """
            Estimates come from each step's estimatedDuration (default 1s). The optimization score
            is the serial duration divided by the planned duration. Exit status 2 when the file
            is invalid.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, dot, mermaid
    }

    @Argument(help: "A workflow file (YAML or JSON).")
    var file: String

    @Option(name: .shortAndLong, help: "text, json, dot (Graphviz) or mermaid.")
    var output: Format = .text

    @Option(name: .long, help: "The estimate for steps without estimatedDuration, e.g. 30s.")
    var defaultEstimate: String = "1s"

    @Option(name: .long, help: ArgumentHelp("List schedule fire times from this instant (default now).", valueName: "ISO-8601"))
    var from: String?

    func run() throws {
        var now = Date()
        if let from {
            guard let parsed = CronCommand.Next.parseInstant(from) else { throw ValidationError("--from '\(from)' is not an ISO-8601 time") }
            now = parsed
        }
        let fallback: Duration
        do {
            fallback = try DurationText.parse(defaultEstimate)
        } catch {
            throw ValidationError("--default-estimate '\(defaultEstimate)': \(error.message)")
        }
        let document: WorkflowDocument
        do {
            document = try WorkflowLoader.load(contentsOf: file)
        } catch {
            Console.report(error.errors)
            throw ExitStatus.invalidInput
        }
        let plan = Planner(defaultEstimate: fallback).plan(document.graph)
        let renderer = PlanRenderer(plan: plan, graph: document.graph)
        switch output {
        case .text:
            var text = renderer.text(now: now)
            if !document.warnings.isEmpty {
                text += "Warnings:\n" + document.warnings.map { "  \($0)" }.joined(separator: "\n") + "\n"
            }
            Console.out(text)
        case .json: Console.out(renderer.json(warnings: document.warnings, now: now).prettyJSONText)
        case .dot: Console.out(renderer.dot())
        case .mermaid: Console.out(renderer.mermaid())
        }
    }
}
