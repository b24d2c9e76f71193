import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Orchestration
import Yams

/// What a token may do: `viewer` reads, `operator` also starts and operates executions, `admin`
/// also registers workflows.
public enum Role: String, Sendable, Comparable, CaseIterable {
    case viewer, `operator`, admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Bearer API tokens, kept only as SHA-256 hashes and compared in constant time.
///
/// From the environment, `NOVACRON_API_TOKENS=operator:s3cret,admin:…` (hashed as they are read);
/// from a file (`--tokens-file`), a list of `{name, role, sha256}` so the file holds no secret:
///
/// ```yaml
/// - {name: ci, role: operator, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
/// ```
public struct APITokens: Sendable {
    struct Entry: Sendable {
        var name: String
        var role: Role
        var hash: [UInt8]
    }

    var entries: [Entry]

    public var isEmpty: Bool { entries.isEmpty }

    public init() { entries = [] }

    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Parses `role:token` pairs separated by commas.
    public init(environment value: String) throws(EngineError) {
        entries = []
        for (n, item) in value.split(separator: ",").enumerated() {
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let role = Role(rawValue: parts[0]), !parts[1].isEmpty else {
                throw EngineError(.invalidInput, "NOVACRON_API_TOKENS item \(n + 1): expected role:token with role viewer, operator or admin")
            }
            entries.append(Entry(name: "env-\(n + 1)", role: role, hash: Self.hash(parts[1])))
        }
    }

    /// Reads a tokens file: a list of `{name, role, sha256}`.
    public init(file: String) throws(EngineError) {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw EngineError(.invalidInput, "\(file): cannot read the tokens file")
        }
        guard let list = (try? Yams.load(yaml: text)) as? [[String: Any]] else {
            throw EngineError(.invalidInput, "\(file): expected a list of {name, role, sha256}")
        }
        entries = []
        for (i, item) in list.enumerated() {
            guard let roleText = item["role"] as? String, let role = Role(rawValue: roleText) else {
                throw EngineError(.invalidInput, "\(file): item \(i + 1): role must be viewer, operator or admin")
            }
            guard let hex = item["sha256"] as? String, let bytes = Hex.decode(hex), bytes.count == 32 else {
                throw EngineError(.invalidInput, "\(file): item \(i + 1): sha256 must be 64 hex digits (printf %s TOKEN | sha256sum)")
            }
            entries.append(Entry(name: item["name"] as? String ?? "token-\(i + 1)", role: role, hash: bytes))
        }
    }

    public mutating func merge(_ other: APITokens) { entries += other.entries }

    /// The entry of `token`, comparing with every stored hash without stopping early.
    func entry(of token: String) -> Entry? {
        let presented = Self.hash(token)
        var found: Entry?
        for entry in entries where Hex.constantTimeEqual(entry.hash, presented) && found == nil {
            found = entry
        }
        return found
    }

    /// The role of `token`, compared like ``entry(of:)``.
    public func role(of token: String) -> Role? { entry(of: token)?.role }

    /// The name of `token`'s entry (for audit trails).
    public func name(of token: String) -> String? { entry(of: token)?.name }
}
