import ArgumentParser
import Foundation
import Orchestration
import OrchestrationSQLite

/// `--db PATH | --memory` and `--durability`, shared by the commands that touch executions.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The execution store, an SQLite file (default $NOVACRON_DB, else ~/.novacron/novacron.db).", valueName: "path"))
    var db: String?

    @Flag(name: .long, help: "Keep executions in memory only: nothing is saved, nothing can be resumed.")
    var memory = false

    @Option(name: .long, help: "processCrash (survives the process being killed; default) or powerLoss (fsync on every commit).")
    var durability: SQLiteStore.Durability = .processCrash

    func validate() throws {
        if db != nil && memory { throw ValidationError("--db and --memory exclude each other") }
    }

    /// The database path these options name.
    var path: String {
        if let db { return db }
        if let env = ProcessInfo.processInfo.environment["NOVACRON_DB"], !env.isEmpty { return env }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".novacron/novacron.db").path
    }

    /// The store, or `nil` with `--memory`; exits 2 with the store's message when it cannot open.
    func open() throws -> SQLiteStore? {
        guard !memory else { return nil }
        do { return try SQLiteStore(path: path, durability: durability) } catch {
            Console.err("error: \(error.message)")
            throw ExitStatus.invalidInput
        }
    }

    /// The store for commands that only read or manage saved executions.
    func openExisting() throws -> SQLiteStore {
        guard !memory else { throw ValidationError("--memory keeps nothing to look at; use --db") }
        guard let store = try open() else { throw ExitStatus.invalidInput }
        return store
    }
}

extension SQLiteStore.Durability: ExpressibleByArgument {}
