import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("Retry backoff")
struct RetryPolicyTests {
    @Test("exponential doubles up to maxDelay, as the doc comment's worked example")
    func exponential() {
        let policy = RetryPolicy(maxAttempts: 4, backoffStrategy: .exponential, initialDelay: .seconds(10), maxDelay: .seconds(30), multiplier: 2)
        #expect(policy.baseDelay(afterAttempt: 1) == .seconds(10))
        #expect(policy.baseDelay(afterAttempt: 2) == .seconds(20))
        #expect(policy.baseDelay(afterAttempt: 3) == .seconds(30))
    }

    @Test("fixed and linear")
    func fixedAndLinear() {
        let fixed = RetryPolicy(backoffStrategy: .fixed, initialDelay: .seconds(3))
        #expect(fixed.baseDelay(afterAttempt: 5) == .seconds(3))
        let linear = RetryPolicy(backoffStrategy: .linear, initialDelay: .seconds(3), maxDelay: .seconds(100))
        #expect(linear.baseDelay(afterAttempt: 4) == .seconds(12))
    }

    @Test("full jitter stays within [0, delay] and varies; none is exact")
    func jitter() {
        var rng = SeededGenerator(seed: 7)
        let policy = RetryPolicy(backoffStrategy: .fixed, initialDelay: .seconds(10), jitter: .full)
        let delays = (0..<200).map { _ in policy.delay(afterAttempt: 1, using: &rng) }
        #expect(delays.allSatisfy { $0 >= .zero && $0 <= .seconds(10) })
        #expect(Set(delays).count > 150)
        var exact = policy
        exact.jitter = .none
        #expect(exact.delay(afterAttempt: 1, using: &rng) == .seconds(10))
    }
}
