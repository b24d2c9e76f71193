import Foundation

/// A W3C Trace Context (`traceparent`, and `tracestate` when there is one): how a span's place in a
/// trace crosses a process boundary. An execution keeps its root span's, an attempt gets its own
/// (`TRACEPARENT` for processes, headers for HTTP steps), and a request that carries one becomes
/// the parent of the execution it starts.
///
/// Only a well-formed `traceparent` is kept (version `00`, or a later one read as `00`; 32 and 16
/// lowercase hex digits, neither all zeros): anything else from outside is dropped, never stored.
///
/// ```swift
/// let parent = TraceHeaders(traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", tracestate: nil)
/// parent?.traceID  // "4bf92f3577b34da6a3ce929d0e0e4736"
/// ```
public struct TraceHeaders: Sendable, Hashable, Codable {
    public var traceparent: String
    public var tracestate: String?

    /// `nil` unless `traceparent` is well formed; a `tracestate` longer than 512 bytes or with
    /// control characters is left out (the W3C limit).
    public init?(traceparent: String, tracestate: String?) {
        let text = traceparent.trimmingCharacters(in: .whitespaces)
        guard Self.isValid(text) else { return nil }
        // A later version is read as version 00: its first four fields.
        self.traceparent = "00" + String(decoding: text.utf8.dropFirst(2).prefix(53), as: UTF8.self)
        if let state = tracestate, state.utf8.count <= 512, state.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }), !state.isEmpty {
            self.tracestate = state
        }
    }

    /// From a carrier's keys (HTTP headers, an environment), matched without case.
    public init?(_ carrier: [String: String]) {
        func value(_ key: String) -> String? {
            carrier.first { $0.key.lowercased() == key }?.value
        }
        guard let parent = value("traceparent") else { return nil }
        self.init(traceparent: parent, tracestate: value("tracestate"))
    }

    /// The 32 hex digits of the trace.
    public var traceID: String { String(decoding: traceparent.utf8.dropFirst(3).prefix(32), as: UTF8.self) }

    /// The 16 hex digits of the span this context names.
    public var spanID: String { String(decoding: traceparent.utf8.dropFirst(36).prefix(16), as: UTF8.self) }

    /// As HTTP headers (or a propagator's carrier).
    public var carrier: [String: String] {
        var out = ["traceparent": traceparent]
        if let tracestate { out["tracestate"] = tracestate }
        return out
    }

    /// `version-traceid-spanid-flags`; a later version may carry more fields after a `-`.
    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 55, bytes[2] == UInt8(ascii: "-"), bytes[35] == UInt8(ascii: "-"), bytes[52] == UInt8(ascii: "-") else { return false }
        func hex(_ range: Range<Int>) -> Bool {
            bytes[range].allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
        }
        func zeros(_ range: Range<Int>) -> Bool { bytes[range].allSatisfy { $0 == 0x30 } }
        guard hex(0..<2), hex(3..<35), hex(36..<52), hex(53..<55) else { return false }
        guard !zeros(3..<35), !zeros(36..<52) else { return false }
        let version = String(decoding: bytes[0..<2], as: UTF8.self)
        if version == "ff" { return false }
        if version == "00" { return bytes.count == 55 }
        return bytes.count == 55 || bytes[55] == UInt8(ascii: "-")
    }
}
