import ArgumentParser
import Orchestration

/// `novacron validate FILE…`: exit 0 when every file is valid, 2 otherwise.
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check workflow files; print every problem as FILE:LINE:COL: error: message.",
        discussion: "Exit status: 0 when every file is valid, 2 when any is not. Warnings do not fail."
    )

    @Argument(help: "Workflow files (YAML or JSON).")
    var files: [String]

    @Flag(name: .long, help: "Do not print warnings.")
    var quiet = false

    mutating func validate() throws {
        guard !files.isEmpty else { throw ValidationError("name at least one workflow file") }
    }

    func run() throws {
        var failed = 0
        for file in files {
            do {
                let document = try WorkflowLoader.load(contentsOf: file)
                if !quiet { Console.report(document.warnings) }
                Console.out("\(file): valid (\(document.workflow.steps.count) step\(document.workflow.steps.count == 1 ? "" : "s"))")
            } catch {
                failed += 1
                Console.report(error.errors)
            }
        }
        if failed > 0 {
            Console.err("\(failed) of \(files.count) file\(files.count == 1 ? "" : "s") invalid")
            throw ExitStatus.invalidInput
        }
    }
}
