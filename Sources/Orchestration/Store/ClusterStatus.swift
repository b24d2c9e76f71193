import Foundation

/// What `novacron cluster status` shows: the nodes sharing a store, what each holds, and the
/// executions waiting for a node.
public struct ClusterStatus: Sendable, Codable, Hashable {
    public struct Node: Sendable, Codable, Hashable {
        public var id: String
        public var host: String
        public var pid: Int
        /// `serve`, `run` or `client`.
        public var role: String
        public var startedAt: Date
        public var lastHeartbeat: Date
        /// Whether it renewed within its lease (on the database's clock).
        public var live: Bool
        /// Unfinished executions it holds.
        public var executions: Int
        /// The queues it serves as a worker.
        public var queues: [String]
        /// Queued steps it runs now.
        public var steps: Int

        public init(
            id: String, host: String, pid: Int, role: String, startedAt: Date, lastHeartbeat: Date, live: Bool, executions: Int,
            queues: [String] = [], steps: Int = 0
        ) {
            (self.id, self.host, self.pid, self.role) = (id, host, pid, role)
            (self.startedAt, self.lastHeartbeat, self.live, self.executions) = (startedAt, lastHeartbeat, live, executions)
            (self.queues, self.steps) = (queues, steps)
        }
    }

    /// A queue's depth: steps waiting for a worker, and steps workers run now.
    public struct Queue: Sendable, Codable, Hashable {
        public var name: String
        public var waiting: Int
        public var running: Int

        public init(name: String, waiting: Int, running: Int) { (self.name, self.waiting, self.running) = (name, waiting, running) }
    }

    /// A lease running out soon (within a lease's length): its execution changes node unless renewed.
    public struct Lease: Sendable, Codable, Hashable {
        public var executionID: String
        public var node: String
        public var expiresIn: Double

        public init(executionID: String, node: String, expiresIn: Double) {
            (self.executionID, self.node, self.expiresIn) = (executionID, node, expiresIn)
        }
    }

    public var nodes: [Node]
    /// Unfinished executions no live node holds (their node died; one will take them over).
    public var waitingForANode: Int
    public var leasesExpiringSoon: [Lease]
    /// Queues with steps in them, by name.
    public var queues: [Queue]
    /// The database's clock when this was read.
    public var at: Date

    public init(nodes: [Node], waitingForANode: Int, leasesExpiringSoon: [Lease], queues: [Queue] = [], at: Date) {
        (self.nodes, self.waitingForANode, self.leasesExpiringSoon, self.at) = (nodes, waitingForANode, leasesExpiringSoon, at)
        self.queues = queues
    }
}
