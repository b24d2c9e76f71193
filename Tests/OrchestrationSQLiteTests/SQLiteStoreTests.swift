import Foundation
import GRDB
import Orchestration
import OrchestrationSQLite
import TestSupport
import Testing

@Suite("SQLite store")
struct SQLiteStoreTests {
    @Test("what was written survives closing and reopening the file; the file passes integrity_check")
    func reopen() async throws {
        let path = temporaryDatabasePath()
        do {
            let store = try SQLiteStore(path: path)
            try await store.createExecution(sampleRecord("kept"))
        }
        let again = try SQLiteStore(path: path, durability: .powerLoss)
        #expect(try await again.execution(id: "kept")?.execution.inputs == ["env": "prod"])
        #expect(try await again.integrityCheck() == ["ok"])
    }

    @Test("a file that is not SQLite, a foreign database and a newer schema are refused clearly")
    func badFiles() throws {
        let garbage = temporaryDatabasePath()
        try FileManager.default.createDirectory(atPath: (garbage as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(repeating: 0x42, count: 8192).write(to: URL(fileURLWithPath: garbage))
        #expect(throws: StoreError("\(garbage): not a NovaCron database (the file is not SQLite)")) {
            try SQLiteStore(path: garbage)
        }

        let foreign = temporaryDatabasePath()
        try FileManager.default.createDirectory(atPath: (foreign as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Self.sqlite(foreign, "CREATE TABLE customers (id INTEGER PRIMARY KEY); CREATE TABLE orders (id INTEGER PRIMARY KEY);")
        #expect(throws: StoreError("\(foreign): an SQLite database of another application (tables: customers, orders); give NovaCron its own file")) {
            try SQLiteStore(path: foreign)
        }

        let newer = temporaryDatabasePath()
        _ = try SQLiteStore(path: newer)
        try Self.sqlite(newer, "INSERT INTO grdb_migrations (identifier) VALUES ('v99: from the future');")
        #expect(
            throws: StoreError(
                "\(newer): written by a newer NovaCron (its schema has migrations this version does not know); upgrade NovaCron to use it")
        ) {
            try SQLiteStore(path: newer)
        }
    }

    @Test("a corrupted database (its pages overwritten, its header intact) is refused saying so, and the file is left as it was")
    func corrupted() async throws {
        let path = temporaryDatabasePath()
        let url = URL(fileURLWithPath: path)
        do {
            let store = try SQLiteStore(path: path)
            for i in 0..<200 { try await store.createExecution(sampleRecord("e\(i)")) }
        }
        // Every page after the first (the file header and the schema) overwritten with noise, as
        // a failing disk or a copy gone wrong would leave it.
        var rng = SplitMix64(seed: 20_261_204)
        var bytes = try Data(contentsOf: url)
        #expect(bytes.count > 16 * 4096, "the executions fill several pages")
        for i in 4096..<bytes.count { bytes[i] = UInt8(truncatingIfNeeded: rng.next()) }
        try bytes.write(to: url)
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }

        do {
            let store = try SQLiteStore(path: path)
            _ = try await store.executions(workflowID: nil, status: nil, limit: 1000)
            Issue.record("a corrupted database was opened and read without an error")
        } catch let error as StoreError {
            #expect(
                error.message
                    == "\(path): the database is corrupt (or the disk cannot read it: check the system log); restore a backup or move it aside")
        }
        #expect(try Data(contentsOf: url) == bytes, "opening the corrupted file changed it")
    }

    @Test("a database in a folder that cannot be created is a clear error")
    func unwritable() throws {
        let path = "/proc/novacron-cannot-exist/novacron.db"
        #expect(throws: StoreError.self) { try SQLiteStore(path: path) }
    }

    /// Runs SQL on the file outside the store, as another program would.
    static func sqlite(_ path: String, _ sql: String) throws {
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: sql) }
        try queue.close()
    }
}
