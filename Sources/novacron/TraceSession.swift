import Foundation
import Logging
import Orchestration
import OrchestrationServer
import ServiceLifecycle
import Tracing

/// The trace export of a command that runs steps (`run`, `worker`), from the standard `OTEL_*`
/// variables (``TraceExport``): its tracer for the engine, and the exporter running beside it
/// until ``finish()``, which sends what is left. Off, it holds nothing.
final class TraceSession: Sendable {
    let tracer: (any Tracer)?
    /// The span a process that started this one is in (`TRACEPARENT`, as a traced step gets it).
    let parent: TraceHeaders?
    private let group: ServiceGroup?
    private let task: Task<Void, Never>?

    init(logger: Logger?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(EngineError) {
        guard let export = try TraceExport.resolve(environment: environment) else {
            (tracer, parent, group, task) = (nil, nil, nil, nil)
            return
        }
        let logger = logger ?? Logger(label: "novacron", factory: { _ in SwiftLogNoOpLogHandler() })
        let backend: (tracer: any Tracer, service: any Service)
        do { backend = try export.makeBackend(logger: logger) } catch {
            throw EngineError(.invalidInput, "cannot export traces to \(export.tracesURL): \(error)")
        }
        let group = ServiceGroup(services: [backend.service], logger: logger)
        tracer = backend.tracer
        parent = environment["TRACEPARENT"].flatMap { TraceHeaders(traceparent: $0, tracestate: environment["TRACESTATE"]) }
        self.group = group
        task = Task {
            do { try await group.run() } catch { logger.warning("trace export stopped", metadata: ["error": "\(error)"]) }
        }
    }

    /// The session of a command, from this process's environment; settings it cannot honour are
    /// printed and end the command as invalid input.
    static func forCommand(logger: Logger?) throws -> TraceSession {
        do { return try TraceSession(logger: logger) } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }

    /// Runs `body`, then sends the spans, however it ends.
    func sending<T>(_ body: () async throws -> T) async throws -> T {
        let value: T
        do { value = try await body() } catch {
            await finish()
            throw error
        }
        await finish()
        return value
    }

    /// Sends the spans not sent yet and stops the exporter; gives up after 10 s (a collector
    /// that does not answer must not hold the command's exit).
    func finish() async {
        guard let group, let task else { return }
        await group.triggerGracefulShutdown()
        await withTaskGroup(of: Void.self) { race in
            race.addTask { await task.value }
            race.addTask { try? await Task.sleep(for: .seconds(10)) }
            await race.next()
            race.cancelAll()
        }
    }
}
