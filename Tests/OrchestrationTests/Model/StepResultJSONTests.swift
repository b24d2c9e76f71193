import Foundation
import Orchestration
import Testing

/// The stores write step results with ``StepResult/storedJSON()`` instead of `JSONEncoder`; what
/// they read back goes through `JSONDecoder`. Random results (seeded, the seed in every failure)
/// must come back equal, and read the same as `JSONEncoder`'s text of them.
@Suite("Step results as the stores keep them")
struct StepResultJSONTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_204

    static func string(_ rng: inout SplitMix64) -> String {
        let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "日", "🚀", "/", "\r", "\u{2028}"]
        return (0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }.joined()
    }

    static func number(_ rng: inout SplitMix64) -> Double {
        switch Int.random(in: 0...5, using: &rng) {
        case 0: return Double(Int.random(in: -1000...1000, using: &rng))
        case 1: return Double.random(in: -1e6...1e6, using: &rng)
        case 2: return Double(bitPattern: rng.next() & 0x7FEF_FFFF_FFFF_FFFF)  // any finite positive
        case 3: return -Double.leastNonzeroMagnitude
        case 4: return 1e15 + Double(Int.random(in: -3...3, using: &rng))
        default: return Double.greatestFiniteMagnitude
        }
    }

    static func value(_ rng: inout SplitMix64, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0...(depth > 2 ? 3 : 5), using: &rng) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &rng))
        case 2: return .number(number(&rng))
        case 3: return .string(string(&rng))
        case 4: return .array((0..<Int.random(in: 0...3, using: &rng)).map { _ in value(&rng, depth: depth + 1) })
        default:
            return .object(
                Dictionary((0..<Int.random(in: 0...3, using: &rng)).map { _ in (string(&rng), value(&rng, depth: depth + 1)) }) { a, _ in a })
        }
    }

    static func result(_ rng: inout SplitMix64) -> StepResult {
        func maybe<T>(_ make: (inout SplitMix64) -> T) -> T? { Bool.random(using: &rng) ? make(&rng) : nil }
        var r = StepResult(
            stepID: string(&rng), status: StepStatus.allCases.randomElement(using: &rng)!,
            outputs: Dictionary((0..<Int.random(in: 0...4, using: &rng)).map { _ in (string(&rng), value(&rng)) }) { a, _ in a },
            error: maybe(string), skipReason: maybe(string), exitCode: maybe { Int.random(in: Int.min...Int.max, using: &$0) },
            attempts: Int.random(in: 0...Int.max, using: &rng), timedOut: Bool.random(using: &rng), cached: Bool.random(using: &rng),
            startedAt: maybe { Date(timeIntervalSinceReferenceDate: number(&$0)) },
            finishedAt: maybe { Date(timeIntervalSince1970: Double.random(in: 0...4e9, using: &$0)) },
            duration: .init(
                secondsComponent: Int64.random(in: Int64.min / 2...Int64.max / 2, using: &rng),
                attosecondsComponent: Int64.random(in: 0..<1_000_000_000_000_000_000, using: &rng)))
        r.itemCount = maybe { Int.random(in: 0...1_000_000, using: &$0) }
        r.childExecutionID = maybe(string)
        r.waitingFor = maybe(string)
        return r
    }

    @Test("random results read back equal, and as JSONEncoder's text of them reads")
    func roundTrip() throws {
        var rng = SplitMix64(seed: Self.seed)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let decoder = JSONDecoder()
        for round in 0..<2000 {
            let r = Self.result(&rng)
            let context = Comment(rawValue: "seed \(Self.seed), result \(round)")
            let text = try r.storedJSON()
            let back = try decoder.decode(StepResult.self, from: Data(text.utf8))
            let theirs = try decoder.decode(StepResult.self, from: encoder.encode(r))
            #expect(back == theirs, context)
            #expect(back.stepID == r.stepID && back.outputs == r.outputs && back.duration == r.duration, context)
            #expect(back.startedAt == r.startedAt && back.finishedAt == r.finishedAt, context)
        }
    }

    @Test("a result JSONEncoder refuses (a date that is not a number) is refused the same way")
    func refusesWhatJSONEncoderRefuses() {
        var r = StepResult(stepID: "s", status: .success)
        r.startedAt = Date(timeIntervalSinceReferenceDate: .nan)
        #expect(throws: EncodingError.self) { try r.storedJSON() }
        r.startedAt = nil
        r.outputs = ["x": .number(.infinity)]
        #expect(throws: EncodingError.self) { try r.storedJSON() }
    }

    @Test("the text has the fields JSONEncoder writes, sorted, and nothing else")
    func sameFields() throws {
        var rng = SplitMix64(seed: Self.seed &+ 1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for round in 0..<200 {
            let r = Self.result(&rng)
            let ours = try JSONSerialization.jsonObject(with: Data(try r.storedJSON().utf8)) as? [String: Any]
            let theirs = try JSONSerialization.jsonObject(with: encoder.encode(r)) as? [String: Any]
            #expect(ours.map { $0.keys.sorted() } == theirs.map { $0.keys.sorted() }, "seed \(Self.seed &+ 1), result \(round)")
            #expect((ours?["duration"] as? [NSNumber])?.map(\.stringValue) == (theirs?["duration"] as? [NSNumber])?.map(\.stringValue))
        }
    }
}
