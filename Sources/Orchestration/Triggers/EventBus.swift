import Foundation
import Synchronization

/// The event bus (docs/triggers.md): events are persisted with a sequence number, then handed to
/// subscribers. Writes are group-committed: what is published while one batch commits goes into
/// the next, so a durable store sustains many thousands of events per second.
///
/// Subscribers:
/// - in-process handlers (``subscribe(_:handler:)``): live only, called after the event is saved;
/// - durable consumers (``consume(name:pattern:deliver:)``): event triggers and outbound
///   webhooks. Each keeps a cursor in the store and is handed every matching event after it,
///   at least once: a crash between saving an event and delivering it delivers it at the next start.
///
/// ```swift
/// let bus = EventBus(store: store)
/// Task { await bus.run() }
/// let token = bus.subscribe("deployment.*") { event in print(event.type, event.data) }
/// try await bus.publish("deployment.finished", data: ["service": "api", "version": "1.4.2"])
/// ```
public final class EventBus: Sendable {
    public typealias Handler = @Sendable (BusEvent) async -> Void

    /// An event to save: what ``publish(_:data:source:)`` and ``post(_:data:source:)`` queue.
    struct Pending: Sendable {
        var type: String
        var data: JSONValue
        var source: String
        var time: Date
    }

    struct State {
        var highWater: Int64 = -1
        /// Readers waiting for an event after `after`, by the token of their wait.
        var watchers: [UInt64: (after: Int64, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWatcher: UInt64 = 0
        var handlers: [UInt64: (pattern: String, handler: Handler)] = [:]
        var nextHandler: UInt64 = 0
        var stopped = false
    }

    public let store: any EventLogStore & SubscriptionStore
    /// What dates events.
    let time: TimeSource
    /// The bus's state, in a class the commit queue's closures share.
    final class Shared: Sendable { let state = Mutex(State()) }
    private let shared: Shared
    /// Saves what is published, in batches of at most ``batchLimit``.
    private let queue: GroupCommitQueue<Pending, BusEvent>
    /// The most events one commit takes.
    public static let batchLimit = 2_000

    public init(store: any EventLogStore & SubscriptionStore, time: TimeSource = .system) {
        self.time = time
        let shared = Shared()
        self.shared = shared
        self.store = store
        self.queue = GroupCommitQueue(
            batchLimit: Self.batchLimit, closedError: EngineError(.unavailable, "the event bus has stopped"),
            commit: { batch in
                let saved = try await store.appendEvents(batch.map { ($0.type, $0.data, $0.source, $0.time) })
                shared.state.withLock { $0.highWater = max($0.highWater, saved.last?.seq ?? $0.highWater) }
                return saved
            },
            committed: { saved in await Self.deliver(saved, shared) })
    }

    /// Wakes the readers waiting for new events, then calls the in-process handlers.
    private static func deliver(_ saved: [BusEvent], _ shared: Shared) async {
        let (watchers, handlers) = shared.state.withLock { s -> ([CheckedContinuation<Void, Never>], [(pattern: String, handler: Handler)]) in
            let hw = s.highWater
            let ready = s.watchers.filter { $0.value.after < hw }
            for token in ready.keys { s.watchers[token] = nil }
            return (ready.values.map(\.continuation), Array(s.handlers.values))
        }
        for w in watchers { w.resume() }
        guard !handlers.isEmpty else { return }
        for event in saved {
            for h in handlers where BusEvent.matches(type: event.type, pattern: h.pattern) { await h.handler(event) }
        }
    }

    /// A type: letters, digits, `_`, `-`, dot-separated; at most 200 characters.
    public static func validate(type: String) throws(EngineError) {
        guard !type.isEmpty, type.count <= 200,
            type.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({
                !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
            })
        else {
            throw EngineError(
                .invalidInput,
                "event type '\(type.prefix(60))' must be dot-separated words of letters, digits, '_' and '-' (at most 200 characters), like deployment.finished"
            )
        }
    }

    // MARK: Publishing

    /// Saves an event and returns it with its sequence number, once it is durable.
    @discardableResult
    public func publish(_ type: String, data: JSONValue = [:], source: String = "swift") async throws -> BusEvent {
        try Self.validate(type: type)
        return try await queue.submit(Pending(type: type, data: data, source: source, time: time.now()))
    }

    /// Queues an event without waiting for it to be saved (the engine's lifecycle events).
    public func post(_ type: String, data: JSONValue, source: String) {
        queue.enqueue([Pending(type: type, data: data, source: source, time: time.now())])
    }

    /// Commits what is published, batch after batch, until cancelled. Then fails what is still
    /// queued with "stopped".
    public func run() async {
        if (try? await store.lastEventSeq()).map({ seq in shared.state.withLock { $0.highWater = max($0.highWater, seq) } }) == nil {
            shared.state.withLock { $0.highWater = max($0.highWater, 0) }
        }
        await withTaskCancellationHandler {
            await queue.run()
        } onCancel: {
            shared.state.withLock { $0.stopped = true }
        }
        let watchers = shared.state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.stopped = true
            defer { s.watchers = [:] }
            return s.watchers.values.map(\.continuation)
        }
        for w in watchers { w.resume() }
    }

    // MARK: Reading and subscribing

    /// How many ``waitForEvents(after:)`` calls are waiting now.
    package var waitingReaders: Int { shared.state.withLock { $0.watchers.count } }

    /// Whether the commit loop has stopped (the server is shutting down).
    public var isStopped: Bool { shared.state.withLock { $0.stopped } }

    /// The sequence number of the newest saved event.
    public var lastSeq: Int64 { get async throws { try await store.lastEventSeq() } }

    /// Events after `seq` (replay), oldest first.
    public func events(after seq: Int64, limit: Int = 1000) async throws -> [BusEvent] {
        try await store.events(after: seq, limit: limit)
    }

    /// Returns once an event after `seq` is saved (or the bus stops, or the task is cancelled).
    public func waitForEvents(after seq: Int64) async {
        let token = shared.state.withLock { s in
            s.nextWatcher += 1
            return s.nextWatcher
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let now = shared.state.withLock { s -> Bool in
                    if s.stopped || Task.isCancelled || (s.highWater >= 0 && s.highWater > seq) { return true }
                    s.watchers[token] = (seq, c)
                    return false
                }
                if now { c.resume() }
            }
        } onCancel: {
            // This wait alone ends: waking every reader (as this once did) made each stream's
            // heartbeat timer end the others' waits, so with two streams open neither sent its
            // heartbeat on time, and every wake was a read of the store by every stream.
            let mine = self.shared.state.withLock { $0.watchers.removeValue(forKey: token) }
            mine?.continuation.resume()
        }
    }

    /// Calls `handler` for every event whose type matches `pattern`, from now on, in this process.
    /// Returns a token for ``unsubscribe(_:)``.
    @discardableResult
    public func subscribe(_ pattern: String, handler: @escaping Handler) -> UInt64 {
        shared.state.withLock { s in
            s.nextHandler += 1
            s.handlers[s.nextHandler] = (pattern, handler)
            return s.nextHandler
        }
    }

    public func unsubscribe(_ token: UInt64) {
        _ = shared.state.withLock { $0.handlers.removeValue(forKey: token) }
    }

    // MARK: The engine's lifecycle

    /// The bus event for an engine event: `execution.started`, `execution.paused`,
    /// `execution.resumed`, `execution.completed|failed|cancelled`, `step.started`,
    /// `step.retrying`, `step.success|failed|skipped|cancelled`. `nil` for scheduling details.
    public static func lifecycle(_ event: ExecutionEvent, workflowID: (String) -> String?) -> (type: String, data: JSONValue)? {
        switch event {
        case .executionStarted(let id, let workflow, let count):
            return ("execution.started", ["executionID": .string(id), "workflowID": .string(workflow), "stepCount": .number(Double(count))])
        case .executionPaused(let id, _):
            return ("execution.paused", ["executionID": .string(id), "workflowID": workflowID(id).map(JSONValue.string) ?? .null])
        case .executionResumed(let id):
            return ("execution.resumed", ["executionID": .string(id), "workflowID": workflowID(id).map(JSONValue.string) ?? .null])
        case .executionFinished(let e):
            var data: [String: JSONValue] = ["executionID": .string(e.id), "workflowID": .string(e.workflowID), "status": .string(e.status.rawValue)]
            if let error = e.error { data["error"] = .string(error) }
            return ("execution.\(e.status.rawValue)", .object(data))
        case .stepStarted(let id, let step, let attempt, _, _, _):
            return (
                "step.started",
                [
                    "executionID": .string(id), "workflowID": workflowID(id).map(JSONValue.string) ?? .null, "stepID": .string(step),
                    "attempt": .number(Double(attempt)),
                ]
            )
        case .stepRetrying(let id, let step, let next, _, let error):
            var data: [String: JSONValue] = [
                "executionID": .string(id), "workflowID": workflowID(id).map(JSONValue.string) ?? .null, "stepID": .string(step),
                "nextAttempt": .number(Double(next)),
            ]
            if let error { data["error"] = .string(error) }
            return ("step.retrying", .object(data))
        case .stepFinished(let id, let result, _):
            var data: [String: JSONValue] = [
                "executionID": .string(id), "workflowID": workflowID(id).map(JSONValue.string) ?? .null, "stepID": .string(result.stepID),
                "status": .string(result.status.rawValue),
            ]
            if let error = result.error { data["error"] = .string(error) }
            return ("step.\(result.status.rawValue)", .object(data))
        case .stepScheduled, .attemptFinished:
            return nil
        }
    }
}
