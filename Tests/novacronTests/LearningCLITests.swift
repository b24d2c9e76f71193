import Foundation
import Testing

@Suite("CLI: patterns, suggest, simulate")
struct LearningCLITests {
    @Test("patterns says how many runs are missing, then shows what run recorded; suggest lists and applies; the applied one is gone")
    func patternsAndSuggest() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/l.db"
        let file = folder + "/w.yaml"
        // `flaky` fails every fourth run (a counter file), with a message that varies.
        try """
        name: nightly
        steps:
          - {id: fetch, timeout: 10s, inputs: {command: "echo fetched"}}
          - {id: flaky, dependencies: [fetch], timeout: 10s, inputs: {command: "n=$(($(cat \(folder)/n 2>/dev/null || echo 0) + 1)); echo $n > \(folder)/n; if [ $((n % 4)) = 0 ]; then echo \\"reset after $n ms\\" >&2; exit 1; fi"}}
          - {id: ship, dependencies: [flaky, fetch], timeout: 10s, inputs: {command: "echo shipped"}}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        for i in 1...12 {
            _ = try await CLI.run("run", file, "--db", db)
            if i == 3 {
                let early = try await CLI.run("patterns", "nightly", "--db", db)
                #expect(early.stdout.contains("nightly: 3 executions; a pattern needs 10 (7 more)"), "\(early.stdout)\(early.stderr)")
            }
        }
        let patterns = try await CLI.run("patterns", "nightly", "--db", db)
        #expect(patterns.status == 0, "\(patterns.stderr)")
        #expect(patterns.stdout.contains("nightly: 12 executions, 75.0% succeeded"), "\(patterns.stdout)")
        // "exit code 1" from every failure: one cluster.
        #expect(patterns.stdout.contains("Common failures:\n  3× exit code <n> [flaky]"), "\(patterns.stdout)")
        let json = try await CLI.run("patterns", "nightly", "--db", db, "-o", "json")
        let pattern = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(pattern["executions"] as? Int == 12)

        let suggestions = try await CLI.run("suggest", "nightly", "--db", db)
        #expect(suggestions.stdout.contains("remove-dependency/ship:fetch  [low] confidence 1.00"), "\(suggestions.stdout)")
        #expect(suggestions.stdout.contains("add-retries/flaky"), "\(suggestions.stdout)")
        let applied = try await CLI.run("suggest", "nightly", "--apply", "remove-dependency/ship:fetch", "--db", db)
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.hasPrefix("applied remove-dependency/ship:fetch: nightly is now version "), "\(applied.stdout)")
        let again = try await CLI.run("suggest", "nightly", "--apply", "remove-dependency/ship:fetch", "--db", db)
        #expect(again.status == 2)
        #expect(again.stderr.contains("no suggestion 'remove-dependency/ship:fetch'"), "\(again.stderr)")
        #expect(try await CLI.run("patterns", "nope", "--db", db).status == 2)
    }

    @Test("simulate runs a workflow on virtual time with a model, or with what the store learned, and reports makespans and suggestions")
    func simulate() async throws {
        let folder = try CLI.temporaryFolder()
        let file = folder + "/w.yaml", model = folder + "/m.yaml"
        try """
        name: sim
        steps:
          - {id: build, timeout: 1m, estimatedDuration: 45s}
          - {id: test, dependencies: [build], timeout: 10m, estimatedDuration: 1m}
        """.write(toFile: file, atomically: true, encoding: .utf8)
        try """
        steps:
          build: {duration: {median: 45s, p95: 70s}}
          test: {duration: 1m, failureRate: 0.1, error: "flaky db"}
        """.write(toFile: model, atomically: true, encoding: .utf8)
        let result = try await CLI.run("simulate", file, "--model", model, "--runs", "300")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("300 runs of sim in"), "\(result.stdout)")
        #expect(result.stdout.contains("makespan: mean"), "\(result.stdout)")
        #expect(result.stdout.contains("raise-timeout/build"), "\(result.stdout)")
        let json = try await CLI.run("simulate", file, "--model", model, "--runs", "50", "-o", "json", "--seed", "3")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(report["runs"] as? Int == 50)
        // Bad model: the place and the problem, exit 2.
        try "steps:\n  build: {failureRate: 7}\n".write(toFile: model, atomically: true, encoding: .utf8)
        let bad = try await CLI.run("simulate", file, "--model", model)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("m.yaml:2:3 step build.failureRate: a probability from 0 to 1"), "\(bad.stderr)")
        // Without a model and without history: says what to do.
        let none = try await CLI.run("simulate", file, "--db", folder + "/empty.db")
        #expect(none.status == 2)
        #expect(none.stderr.contains("give --model FILE"), "\(none.stderr)")
    }
}
