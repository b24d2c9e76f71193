import Foundation
import Orchestration
import TestSupport

/// The loopback OTLP receiver (Tests/Fixtures/otel/otlp_receiver.py): a Python HTTP server that
/// decodes what it is sent with the official opentelemetry-proto package and writes each span
/// to a file; requests to other paths are written with their headers.
final class OTLPReceiver: @unchecked Sendable {  // used by one test at a time
    let process = Process()
    let file: String
    let port: Int

    var endpoint: String { "http://127.0.0.1:\(port)" }

    /// One span as the receiver decoded it.
    struct Span: Decodable, CustomStringConvertible {
        var wire: String
        var service: String?
        var traceID: String
        var spanID: String
        var parentSpanID: String
        var name: String
        var kind: String
        var start: UInt64
        var end: UInt64
        var attributes: [String: JSONValue]
        var status: String
        var statusMessage: String

        var description: String { "\(name) \(traceID)/\(spanID)<-\(parentSpanID) \(status) \(attributes)" }
        func text(_ key: String) -> String? { attributes[key]?.text }
    }

    init(folder: String) async throws {
        file = folder + "/spans.jsonl"
        FileManager.default.createFile(atPath: file, contents: nil)
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Repository.path("Tests/Fixtures/otel/otlp_receiver.py"), file]
        process.environment = ExternalTool.pythonEnvironment
        process.standardOutput = out
        try process.run()
        let line = await out.fileHandleForReading.nextLine()
        guard line.hasPrefix("listening "), let port = Int(line.dropFirst("listening ".count)) else {
            process.terminate()
            throw CLI.CLIError(
                message:
                    "the OTLP receiver did not start (\(line.isEmpty ? "no output" : line)): scripts/test installs opentelemetry-proto into .tools/python"
            )
        }
        self.port = port
    }

    deinit { stop() }

    /// Asks the receiver to stop (it dies at once on SIGTERM) without waiting for it: this runs in
    /// `defer` and `deinit`, which cannot await.
    func stop() {
        if process.isRunning { process.terminate() }
    }

    /// Every line written so far, parsed.
    func records() throws -> [[String: Any]] {
        try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:]
        }
    }

    /// The spans received so far; throws when an export did not decode.
    func spans() throws -> [Span] {
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        if let bad = lines.first(where: { $0.contains("\"error\"") }) { throw CLI.CLIError(message: "an export did not decode: \(bad)") }
        return try lines.filter { $0.contains("\"spanID\"") }.map { try JSONDecoder().decode(Span.self, from: Data($0.utf8)) }
    }
}
