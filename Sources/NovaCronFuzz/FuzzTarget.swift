import Foundation
import Orchestration

/// What `scripts/fuzz` can fuzz: each target takes any bytes, feeds them to one parser of input
/// from outside, and checks what must hold whatever the bytes (beyond not crashing, hanging or
/// leaking, which libFuzzer and AddressSanitizer watch).
enum FuzzTarget: String, CaseIterable {
    /// A workflow file, YAML or JSON, through the decoder and the validator.
    case workflow
    /// A condition: parsed, then evaluated against fixed values.
    case expression
    /// A `${…}` template in an input, rendered.
    case template
    /// A cron expression (a first line may name a time zone): its next ticks only move forward.
    case cron
    /// A JSON document, then a JSON Patch on the next line, applied.
    case jsonPatch = "json-patch"
    /// A webhook delivery (the first byte picks the source): signature check, staleness, payload.
    case webhook
    /// An incident delivery (PagerDuty, Opsgenie, Alertmanager): the occurrences it reports.
    case incident
    /// A W3C `traceparent`, then a `tracestate` on the next line.
    case traceparent
    /// A settings file (`serve --config`).
    case settings
    /// The body of an API request (the first byte picks the route, the second the media type).
    case api

    func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        switch self {
        case .workflow: Self.workflow(text)
        case .expression: Self.expression(text)
        case .template: Self.template(text)
        case .cron: Self.cron(text)
        case .jsonPatch: Self.jsonPatch(text)
        case .webhook: Self.webhook(bytes)
        case .incident: Self.incident(bytes)
        case .traceparent: Self.traceparent(text)
        case .settings: Self.settingsFile(bytes)
        case .api: Self.apiRequest(bytes)
        }
    }

    /// Stops the run: libFuzzer saves the input that broke `what`.
    static func broken(_ what: String) -> Never {
        FileHandle.standardError.write(Data("fuzz invariant broken: \(what)\n".utf8))
        abort()
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    /// Values are JSON: encoding them never fails (no NaN or infinity got in).
    static func mustEncode(_ value: JSONValue, _ what: String) {
        do { _ = try encoder.encode(value) } catch { broken("\(what) is not JSON: \(error)") }
    }
}
