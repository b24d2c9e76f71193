import Orchestration

/// The deterministic generator tests seed (the engine's own ``SplitMix64``).
///
/// ```swift
/// var rng = SeededGenerator(seed: 42)
/// let delay = policy.delay(afterAttempt: 2, using: &rng)   // the same every run
/// ```
public typealias SeededGenerator = SplitMix64
