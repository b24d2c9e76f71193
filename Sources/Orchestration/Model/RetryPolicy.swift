/// How often a failed step is attempted again, and how long to wait between attempts.
///
/// The delay before attempt *n + 1* (after *n* failed attempts) is
/// `min(maxDelay, initialDelay × f(n))` where `f(n)` is `1` for `fixed`, `n` for `linear`
/// and `multiplier^(n-1)` for `exponential`. With `jitter: full` the actual delay is drawn
/// uniformly from `[0, delay]`.
///
/// Worked example, `exponential`, `initialDelay: 10s`, `multiplier: 2`, `maxDelay: 30s`:
/// after attempt 1 wait 10s, after attempt 2 wait 20s, after attempt 3 wait min(30s, 40s) = 30s.
///
/// ```swift
/// let policy = RetryPolicy(maxAttempts: 3, backoffStrategy: .exponential, initialDelay: .seconds(10))
/// policy.baseDelay(afterAttempt: 2)  // 20 seconds
/// ```
public struct RetryPolicy: Sendable, Hashable, Codable {
    /// The backoff curve.
    public enum BackoffStrategy: String, Sendable, Hashable, Codable, CaseIterable {
        case fixed, linear, exponential
    }

    /// Whether the computed delay is randomized.
    public enum Jitter: String, Sendable, Hashable, Codable, CaseIterable {
        /// Exactly the computed delay.
        case none
        /// Uniform in `[0, delay]` ("full jitter"), which spreads retries of many executions apart.
        case full
    }

    /// Which outcomes are retried.
    public enum RetryOn: String, Sendable, Hashable, Codable, CaseIterable {
        /// An attempt that ended unsuccessfully (non-zero exit, unexpected HTTP status, error).
        case failure
        /// An attempt cut off by the step timeout.
        case timeout
    }

    /// Total attempts including the first; `1` means no retry. Default 1.
    public var maxAttempts: Int
    /// Default `exponential`.
    public var backoffStrategy: BackoffStrategy
    /// Default 1 second.
    public var initialDelay: Duration
    /// Default 5 minutes.
    public var maxDelay: Duration
    /// Growth factor for `exponential`; default 2.
    public var multiplier: Double
    /// Default `full`.
    public var jitter: Jitter
    /// Default both `failure` and `timeout`.
    public var retryOn: Set<RetryOn>

    public init(
        maxAttempts: Int = 1,
        backoffStrategy: BackoffStrategy = .exponential,
        initialDelay: Duration = .seconds(1),
        maxDelay: Duration = .seconds(300),
        multiplier: Double = 2,
        jitter: Jitter = .full,
        retryOn: Set<RetryOn> = [.failure, .timeout]
    ) {
        self.maxAttempts = maxAttempts
        self.backoffStrategy = backoffStrategy
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.retryOn = retryOn
    }

    /// The un-jittered delay before the next attempt, after `attempt` attempts have failed (1-based).
    public func baseDelay(afterAttempt attempt: Int) -> Duration {
        let n = max(1, attempt)
        let factor: Double
        switch backoffStrategy {
        case .fixed: factor = 1
        case .linear: factor = Double(n)
        case .exponential: factor = pow(multiplier, Double(n - 1))
        }
        let seconds = initialDelay.seconds * factor
        guard seconds.isFinite, seconds < maxDelay.seconds else { return maxDelay }
        return .clamped(seconds: seconds)
    }

    /// The delay before the next attempt with jitter applied, drawing from `generator`.
    public func delay<G: RandomNumberGenerator>(afterAttempt attempt: Int, using generator: inout G) -> Duration {
        let base = baseDelay(afterAttempt: attempt)
        switch jitter {
        case .none: return base
        case .full: return .clamped(seconds: Double.random(in: 0...1, using: &generator) * base.seconds)
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
