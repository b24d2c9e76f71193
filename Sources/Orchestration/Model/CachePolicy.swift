/// Whether a step's outputs may be reused, and for how long.
///
/// The cache key is the SHA-256 of the step's type, action and resolved inputs; a hit within
/// `ttl` returns the stored outputs with `cached = true` and the step does not run.
///
/// ```yaml
/// cache: {enabled: true, ttl: 1h}
/// ```
public struct CachePolicy: Sendable, Hashable, Codable {
    /// Default `true` when a `cache` block is present.
    public var enabled: Bool
    /// How long an entry stays valid; default 1 hour.
    public var ttl: Duration

    public init(enabled: Bool = true, ttl: Duration = .seconds(3600)) {
        self.enabled = enabled
        self.ttl = ttl
    }
}
