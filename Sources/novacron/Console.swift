import ArgumentParser
import Foundation
import Orchestration

/// Writing to standard output and standard error.
enum Console {
    /// Standard output closed early (`novacron run … | head -1`) drops the rest: the step
    /// watchdog ignores SIGPIPE, so a write fails instead of ending the process, and must not trap.
    static func out(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    static func err(_ text: String) {
        try? FileHandle.standardError.write(contentsOf: Data((text.hasSuffix("\n") ? text : text + "\n").utf8))
    }

    /// Prints problems as `FILE:LINE:COL: error: message`, one per line, on standard error.
    static func report(_ problems: [DefinitionError]) {
        guard !problems.isEmpty else { return }
        err(problems.map(\.description).joined(separator: "\n"))
    }
}

/// Exit statuses shared by the commands.
enum ExitStatus {
    /// The input (a workflow file, an argument) is invalid.
    static let invalidInput = ExitCode(2)
}
