import Foundation
import Yams

/// Where `${secrets.NAME}` comes from: the environment variable `NOVACRON_SECRET_NAME`, else a
/// secrets file (a YAML or JSON map that must not be readable or writable by others).
///
/// ```swift
/// let secrets = try SecretProvider(file: "/etc/novacron/secrets.yaml")
/// secrets.value("GITHUB_TOKEN")   // NOVACRON_SECRET_GITHUB_TOKEN, else the file's GITHUB_TOKEN
/// ```
public struct SecretProvider: Sendable {
    public static let environmentPrefix = "NOVACRON_SECRET_"
    var environment: [String: String]
    var fileValues: [String: String]

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, values: [String: String] = [:]) {
        self.environment = environment
        self.fileValues = values
    }

    /// Reads `file`; refuses one that others may read or write.
    public init(file: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(EngineError) {
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: file) } catch {
            throw EngineError(.invalidInput, "\(file): cannot read the secrets file")
        }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o006 != 0 {
            throw EngineError(
                .invalidInput,
                "\(file): the secrets file must not be readable or writable by others (mode \(String(mode & 0o777, radix: 8))); run chmod 600 \(file)"
            )
        }
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw EngineError(.invalidInput, "\(file): cannot read the secrets file")
        }
        guard let map = (try? Yams.load(yaml: text)) as? [String: Any] else {
            throw EngineError(.invalidInput, "\(file): the secrets file must be a map of NAME: value")
        }
        var values: [String: String] = [:]
        for (k, v) in map { values[k] = JSONValue(yamlObject: v).text }
        self.init(environment: environment, values: values)
    }

    /// Every secret value this provider knows (the environment's and the file's), for redacting
    /// text that never passed through an execution — log lines.
    public var allValues: [String] {
        Array(Set(fileValues.values).union(environment.filter { $0.key.hasPrefix(Self.environmentPrefix) }.values)).filter { !$0.isEmpty }
    }

    /// The secret's value, or `nil` when it is set nowhere.
    public func value(_ name: String) -> String? {
        environment[Self.environmentPrefix + name] ?? fileValues[name]
    }

    /// A setting that may be written as `${secrets.NAME}` (the usual way, so the value is not in
    /// the file or the store) or in clear: its value, or `nil` when empty or not set.
    public func resolve(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        if text.hasPrefix("${secrets."), text.hasSuffix("}") { return value(String(text.dropFirst(10).dropLast())) }
        return text
    }
}

/// Replaces secret values with `***` in text that leaves the engine: logs, errors, outputs.
public struct Redactor: Sendable {
    /// Longest first, so a secret that contains another is replaced whole.
    let values: [String]

    public init(secrets: some Sequence<String>) {
        values = Set(secrets.filter { !$0.isEmpty }).sorted { $0.count > $1.count }
    }

    public var isEmpty: Bool { values.isEmpty }

    /// The length of the longest secret, in UTF-8 bytes: how much more than its limit a log must
    /// keep so that every secret in the part shown is whole when it is redacted.
    public var longestSecret: Int { values.first?.utf8.count ?? 0 }

    /// `text` without a leading piece of a secret: where a log was cut, the cut may fall inside a
    /// secret, and the piece after the cut is no longer the secret the redaction looks for.
    public func withoutLeadingFragment(_ text: String) -> String {
        for v in values {
            for k in stride(from: v.count - 1, through: 1, by: -1) where text.hasPrefix(v.suffix(k)) {
                return "***" + text.dropFirst(k)
            }
        }
        return text
    }

    /// `text` without a trailing piece of a secret (the cut at the end of a kept prefix).
    public func withoutTrailingFragment(_ text: String) -> String {
        for v in values {
            for k in stride(from: v.count - 1, through: 1, by: -1) where text.hasSuffix(v.prefix(k)) {
                return text.dropLast(k) + "***"
            }
        }
        return text
    }

    public func redact(_ text: String) -> String {
        guard !values.isEmpty else { return text }
        var out = text
        for v in values where out.contains(v) { out = out.replacingOccurrences(of: v, with: "***") }
        return out
    }

    public func redact(_ value: JSONValue) -> JSONValue {
        guard !values.isEmpty else { return value }
        switch value {
        case .string(let s): return .string(redact(s))
        case .array(let a): return .array(a.map(redact))
        case .object(let o): return .object(o.mapValues(redact))
        default: return value
        }
    }

    public func redact(_ outcome: StepOutcome) -> StepOutcome {
        guard !values.isEmpty else { return outcome }
        var o = outcome
        o.outputs = o.outputs.mapValues(redact)
        o.error = o.error.map(redact)
        o.log = redact(o.log)
        return o
    }
}
