import Orchestration
import ServiceLifecycle
import Synchronization

/// Whether the server is ready for work: `/readyz` answers 503 until the executions a previous
/// process left unfinished are recovered, and again once draining starts. Services that must not
/// start before recovery (the trigger scheduler) wait for it.
final class Readiness: Sendable {
    private let recovered = OneShotSignal()
    var isRecovered: Bool { recovered.isFired }
    func markRecovered() { recovered.fire() }
    /// Returns once recovered (or when the calling task is cancelled).
    func waitUntilRecovered() async { await recovered.wait() }
}

/// Runs the engine's work: carries on what a previous process left unfinished, then runs until
/// graceful shutdown, when nothing new starts, running steps get the grace period, and what still
/// runs is handed back (cancelled here, carried on at the next start).
struct EngineService: Service {
    let engine: WorkflowEngine
    /// How long running steps get to finish after SIGTERM before they are handed back.
    let drainGrace: Duration
    let readiness: Readiness

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await engine.run() }
            // A store that cannot be read stops the server (the error says why).
            _ = try await engine.recover()
            readiness.markRecovered()
            if let learning = engine.learning {
                // What was learned before this start orders steps and gives ETAs from the first execution on.
                group.addTask { for workflow in await engine.registeredWorkflows() { _ = await learning.statistics(workflowID: workflow.id) } }
            }
            do {
                try await gracefulShutdown()
                await engine.drain(grace: drainGrace)
                await engine.learning?.flush()
            } catch {
                // Cancelled rather than shut down gracefully: stop at once.
            }
            group.cancelAll()
        }
    }
}

/// A loop that runs until cancelled (the event bus, the trigger scheduler, the metric watcher, the
/// optimizer), as a service: cancelled at graceful shutdown. One that ends early (the optimizer,
/// when auto-optimization is off) leaves the service waiting for shutdown, since a service that
/// returns would stop the whole group.
struct BackgroundService: Service, CustomStringConvertible {
    let description: String
    /// Waited for before the loop starts (recovery, for the triggers).
    let after: Readiness?
    let body: @Sendable () async -> Void

    init(_ name: String, after: Readiness? = nil, _ body: @escaping @Sendable () async -> Void) {
        self.description = name
        self.after = after
        self.body = body
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            if let after { await after.waitUntilRecovered() }
            guard !Task.isCancelled else { return }
            await body()
        }
        try? await gracefulShutdown()
    }
}
