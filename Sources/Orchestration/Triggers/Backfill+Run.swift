import Foundation

extension Backfill {
    /// How one tick of a backfill went.
    public struct Outcome: Sendable, Hashable {
        public var tick: Date
        public var executionID: String?
        /// `nil` when the execution could not start (then `error` says why).
        public var status: ExecutionStatus?
        public var error: String?
    }

    /// The ticks (as ``text(_:)`` writes them) that already have an execution of the workflow in
    /// `store`, started by the schedule or by a backfill.
    public func done(in store: any ExecutionStore) async throws -> Set<String> {
        let records = try await store.executions(workflowID: workflowID, status: nil, limit: 1_000_000)
        return Set(records.compactMap { Self.tick(of: $0.options.trigger) })
    }

    /// Runs the executions of `ticks` on `engine`, at most `maxParallel` at once, oldest first,
    /// each to its end; `each` hears how each went, in the order they end. With `traceParent`,
    /// each execution's trace continues that span (the caller's request or process).
    public func run(
        _ ticks: [Date], on engine: WorkflowEngine, maxParallel: Int, traceParent: TraceHeaders? = nil,
        each: @escaping @Sendable (Outcome) async -> Void
    ) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for tick in ticks {
                if running >= max(1, maxParallel) {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await each(await self.start(tick, on: engine, traceParent: traceParent)) }
            }
        }
    }

    /// Starts the execution of `tick` and waits for its end.
    func start(_ tick: Date, on engine: WorkflowEngine, traceParent: TraceHeaders?) async -> Outcome {
        var outcome = Outcome(tick: tick)
        do {
            var options = ExecutionOptions(trigger: payload(tick), idempotencyKey: key(tick))
            options.traceParent = traceParent
            let inputs = try TriggerScheduler.inputs(of: trigger, payload: payload(tick))
            let started = try await engine.startExecution(workflowID, inputs: inputs, options: options)
            outcome.executionID = started.execution.id
            if started.replayed {
                // Another backfill (here or on another node) started this tick a moment ago.
                outcome.status = started.execution.status
                outcome.error = "started by another backfill"
                return outcome
            }
            let final = try await engine.waitForExecution(started.execution.id)
            outcome.status = final.status
            outcome.error = final.error
        } catch {
            outcome.error = "\(error)"
        }
        return outcome
    }
}
