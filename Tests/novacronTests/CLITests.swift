import Foundation
import Testing

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

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: String...) throws -> Result {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = root
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes to the end before waiting, so a full pipe cannot block the child.
        let errData = ReadAll(err.fileHandleForReading)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.wait(), as: UTF8.self))
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

@Suite("novacron command line")
struct CLITests {
    @Test("validate: exit 0 for valid files, 2 with FILE:LINE:COL errors on stderr for invalid ones")
    func validate() throws {
        let ok = try CLI.run("validate", "Examples/hello.yaml", "Examples/data-pipeline.yaml")
        #expect(ok.status == 0)
        #expect(ok.stdout == "Examples/hello.yaml: valid (2 steps)\nExamples/data-pipeline.yaml: valid (5 steps)\n")

        let bad = try CLI.run("validate", "Examples/hello.yaml", "Tests/Fixtures/invalid/cycle.yaml", "Tests/Fixtures/invalid/bad-duration.yaml")
        #expect(bad.status == 2)
        #expect(bad.stderr == """
            Tests/Fixtures/invalid/cycle.yaml:7:20: error: steps[0].dependencies[0]: dependency cycle: a -> b -> c -> a; each step waits for the one before it
            Tests/Fixtures/invalid/bad-duration.yaml:7:16: error: steps[0].timeout: invalid duration '10 minutes': durations are written without spaces, e.g. '10m' or '1h30m'
            Tests/Fixtures/invalid/bad-duration.yaml:8:25: error: steps[0].estimatedDuration: invalid duration '5mins': unknown unit 'mins'; units are ns, us, ms, s, m, h, d
            2 of 3 files invalid

            """)
        let missing = try CLI.run("validate", "no/such.yaml")
        #expect(missing.status == 2)
        #expect(missing.stderr.hasPrefix("no/such.yaml:1:1: error: no such file\n"))
    }

    @Test("plan: the data pipeline's transforms run as one parallel stage, score 5/3")
    func planText() throws {
        let result = try CLI.run("plan", "Examples/data-pipeline.yaml")
        #expect(result.status == 0)
        #expect(result.stdout.contains("  2. transform-db1, transform-db2, transform-api   (parallel)\n"))
        #expect(result.stdout.contains("Estimated duration: 3s (serial 5s)\n"))
        #expect(result.stdout.contains("Optimization score: 1.67"))
        #expect(result.stdout.contains("Critical path: extract -> transform-db1 -> load (3s)"))
    }

    @Test("plan --output json|dot|mermaid, and warnings for steps without timeouts")
    func planFormats() throws {
        let json = try CLI.run("plan", "Examples/data-pipeline.yaml", "--output", "json")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["serialSeconds"] as? Double == 5)
        #expect(object?["estimatedSeconds"] as? Double == 3)
        #expect((object?["stages"] as? [[String: Any]])?[1]["parallel"] as? Bool == true)

        let dot = try CLI.run("plan", "Examples/parallel-build.yaml", "-o", "dot")
        #expect(dot.stdout.hasPrefix("digraph \"parallel-build\" {"))
        #expect(dot.stdout.contains(#""prepare" -> "link" [style=dashed, label="redundant"];"#))
        let mermaid = try CLI.run("plan", "Examples/data-pipeline.yaml", "-o", "mermaid")
        #expect(mermaid.stdout.hasPrefix("flowchart LR\n"))

        let file = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-notimeout-\(UUID()).yaml")
        try "name: nt\nsteps:\n  - id: a\n  - id: b\n    dependencies: [a]\n".write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let warned = try CLI.run("plan", file.path)
        #expect(warned.status == 0)
        #expect(warned.stdout.contains("Warnings:\n  \(file.path):3:5: warning: steps[0]: 2 steps without a timeout: 'a', 'b'; nothing stops them if they hang"))

        let invalid = try CLI.run("plan", "Tests/Fixtures/invalid/unknown-dependency.yaml")
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("unknown-dependency.yaml:10:20: error: steps[1].dependencies[0]: unknown step 'biuld'; did you mean 'build'?"))
    }
}
