import Logging
import Orchestration
import ServiceLifecycle
import Synchronization
import UnixSignals

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

    /// Whether a second SIGTERM or SIGINT ends the drain at once (``watchForSecondSignal(_:)``):
    /// for `novacron serve`, whose process the signals stop; never in a process that embeds the
    /// server, whose signals are its own.
    var secondSignalEndsDrain = false

    func run() async throws {
        try await withThrowingDiscardingTaskGroup { group in
            if secondSignalEndsDrain { group.addTask { await Self.watchForSecondSignal(engine) } }
            group.addTask { await engine.run() }
            // A store that cannot be read stops the server (the error says why).
            _ = try await engine.recover()
            readiness.markRecovered()
            if let leases = engine.store as? any ExecutionLeases {
                // In a cluster: take over what other nodes stopped renewing, within a quarter lease of it running out.
                group.addTask { await Self.adoptOrphans(engine, every: leases.leaseDuration / 4) }
            }
            if let learning = engine.learning {
                // What was learned before this start orders steps and gives ETAs from the first execution on.
                group.addTask { for workflow in await engine.registeredWorkflows() { _ = await learning.statistics(workflowID: workflow.id) } }
            }
            do {
                try await gracefulShutdown()
                let again = secondSignalEndsDrain ? " (SIGTERM or Ctrl-C again hands them back now)" : ""
                engine.logger.info("draining: nothing new starts; running steps get \(DurationText.format(drainGrace)) to finish\(again)")
                await engine.drain(grace: drainGrace)
                await engine.learning?.flush()
            } catch {
                // Cancelled rather than shut down gracefully: stop at once.
            }
            group.cancelAll()
        }
        // Drained and stopped (what ran here is handed back, its processes gone): another node may
        // take it at once instead of waiting for the leases to run out.
        try? await (engine.store as? any ExecutionLeases)?.releaseLeases()
    }

    /// Counts SIGTERM and SIGINT from the start (the first starts the drain, through the service
    /// group): at the second the operator will not wait out the grace, so what still runs is
    /// handed back now and the next start carries it on. Counted from the start, so two signals
    /// sent together are two, even before the drain began.
    static func watchForSecondSignal(_ engine: WorkflowEngine) async {
        var seen = 0
        for await signal in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
            seen += 1
            guard seen == 2 else { continue }
            engine.logger.notice("\(signal) again while draining: handing back what still runs now")
            engine.endDrainNow()
            return
        }
    }

    /// Carries on the executions whose node stopped renewing their leases, until cancelled. A
    /// store that fails is tried again at the next turn (the database restarting).
    static func adoptOrphans(_ engine: WorkflowEngine, every interval: Duration) async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            do { try await clock.sleep(for: interval) } catch { return }
            guard !(await engine.isDraining) else { return }
            do { _ = try await engine.recover() } catch {
                engine.logger.warning("cannot take over executions from other nodes now", metadata: ["error": "\(error)"])
            }
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
