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
        let file = folder + "/quiet.yaml", db = folder + "/t.db", requests = folder + "/requests"
        try "name: quiet\nsteps:\n  - {id: only, inputs: {command: 'echo done'}}\n".write(toFile: file, atomically: true, encoding: .utf8)
        try await withBadHTTPServer(log: requests) { base in
            // bad_http.py's `/silent` reads the export and never answers it.
            let run = try await CLI.running(
                ["run", file, "--db", db],
                environment: CLI.environment.merging(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": base + "/silent"]) { _, new in new })
            #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        }
        let listed = try await CLI.running(["executions", "list", "--db", db, "-o", "json"])
        #expect(listed.stdout.contains("\"completed\""), "\(listed.stdout)\(listed.stderr)")
        let paths = (try? String(contentsOfFile: requests, encoding: .utf8)) ?? ""
        #expect(paths.split(separator: "\n").contains("/silent"), "the exporter never sent its spans to the collector: \(paths)")
    }
}
