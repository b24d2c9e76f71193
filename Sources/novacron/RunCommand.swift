import ArgumentParser
import Dispatch
import Foundation
import Logging
import Orchestration
import OrchestrationAPI
import Synchronization
import OrchestrationExecutors
import OrchestrationSQLite
import OrchestrationServer
import Yams

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `novacron run FILE [--input k=v]… [--inputs-file F] [--output text|json] [--max-parallel N]`.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a workflow to the end on this machine, with live progress.",
        discussion: """
            Exit status 0 when the execution completed, 1 when it failed or was cancelled, 2 when
            the file or an input is invalid. Ctrl-C cancels: running steps are stopped (SIGTERM,
            then SIGKILL), then the rollbacks of the steps that succeeded run; a second Ctrl-C
            exits at once.
            """
    )

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: "A workflow file (YAML or JSON).")
    var file: String?

    @Option(
        name: .long, help: ArgumentHelp("Carry on an execution whose novacron process stopped, instead of starting one.", valueName: "execution-id"))
    var resume: String?

    @Option(
        name: .customLong("with"),
        help: ArgumentHelp(
            "Another workflow file to register first (repeatable): the children that workflow steps run. Workflows registered in the store before are found too.",
            valueName: "file"))
    var children: [String] = []

    @Option(
        name: .long, help: ArgumentHelp("An execution input, NAME=VALUE (repeatable); overrides the workflow's variables.", valueName: "name=value"))
    var input: [String] = []

    @Option(name: .long, help: ArgumentHelp("A YAML or JSON map of inputs; --input wins over it.", valueName: "file"))
    var inputsFile: String?

    @Option(
        name: .long,
        help: ArgumentHelp("A YAML or JSON map of secrets (mode 600), read by ${secrets.NAME}; NOVACRON_SECRET_NAME wins over it.", valueName: "file")
    )
    var secretsFile: String?

    @Option(name: .long, help: ArgumentHelp("An action catalog file adding to the built-in actions.", valueName: "file"))
    var actions: String?

    @Option(name: .shortAndLong, help: "text (live progress on a terminal, timestamped lines otherwise) or json (the final execution as one object).")
    var output: Format = .text

    @Option(name: .long, help: "Run at most N steps at once (default 64, or the workflow's maxParallelism if lower).")
    var maxParallel: Int?

    @OptionGroup var storeOptions: StoreOptions

    @OptionGroup var logOptions: LogOptions

    @Option(name: .long, help: ArgumentHelp("Seconds a stopped process gets between SIGTERM and SIGKILL.", valueName: "seconds"))
    var killGrace: Double = 5

    @Flag(
        name: .long,
        help:
            "Debug mode: pause before each step, show it with its resolved inputs, and run it when Enter is pressed (c continues without stopping, q cancels)."
    )
    var debug = false

    @Option(name: .long, help: ArgumentHelp("Debug mode from this step on: the steps before it run without stopping.", valueName: "step"))
    var breakAt: String?

    /// Pauses before steps, when debugging.
    var stepper: DebugStepper? { debug || breakAt != nil ? DebugStepper(breakAt: breakAt) : nil }

    func validate() throws {
        if let maxParallel, maxParallel < 1 { throw ValidationError("--max-parallel must be at least 1") }
        guard killGrace.isFinite, (0...3600).contains(killGrace) else {
            throw ValidationError("--kill-grace must be a number of seconds from 0 to 3600")
        }
        if (file == nil) == (resume == nil) { throw ValidationError("give a workflow file, or --resume with an execution id") }
        if resume != nil, !input.isEmpty || inputsFile != nil {
            throw ValidationError("--resume carries on with the execution's own inputs; drop --input/--inputs-file")
        }
    }

    func run() async throws {
        var catalog = ActionCatalog.builtIn
        if let actions {
            do { catalog.merge(try ActionCatalog.load(contentsOf: actions)) } catch {
                Console.err("error: \(error.message)")
                throw ExitStatus.invalidInput
            }
        }
        let secrets: SecretProvider
        do { secrets = try secretsFile.map { try SecretProvider(file: $0) } ?? SecretProvider() } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let logger: Logger?
        do { logger = try logOptions.logger(secrets: secrets) } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let traces = try TraceSession.forCommand(logger: logger)
        let store = try await storeOptions.open(role: "run")
        var configuration = EngineConfiguration(
            workerLimit: maxParallel ?? 64, killGracePeriod: .clamped(seconds: killGrace), actions: catalog, logger: logger)
        configuration.tracer = traces.tracer
        // With a store, cached step outputs live in it too, so a cache hit survives the process.
        let cache: any StepCache = (store as? any StepCache) ?? InMemoryStepCache()
        // With a store, each execution's end is recorded for the learning engine (`novacron patterns`).
        let engine = WorkflowEngine(
            executors: .withCloudFunctions(), configuration: configuration, secrets: secrets, cache: cache, store: store,
            learning: store.map { LearningEngine(store: $0) })
        if let learning = engine.learning, let file, let id = try? WorkflowLoader.load(contentsOf: file).workflow.id {
            // Learned durations order the steps and give the ETA from the first one on.
            _ = await learning.statistics(workflowID: id)
        }
        // The spans recorded so far are sent however this ends (a lease lost, an error).
        let (final, workflow) = try await traces.sending { () async throws -> (WorkflowExecution, Workflow) in
            let final: WorkflowExecution
            let workflow: Workflow
            if let resume {
                guard let store else { throw ValidationError("--resume needs the store the execution was saved in (drop --memory)") }
                workflow = try await Self.resumable(resume, in: store)
                if let breakAt, !workflow.steps.contains(where: { $0.id == breakAt }) {
                    Console.err(
                        "error: --break-at \(breakAt): no such step in \(workflow.id)\(DidYouMean.hint(breakAt, among: workflow.steps.map(\.id)))")
                    throw ExitStatus.invalidInput
                }
                let stepper = self.stepper
                final = try await drive(engine, workflow: workflow, stepper: stepper) { engine in
                    let carried = try await engine.recover(only: [resume], debug: stepper != nil ? true : nil)
                    guard let execution = carried.first else {
                        if let leases = store as? any ExecutionLeases {
                            throw EngineError(
                                .conflict,
                                "execution \(resume) is held by another node; it is carried on by a serving node once that node stops renewing its lease (\(DurationText.format(leases.leaseDuration)))"
                            )
                        }
                        throw EngineError(.invalidInput, "execution \(resume) could not be carried on")
                    }
                    return execution.id
                }
            } else {
                let document: WorkflowDocument
                var childDocuments: [WorkflowDocument] = []
                do throws(DefinitionErrors) {
                    document = try WorkflowLoader.load(contentsOf: file ?? "", actions: catalog)
                    for child in children { childDocuments.append(try WorkflowLoader.load(contentsOf: child, actions: catalog)) }
                } catch {
                    Console.report(error.errors)
                    throw ExitStatus.invalidInput
                }
                let inputs: [String: JSONValue]
                do throws(EngineError) { inputs = try readInputs() } catch {
                    Console.err("error: \(error.message)")
                    throw ExitStatus.invalidInput
                }
                workflow = document.workflow
                if let breakAt, !workflow.steps.contains(where: { $0.id == breakAt }) {
                    Console.err(
                        "error: --break-at \(breakAt): no such step in \(workflow.id)\(DidYouMean.hint(breakAt, among: workflow.steps.map(\.id)))")
                    throw ExitStatus.invalidInput
                }
                let stepper = self.stepper
                let childDocumentsToRegister = childDocuments
                final = try await drive(engine, workflow: workflow, stepper: stepper) { engine in
                    for child in childDocumentsToRegister { try await engine.registerWorkflow(child) }
                    try await engine.registerWorkflow(document)
                    var options = ExecutionOptions(debug: stepper != nil)
                    options.traceParent = traces.parent
                    let started = try await engine.executeWorkflow(document.workflow.id, inputs: inputs, options: options)
                    if started.status == .pending, let key = started.concurrencyKey {
                        Console.err(
                            "execution \(started.id) waits for its turn on concurrency key \(key): novacron executions concurrency \(shellQuoted(key))"
                        )
                    }
                    return started.id
                }
            }
            return (final, workflow)
        }
        switch output {
        case .json:
            Console.out(try APIBody.text(Components.Schemas.Execution(final, stepOrder: workflow.steps.map(\.id)), pretty: true))
        case .text:
            Console.out(ProgressDisplay.summary(final, workflow: workflow))
        }
        if final.status != .completed { throw ExitCode(1) }
    }

    /// The saved execution's workflow, if it may be carried on from this process.
    static func resumable(_ id: String, in store: any WorkflowStore & ExecutionStore) async throws -> Workflow {
        do {
            guard let record = try await store.execution(id: id) else {
                throw EngineError(.notFound, "no execution '\(id)' in the store")
            }
            guard !record.execution.status.isTerminal else {
                throw EngineError(.conflict, "execution \(id) already \(record.execution.status.rawValue); nothing to resume")
            }
            if let owner = record.owner, let pid = ExecutionRecord.liveOtherProcess(owner) {
                throw EngineError(.conflict, "execution \(id) is being run by process \(pid) on this machine; stop it first")
            }
            guard let workflow = try await store.workflow(id: record.execution.workflowID, version: record.workflowHash) else {
                throw EngineError(.notFound, "the workflow version of execution \(id) is not in the store")
            }
            return workflow
        } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }

    /// Runs the engine, starts (or carries on) one execution, shows its progress, returns it ended.
    func drive(
        _ engine: WorkflowEngine, workflow: Workflow, stepper: DebugStepper? = nil, start: @Sendable @escaping (WorkflowEngine) async throws -> String
    ) async throws -> WorkflowExecution {
        try await Self.drive(engine, workflow: workflow, output: output, stepper: stepper, start: start)
    }

    static func drive(
        _ engine: WorkflowEngine, workflow: Workflow, output: Format, stepper: DebugStepper? = nil,
        start: @Sendable @escaping (WorkflowEngine) async throws -> String
    ) async throws -> WorkflowExecution {
        let interactive = output == .text && isatty(STDOUT_FILENO) == 1
        let handedOver = HandOver()
        // On a shared store this process is a node of the cluster: it leaves it when done.
        func leave() async { try? await (engine.store as? any ExecutionLeases)?.releaseLeases() }
        let ended: WorkflowExecution
        do { ended = try await follow() } catch {
            await leave()
            throw error
        }
        await leave()
        return ended

        func follow() async throws -> WorkflowExecution {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await engine.run() }
                defer { group.cancelAll() }
                // Stamped as they happen (an observer runs at the event), so a piped line carries the
                // time of its event, not the time it was printed.
                let (events, stamped) = AsyncStream.makeStream(of: (Date, ExecutionEvent).self, bufferingPolicy: .unbounded)
                engine.observe { event in stamped.yield((Date(), event)) }
                let display = output == .json ? nil : ProgressDisplay(workflow: workflow, interactive: interactive)
                let id: String
                do { id = try await start(engine) } catch let error as EngineError {
                    Console.err("error: \(error.message)")
                    throw error.code == .unavailable ? ExitCode(1) : ExitStatus.invalidInput
                }
                let interrupts = Interrupts()
                group.addTask {
                    // Another node of the cluster carries it on (this one lost its lease): no end comes here.
                    do { _ = try await engine.waitForExecution(id) } catch let error as EngineError where error.code == .conflict {
                        handedOver.message.withLock { $0 = error.message }
                        stamped.finish()
                    } catch {}
                }
                group.addTask {
                    for await (signal, count) in interrupts.stream {
                        if signal == SIGTERM {
                            Console.err("terminated: cancelling \(id) and rolling back")
                            try? await engine.cancelExecution(id, reason: "cancelled (SIGTERM, e.g. novacron executions cancel)")
                        } else if count == 1 {
                            Console.err("\ninterrupted: cancelling \(id) and rolling back (Ctrl-C again to exit now)")
                            try? await engine.cancelExecution(id, reason: "interrupted (Ctrl-C)")
                        } else {
                            Console.err("interrupted twice: exiting without waiting")
                            Foundation.exit(130)
                        }
                    }
                }
                if let display, interactive {
                    group.addTask {
                        while true {
                            try await Task.sleep(for: .milliseconds(250))
                            await display.tick(estimatedCompletion: try? await engine.getExecution(id).estimatedCompletion)
                        }
                    }
                }
                // Events since the subscription above are buffered, so none is missed.
                for await (time, event) in events where event.executionID == id {
                    await display?.handle(event, at: time)
                    if let stepper, case .executionPaused(_, let before) = event {
                        await stepper.paused(engine, execution: id, before: before)
                    }
                    if case .executionFinished(let execution) = event {
                        interrupts.stop()
                        return execution
                    }
                }
                interrupts.stop()
                if let message = handedOver.message.withLock({ $0 }) {
                    Console.err("error: \(message)")
                    throw ExitCode(1)
                }
                return try await engine.getExecution(id)
            }
        }
    }

    func readInputs() throws(EngineError) -> [String: JSONValue] {
        var inputs: [String: JSONValue] = [:]
        if let inputsFile {
            guard let text = try? String(contentsOfFile: inputsFile, encoding: .utf8) else {
                throw EngineError(.invalidInput, "\(inputsFile): cannot read the inputs file")
            }
            guard let map = (try? Yams.load(yaml: text)) as? [String: Any] else {
                throw EngineError(.invalidInput, "\(inputsFile): the inputs file must be a YAML or JSON map of name: value")
            }
            for (k, v) in map { inputs[k] = JSONValue(yamlObject: v) }
        }
        for item in input {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else {
                throw EngineError(.invalidInput, "--input '\(item)': expected NAME=VALUE")
            }
            inputs[String(item[..<eq])] = .string(String(item[item.index(after: eq)...]))
        }
        return inputs
    }
}

/// SIGINT and SIGTERM as an async stream of (signal, how many SIGINTs so far).
final class Interrupts: Sendable {
    let stream: AsyncStream<(Int32, Int)>
    private let continuation: AsyncStream<(Int32, Int)>.Continuation
    private let sources: Mutex<[any DispatchSourceSignal]>

    init() {
        (stream, continuation) = AsyncStream.makeStream(of: (Int32, Int).self)
        let continuation = self.continuation
        let counter = Counter()
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield((number, number == SIGINT ? counter.increment() : 0)) }
            source.resume()
            sources.append(source)
        }
        self.sources = Mutex(sources)
    }

    func stop() {
        sources.withLock { for s in $0 { s.cancel() } }
        continuation.finish()
    }

    final class Counter: Sendable {
        private let value = Atomic<Int>(0)
        func increment() -> Int { value.add(1, ordering: .relaxed).newValue }
    }
}

/// Why an execution this process ran went on elsewhere (another node of the cluster took it over).
final class HandOver: Sendable {
    let message = Mutex<String?>(nil)
}
