import Crypto
import Foundation
import Synchronization

/// Stored outputs of steps with `cache: {enabled: true}`, by key, until their TTL passes.
public protocol StepCache: Sendable {
    /// The outputs stored under `key` if they have not expired at `now`.
    func lookup(_ key: String, now: Date) async -> [String: JSONValue]?
    /// Stores `outputs` under `key` until `expires`.
    func store(_ key: String, outputs: [String: JSONValue], expires: Date) async
}

/// The cache key of a step: SHA-256 of its type, action and resolved inputs (keys sorted, and the
/// values spliced into a shell command), so the same work with the same inputs hits — in any
/// workflow — and any change misses.
///
/// ```swift
/// let key = StepCacheKey.make(for: request)   // 64 hex digits
/// ```
public enum StepCacheKey {
    public static func make(for request: StepRequest) -> String {
        var hasher = SHA256()
        func feed(_ s: String) {
            hasher.update(data: Array(s.utf8))
            hasher.update(data: [0])
        }
        feed(request.type.rawValue)
        feed(request.action ?? "")
        feed(JSONValue.object(request.inputs).jsonText)
        // The values spliced into a shell command.
        for (k, v) in request.environment.sorted(by: { $0.key < $1.key }) where k.hasPrefix(ShellSplice.variablePrefix) {
            feed(k)
            feed(v)
        }
        return Hex.encode(hasher.finalize())
    }

    /// SHA-256 of `text`, in hex.
    public static func fingerprint(_ text: String) -> String {
        Hex.encode(SHA256.hash(data: Array(text.utf8)))
    }
}

/// A cache in memory, for one process.
public final class InMemoryStepCache: StepCache {
    private let entries = Mutex<[String: (outputs: [String: JSONValue], expires: Date)]>([:])

    public init() {}

    public func lookup(_ key: String, now: Date) async -> [String: JSONValue]? {
        entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            if entry.expires <= now {
                entries[key] = nil
                return nil
            }
            return entry.outputs
        }
    }

    public func store(_ key: String, outputs: [String: JSONValue], expires: Date) async {
        entries.withLock { $0[key] = (outputs, expires) }
    }
}
