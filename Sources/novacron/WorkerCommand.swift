import ArgumentParser
import Foundation
import Logging
import Orchestration
import OrchestrationExecutors
import OrchestrationPostgres

/// `novacron worker --database-url URL [--queue NAME]… [--max-parallel N]`: runs steps that name a
/// queue, for the nodes of a cluster (docs/cluster.md).
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run steps that wait in queues of a PostgreSQL cluster (docs/cluster.md).",
        discussion: """
            A worker runs no executions of its own: it claims steps whose `queue:` it serves, runs \
            them with its own secrets (NOVACRON_SECRET_NAME or --secrets-file) and writes their \
            outcomes for the node running the execution. SIGTERM or Ctrl-C stops it: the steps it \
            runs are stopped and go back to the queue.
            """)

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The cluster's database, postgres://user@host:5432/database (default $NOVACRON_DATABASE_URL; password also from PGPASSWORD).",
            valueName: "url"))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp("A queue to serve; repeat for several (default: the queue named default).", valueName: "name"))
    var queue: [String] = []

    @Option(name: .long, help: ArgumentHelp("The most steps running at once (default: the number of CPUs).", valueName: "n"))
    var maxParallel: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(name: .long, help: ArgumentHelp("How long a claim holds without a heartbeat (default 5s).", valueName: "duration"))
    var claimDuration: String = "5s"

    @Option(
        name: .long,
        help: ArgumentHelp("A YAML or JSON map of secrets (mode 600), read by ${secrets.NAME}; NOVACRON_SECRET_NAME wins over it.", valueName: "file")
    )
    var secretsFile: String?

    @OptionGroup var log: LogOptions

    func validate() throws {
        for name in queue where !WorkflowValidator.isQueueName(name) {
            throw ValidationError("--queue '\(name)': a queue name is 1 to 63 letters, digits, '_', '-' or '.', starting with a letter or digit")
        }
        guard maxParallel >= 1 else { throw ValidationError("--max-parallel must be at least 1") }
    }

    func run() async throws {
        guard let url = databaseURL ?? ProcessInfo.processInfo.environment["NOVACRON_DATABASE_URL"].flatMap({ $0.isEmpty ? nil : $0 }) else {
            Console.err("error: a worker serves a cluster's PostgreSQL database: give --database-url (or NOVACRON_DATABASE_URL)")
            throw ExitStatus.invalidInput
        }
        let claim: Duration
        do { claim = try DurationText.parse(claimDuration) } catch {
            throw ValidationError("--claim-duration '\(claimDuration)' is not a duration like 5s")
        }
        let secrets: SecretProvider
        do { secrets = try secretsFile.map { try SecretProvider(file: $0) } ?? SecretProvider() } catch let error as EngineError {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let logger = try log.logger(secrets: secrets) ?? Logger(label: "novacron.worker", factory: { _ in SwiftLogNoOpLogHandler() })
        let store: PostgresStore
        do { store = try await PostgresStore(url: url, leaseDuration: claim, role: "worker") } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let traces: TraceSession
        do { traces = try TraceSession(logger: logger) } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
        let queues = queue.isEmpty ? ["default"] : Array(Set(queue)).sorted()
        var configuration = EngineConfiguration()
        configuration.tracer = traces.tracer
        let worker = StepWorker(
            queue: store, queues: queues, maxParallel: maxParallel, executors: .withCloudFunctions(), secrets: secrets,
            configuration: configuration, logger: logger)
        Console.err("worker \(store.nodeID) serving \(queues.joined(separator: ", ")) (up to \(maxParallel) at once) on \(store.location)")
        let interrupts = Interrupts()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await worker.run() }
            group.addTask {
                for await _ in interrupts.stream { return }
            }
            await group.next()
            group.cancelAll()
        }
        interrupts.stop()
        try? await store.releaseLeases()
        await store.close()
        await traces.finish()
    }
}
