import Foundation
import TestSupport
import Testing

/// SQLite's writes failing with EIO mid-run (a failing disk), through an LD_PRELOAD shim built
/// from Tests/Fixtures/faults/eio_after.c with the toolchain's clang.
@Suite("A failing disk under the SQLite store")
struct FailingDiskTests {
    /// Builds the shim into `folder`; fails saying what is missing when clang cannot.
    static func shim(in folder: String) async throws -> String {
        let library = folder + "/eio_after.so"
        let clang = Process()
        clang.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        clang.arguments = ["clang", "-shared", "-fPIC", "-O2", "-o", library, "Tests/Fixtures/faults/eio_after.c", "-ldl"]
        let output = String(decoding: try await clang.runForOutput(), as: UTF8.self)
        try #require(clang.terminationStatus == 0, "building the EIO shim needs clang (the Swift toolchain's): \(output)")
        return library
    }

    @Test(
        "writes failing with EIO mid-run: the run fails clearly, no step starts after its start could not be saved, the file stays sound, and resume finishes it"
    )
    func eioMidRun() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/x.db"
        #expect(try await CLI.run("run", "Examples/hello.yaml", "--db", db).status == 0)
        var yaml = "name: steady\nsteps:\n"
        for i in 0..<30 { yaml += "  - {id: s\(i), inputs: {command: 'echo step \(i)'}\(i > 0 ? ", dependencies: [s\(i - 1)]" : "")}\n" }
        try yaml.write(toFile: folder + "/steady.yaml", atomically: true, encoding: .utf8)
        let library = try await Self.shim(in: folder)

        // Every write to the write-ahead log fails from the 40th on: a few steps in.
        let process = Process()
        process.executableURL = CLI.binary
        process.arguments = ["run", folder + "/steady.yaml", "--db", db]
        process.environment = CLI.environment.merging(["LD_PRELOAD": library, "NOVACRON_FAULT_EIO_AFTER": "40"]) { _, new in new }
        process.standardError = FileHandle.nullDevice
        let text = String(decoding: try await process.runForOutput(), as: UTF8.self)
        #expect(process.terminationStatus == 1)
        #expect(text.contains("error: the store failed: \(db): I/O error while trying to save"), "\(text)")
        #expect(!text.contains("steady completed"))
        // A start decided before the failure but not saved is not carried out: nothing runs unrecorded.
        let lines = text.split(separator: "\n")
        let failed = try #require(lines.firstIndex { $0.contains("the store failed") }, "\(text)")
        let startedAfter = lines[failed...].filter { $0.contains(" step ") && $0.hasSuffix(" started") }
        #expect(startedAfter.isEmpty, "steps started after the store failed:\n\(startedAfter.joined(separator: "\n"))")

        // The disk works again: what was saved is intact, the file is sound, and the execution
        // (still running as far as the file knows) is carried on to its end.
        #expect(try await CrashTests.integrity(db: db) == "ok")
        let list = try await CLI.run("executions", "list", "--db", db)
        #expect(list.stdout.contains("hello     completed"))
        let id = try #require(
            list.stdout.split(separator: "\n").first { $0.contains("steady") }.map { String($0.prefix { $0 != " " }) }, "\(list.stdout)")
        #expect(list.stdout.contains("\(id)  steady    running"), "\(list.stdout)")
        let resumed = try await CLI.run("executions", "resume", id, "--db", db)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("steady completed"), "\(resumed.stdout)")
        #expect(try await CrashTests.integrity(db: db) == "ok")
    }
}
