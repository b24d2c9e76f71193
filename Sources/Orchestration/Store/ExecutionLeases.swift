/// A store several engines (nodes) share, where each unfinished execution is run by one of them:
/// the node holds it through a lease it renews, and the store refuses writes to an execution from
/// a node that no longer holds it (fencing). `PostgresStore` is one; SQLite and memory are not
/// shared and need none.
///
/// The engine uses it when its store conforms: ``WorkflowEngine/run()`` renews the leases
/// (``renewLeases()``) every third of ``leaseDuration`` and stops, here, the executions another node
/// took over; ``WorkflowEngine/recover(only:debug:)`` carries on only what it could claim
/// (``claimExecutions(only:)``). A write refused for a lost lease surfaces as ``LeaseLost`` from
/// ``ExecutionStore/apply(_:)``, after the batch's other writes committed.
///
/// ```swift
/// if let leases = store as? any ExecutionLeases {
///     let mine = try await leases.claimExecutions(only: nil)   // whose node stopped renewing
/// }
/// ```
public protocol ExecutionLeases: Sendable {
    /// How long a lease lasts without renewal: after that, another node may take the execution.
    var leaseDuration: Duration { get }

    /// Takes the unfinished executions nobody holds — their lease expired, or their node was a
    /// process on this machine that is gone — (`only`: just those of them) and returns their ids.
    /// Their attempts still recorded as running are this node's to interrupt.
    func claimExecutions(only: Set<String>?) async throws -> Set<String>

    /// Renews this node's heartbeat and the leases of the executions it holds; returns those it
    /// held and lost (another node took them over after its lease expired).
    func renewLeases() async throws -> Set<String>

    /// Gives the executions still held back at once (a drained shutdown), for another node to take.
    func releaseLeases() async throws

    /// The unfinished executions this node holds now.
    var heldExecutions: Set<String> { get }

    /// The nodes, what they hold, and the leases about to run out.
    func clusterStatus() async throws -> ClusterStatus

    /// Stops renewing the lease on `executionID` (what this node saved of it cannot be trusted to
    /// be all it did): once the lease runs out, a node carries it on from what was saved.
    func forget(_ executionID: String)
}

/// A batch's writes to executions this node no longer holds were refused (fencing); the batch's
/// other writes committed.
public struct LeaseLost: Error, Sendable, CustomStringConvertible {
    public var executionIDs: Set<String>
    public init(_ executionIDs: Set<String>) { self.executionIDs = executionIDs }
    public var description: String {
        "another node took over execution\(executionIDs.count == 1 ? "" : "s") \(executionIDs.sorted().joined(separator: ", ")); writes refused"
    }
}
