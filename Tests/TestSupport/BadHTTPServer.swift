import Foundation
import Testing

/// Tests/Fixtures/faults/bad_http.py, for the length of `body`, which gets its base URL
/// (`http://127.0.0.1:PORT`); each path misbehaves its own way (see the script). With `log`,
/// the path of every request it read is appended to that file.
package func withBadHTTPServer<R>(log: String? = nil, _ body: (String) async throws -> R) async throws -> R {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", Repository.path("Tests/Fixtures/faults/bad_http.py")] + (log.map { [$0] } ?? [])
    let out = Pipe()
    process.standardOutput = out
    // Not the test process's own error stream: a child left running would hold it open.
    process.standardError = FileHandle.nullDevice
    try process.run()
    // SIGKILL: the test process blocks SIGTERM, and its children inherit the mask.
    defer { kill(process.processIdentifier, SIGKILL) }
    let line = await out.fileHandleForReading.nextLine()
    let port = try #require(Int(line.dropFirst("listening ".count)), "bad_http.py did not start: \(line.isEmpty ? "no output" : line)")
    return try await body("http://127.0.0.1:\(port)")
}
