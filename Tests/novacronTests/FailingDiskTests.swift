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

    @Test(
        "reads failing with EIO under a running server: each request is answered (a 503 naming the I/O error, never a 500), /healthz answers throughout, and once the disk reads again nothing answered as started is lost and the file is sound"
    )
    func eioOnReads() async throws {
        let folder = try CLI.temporaryFolder()
        let db = folder + "/reads.db"
        let flag = folder + "/failing"
        try "name: quick\nsteps:\n  - {id: only, action: noop}\n".write(toFile: folder + "/quick.yaml", atomically: true, encoding: .utf8)
        let library = try await Self.shim(in: folder)
        // Every read of the database's files fails while the flag file exists.
        let (server, base) = try await CLI.serve(
            store: ["--db", db], token: "t0k",
            environment: ["LD_PRELOAD": library, "NOVACRON_FAULT_EIO_READS": "/reads.db", "NOVACRON_FAULT_EIO_READS_WHILE": flag])
        server.drainInBackground()
        defer { server.terminateWithoutWaiting() }
        let client = Process()
        client.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        client.arguments = ["python3", "-c", Self.readFaultClient, base, flag, folder + "/quick.yaml"]
        let output = String(decoding: try await client.runForOutput(), as: UTF8.self)
        #expect(client.terminationStatus == 0, "\(output)")
        struct Answer: Decodable {
            var what: String
            var status: Int
            var body: String
        }
        struct Report: Decodable {
            var during: [Answer]
            var after: [Answer]
            var started: [String]
            var listed: [String]
        }
        let report = try JSONDecoder().decode(Report.self, from: Data(output.utf8))
        let failed = report.during.filter { $0.status == 503 }
        #expect(!failed.isEmpty, "no request failed while reads failed: the fault did not reach the store\n\(output)")
        for answer in failed {
            // SQLite reports a read failing inside a B-tree as a malformed file, elsewhere as an I/O error.
            let named = ["\(db): I/O error while trying to ", "\(db): the database reads as corrupt while trying to "]
            #expect(named.contains { answer.body.contains("the store failed: " + $0) }, "a 503 that does not say what failed: \(answer.body)")
            #expect(!answer.body.contains("restore a backup or move it aside"), "a sound file called corrupt: \(answer.body)")
        }
        for answer in report.during where ![200, 201, 503].contains(answer.status) {
            Issue.record("\(answer.what) answered \(answer.status) while reads failed: \(answer.body)")
        }
        #expect(report.during.filter { $0.what == "healthz" }.allSatisfy { $0.status == 200 })
        #expect(report.after.allSatisfy { $0.status == 200 }, "\(report.after)")
        // Every start answered 201 is in the store once it reads again.
        #expect(Set(report.started).isSubset(of: Set(report.listed)), "started: \(report.started)\nlisted: \(report.listed)")
        #expect(server.process.isRunning, "the server stopped: \(server.seen)")
        server.terminateWithoutWaiting()
        server.process.waitUntilExit()
        #expect(try await CrashTests.integrity(db: db) == "ok")
    }

    /// Registers the workflow and runs one execution, then, with the flag file in place (reads
    /// failing), starts executions and lists and reads them; then removes the flag and lists again.
    static let readFaultClient = """
        import json, os, sys, time, urllib.request, urllib.error
        base, flag, workflow = sys.argv[1:4]
        def call(what, method, path, data=None, kind="application/json"):
            r = urllib.request.Request(base + path, data=data, method=method,
                headers={"Authorization": "Bearer t0k", "Content-Type": kind})
            try:
                with urllib.request.urlopen(r, timeout=30) as answer:
                    return {"what": what, "status": answer.status, "body": answer.read().decode()}
            except urllib.error.HTTPError as e:
                return {"what": what, "status": e.code, "body": e.read().decode()}
        assert call("register", "POST", "/api/v1/workflows", open(workflow, "rb").read(), "application/yaml")["status"] == 201
        first = json.loads(call("start", "POST", "/api/v1/workflows/quick/executions", b"{}")["body"])["id"]
        for _ in range(300):
            if json.loads(call("get", "GET", "/api/v1/executions/" + first)["body"])["status"] == "completed": break
            time.sleep(0.01)
        open(flag, "w").close()
        during, started = [], [first]
        for i in range(10):
            start = call("start", "POST", "/api/v1/workflows/quick/executions", b"{}")
            if start["status"] == 201: started.append(json.loads(start["body"])["id"])
            during += [start, call("list", "GET", "/api/v1/executions"), call("get", "GET", "/api/v1/executions/" + first),
                       call("healthz", "GET", "/healthz")]
        os.remove(flag)
        after = [call("list", "GET", "/api/v1/executions?limit=100"), call("get", "GET", "/api/v1/executions/" + first)]
        listed = [e["id"] for e in json.loads(after[0]["body"])["items"]] if after[0]["status"] == 200 else []
        print(json.dumps({"during": during, "after": after, "started": started, "listed": listed}))
        """
}
