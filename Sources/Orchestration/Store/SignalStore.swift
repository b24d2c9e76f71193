import Foundation

/// What is sent to an execution from outside and waits in the store until the execution takes
/// it: a named signal with a payload (a `wait` step with `signal:` reads it, now or later), or a
/// person's decision on an `approval` step.
public struct ExecutionSignal: Sendable, Hashable, Codable {
    public enum Kind: String, Sendable, Hashable, Codable {
        case signal, approve, reject
    }

    /// Assigned by the store: the order signals were sent in (0 before it is saved).
    public var seq: Int64
    public var executionID: String
    public var kind: Kind
    /// A signal's name, or the id of the approval step decided.
    public var name: String
    /// A signal's body; a decision's `{comment, data}`.
    public var payload: JSONValue
    /// Who sent it: the API token's name, `cli` or `callback`.
    public var sender: String
    public var sentAt: Date

    public init(
        seq: Int64 = 0, executionID: String, kind: Kind, name: String, payload: JSONValue = .null, sender: String, sentAt: Date
    ) {
        (self.seq, self.executionID, self.kind, self.name, self.payload, self.sender, self.sentAt) =
            (seq, executionID, kind, name, payload, sender, sentAt)
    }
}

/// Signals and approval decisions, kept per execution: durable, so one sent before a step waits
/// for it, while the execution's process is down, or to another node's execution, is taken when
/// the execution gets to it.
public protocol SignalStore: Sendable {
    /// Saves `signal` and returns it with its sequence number.
    func addSignal(_ signal: ExecutionSignal) async throws -> ExecutionSignal
    /// The signals sent to `executionID` after `seq`, oldest first.
    func signals(executionID: String, after seq: Int64) async throws -> [ExecutionSignal]
    /// Saves a callback (``CallbackToken``): its digest, never the token.
    func addCallback(_ callback: CallbackToken) async throws
    /// The callback with this digest, used or not.
    func callback(digest: String) async throws -> CallbackToken?
    /// Marks the callback used, if it is unused and has not expired at `now`, and saves `signal`
    /// (what it sends) in the same transaction; returns whether this call did. Atomic across
    /// nodes: of two racing uses, one wins, and a use whose signal could not be saved did not happen.
    func useCallback(digest: String, now: Date, sending signal: ExecutionSignal?) async throws -> Bool
}
