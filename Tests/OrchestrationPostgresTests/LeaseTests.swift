import Foundation
import Orchestration
import OrchestrationPostgres
import TestSupport
import Testing

/// Two stores on one database are two nodes of a cluster (they run in one process here; the
/// CLI tests run real processes). Leases are run out by the test in the database, not waited for.
@Suite("PostgreSQL execution leases")
struct LeaseTests {
    func nodes(_ count: Int = 2, lease: Duration = .seconds(60)) async throws -> (url: String, stores: [PostgresStore]) {
        let url = try await TestPostgres.shared.database()
        var stores: [PostgresStore] = []
        for _ in 0..<count { stores.append(try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: lease, role: "serve")) }
        return (url, stores)
    }

    func expire(_ url: String, _ id: String) async throws {
        _ = try await TestPostgres.psql(url, "UPDATE execution SET lease_expires_at = 0 WHERE id = '\(id)'")
    }

    @Test("the creating node holds an execution; another takes it only once the lease runs out, and the first node's writes are then refused")
    func fencing() async throws {
        let (url, stores) = try await nodes()
        let (a, b) = (stores[0], stores[1])
        try await a.apply([.createExecution(sampleRecord("e1")), .createExecution(sampleRecord("e2"))])
        #expect(a.heldExecutions == ["e1", "e2"])
        #expect(try await b.claimExecutions(only: nil).isEmpty)

        try await expire(url, "e1")
        #expect(try await b.claimExecutions(only: nil) == ["e1"])
        #expect(b.heldExecutions == ["e1"])

        // A batch touching both: e2's writes commit, e1's are refused and named.
        let started = AttemptRecord(executionID: "e1", stepID: "s", attempt: 1, status: .running, startedAt: Date())
        var finished = sampleRecord("e2", status: .completed)
        finished.execution.finishedAt = Date()
        let error = await #expect(throws: LeaseLost.self) {
            try await a.apply([.attempt(started), .updateExecution(finished)])
        }
        #expect(error?.executionIDs == ["e1"])
        #expect(try await b.attempts(executionID: "e1", stepID: nil).isEmpty)
        #expect(try await b.execution(id: "e2")?.execution.status == .completed)
        #expect(a.heldExecutions == ["e2"])
        // Only the holder may mark its attempts interrupted.
        await #expect(throws: LeaseLost.self) { try await a.interruptAttempts(executionID: "e1", at: Date()) }
        #expect(try await b.interruptAttempts(executionID: "e1", at: Date()).isEmpty)
        // The new holder writes as usual.
        try await b.apply([.attempt(started)])
        #expect(try await a.attempts(executionID: "e1", stepID: nil).map(\.status) == [.running])
    }

    @Test("renewing keeps what a node holds, drops what ended, and names what another node took over")
    func renewal() async throws {
        let (url, stores) = try await nodes()
        let (a, b) = (stores[0], stores[1])
        try await a.apply([.createExecution(sampleRecord("keep")), .createExecution(sampleRecord("end")), .createExecution(sampleRecord("lose"))])
        var ended = sampleRecord("end", status: .failed)
        ended.execution.finishedAt = Date()
        try await a.apply([.updateExecution(ended)])
        try await expire(url, "lose")
        #expect(try await b.claimExecutions(only: nil) == ["lose"])
        #expect(try await a.renewLeases() == ["lose"])
        #expect(a.heldExecutions == ["keep"])
        // Renewed: still not claimable, even when asked for by id.
        #expect(try await b.claimExecutions(only: ["keep"]).isEmpty)
        #expect(try await b.renewLeases().isEmpty)
    }

    @Test("a node that was a process on this machine and is gone gives its executions up at once; a released lease is free at once")
    func deadAndReleased() async throws {
        let (url, stores) = try await nodes(3)
        let (a, b, c) = (stores[0], stores[1], stores[2])
        try await a.apply([.createExecution(sampleRecord("orphan"))])
        // The owner becomes a node whose pid is no live process (what kill -9 leaves behind).
        let host = ProcessInfo.processInfo.hostName
        _ = try await TestPostgres.psql(
            url,
            """
            INSERT INTO node (id, host, pid, role, started_at, heartbeat_at) VALUES ('gone', '\(host)', 2147483646, 'serve', 0, 0);
            UPDATE execution SET owner_node = 'gone' WHERE id = 'orphan'
            """)
        #expect(try await b.claimExecutions(only: nil) == ["orphan"])

        try await c.apply([.createExecution(sampleRecord("handed-back"))])
        #expect(try await b.claimExecutions(only: nil).isEmpty)
        try await c.releaseLeases()
        #expect(c.heldExecutions.isEmpty)
        #expect(try await b.claimExecutions(only: nil) == ["handed-back"])
        let nodes = try await TestPostgres.psql(url, "SELECT role FROM node WHERE id NOT IN ('gone') ORDER BY role")
        #expect(nodes.split(separator: "\n").count == 2, "c left the node table: \(nodes)")
    }
}
