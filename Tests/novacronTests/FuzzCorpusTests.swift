import Foundation
import Orchestration
import TestSupport
import Testing

/// The fuzzers' seeds and the inputs that once broke a target (Tests/Fixtures/fuzz/TARGET), replayed
/// through the same checks with `novacron-fuzz TARGET FILE…` (scripts/fuzz runs them under libFuzzer).
@Suite("Fuzz corpora replay cleanly")
struct FuzzCorpusTests {
    static let targets = ["workflow", "expression", "template", "cron", "json-patch", "webhook", "incident", "traceparent", "settings", "api"]

    @Test("every seed and regression input of every target passes its target's checks", arguments: targets)
    func replay(target: String) async throws {
        let folder = Repository.path("Tests/Fixtures/fuzz/\(target)")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { folder + "/" + $0 }
        #expect(!files.isEmpty, "no seeds for \(target)")
        let replayer = CLI.binary.deletingLastPathComponent().appendingPathComponent("novacron-fuzz")
        let process = Process()
        process.executableURL = replayer
        process.arguments = [target] + files
        process.standardError = FileHandle.standardError
        _ = try await process.runForOutput()
        #expect(process.terminationStatus == 0 && process.terminationReason == .exit, "novacron-fuzz \(target) failed on one of \(files)")
    }
}
