import ArgumentParser
import Foundation
import Orchestration
import OrchestrationPostgres
import OrchestrationSQLite

/// `--db PATH | --database-url URL | --memory` and `--durability`, shared by the commands that
/// touch executions.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The execution store, an SQLite file (default $NOVACRON_DB, else ~/.novacron/novacron.db).", valueName: "path"))
    var db: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The store on PostgreSQL instead, postgres://user@host:5432/database (default $NOVACRON_DATABASE_URL; password also from PGPASSWORD).",
            valueName: "url"))
    var databaseURL: String?

    @Flag(name: .long, help: "Keep executions in memory only: nothing is saved, nothing can be resumed.")
    var memory = false

    @Option(name: .long, help: "processCrash (survives the process being killed; default) or powerLoss (fsync on every commit). SQLite only.")
    var durability: SQLiteStore.Durability = .processCrash

    func validate() throws {
        if db != nil && memory { throw ValidationError("--db and --memory exclude each other") }
        if databaseURL != nil && (db != nil || memory) { throw ValidationError("--database-url excludes \(memory ? "--memory" : "--db")") }
    }

    /// The PostgreSQL database these options name: `--database-url`, else `NOVACRON_DATABASE_URL`
    /// unless `--db` or `--memory` chose another store.
    var postgresURL: String? {
        if let databaseURL { return databaseURL }
        guard db == nil, !memory, let env = ProcessInfo.processInfo.environment["NOVACRON_DATABASE_URL"], !env.isEmpty else { return nil }
        return env
    }

    /// How long this process holds an execution on PostgreSQL without renewing it:
    /// `NOVACRON_LEASE_DURATION` (as `serve` reads it), else 5 s.
    static func leaseDuration() throws(StoreError) -> Duration {
        guard let text = ProcessInfo.processInfo.environment["NOVACRON_LEASE_DURATION"], !text.isEmpty else { return .seconds(5) }
        do { return try DurationText.parse(text, named: "NOVACRON_LEASE_DURATION", within: .seconds(1) ... .seconds(3600)) } catch {
            throw StoreError(error.message)
        }
    }

    /// The SQLite database path these options name.
    var path: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["NOVACRON_DB"], !env.isEmpty { return env }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".novacron/novacron.db").path
    }

    /// Where the store is, for messages: the SQLite path, or the database URL without its password.
    var location: String {
        guard let url = postgresURL else { return path }
        return (try? PostgresStore.redacted(url)) ?? "the PostgreSQL database"
    }

    /// The store, or `nil` with `--memory`; exits 2 with the store's message when it cannot open.
    /// `role` names this process among a cluster's nodes (`novacron cluster status`).
    func open(role: String = "client") async throws -> (any Store)? {
        guard !memory else { return nil }
        do {
            if let url = postgresURL { return try await PostgresStore(url: url, leaseDuration: try Self.leaseDuration(), role: role) }
            return try SQLiteStore(path: path, durability: durability)
        } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }

    /// The store for commands that only read or manage saved executions.
    func openExisting() async throws -> any Store {
        guard !memory else { throw ValidationError("--memory keeps nothing to look at; use --db or --database-url") }
        guard let store = try await open() else { throw ExitStatus.invalidInput }
        return store
    }

    /// The same store as options for another command (`executions resume` runs `run --resume`).
    var arguments: [String] {
        if let databaseURL { return ["--database-url", databaseURL] }
        return (db.map { ["--db", $0] } ?? []) + (memory ? ["--memory"] : []) + ["--durability", durability.rawValue]
    }
}

extension SQLiteStore.Durability: ExpressibleByArgument {}
