import ArgumentParser
import Foundation
import Orchestration
import OrchestrationExecutors

/// `novacron backfill WORKFLOW --from T --to T [--trigger ID] [--max-parallel N] [--dry-run]`.
struct BackfillCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backfill",
        abstract: "Run a workflow once per tick of its schedule in a past range, as if the schedule had fired then.",
        discussion: """
            Each execution gets ${trigger.scheduledTime} (the tick, ISO 8601). Ticks that already have an
            execution in the store (fired by the schedule or an earlier backfill) are skipped. Runs on
            this machine against the store, at most --max-parallel executions at once, each to its end.
            Exit status 0 when every execution completed, 1 when one did not, 2 for bad arguments.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "A workflow registered in the store (its id), or a workflow file.")
    var workflow: String

    @Option(name: .long, help: ArgumentHelp("The range's start, included: 2026-11-01 (midnight UTC) or 2026-11-01T06:00:00Z.", valueName: "time"))
    var from: String

    @Option(name: .long, help: ArgumentHelp("The range's end, included.", valueName: "time"))
    var to: String

    @Option(name: .long, help: ArgumentHelp("Which schedule trigger, when the workflow has several.", valueName: "id"))
    var trigger: String?

    @Option(name: .long, help: "Executions running at once (default 1: one tick after another).")
    var maxParallel: Int = 1

    @Flag(name: .long, help: "Say which ticks would run and which are skipped; start nothing.")
    var dryRun = false

    @Option(name: .shortAndLong, help: "text or json (the plan and each tick's execution as one object).")
    var output: Format = .text

    @Option(
        name: .long,
        help: ArgumentHelp("A YAML or JSON map of secrets (mode 600), read by ${secrets.NAME}; NOVACRON_SECRET_NAME wins over it.", valueName: "file")
    )
    var secretsFile: String?

    @OptionGroup var storeOptions: StoreOptions

    /// The range, or exit status 2 saying what is wrong with it.
    func range() throws -> (from: Date, to: Date) {
        var times: [Date] = []
        for (name, text) in [("--from", from), ("--to", to)] {
            guard let time = TimeText.parse(text) else {
                Console.err("error: \(name) '\(text)' is not a date (2026-11-01) or an ISO 8601 time with its offset (2026-11-01T06:00:00Z)")
                throw ExitStatus.invalidInput
            }
            times.append(time)
        }
        guard (1...1000).contains(maxParallel) else {
            Console.err("error: --max-parallel must be from 1 to 1000")
            throw ExitStatus.invalidInput
        }
        return (times[0], times[1])
    }

    func run() async throws {
        let (start, end) = try range()
        let secrets: SecretProvider
        do { secrets = try secretsFile.map { try SecretProvider(file: $0) } ?? SecretProvider() } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        guard let store = try await storeOptions.open(role: "run") else {
            Console.err("error: a backfill skips the ticks the store has executions of; drop --memory")
            throw ExitStatus.invalidInput
        }
        let traces = try TraceSession.forCommand(logger: nil)
        var configuration = EngineConfiguration(workerLimit: 64)
        configuration.tracer = traces.tracer
        let engine = WorkflowEngine(
            executors: .withCloudFunctions(), configuration: configuration, secrets: secrets,
            cache: (store as? any StepCache) ?? InMemoryStepCache(), store: store)
        let plan: Backfill
        let skipped: Set<String>
        do {
            let definition = try await Self.definition(workflow, store: store, engine: engine, register: !dryRun)
            plan = try Backfill(workflow: definition, triggerID: trigger, from: start, to: end)
            skipped = try await plan.done(in: store)
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let todo = plan.ticks.filter { !skipped.contains(TimeText.format($0)) }
        let already = plan.ticks.filter { skipped.contains(TimeText.format($0)) }
        if output == .text {
            Console.out(
                "\(plan.workflowID) trigger \(plan.trigger.id) (\(plan.trigger.effectiveSchedule ?? "")): \(plan.ticks.count) tick\(plan.ticks.count == 1 ? "" : "s"), \(already.count) already run, \(todo.count) to run\(dryRun ? " (dry run)" : "")"
            )
            for tick in already { Console.out("  \(TimeText.format(tick))  skipped: already has an execution") }
            if dryRun { for tick in todo { Console.out("  \(TimeText.format(tick))  would run") } }
        }
        var outcomes: [Backfill.Outcome] = []
        if dryRun || todo.isEmpty { await traces.finish() }
        if !dryRun, !todo.isEmpty {
            let (stream, sink) = AsyncStream.makeStream(of: Backfill.Outcome.self)
            let text = output == .text
            outcomes = try await traces.sending {
                var outcomes: [Backfill.Outcome] = []
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await engine.run() }
                    defer { group.cancelAll() }
                    group.addTask {
                        await plan.run(todo, on: engine, maxParallel: maxParallel, traceParent: traces.parent) { outcome in
                            if text {
                                let how =
                                    outcome.status.map { "\($0.rawValue)\(outcome.error.map { ": \($0)" } ?? "")" }
                                    ?? "not started: \(outcome.error ?? "")"
                                Console.out("  \(TimeText.format(outcome.tick))  \(outcome.executionID ?? "-")  \(how)")
                            }
                            sink.yield(outcome)
                        }
                        sink.finish()
                    }
                    for await outcome in stream { outcomes.append(outcome) }
                }
                return outcomes
            }
            try? await (store as? any ExecutionLeases)?.releaseLeases()
        }
        if output == .json {
            let report: JSONValue = [
                "workflow": .string(plan.workflowID), "trigger": .string(plan.trigger.id), "dryRun": .bool(dryRun),
                "skipped": .array(already.map { .string(TimeText.format($0)) }),
                "toRun": .array(todo.map { .string(TimeText.format($0)) }),
                "executions": .array(
                    outcomes.sorted { $0.tick < $1.tick }.map { o in
                        [
                            "tick": .string(TimeText.format(o.tick)), "id": o.executionID.map(JSONValue.string) ?? .null,
                            "status": o.status.map { .string($0.rawValue) } ?? .null, "error": o.error.map(JSONValue.string) ?? .null,
                        ]
                    }),
            ]
            Console.out(report.jsonText)
        }
        if outcomes.contains(where: { $0.status != .completed }) { throw ExitCode(1) }
    }

    /// The workflow to backfill: a file (registered as it is, unless `register` is false: a dry
    /// run changes nothing), or the id of one registered in the store.
    static func definition(_ name: String, store: any Store, engine: WorkflowEngine, register: Bool) async throws -> Workflow {
        if FileManager.default.fileExists(atPath: name) {
            let document: WorkflowDocument
            do { document = try WorkflowLoader.load(contentsOf: name) } catch {
                Console.report(error.errors)
                throw ExitStatus.invalidInput
            }
            if register { try await engine.registerWorkflow(document) }
            return document.workflow
        }
        let versions = try await store.registeredVersions()
        guard let version = versions[name], let workflow = try await store.workflow(id: name, version: version) else {
            throw EngineError(.notFound, "no workflow '\(name)' in the store, and no such file\(DidYouMean.hint(name, among: versions.keys))")
        }
        // The registered version (re-registering the same definition saves nothing new).
        _ = try await engine.registerWorkflow(workflow)
        return workflow
    }
}
