import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL server for the tests: `initdb` into a temporary folder and `pg_ctl start`
/// on a free loopback port (as the `postgres` user when the tests run as root, since PostgreSQL
/// refuses root), started once per test process and stopped when it exits. Each test takes a new,
/// empty database of its own (``database()``). `scripts/test` installs Debian's `postgresql`.
package actor TestPostgres {
    package static let shared = TestPostgres()

    /// A server of its own, for a test that restarts it (the shared one serves tests running beside it).
    package init() { PoolWatchdog.start() }

    struct Server {
        var folder: String
        var port: Int
        var bin: String
        var runAs: String?
    }

    /// Started once, by whichever test asks first; the others wait for the same start.
    private var server: Task<Server, any Error>?
    private var count = 0

    /// The URL of a new, empty database on the shared server.
    package func database() async throws -> String {
        let server = try await running()
        count += 1
        let name = "t\(getpid())_\(count)"
        try await Self.run(server, "createdb", ["-h", "127.0.0.1", "-p", "\(server.port)", "-U", "novacron", name])
        return "postgres://novacron@127.0.0.1:\(server.port)/\(name)?sslmode=disable"
    }

    /// The rows of `sql` in the database at `url`, one a line, read by `psql`: a reader we did not write.
    package static func psql(_ url: String, _ sql: String) async throws -> String {
        let finished = try await ExternalTool.run([try binaries() + "/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        guard finished.status == 0 else { throw Failure("psql \(sql) exited with \(finished.status): \(finished.output)") }
        return finished.output
    }

    /// The server's port, to restart it or reach it directly.
    package func port() async throws -> Int { try await running().port }

    /// Stops the server (fast: connections are closed), keeping its data and port.
    package func stop() async throws {
        let server = try await running()
        try await Self.run(server, "pg_ctl", ["-D", server.folder + "/data", "-m", "fast", "-w", "stop"])
    }

    /// Starts the server stopped by ``stop()`` again, on the same port.
    package func start() async throws {
        let server = try await running()
        let options = "-p \(server.port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=\(server.folder) -c max_connections=200"
        try await Self.run(server, "pg_ctl", ["-D", server.folder + "/data", "-o", options, "-l", server.folder + "/log", "-w", "-t", "60", "start"])
    }

    /// Stops the server and starts it again on the same port and data (the database restarting).
    package func restart() async throws {
        let server = try await running()
        try await Self.run(server, "pg_ctl", ["-D", server.folder + "/data", "-m", "fast", "-w", "restart", "-l", server.folder + "/log"])
    }

    private func running() async throws -> Server {
        if let server { return try await server.value }
        let starting = Task { try await Self.start() }
        server = starting
        return try await starting.value
    }

    private static func start() async throws -> Server {
        let bin = try Self.binaries()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-pg-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let runAs: String? = geteuid() == 0 ? "postgres" : nil
        if let runAs {
            guard let user = getpwnam(runAs) else {
                throw Failure(
                    "the tests run as root and PostgreSQL refuses root, but there is no '\(runAs)' user; scripts/test installs postgresql, which adds it"
                )
            }
            _ = chown(folder, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        var server = Server(folder: folder, port: 0, bin: bin, runAs: runAs)
        try await Self.run(server, "initdb", ["-D", folder + "/data", "-U", "novacron", "--auth=trust", "-E", "UTF8", "--no-instructions"])
        // PostgreSQL cannot take port 0: try free ports until one starts (another process may
        // take a port between our check and the server's bind).
        var lastError: (any Error)?
        for _ in 0..<10 {
            let port = try Self.freePort()
            server.port = port
            let options = "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=\(folder) -c max_connections=200"
            do {
                try await Self.run(server, "pg_ctl", ["-D", folder + "/data", "-o", options, "-l", folder + "/log", "-w", "-t", "60", "start"])
                TestPostgres.stopAtExit(folder: folder)
                return server
            } catch {
                lastError = error
            }
        }
        let log = (try? String(contentsOfFile: folder + "/log", encoding: .utf8)) ?? ""
        throw Failure("PostgreSQL did not start: \(lastError.map { "\($0)" } ?? "")\n\(log.suffix(2000))")
    }

    /// Runs one of PostgreSQL's programs (as the server's user when root), failing with its output.
    private static func run(_ server: Server, _ program: String, _ arguments: [String]) async throws {
        let path = server.bin + "/" + program
        let command = server.runAs.map { ["/usr/sbin/runuser", "-u", $0, "--", path] } ?? [path]
        // Foundation learns that a process ended when every copy of a descriptor it hands the
        // child is closed; the postmaster `pg_ctl start` leaves behind would keep one open for
        // ever, so the program runs with every descriptor above stderr closed (bash: dash takes one digit).
        let closeInherited = #"for fd in $(ls /proc/$$/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done; exec "$@""#
        let finished = try await ExternalTool.run(["/bin/bash", "-c", closeInherited, "bash"] + command + arguments, in: server.folder)
        guard finished.status == 0 else {
            throw Failure("\(program) \(arguments.joined(separator: " ")) exited with \(finished.status): \(finished.output.suffix(2000))")
        }
    }

    /// The folder of `initdb` and `pg_ctl`: Debian's newest /usr/lib/postgresql/N/bin, else PATH.
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        for version in versions.reversed() where FileManager.default.isExecutableFile(atPath: "\(root)/\(version)/bin/initdb") {
            return "\(root)/\(version)/bin"
        }
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
        where FileManager.default.isExecutableFile(atPath: "\(folder)/initdb") && FileManager.default.isExecutableFile(atPath: "\(folder)/pg_ctl") {
            return String(folder)
        }
        throw Failure("PostgreSQL's initdb and pg_ctl are missing; scripts/test installs Debian's postgresql")
    }

    static func freePort() throws -> Int {
        let reserved = try ListeningPort.Reserved()
        return reserved.port
    }

    private static let foldersToRemove = Mutex<[String]>([])

    /// At the test process's exit: stop the servers at once (SIGQUIT to the postmaster) and remove their folders.
    private static func stopAtExit(folder: String) {
        let first = foldersToRemove.withLock { folders in
            folders.append(folder)
            return folders.count == 1
        }
        guard first else { return }
        atexit {
            for folder in TestPostgres.foldersToRemove.withLock({ $0 }) {
                if let pidText = try? String(contentsOfFile: folder + "/data/postmaster.pid", encoding: .utf8),
                    let pid = Int32(pidText.split(separator: "\n").first ?? "")
                {
                    kill(pid, SIGQUIT)
                    for _ in 0..<100 where kill(pid, 0) == 0 { usleep(20_000) }
                }
                try? FileManager.default.removeItem(atPath: folder)
            }
        }
    }

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
        package init(_ description: String) { self.description = description }
    }
}
