import Foundation

/// A step waiting in a queue for a worker, as the queue keeps it: the attempt's request, with
/// secret values sealed into placeholders (``SealedSecrets``).
public struct QueuedStep: Sendable, Codable, Hashable {
    public var queue: String
    public var request: StepRequest

    public init(queue: String, request: StepRequest) {
        (self.queue, self.request) = (queue, request)
    }

    public var executionID: String { request.executionID }
    public var stepID: String { request.stepID }
}

/// How an attempt a worker ran ended, as the queue keeps it until the execution's node takes it.
public struct QueuedOutcome: Sendable, Codable, Hashable {
    public var ending: String
    public var outputs: [String: JSONValue]
    public var error: String?
    public var exitCode: Int?
    public var log: String
    /// The worker node that ran it.
    public var worker: String

    public init(ending: String, outputs: [String: JSONValue], error: String?, exitCode: Int?, log: String, worker: String) {
        (self.ending, self.outputs, self.error, self.exitCode, self.log, self.worker) = (ending, outputs, error, exitCode, log, worker)
    }
}

/// A queued step a worker claimed: `id` names it in the queue while the claim holds.
public struct ClaimedStep: Sendable, Hashable {
    public var id: Int64
    public var step: QueuedStep
    /// How many times a worker claimed it (more than 1 after a worker died holding it).
    public var claims: Int

    public init(id: Int64, step: QueuedStep, claims: Int) {
        (self.id, self.step, self.claims) = (id, step, claims)
    }
}

/// Steps that name a queue (`queue: gpu`) wait in the store until a worker serving that queue
/// claims them; the node holding the execution takes the outcome back. Workers claim in
/// batches, heartbeat what they hold, and write outcomes; a claim whose heartbeat lapsed goes
/// back to the queue. Two claims of the same step never hold at once.
///
/// Only stores several nodes share have queues (PostgreSQL); elsewhere a step naming a queue
/// fails, saying so.
public protocol StepQueue: Sendable {
    // The execution's node.

    /// Puts attempts in their queues, in one transaction; returns their ids, in order, `nil` for
    /// one refused because this node no longer holds its execution. Older attempts of the same
    /// step still queued are withdrawn, and one still held by a worker is asked to stop (the new
    /// one waits until it has).
    func enqueue(_ steps: [QueuedStep]) async throws -> [Int64?]
    /// Asks the worker holding `id` to stop it; returns `true` when no worker had it yet (it is
    /// withdrawn, and no outcome will come).
    func withdraw(_ id: Int64) async throws -> Bool
    /// Takes (removes and returns) the outcomes written for any of `ids`.
    func takeOutcomes(_ ids: Set<Int64>) async throws -> [Int64: QueuedOutcome]
    /// Returns when an outcome may have been written, after `limit` at the latest.
    func waitForOutcomes(upTo limit: Duration) async

    // Workers.

    /// Claims up to `limit` steps waiting in `queues`, oldest first, for a heartbeat's length.
    func claimSteps(queues: [String], limit: Int) async throws -> [ClaimedStep]
    /// Extends the claims on `ids`; returns those lost (their heartbeat lapsed and another worker
    /// took them, or they were withdrawn) and those whose execution's node asked to stop them.
    func heartbeat(_ ids: Set<Int64>) async throws -> (lost: Set<Int64>, stop: Set<Int64>)
    /// Writes outcomes of claimed steps; one whose claim was lost is not written.
    func finish(_ outcomes: [(id: Int64, outcome: QueuedOutcome)]) async throws
    /// Gives claims back unfinished (a worker shutting down): the steps wait for another worker.
    func release(_ ids: Set<Int64>) async throws
    /// Returns when a step may have been queued, after `limit` at the latest.
    func waitForSteps(upTo limit: Duration) async
    /// How long a claim holds without a heartbeat.
    var claimDuration: Duration { get }
    /// The id this process has as a node of the cluster.
    var nodeID: String { get }
}

extension StepQueue {
    /// Puts one attempt in its queue; returns its id.
    /// - Throws: ``LeaseLost`` when this node no longer holds the execution.
    public func enqueue(_ step: QueuedStep) async throws -> Int64 {
        guard let id = try await enqueue([step]).first ?? nil else { throw LeaseLost([step.executionID]) }
        return id
    }
}
