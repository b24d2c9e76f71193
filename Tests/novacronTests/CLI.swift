import Foundation
import Synchronization
import TestSupport
import Testing
#if canImport(Glibc)
    import Glibc
#endif

/// Runs the real `novacron` binary built next to this test bundle.
enum CLI {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var binary: URL {
        if let explicit = ProcessInfo.processInfo.environment["NOVACRON_BIN"] { return URL(fileURLWithPath: explicit) }
        // The test runner lives in the build products folder, beside the executable.
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("novacron")
            if FileManager.default.isExecutableFile(atPath: candidate.path), !candidate.hasDirectoryPath { return candidate }
            folder = folder.deletingLastPathComponent()
        }
        return root.appendingPathComponent(".build/debug/novacron")
    }

    /// Seconds after which ``run(_:limitDataKiB:environment:stdin:)`` kills a command that hangs.
    static let hangLimit = 300.0

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// A new, empty store of `kind` (sqlite or postgres) as the options that name it, and where
    /// messages say it is (the URL without its query).
    static func store(_ kind: String) async throws -> (options: [String], location: String) {
        guard kind == "postgres" else {
            let db = try temporaryFolder() + "/x.db"
            return (["--db", db], db)
        }
        let url = try await TestPostgres.shared.database()
        return (["--database-url", url], String(url.prefix { $0 != "?" }))
    }

    /// `novacron serve` on a free port with one admin token; returns it and its URL once it listens.
    static func serve(db: String, token: String) async throws -> (Running, String) {
        try await serve(store: ["--db", db], token: token)
    }

    /// `novacron serve` on the store these options name.
    static func serve(store: [String], token: String, environment: [String: String] = [:]) async throws -> (Running, String) {
        let server = try Running(
            ["serve", "--port", "0"] + store, environment: environment.merging(["NOVACRON_API_TOKENS": "admin:\(token)"]) { _, new in new })
        guard await server.waitFor({ $0.contains("listening on 127.0.0.1:") && $0.hasSuffix("\n") }),
            let port = server.seen.components(separatedBy: "listening on 127.0.0.1:").last?.prefix(while: { $0.isNumber }), !port.isEmpty
        else {
            server.process.terminate()
            throw CLIError(message: "novacron serve did not start: \(server.seen)")
        }
        return (server, "http://127.0.0.1:\(port)")
    }

    struct CLIError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    /// A new empty folder under the temporary directory.
    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// The store the CLI uses in these tests (never the user's ~/.novacron).
    static let database = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-cli-\(UUID().uuidString)/novacron.db").path

    static var environment: [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["NOVACRON_DB"] = database
        // Leases long enough that a loaded CI machine's stalls do not hand executions to nodes these
        // tests do not start; tests of failover name their own (`--lease-duration`).
        env["NOVACRON_LEASE_DURATION"] = env["NOVACRON_LEASE_DURATION"] ?? "60s"
        return env
    }

    /// ``run(_:limitDataKiB:environment:stdin:)`` on a thread of its own, for async tests: waiting
    /// for a process must not hold one of the few threads the servers under test run on.
    static func running(_ arguments: [String], environment: [String: String] = CLI.environment) async throws -> Result {
        try await run(arguments, environment: environment)
    }

    /// `body` (which blocks: a process, a pipe) on a thread of its own.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    static func run(_ arguments: String..., limitDataKiB: Int? = nil) async throws -> Result {
        try await run(arguments, limitDataKiB: limitDataKiB)
    }

    /// Runs `novacron` with `arguments` to its end, waiting on a thread of its own: a test that
    /// waited on a thread of Swift's cooperative pool (two on a 2-core machine) stalled every
    /// server and test in the process while its command ran (seen in CI as unrelated HTTP tests
    /// timing out together, caught with gdb in `Process.waitUntilExit`).
    static func run(
        _ arguments: [String], limitDataKiB: Int? = nil, environment: [String: String] = CLI.environment, stdin: String? = nil
    ) async throws -> Result {
        try await offPool { try runBlocking(arguments, limitDataKiB: limitDataKiB, environment: environment, stdin: stdin) }
    }

    /// ``run(_:limitDataKiB:environment:stdin:)`` on the calling thread: for code already on a thread of its own.
    static func runBlocking(
        _ arguments: [String], limitDataKiB: Int? = nil, environment: [String: String] = CLI.environment, stdin: String? = nil
    ) throws -> Result {
        PoolWatchdog.start()
        let process = Process()
        if let stdin {
            // What a person would type, then the end of input.
            let input = Pipe()
            process.standardInput = input
            try input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try input.fileHandleForWriting.close()
        }
        process.environment = environment
        var arguments = arguments
        if arguments.first == "--as-nobody" {
            // As the unprivileged user 'nobody' (setpriv, from util-linux), for what root may always do.
            arguments.removeFirst()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", binary.path] + arguments
        } else if let limitDataKiB {
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "ulimit -d \(limitDataKiB) && exec \"$0\" \"$@\"", binary.path] + arguments
        } else {
            process.executableURL = binary
            process.arguments = arguments
        }
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A command that hangs fails its test instead of hanging the suite: no command a test
        // runs takes minutes, so one still running after `hangLimit` is killed and says so.
        let pid = process.processIdentifier
        let watchdog = DispatchWorkItem { kill(pid, SIGKILL) }
        DispatchQueue.global().asyncAfter(deadline: .now() + hangLimit, execute: watchdog)
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let errData = ReadAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        watchdog.cancel()
        var stderr = String(decoding: errData.wait(), as: UTF8.self)
        if process.terminationReason == .uncaughtSignal, process.terminationStatus == SIGKILL {
            stderr += "\n(test harness: novacron \(arguments.joined(separator: " ")) was killed after hanging for \(hangLimit) s)"
        }
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: stderr)
    }

    /// Everything written to the FIFO at `path`, `nil` when it cannot be opened; then `kill` is
    /// sent to `pid` when one is given, on the same thread the moment the writer closes (a hop
    /// back to a busy pool could land it seconds late). On a thread of its own: opening a FIFO
    /// blocks until a writer opens it, and reading until the writer closes it.
    static func readFIFO(_ path: String, thenKill pid: Int32? = nil) async throws -> String? {
        try await offPool {
            let text = FileHandle(forReadingAtPath: path).map { String(decoding: $0.readDataToEndOfFile(), as: UTF8.self) }
            if let pid { kill(pid, SIGKILL) }
            return text
        }
    }

    /// A `novacron` process started in the background, whose output a test reads as it comes:
    /// the way to wait for an event ("step x started") before acting on the process.
    final class Running: @unchecked Sendable {  // used by one task at a time
        let process = Process()
        private let out = Pipe()
        private var output = ""
        private let hung = Atomic<Bool>(false)

        /// Everything read from the process so far, and whether the test killed it for hanging.
        var seen: String { output + (hung.load(ordering: .relaxed) ? "\n[killed by the test: still running after \(Int(CLI.hangLimit)) s]" : "") }

        init(_ arguments: [String], environment extra: [String: String] = [:]) throws {
            process.executableURL = CLI.binary
            process.arguments = arguments
            process.environment = CLI.environment.merging(extra) { _, new in new }
            process.currentDirectoryURL = CLI.root
            process.standardOutput = out
            // Standard error too (the server logs there), on the same pipe.
            process.standardError = out
            try process.run()
            // A process that never ends (a wait nothing will end) fails its test instead of
            // holding the whole run until its time limit: reads and waits on it end here.
            // Weakly: a test done with the process releases it (and its pipe) at once.
            DispatchQueue.global().asyncAfter(deadline: .now() + CLI.hangLimit) { [weak self] in
                guard let self, process.isRunning else { return }
                hung.store(true, ordering: .relaxed)
                kill(process.processIdentifier, SIGKILL)
            }
        }

        /// ``read(until:)`` on a thread of its own, for async tests (see ``CLI/run(_:limitDataKiB:environment:stdin:)``).
        @discardableResult
        func waitFor(_ predicate: @escaping @Sendable (String) -> Bool) async -> Bool {
            (try? await CLI.offPool { self.read(until: predicate) }) ?? false
        }

        /// ``finish()`` on a thread of its own, for async tests.
        func ended() async -> Int32 {
            (try? await CLI.offPool { self.finish() }) ?? -1
        }

        /// Reads output until `predicate` holds for all of it so far, or the output ends.
        @discardableResult
        func read(until predicate: (String) -> Bool) -> Bool {
            while !predicate(output) {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                output += String(decoding: chunk, as: UTF8.self)
            }
            return true
        }

        private var drained: ReadAll?

        /// Reads the rest of the output on a thread of its own, so a long-running process never
        /// blocks on a full pipe (call ``finish()`` no more).
        func drainInBackground() { drained = ReadAll(out.fileHandleForReading) }

        /// Everything the process wrote, once it has exited (after ``drainInBackground()``).
        func drainedOutput() -> String {
            process.waitUntilExit()
            return output + String(decoding: drained?.wait() ?? Data(), as: UTF8.self)
        }

        /// Asks the process to stop (SIGTERM) and goes on without waiting for it, for a `defer`,
        /// which cannot await ``ended()``. The rest of its output is read on a thread of its own,
        /// so a full pipe cannot keep it from stopping.
        func terminateWithoutWaiting() {
            if process.isRunning { process.terminate() }
            if drained == nil { drainInBackground() }
        }

        /// Reads the rest of the output and waits for the exit status.
        func finish() -> Int32 {
            output += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return process.terminationStatus
        }

        /// The id in "execution ID of … started".
        var executionID: String? {
            output.split(separator: " ").drop { $0 != "execution" }.dropFirst().first.map(String.init)
        }
    }

    /// Reads a pipe to its end on a thread of its own.
    final class ReadAll: @unchecked Sendable {
        private var data = Data()
        private let done = DispatchSemaphore(value: 0)
        init(_ handle: FileHandle) {
            Thread.detachNewThread { [self] in
                data = handle.readDataToEndOfFile()
                done.signal()
            }
        }
        func wait() -> Data {
            done.wait()
            return data
        }
    }
}
