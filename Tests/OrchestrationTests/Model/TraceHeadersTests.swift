import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

/// `traceparent` comes from outside (API requests, webhooks, a parent process's environment):
/// only a well-formed one is kept, and nothing a client sends crashes the reader.
@Suite("W3C trace context headers")
struct TraceHeadersTests {
    @Test("a well-formed traceparent is kept with its ids; a later version is read as 00; tracestate within the limit is kept")
    func wellFormed() throws {
        let h = try #require(TraceHeaders(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: "congo=t61rcWkgMzE"))
        #expect(h.traceID == "4bf92f3577b34da6a3ce929d0e0e4736" && h.spanID == "00f067aa0ba902b7" && h.tracestate == "congo=t61rcWkgMzE")
        let later = try #require(
            TraceHeaders(traceparent: "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-comes-next", tracestate: nil))
        #expect(later.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
        let carried = try #require(TraceHeaders(["TraceParent": h.traceparent, "TRACESTATE": "a=b"]))
        #expect(carried.carrier == ["traceparent": h.traceparent, "tracestate": "a=b"])
        #expect(TraceHeaders(traceparent: h.traceparent, tracestate: String(repeating: "a", count: 513))?.tracestate == nil)
    }

    @Test(
        "malformed traceparents are dropped",
        arguments: [
            "", "00", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  // all-zero trace
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  // all-zero span
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  // forbidden version
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  // upper case
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  // version 00 has four fields
            "00-4bf92f3577b34da6a3ce929d0e0e473\u{e9}-00f067aa0ba902b7-01",
            "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
        ])
    func malformed(_ text: String) {
        #expect(TraceHeaders(traceparent: text, tracestate: nil) == nil)
    }

    @Test("random bytes and mutations of a valid header never crash the reader; what it keeps is always well formed", .ownThread)
    func hostileInput() {
        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        let valid = Array("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".utf8)
        let alphabet = Array("0123456789abcdefABCDEF-_ \u{0}\u{ff}".utf8)
        for _ in 0..<20_000 {
            var bytes = valid
            if Bool.random(using: &rng) {
                bytes = (0..<Int.random(in: 0...80, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            } else {
                for _ in 0..<Int.random(in: 1...3, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes[i] = alphabet.randomElement(using: &rng)!
                    case 1: bytes.remove(at: i)
                    default: bytes.insert(alphabet.randomElement(using: &rng)!, at: i)
                    }
                }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            guard let kept = TraceHeaders(traceparent: text, tracestate: text) else { continue }
            let ok = kept.traceparent.utf8.count == 55 && kept.traceID.count == 32 && kept.spanID.count == 16
            #expect(ok, "seed \(seed): kept \(kept.traceparent) from \(Array(text.utf8))")
            if !ok { return }
        }
    }
}
