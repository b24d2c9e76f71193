import ArgumentParser

/// The `novacron` command line.
@main
struct NovaCron: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "novacron",
        abstract: "Workflow orchestration: DAGs of steps with retries, timeouts, rollback and caching.",
        discussion: """
            Run a workflow with `novacron run FILE`, check one with `novacron validate FILE` and
            see how it will run with `novacron plan FILE`.
            """,
        version: "0.1.0",
        subcommands: [
            RunCommand.self, ExecutionsCommand.self, ServeCommand.self, ValidateCommand.self, PlanCommand.self, CronCommand.self,
            TriggersCommand.self, EventsCommand.self, PatternsCommand.self, SuggestCommand.self, SimulateCommand.self, ExportCommand.self,
            SyncCommand.self, ClusterCommand.self, WorkerCommand.self, BackfillCommand.self,
        ]
    )
}
