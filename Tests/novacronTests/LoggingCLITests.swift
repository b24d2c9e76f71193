import Foundation
import Testing

/// `--log-level`, `--log-format`, `--log-file` on `novacron run`: the guide's troubleshooting
/// greps an execution id in the log.
@Suite("novacron run --log-file")
struct LoggingCLITests {
    @Test("a JSON log: one object a line, every lifecycle event with the execution id, the failure at error, the secret never")
    func jsonLog() async throws {
        let folder = try CLI.temporaryFolder()
        let file = folder + "/w.yaml", log = folder + "/novacron.log"
        try """
        name: logged
        steps:
          - {id: prepare, inputs: {command: 'true'}}
          - {id: call, type: api, dependencies: [prepare], inputs: {url: 'http://127.0.0.1:1/hook?token=${secrets.TOKEN}'}, timeout: 10s}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        var environment = CLI.environment
        environment["NOVACRON_SECRET_TOKEN"] = "s3cr3t-token-value"
        let run = try await CLI.run(
            ["run", file, "--log-file", log, "--log-format", "json", "--log-level", "debug", "-o", "json"], environment: environment)
        #expect(run.status == 1)
        let id = try #require((try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])?["id"] as? String)
        let text = try String(contentsOfFile: log, encoding: .utf8)
        #expect(!text.contains("s3cr3t"), "\(text)")
        let lines = try text.split(separator: "\n").map { try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String]) }
        let mine = lines.filter { $0["execution"] == id }
        #expect(
            mine.map { $0["message"] ?? "" }.filter { $0 != "step scheduled" } == [
                "execution started", "step started", "step success", "step started", "step failed", "execution failed",
            ])
        let failed = try #require(mine.first { $0["message"] == "step failed" })
        #expect(failed["level"] == "error" && failed["step"] == "call" && failed["error"]?.contains("token=***") == true, "\(failed)")
        // Appended, not replaced: a second run adds its lines.
        _ = try await CLI.run(["run", file, "--log-file", log, "--log-level", "warning"], environment: environment)
        #expect(try String(contentsOfFile: log, encoding: .utf8).hasPrefix(text))
        // Without a log option, run logs nothing; a bad level is refused.
        let quiet = try await CLI.run(["run", file], environment: environment)
        #expect(!quiet.stderr.contains("execution started"))
        let bad = try await CLI.run(["run", file, "--log-level", "loud"], environment: environment)
        #expect(bad.status == 2 && bad.stderr.contains("logLevel: 'loud' is not one of trace, debug, info"), "\(bad.stderr)")
    }
}
