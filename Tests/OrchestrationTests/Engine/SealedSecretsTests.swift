import Orchestration
import OrchestrationTesting
import Testing

/// What a queued step keeps in the shared store: no secret value, and exactly the text back on
/// the worker.
@Suite("Sealed secrets")
struct SealedSecretsTests {
    static let alphabet: [String] = ["a", "b", "s", "e", "c", ":", "\u{1}", "é", "😀", "$", "{", "}", " "]

    static func text(_ rng: inout SeededGenerator, upTo length: Int) -> String {
        (0..<Int.random(in: 0...length, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    /// The parts of sealed text between placeholders, with escaped marks read back.
    static func segments(_ sealed: String) -> [String] {
        var parts: [String] = [], current = "", inPlaceholder = false
        var scalars = Array(sealed.unicodeScalars)[...]
        while let c = scalars.popFirst() {
            if c == "\u{1}" {
                if !inPlaceholder, scalars.first == "\u{1}" {
                    scalars.removeFirst()
                    current.unicodeScalars.append(c)
                    continue
                }
                if !inPlaceholder {
                    parts.append(current)
                    current = ""
                }
                inPlaceholder.toggle()
                continue
            }
            if !inPlaceholder { current.unicodeScalars.append(c) }
        }
        parts.append(current)
        return parts
    }

    @Test(
        "for random texts and secrets (one inside another, holding the mark, spelling a placeholder): no value is left outside a placeholder, and unsealing gives the text back byte for byte"
    )
    func roundTrip() throws {
        let seed: UInt64 = 0x5EA1_ED5E_C2E7
        var rng = SeededGenerator(seed: seed)
        for round in 0..<3000 {
            var secrets: [String: String] = [:]
            for n in 0..<Int.random(in: 0...4, using: &rng) { secrets["S\(n)"] = Self.text(&rng, upTo: 4) }
            var text = Self.text(&rng, upTo: 30)
            if let value = secrets.values.randomElement(using: &rng) { text.insert(contentsOf: value, at: text.startIndex) }
            let sealed = SealedSecrets.seal(text, secrets: secrets)
            let values = secrets.values.filter { !$0.isEmpty }
            for segment in Self.segments(sealed) {
                #expect(
                    !values.contains { segment.contains($0) },
                    "seed \(seed) round \(round): \(text.debugDescription) sealed as \(sealed.debugDescription)")
            }
            let back = try SealedSecrets.unseal(sealed) { name in try #require(secrets[name]) }
            #expect(
                Array(back.utf8) == Array(text.utf8), "seed \(seed) round \(round): \(text.debugDescription) came back as \(back.debugDescription)")
        }
    }

    @Test("a worker without the secret, or a malformed placeholder, is an error that says so")
    func errors() {
        let sealed = SealedSecrets.seal("Bearer tok-1", secrets: ["TOKEN": "tok-1"])
        #expect(sealed == "Bearer \u{1}secret:TOKEN\u{1}")
        #expect(SealedSecrets.names(in: sealed) == ["TOKEN"])
        #expect(throws: EngineError.self) { try SealedSecrets.unseal(sealed) { _ in throw EngineError(.invalidInput, "secret TOKEN is not set") } }
        #expect(throws: EngineError.self) { try SealedSecrets.unseal("x\u{1}nope") { $0 } }
    }
}
