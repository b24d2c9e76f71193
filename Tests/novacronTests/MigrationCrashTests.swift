import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// SIGKILL while a process creates a new store and migrates it: the next process opens what is
/// left, finishes the migration and runs on it.
@Suite("SIGKILL during a migration")
struct MigrationCrashTests {
    /// How many migrations the store has recorded; `nil` before it records any.
    static func applied(_ kind: String, _ store: [String]) async -> Int? {
        let count =
            kind == "postgres"
            ? try? await TestPostgres.psql(store[1], "SELECT count(*) FROM novacron_migration")
            : try? await CrashTests.sqlite(store[1], "SELECT count(*) FROM grdb_migrations")
        return count.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// How far the migration of the store got: no store yet, some migrations, or all of them.
    static func stage(_ kind: String, _ store: [String], of all: Int) async -> String {
        if kind == "sqlite", !FileManager.default.fileExists(atPath: store[1]) { return "no store yet" }
        guard let count = await applied(kind, store) else { return "no migration recorded" }
        return count == all ? "migrated" : "\(count) of \(all) migrations"
    }

    /// Waits until the process has begun migrating `store`; false when it ended first.
    static func migrationBegun(_ kind: String, _ store: [String], _ process: Process) async throws -> Bool {
        while process.isRunning {
            if kind == "sqlite" {
                if FileManager.default.fileExists(atPath: store[1]) { return true }
                try await Task.sleep(for: .microseconds(200))
            } else {
                let held = try await TestPostgres.psql(
                    store[1],
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                )
                if held.trimmingCharacters(in: .whitespacesAndNewlines) != "0" { return true }
            }
        }
        return false
    }

    @Test(
        "a process killed with SIGKILL at a random moment while it creates and migrates a new store leaves one the next process opens and runs a workflow on",
        arguments: ["sqlite", "postgres"])
    func killWhileMigrating(kind: String) async throws {
        // How many migrations a complete store has, read off one made without a kill.
        let (reference, _) = try await CLI.store(kind)
        #expect(try await CLI.running(["executions", "list"] + reference).status == 0)
        let all = try #require(await Self.applied(kind, reference))

        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        var landed: [String: Int] = [:]
        for round in 0..<12 {
            let (store, _) = try await CLI.store(kind)
            let running = try await CLI.offPool { try CLI.Running(["executions", "list"] + store) }
            // Once the migration has begun (the SQLite file exists; the PostgreSQL session holds
            // the migration lock), a random moment within the next 40 ms: a debug build migrates
            // in about that.
            let begun = try await Self.migrationBegun(kind, store, running.process)
            let delay = UInt32.random(in: 0...40_000, using: &rng)
            let killed = try await CLI.offPool { () -> Bool in
                usleep(delay)
                kill(running.process.processIdentifier, SIGKILL)
                _ = running.finish()
                return running.process.terminationReason == .uncaughtSignal
            }
            let stage = !begun ? "ended before the migration was seen" : killed ? await Self.stage(kind, store, of: all) : "ended before the kill"
            landed[stage, default: 0] += 1
            let run = try await CLI.running(["run", "Examples/hello.yaml", "-o", "json"] + store)
            #expect(run.status == 0, "seed \(seed), round \(round), killed at \(stage): \(run.stderr)")
            #expect(await Self.stage(kind, store, of: all) == "migrated", "seed \(seed), round \(round)")
            if kind == "sqlite" {
                #expect(try await CrashTests.sqlite(store[1], "PRAGMA integrity_check").trimmingCharacters(in: .whitespacesAndNewlines) == "ok")
            }
        }
        let report = landed.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
        FileHandle.standardError.write(Data("\(kind): kills landed at: \(report) (seed \(seed))\n".utf8))
        // Kills landed inside the migration, or the test exercised nothing.
        #expect(landed.keys.contains { $0.contains(" of ") || $0 == "no migration recorded" }, "\(report) (seed \(seed))")
    }
}
