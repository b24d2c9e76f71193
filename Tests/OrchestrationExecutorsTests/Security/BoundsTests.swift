import Foundation
import Orchestration
import OrchestrationExecutors
import TestSupport
import Testing

/// Property tests: whatever number arrives, converting it never traps, and whatever a step prints,
/// no piece of a secret survives the cut of its log.
@Suite("Totality of numbers and redaction")
struct BoundsTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20261202

    static let special: [Double] = [
        .nan, -.nan, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, .leastNonzeroMagnitude, -0.0, 0,
        1e21, -1e21, 1e400.nextDown, 9.3e18, -9.3e18, 3.1536e9, 3.1536e9.nextUp, 1e-19, 0.999_999_999_999_999_999,
    ]

    /// Random doubles over every exponent, plus random bit patterns (which include NaN payloads).
    static func doubles(_ count: Int, seed: UInt64) -> [Double] {
        var rng = SplitMix64(seed: seed)
        var out = special
        for i in 0..<count {
            out.append(
                i % 2 == 0
                    ? Double(bitPattern: rng.next()) : Double.random(in: -1...1, using: &rng) * pow(10, Double(Int.random(in: -30...30, using: &rng)))
            )
        }
        return out
    }

    @Test("DurationText.duration(seconds:) accepts exactly the finite values from 0 to 100 years; Duration.clamped never traps")
    func durations() {
        for x in Self.doubles(100_000, seed: Self.seed) {
            let checked = try? DurationText.duration(seconds: x)
            let acceptable = x.isFinite && x >= 0 && x <= DurationText.maximumSeconds
            #expect((checked != nil) == acceptable, "seed \(Self.seed): \(x)")
            if let checked { #expect(abs(checked.seconds - x) <= max(1e-9, x * 1e-12), "seed \(Self.seed): \(x) → \(checked)") }
            let clamped = Duration.clamped(seconds: x)
            #expect(abs(clamped.seconds) <= DurationText.maximumSeconds, "seed \(Self.seed): \(x)")
            if x.isNaN { #expect(clamped == .zero) }
        }
    }

    @Test("every number written in a definition's duration or value fields loads or is a located error, never a trap")
    func definitions() throws {
        var rng = SplitMix64(seed: Self.seed)
        let texts =
            Self.doubles(300, seed: Self.seed &+ 1).map { "\($0)" } + [
                ".inf", "-.inf", ".nan", "1e400", "-1e400", "1e21", "0x7fffffffffffffff", "99999999999999999999", "1_000",
            ]
        for text in texts {
            let field = ["timeout", "retryPolicy: {maxAttempts: 2, initialDelay", "variables: {v", "maxParallelism"][
                Int.random(in: 0..<4, using: &rng)]
            let closing = field.contains("{") ? "}" : ""
            let yaml = "name: n\n\(field): \(text)\(closing)\nsteps:\n  - {id: s, inputs: {command: x}}\n"
            do {
                _ = try WorkflowLoader.load(source: yaml, file: "n.yaml")
            } catch {
                #expect(error.errors.allSatisfy { $0.location != nil }, "seed \(Self.seed): \(yaml)")
            }
        }
    }

    @Test("a secret printed across the 64 KiB cut of a log is never visible, whole or in part")
    func redactionAtTheCut() {
        var rng = SplitMix64(seed: Self.seed)
        let limit = 1024
        for round in 0..<500 {
            let length = Int.random(in: 4...80, using: &rng)
            let secret = String((0..<length).map { _ in "ABCDEFGHJKLMNPQRSTUVWXYZ23456789".randomElement(using: &rng)! })
            let redactor = Redactor(secrets: [secret])
            var tail = LogTail(limit: limit, redactor: redactor)
            // The secret starts anywhere around the cut, the rest of the output is filler.
            let before = Int.random(in: 0...(limit + 200), using: &rng)
            let after = Int.random(in: 0...(limit + 200), using: &rng)
            let chunks = [String(repeating: "a", count: before), secret, String(repeating: "b", count: after)]
            for chunk in chunks {
                // Written in random pieces, as a process does.
                var bytes = Array(chunk.utf8)[...]
                while !bytes.isEmpty {
                    let n = Int.random(in: 1...max(1, bytes.count), using: &rng)
                    tail.append(Array(bytes.prefix(n)))
                    bytes = bytes.dropFirst(n)
                }
            }
            let text = tail.text
            // No run of 4 or more characters of the secret (its alphabet has no a or b) is visible.
            for start in 0...(secret.count - 4) {
                let piece = String(Array(secret)[start..<(start + 4)])
                #expect(!text.contains(piece), "seed \(Self.seed) round \(round): \(piece) of \(secret) visible near the cut")
            }
            #expect(text.utf8.count <= limit + 64, "seed \(Self.seed) round \(round)")
        }
    }
}
