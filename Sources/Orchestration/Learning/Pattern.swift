import Foundation

/// Durations summarized, in seconds.
public struct DurationSummary: Sendable, Hashable, Codable {
    public var samples: Int
    public var mean: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    /// Exponentially weighted moving average with the configured learning rate.
    public var ewma: Double

    init?(_ d: DurationStatistics) {
        guard d.count > 0 else { return nil }
        let sorted = d.recent.values.sorted()
        samples = d.count
        mean = d.mean
        p50 = Statistics.quantile(sorted, 0.5)
        p95 = Statistics.quantile(sorted, 0.95)
        p99 = Statistics.quantile(sorted, 0.99)
        ewma = d.ewma ?? d.mean
    }
}

/// A kind of failure: error messages with their numbers, ids, paths and times taken out.
public struct FailureCluster: Sendable, Hashable, Codable {
    public var signature: String
    public var count: Int
    /// One message of the cluster as it was (redacted).
    public var example: String?
    /// The steps it came from (workflow patterns).
    public var steps: [String]?
}

/// Recent runs significantly slower than the ones before.
public struct DurationRegression: Sendable, Hashable, Codable {
    /// How many of the latest successful runs are slower.
    public var recentRuns: Int
    public var baselineMedian: Double
    public var recentMedian: Double
    /// `recentMedian ÷ baselineMedian`.
    public var ratio: Double
    /// Mann–Whitney U, one-sided, Bonferroni-corrected for the splits tried.
    public var pValue: Double
}

/// What the history of one step shows.
public struct StepPattern: Sendable, Hashable, Codable {
    public var stepID: String
    public var runs: Int
    public var skipped: Int
    public var successRate: Double?
    public var firstAttemptFailureRate: Double?
    /// Of first attempts that failed, the share a retry rescued (`nil` when none failed).
    public var retryRecoveryRate: Double?
    /// Attempts cut off by the step timeout.
    public var timeoutRate: Double?
    public var cacheHitRate: Double?
    public var duration: DurationSummary?
    public var queueWait: DurationSummary?
    public var commonFailures: [FailureCluster]
    public var regression: DurationRegression?
}

/// What the history of a workflow shows, mirroring the guide's `ExecutionPattern`.
public struct WorkflowPattern: Sendable, Hashable, Codable {
    public var workflowID: String
    public var executions: Int
    public var minimumExecutions: Int
    /// Executions still needed before the pattern exists (0 once it does).
    public var executionsNeeded: Int
    public var successRate: Double?
    public var duration: DurationSummary?
    public var commonFailures: [FailureCluster]
    public var steps: [StepPattern]

    /// Whether there are enough executions for a pattern.
    public var isReady: Bool { executionsNeeded == 0 }

    /// The guide's `AverageDuration`.
    public var averageDuration: Duration? { duration.map { .clamped(seconds: $0.mean) } }
}

extension StepStatistics {
    /// A significant slowdown of the latest runs: the latest 20, 40 or 80 successful durations
    /// against the ones before them (at least 20) in the window, Mann–Whitney U at p < 0.001
    /// (after multiplying by the splits tried), and a median at least 1.2× the earlier one.
    public var regression: DurationRegression? {
        let samples = duration.recent.ordered
        var best: DurationRegression?
        let splits = [20, 40, 80].filter { samples.count - $0 >= 20 }
        for k in splits {
            let later = Array(samples.suffix(k)), earlier = Array(samples.dropLast(k))
            let p = min(1, Statistics.mannWhitneyGreater(later: later, earlier: earlier) * Double(splits.count))
            let before = Statistics.quantile(earlier.sorted(), 0.5), after = Statistics.quantile(later.sorted(), 0.5)
            guard before > 0, p < 0.001, after / before >= 1.2, (after / before).isFinite else { continue }
            if best == nil || p < best!.pValue {
                best = DurationRegression(recentRuns: k, baselineMedian: before, recentMedian: after, ratio: after / before, pValue: p)
            }
        }
        return best
    }

    func pattern(_ id: String) -> StepPattern {
        let rate = { (k: Int, n: Int) -> Double? in n > 0 ? Double(k) / Double(n) : nil }
        let clusters = errors.counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(5).map {
            FailureCluster(signature: $0.key, count: $0.value, example: errorExamples[$0.key], steps: nil)
        }
        return StepPattern(
            stepID: id, runs: runs, skipped: skipped, successRate: rate(successes, successes + failures),
            firstAttemptFailureRate: rate(firstAttemptFailures, runs - cacheHits),
            retryRecoveryRate: rate(recovered, firstAttemptFailures), timeoutRate: rate(timedOutAttempts, attempts),
            cacheHitRate: rate(cacheHits, runs), duration: DurationSummary(duration), queueWait: DurationSummary(queueWait),
            commonFailures: Array(clusters), regression: regression)
    }
}

extension WorkflowStatistics {
    /// The pattern, or how many executions are still needed.
    public func pattern(minimumExecutions: Int, stepOrder: [String] = []) -> WorkflowPattern {
        let needed = max(0, minimumExecutions - executions)
        var clusters: [String: FailureCluster] = [:]
        for (id, s) in steps {
            for (signature, count) in s.errors.counts {
                var c = clusters[signature] ?? FailureCluster(signature: signature, count: 0, example: s.errorExamples[signature], steps: [])
                c.count += count
                c.steps = ((c.steps ?? []) + [id]).sorted()
                clusters[signature] = c
            }
        }
        let order = stepOrder + steps.keys.filter { !stepOrder.contains($0) }.sorted()
        return WorkflowPattern(
            workflowID: workflowID, executions: executions, minimumExecutions: minimumExecutions, executionsNeeded: needed,
            successRate: needed == 0 && executions > 0 ? Double(completed) / Double(executions) : nil,
            duration: needed == 0 ? DurationSummary(duration) : nil,
            commonFailures: needed == 0 ? Array(clusters.values.sorted { ($0.count, $1.signature) > ($1.count, $0.signature) }.prefix(5)) : [],
            steps: needed == 0 ? order.compactMap { id in steps[id].map { $0.pattern(id) } } : [])
    }
}
