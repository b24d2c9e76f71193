import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Programs named by a relative path")
struct RelativeProgramTests {
    @Test("args: [./tool] runs the tool in the step's working directory")
    func relativeToWorkingDirectory() async throws {
        let folder = try temporaryFolder()
        try "#!/bin/sh\necho ran in $(pwd)\n".write(toFile: folder + "/tool", atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder + "/tool")
        let (e, logs) = try await runReal(
            """
            name: relative
            steps:
              - {id: run, inputs: {args: [./tool], workingDirectory: '\(folder)'}}
            """)
        #expect(e.status == .completed, "\(e.stepResults["run"]?.error ?? "")")
        #expect(logs["run"]?.contains("ran in \(folder)") == true)
    }
}
