import ArgumentParser

/// The `novacron` command line.
@main
struct NovaCron: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "novacron",
        abstract: "Workflow orchestration: DAGs of steps with retries, timeouts, rollback and caching.",
        discussion: """
            Check a workflow file with `novacron validate FILE` and see how it will run with
            `novacron plan FILE`. Running workflows arrives with the engine (`novacron run`).
            """,
        version: "0.1.0",
        subcommands: [ValidateCommand.self, PlanCommand.self]
    )
}
