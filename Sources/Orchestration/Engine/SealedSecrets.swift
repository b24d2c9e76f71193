import Foundation

/// Text with every secret value replaced by a placeholder naming the secret, so a step can wait
/// in a shared queue table without its secrets being written there; the worker that runs it puts
/// its own values of those secrets back (``unseal(_:secrets:)``).
///
/// A placeholder is `\u{1}secret:NAME\u{1}`; a `\u{1}` the text had is kept as `\u{1}\u{1}`.
/// Sealing then unsealing with the same values gives the text back byte for byte, whatever
/// the values are (one may contain another, or be part of a placeholder's spelling).
package enum SealedSecrets {
    static let mark: UInt8 = 1
    static let prefix = Array("secret:".utf8)

    /// `text` with each occurrence of a value of `secrets` (longest first) replaced by its
    /// placeholder; empty values are left alone.
    package static func seal(_ text: String, secrets: [String: String]) -> String {
        let values = secrets.filter { !$0.value.isEmpty }.map { (name: Array($0.key.utf8), value: Array($0.value.utf8)) }
            .sorted { $0.value.count != $1.value.count ? $0.value.count > $1.value.count : $0.name.lexicographicallyPrecedes($1.name) }
        let bytes = Array(text.utf8)
        guard !values.isEmpty || bytes.contains(mark) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        scan: while i < bytes.count {
            // Secrets first: a value may itself hold the mark.
            for (name, value) in values where bytes.count - i >= value.count && bytes[i..<(i + value.count)].elementsEqual(value) {
                out.append(mark)
                out += prefix
                out += name
                out.append(mark)
                i += value.count
                continue scan
            }
            if bytes[i] == mark { out.append(mark) }
            out.append(bytes[i])
            i += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The names of the secrets `text`'s placeholders stand for.
    package static func names(in text: String) -> Set<String> {
        var names: Set<String> = []
        _ = try? unseal(text) {
            names.insert($0)
            return ""
        }
        return names
    }

    /// `text` with each placeholder replaced by `secrets(name)`.
    /// - Throws: ``EngineError`` when a placeholder is malformed or `secrets` throws (a secret not set).
    package static func unseal(_ text: String, secrets: (String) throws -> String) throws -> String {
        let bytes = Array(text.utf8)
        guard bytes.contains(mark) else { return text }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == mark else {
                out.append(bytes[i])
                i += 1
                continue
            }
            if i + 1 < bytes.count, bytes[i + 1] == mark {
                out.append(mark)
                i += 2
                continue
            }
            guard let end = bytes[(i + 1)...].firstIndex(of: mark), bytes[(i + 1)..<end].starts(with: prefix) else {
                throw EngineError(.invalidInput, "a queued step's text has a malformed secret placeholder")
            }
            let name = String(decoding: bytes[(i + 1 + prefix.count)..<end], as: UTF8.self)
            out += Array(try secrets(name).utf8)
            i = end + 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Seals every string in `value` (object keys too).
    package static func seal(_ value: JSONValue, secrets: [String: String]) -> JSONValue {
        map(value) { seal($0, secrets: secrets) }
    }

    package static func unseal(_ value: JSONValue, secrets: (String) throws -> String) throws -> JSONValue {
        try map(value) { try unseal($0, secrets: secrets) }
    }

    static func map(_ value: JSONValue, _ transform: (String) throws -> String) rethrows -> JSONValue {
        switch value {
        case .string(let s): return .string(try transform(s))
        case .array(let items): return .array(try items.map { try map($0, transform) })
        case .object(let fields):
            var out: [String: JSONValue] = [:]
            for (key, field) in fields { out[try transform(key)] = try map(field, transform) }
            return .object(out)
        default: return value
        }
    }

    /// `request` with the secret values in its inputs, environment and action outputs sealed.
    package static func seal(_ request: StepRequest, secrets: [String: String]) -> StepRequest {
        var sealed = request
        sealed.inputs = request.inputs.mapValues { seal($0, secrets: secrets) }
        sealed.environment = request.environment.mapValues { seal($0, secrets: secrets) }
        sealed.actionOutputs = request.actionOutputs.mapValues { seal($0, secrets: secrets) }
        return sealed
    }

    package static func unseal(_ request: StepRequest, secrets: (String) throws -> String) throws -> StepRequest {
        var open = request
        open.inputs = try request.inputs.mapValues { try unseal($0, secrets: secrets) }
        open.environment = try request.environment.mapValues { try unseal($0, secrets: secrets) }
        open.actionOutputs = try request.actionOutputs.mapValues { try unseal($0, secrets: secrets) }
        return open
    }
}
