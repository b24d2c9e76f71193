import Foundation

/// Runs a program the tests need beside the code (Python validators, schemathesis, Chromium's
/// driver) without blocking a thread of the concurrency pool: the server under test runs in this
/// same process.
package enum ExternalTool {
    package struct Finished: Sendable {
        package var status: Int32
        /// Standard output and error together.
        package var output: String
    }

    /// The environment with the tests' Python packages on PYTHONPATH (scripts/test installs them).
    package static var pythonEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = environment["NOVACRON_PYTHONPATH"] ?? Repository.path(".tools/python")
        return environment
    }

    /// The environment with the GCP Workflows emulator on PYTHONPATH (its own folder: its pins differ).
    package static var gcpEmulatorEnvironment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        environment["PYTHONPATH"] = environment["NOVACRON_GCP_PYTHONPATH"] ?? Repository.path(".tools/gcp-emulator")
        return environment
    }

    package static func run(_ arguments: [String], environment: [String: String] = pythonEnvironment, in directory: String? = nil) async throws
        -> Finished
    {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-tool-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let handle = try FileHandle(forWritingTo: log)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        process.standardOutput = handle
        process.standardError = handle
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        try handle.close()
        return Finished(status: status, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }
}
