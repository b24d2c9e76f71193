import Foundation
import Orchestration
import TestSupport
import Testing

/// Checks files with the independent `jsonschema` package (see scripts/check-schema.py).
enum SchemaChecker {
    static func verdicts(_ files: [String]) async throws -> [String: [String]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["python3", Repository.path("scripts/check-schema.py"), Repository.path("docs/workflow.schema.json")]
            + files.map(Repository.path)
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = environment["NOVACRON_PYTHONPATH"] ?? Repository.path(".tools/python")
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let (data, errors) = await OwnThread.run { () -> (Data, String) in
            let data = out.fileHandleForReading.readDataToEndOfFile()
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (data, errors)
        }
        guard process.terminationStatus == 0 else {
            throw CheckFailed(message: "check-schema.py exited \(process.terminationStatus): \(errors)")
        }
        let decoded = try JSONDecoder().decode([String: [String]].self, from: data)
        return Dictionary(uniqueKeysWithValues: decoded.map { (String($0.key.dropFirst(Repository.root.path.count + 1)), $0.value) })
    }

    struct CheckFailed: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

@Suite("Examples and fixtures")
struct ExampleAndFixtureTests {
    @Test("every file in Examples/ is valid for the decoder and for the JSON Schema")
    func examples() async throws {
        let files = try Repository.files(in: "Examples", withExtension: "yaml")
        #expect(files.count >= 9)
        for file in files {
            let source = try String(contentsOfFile: Repository.path(file), encoding: .utf8)
            #expect(throws: Never.self, "\(file)") { try WorkflowLoader.load(source: source, file: file) }
        }
        let verdicts = try await SchemaChecker.verdicts(files)
        for file in files {
            #expect(verdicts[file] == [], "\(file): \(verdicts[file] ?? ["not checked"])")
        }
    }

    @Test("every invalid fixture is rejected by the decoder with exactly the expected messages, and by the schema where it can tell")
    func fixtures() async throws {
        let files = try Repository.files(in: "Tests/Fixtures/invalid", withExtension: "yaml")
        #expect(files.count >= 10)
        let verdicts = try await SchemaChecker.verdicts(files)
        for file in files {
            let source = try String(contentsOfFile: Repository.path(file), encoding: .utf8)
            let header = source.split(separator: "\n").filter { $0.hasPrefix("# ") }
            let expected = header.filter { $0.hasPrefix("# expect: ") }.map { "\(file):" + $0.dropFirst("# expect: ".count) }
            #expect(!expected.isEmpty, "\(file) has no '# expect:' lines")
            var actual: [String] = []
            do {
                _ = try WorkflowLoader.load(source: source, file: file)
            } catch {
                actual = error.errors.map(\.description)
            }
            #expect(actual == expected, "\(file)")
            // Semantic problems (cycles, unknown steps) are beyond a JSON Schema; the header says which.
            let schemaRejects = header.contains("# schema: reject")
            #expect(schemaRejects == !(verdicts[file] ?? []).isEmpty, "\(file): schema said \(verdicts[file] ?? [])")
        }
    }
}
