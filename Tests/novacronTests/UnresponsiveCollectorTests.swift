import Foundation
import TestSupport
import Testing

/// A trace collector that takes the connection and never answers (docs/observability.md).
@Suite("Traces to a collector that does not answer")
struct UnresponsiveCollectorTests {
    @Test("novacron run is not held by it: the workflow completes, the run exits 0, and the exporter did try the collector")
    func runIsNotHeld() async throws {
        let folder = try CLI.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let hole = try await SilentCollector(folder: folder)
        defer { hole.stop() }
        let file = folder + "/quiet.yaml"
        try "name: quiet\nsteps:\n  - {id: only, inputs: {command: 'echo done'}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        let db = folder + "/t.db"
        let run = try await CLI.running(
            ["run", file, "--db", db], environment: CLI.environment.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": hole.endpoint]) { _, new in new })
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        let listed = try await CLI.running(["executions", "list", "--db", db, "-o", "json"])
        #expect(listed.stdout.contains("\"completed\""), "\(listed.stdout)\(listed.stderr)")
        #expect(try hole.connections() > 0, "the exporter never connected to the collector")
    }
}

/// A TCP server on 127.0.0.1 that accepts every connection, reads what comes, and never answers;
/// it counts the connections in a file.
final class SilentCollector: Sendable {
    let process = Process()
    let port: Int
    let file: String
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(folder: String) async throws {
        file = folder + "/connections"
        FileManager.default.createFile(atPath: file, contents: nil)
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import signal, socket, sys, threading
            # The test process may ignore or block SIGTERM, and both last across exec.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
            s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
            print("listening", s.getsockname()[1], flush=True)
            held = []
            def drain(c):
                while c.recv(65536): pass
            while True:
                c, _ = s.accept(); held.append(c)
                open(sys.argv[1], "a").write("accepted\\n")
                threading.Thread(target=drain, args=(c,), daemon=True).start()
            """,
            file,
        ]
        process.standardOutput = out
        // Not the test process's own error stream: a child left running would hold it open.
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = await out.fileHandleForReading.nextLine()
        guard line.hasPrefix("listening "), let port = Int(line.dropFirst("listening ".count)) else {
            process.terminate()
            throw CLI.CLIError(message: "the silent collector did not start: \(line.isEmpty ? "no output (python3 missing?)" : line)")
        }
        self.port = port
    }

    deinit { stop() }

    func stop() {
        if process.isRunning { process.terminate() }
    }

    /// How many connections it accepted so far.
    func connections() throws -> Int {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").count
    }
}
