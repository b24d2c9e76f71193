import Foundation
import Orchestration
import PostgresNIO
import Synchronization
import TestSupport
import Testing

@testable import OrchestrationPostgres

/// A transaction whose connection the server closes must fail, not hang: postgres-nio never
/// answers a query sent on such a connection, and a hung transaction stalled a node's every write
/// for good while its leases kept being renewed (found by the cluster chaos test).
@Suite("PostgreSQL connections lost mid-transaction")
struct ConnectionLossTests {
    final class Outcome: Sendable {
        let text = Mutex<String?>(nil)
        let bell = Doorbell()
        func set(_ value: String) {
            text.withLock { $0 = value }
            bell.ring()
        }
        /// What the transaction ended with, or nil while it has not ended after 30 s.
        func wait() async -> String? {
            for _ in 0..<300 where text.withLock({ $0 }) == nil { await bell.wait(upTo: .milliseconds(100)) }
            return text.withLock { $0 }
        }
    }

    /// Runs `body` in a transaction of `store` on a task of its own; what it ended with.
    func outcome(_ store: PostgresStore, _ body: @escaping @Sendable (PostgresConnection) async throws -> Void) async -> String? {
        let outcome = Outcome()
        Task {
            do {
                try await store.transaction("test") { try await body($0) }
                outcome.set("committed")
            } catch let error as StoreError {
                outcome.set("\(error.isUnavailable ? "unavailable" : "failed"): \(error.message)")
            } catch {
                outcome.set("other: \(error)")
            }
        }
        return await outcome.wait()
    }

    @Test("a connection the server terminates while the transaction is between statements fails it as unavailable; the store carries on")
    func terminated() async throws {
        let url = try await TestPostgres.shared.database()
        let store = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(60), role: "serve")
        let logger = store.logger
        let ended = await outcome(store) { connection in
            let pids: [Int32] = try await connection.rows("SELECT pg_backend_pid()", logger: logger, as: Int32.self)
            let pid = pids.first ?? 0
            _ = try await TestPostgres.psql(url, "SELECT pg_terminate_backend(\(pid))")
            for _ in 0..<100 where !connection.isClosed { try await Task.sleep(for: .milliseconds(20)) }
            try await connection.execute("SELECT 2", logger: logger)
        }
        #expect(ended?.hasPrefix("unavailable") == true, "\(ended ?? "still hanging after 30 s")")
        #expect(ended?.contains("the database closed the connection") == true)
        let after: [Int32] = try await store.rows("read", "SELECT 3", as: Int32.self)
        #expect(after == [3], "the store answers again")
        await store.close()
    }

    @Test("a read outside a transaction after the server closed idle connections of the pool is answered, not left hanging")
    func closedWhileIdle() async throws {
        let url = try await TestPostgres.shared.database()
        // One pooled connection: the one the server ends is the one the read is handed first.
        let store = try await PostgresStore(url: url, maximumConnections: 1, leaseDuration: .seconds(60), role: "serve")
        let warm: [Int32] = try await store.rows("warm up", "SELECT 1", as: Int32.self)
        #expect(warm == [1])
        // Every other session of this database ends (as when the server restarts them).
        _ = try await TestPostgres.psql(
            url, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        let outcome = Outcome()
        Task {
            do {
                let rows: [Int32] = try await store.rows("read", "SELECT 3", as: Int32.self)
                outcome.set("\(rows)")
            } catch let error as StoreError {
                outcome.set("\(error.isUnavailable ? "unavailable" : "failed"): \(error.message)")
            }
        }
        let ended = await outcome.wait()
        #expect(ended == "[3]", "\(ended ?? "still hanging after 30 s")")
        await store.close()
    }

    @Test("a transaction left idle past the lease is ended by the server and fails as unavailable, so the write is tried again")
    func idleTimeout() async throws {
        let url = try await TestPostgres.shared.database()
        let store = try await PostgresStore(url: url, maximumConnections: 4, leaseDuration: .seconds(1), role: "serve")
        let logger = store.logger
        let ended = await outcome(store) { connection in
            try await connection.execute("SELECT 1", logger: logger)
            // The node stalls inside the transaction (a frozen or starved process).
            for _ in 0..<400 where !connection.isClosed { try await Task.sleep(for: .milliseconds(20)) }
            try await connection.execute("SELECT 2", logger: logger)
        }
        #expect(ended?.hasPrefix("unavailable") == true, "\(ended ?? "still hanging after 30 s")")
        let after: [Int32] = try await store.rows("read", "SELECT 3", as: Int32.self)
        #expect(after == [3], "the store answers again")
        await store.close()
    }
}
