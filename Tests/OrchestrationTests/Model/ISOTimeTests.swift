import Foundation
import Orchestration
import Testing

/// `ExecutionReport.iso` writes times (every log line, every report) without Foundation's
/// formatter where it can; it must write exactly what the formatter writes, for any date.
@Suite("ISO 8601 times")
struct ISOTimeTests {
    static let seed: UInt64 = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? 20_261_205

    @Test("random dates, near second and millisecond edges too, read as the formatter writes them; dates it does not cover fall back")
    func sameAsTheFormatter() {
        var rng = SplitMix64(seed: Self.seed)
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let edges: [Double] = [0, 0.0005, 0.0015, 0.9995, 0.9999999, 951_782_400, 4_107_542_400, 253_402_300_799.999, 253_402_300_800, -0.5, -1e9]
        var times = edges
        for _ in 0..<20_000 {
            switch Int.random(in: 0...3, using: &rng) {
            case 0: times.append(Double.random(in: 0..<4e9, using: &rng))
            case 1: times.append(Double(Int.random(in: 0..<4_000_000_000, using: &rng)) + Double(Int.random(in: 0..<1000, using: &rng)) / 1000)
            case 2: times.append(Double.random(in: 0..<253_402_300_800, using: &rng))
            default: times.append(Double.random(in: -1e10...1e12, using: &rng))
            }
        }
        // Dates made both ways: since 1970 (exact), and since 2001 like `Date()`, whose seconds
        // since 1970 are a bit less precise than the formatter's reading of them.
        var dates = times.map { Date(timeIntervalSince1970: $0) } + times.map { Date(timeIntervalSinceReferenceDate: $0 - 978_307_200) }
        let now = Date()
        for _ in 0..<20_000 { dates.append(now.addingTimeInterval(Double.random(in: -1e6...1e6, using: &rng))) }
        for date in dates {
            #expect(
                ExecutionReport.iso(date) == date.formatted(formatter),
                "seed \(Self.seed), time since 2001 \(date.timeIntervalSinceReferenceDate)")
        }
    }
}
