import Foundation

/// Turns a workflow's statistics into suggestions. Pure: the same definition and statistics give
/// the same suggestions. Every confidence is a one-sided 95% bound; docs/learning.md has the
/// formula of each kind.
package struct Suggester: Sendable {
    package var configuration: OptimizationConfig

    package init(configuration: OptimizationConfig = OptimizationConfig()) { self.configuration = configuration }

    /// Suggestions, most important first. Structural ones (redundant dependencies) need no
    /// history; the rest need `minimumExecutions` executions.
    package func suggestions(for workflow: Workflow, statistics: WorkflowStatistics?) -> [Suggestion] {
        // A suggestion nobody should act on is noise; one with a number that is not finite is a bug
        // in its kind, and is dropped rather than sent (the property tests look for them).
        candidates(for: workflow, statistics: statistics).filter { $0.isFinite && $0.confidence >= Self.minimumConfidence }
            .sorted { ($0.priority, $0.confidence, $1.id) > ($1.priority, $1.confidence, $0.id) }
    }

    /// Every suggestion each kind makes, before the confidence and finiteness filter, in no
    /// particular order: what ``suggestions(for:statistics:)`` chooses from.
    package func candidates(for workflow: Workflow, statistics: WorkflowStatistics?) -> [Suggestion] {
        var out: [Suggestion] = []
        let graph = WorkflowValidator().validate(workflow).graph
        let learned = learnedDurations(statistics)
        let plan = graph.map { Planner(learnedDurations: learned).plan($0) }
        if let plan { out += redundantDependencies(workflow, plan: plan) }
        if let statistics, statistics.executions >= configuration.minimumExecutions {
            for (index, step) in workflow.steps.enumerated() {
                guard let s = statistics.steps[step.id] else { continue }
                let context = StepContext(workflow: workflow, step: step, index: index, stats: s, workflowStats: statistics)
                out += [
                    raiseTimeout(context), addRetries(context), removeRetries(context), enableCache(context), regression(context),
                    setEstimate(context),
                ].compactMap { $0 }
            }
            if let graph, let plan { out += parallelize(workflow, graph: graph, plan: plan, statistics: statistics, learned: learned) }
        }
        return out
    }

    /// Median successful duration per step, for planning.
    package func learnedDurations(_ statistics: WorkflowStatistics?) -> [String: Duration] {
        guard let statistics else { return [:] }
        var out: [String: Duration] = [:]
        for (id, s) in statistics.steps where s.duration.count >= configuration.minimumExecutions {
            out[id] = .clamped(seconds: s.duration.percentile(0.5))
        }
        return out
    }

    struct StepContext {
        var workflow: Workflow
        var step: WorkflowStep
        var index: Int
        var stats: StepStatistics
        var workflowStats: WorkflowStatistics

        var path: String { "/steps/\(index)" }
        /// `test` that the step is still the one at this index.
        var guardOp: JSONPatchOperation { JSONPatchOperation(.test, "\(path)/id", .string(step.id)) }
        var retryPolicy: RetryPolicy { step.retryPolicy ?? workflow.retryPolicy ?? RetryPolicy() }
        /// The step's share of the execution's mean duration.
        var shareOfExecution: Double {
            let total = workflowStats.duration.mean
            return total > 0 ? min(1, stats.duration.mean / total) : 0
        }
    }

    /// Suggestions less confident than this are not made.
    package static let minimumConfidence = 0.1

    static func priority(_ impact: Double) -> Suggestion.Priority {
        impact >= 10 ? .high : impact >= 2 ? .medium : .low
    }

    static func number(_ x: Double, _ digits: Double = 1000) -> JSONValue { .number((x * digits).rounded() / digits) }

    /// A duration rounded up to a value people write: whole seconds, then 5 s, 30 s, minutes.
    /// Total: NaN is 0, and nothing goes beyond ``DurationText/maximumSeconds``.
    static func roundUp(_ seconds: Double) -> Duration {
        let seconds = seconds.isNaN ? 0 : min(max(seconds, 0), DurationText.maximumSeconds)
        let steps: [Double] = [1, 5, 10, 30, 60, 300, 600, 1800, 3600]
        let unit = steps.last { $0 <= seconds / 5 } ?? 1
        return .clamped(seconds: min((seconds / unit).rounded(.up) * unit, DurationText.maximumSeconds))
    }

    /// `share` (0…1) as a whole percentage, total: NaN is 0.
    static func percent(_ share: Double) -> Int {
        share.isNaN ? 0 : Int((min(max(share, 0), 1) * 100).rounded())
    }

    /// How far one suggestion may raise a timeout: a fit extrapolated from heavy censoring can
    /// ask for anything, and a tenfold raise is already a question for a person.
    static let maximumTimeoutRaise = 10.0

    // MARK: Kinds

    /// Attempts keep hitting the timeout (its Wilson lower bound at least 1% of attempts, at
    /// least 3 of them) while attempts allowed to finish succeed. New timeout: the 99.5th
    /// percentile of a log-normal fitted to the successful durations with the cut-off attempts
    /// as right-censored, ×1.2, rounded up. Confidence: Wilson lower bound of the share of
    /// finished attempts that succeeded.
    func raiseTimeout(_ c: StepContext) -> Suggestion? {
        let s = c.stats
        // Cut-offs well under the current timeout happened under an older, lower one.
        guard let timeout = c.step.timeout else { return nil }
        let relevant = s.censored.values.filter { $0 >= 0.95 * timeout.seconds }.count
        guard relevant >= 3, Statistics.wilsonLower(relevant, min(s.attempts, s.censored.capacity)) >= 0.01,
            let fit = Statistics.censoredLogNormal(observed: s.duration.recent.values, censoredAt: s.censored.values)
        else { return nil }
        let p995 = exp(fit.mu + Statistics.normalQuantile(0.995) * fit.sigma)
        let wanted = max(p995 * 1.2, timeout.seconds * 1.25)
        let capped = !(wanted <= timeout.seconds * Self.maximumTimeoutRaise)
        let cap = Duration.clamped(seconds: timeout.seconds * Self.maximumTimeoutRaise).roundedToMilliseconds
        let proposed = capped ? cap : min(Self.roundUp(wanted), max(cap, timeout))
        guard proposed > timeout, s.attempts > 0 else { return nil }
        let finished = s.duration.count + s.failedAttempts
        let confidence = Statistics.wilsonLower(s.duration.count, finished)
        let stillCut = 1 - Statistics.normalCDF((log(max(proposed.seconds, 1e-9)) - fit.mu) / fit.sigma)
        let timeoutRate = Double(s.timedOutAttempts) / Double(s.attempts)
        let impact = max(0, timeoutRate - stillCut) * 100
        let patch = [
            c.guardOp, JSONPatchOperation(c.step.timeout == nil ? .add : .replace, "\(c.path)/timeout", .string(DurationText.format(proposed))),
        ]
        return Suggestion(
            id: "\(Suggestion.Kind.raiseTimeout.rawValue)/\(c.step.id)", kind: .raiseTimeout, step: c.step.id,
            description:
                "Raise \(c.step.id)'s timeout from \(DurationText.format(timeout)) to \(DurationText.format(proposed)): \(s.timedOutAttempts) of \(s.attempts) attempts (\(Self.percent(timeoutRate))%) were cut off, while \(Self.percent(Double(s.duration.count) / Double(max(1, finished))))% of attempts allowed to finish succeeded\(capped ? " (the fit asks for more; one suggestion raises a timeout at most tenfold)" : "")",
            expectedImpact: impact, priority: Self.priority(impact), confidence: confidence, safe: true, semanticChange: false,
            evidence: [
                "attempts": .number(Double(s.attempts)), "timedOutAttempts": .number(Double(s.timedOutAttempts)),
                "timeoutRateLowerBound": Self.number(Statistics.wilsonLower(s.timedOutAttempts, s.attempts)),
                "finishedAttempts": .number(Double(finished)), "succeededAttempts": .number(Double(s.duration.count)),
                "fittedMedianSeconds": Self.number(min(exp(fit.mu), DurationText.maximumSeconds)),
                "fittedP995Seconds": Self.number(min(p995, DurationText.maximumSeconds)), "capped": .bool(capped),
                "shareStillCutOff": Self.number(stillCut, 10000), "currentTimeout": .string(DurationText.format(timeout)),
            ],
            patch: patch)
    }

    /// A step without retries fails (Wilson lower bound of its failure rate at least 1%, at least
    /// 3 failures, mostly not timeouts), and the failures look transient — either the inputs it
    /// failed on succeed in other executions (Wilson lower bound of that share), or a failure is
    /// followed by a success about as often as any run is: Wilson lower bound of the share of
    /// failures followed by a success, divided by the step's success rate (1 when failures are
    /// independent of each other, near 0 when they come in runs, as breakage does). Attempts: the
    /// fewest `k` with (upper bound of the failure rate)^k ≤ 0.1%, 2…5. Confidence: the larger
    /// transience bound (at most 1) × (1 − (upper bound of the failure rate)^(k−1)), the chance
    /// the retries rescue a failure.
    func addRetries(_ c: StepContext) -> Suggestion? {
        let s = c.stats
        let failures = s.failedAttempts + s.timedOutAttempts
        guard c.retryPolicy.maxAttempts <= 1, s.failures >= 3, s.failedAttempts >= s.timedOutAttempts,
            Statistics.wilsonLower(s.failures, s.runs - s.cacheHits) >= 0.01
        else { return nil }
        let transient = s.failuresWithSucceedingInputs
        let successRate = Double(s.successes) / Double(max(1, s.successes + s.failures))
        let transientBound = min(
            1,
            max(
                Statistics.wilsonLower(transient, s.failures),
                successRate > 0 ? Statistics.wilsonLower(s.failuresFollowedBySuccess, s.failuresFollowed) / successRate : 0))
        // Most failures must look transient; a step that keeps failing needs fixing, not retrying.
        guard transientBound >= 0.5 else { return nil }
        let failUpper = Statistics.wilsonUpper(failures, s.attempts)
        var k = 2
        while k < 5, pow(failUpper, Double(k)) > 0.001 { k += 1 }
        let rescue = 1 - pow(failUpper, Double(k - 1))
        let confidence = transientBound * rescue
        let failRate = Double(s.failures) / Double(max(1, s.runs - s.cacheHits))
        let impact = max(0, failRate - pow(failRate, Double(k))) * 100
        let policy: JSONValue = [
            "maxAttempts": .number(Double(k)), "backoffStrategy": "exponential", "initialDelay": "2s", "maxDelay": "1m", "jitter": "full",
        ]
        return Suggestion(
            id: "\(Suggestion.Kind.addRetries.rawValue)/\(c.step.id)", kind: .addRetries, step: c.step.id,
            description:
                "Retry \(c.step.id) up to \(k) attempts: it failed in \(s.failures) of \(s.runs - s.cacheHits) executions (\(Self.percent(failRate))%), and the failures look transient: \(s.failuresFollowedBySuccess) of \(s.failuresFollowed) were followed by a success, \(transient) were on inputs that succeeded elsewhere",
            expectedImpact: impact, priority: Self.priority(impact), confidence: confidence, safe: true, semanticChange: false,
            evidence: [
                "runs": .number(Double(s.runs - s.cacheHits)), "failures": .number(Double(s.failures)),
                "failureRateLowerBound": Self.number(Statistics.wilsonLower(s.failures, s.runs - s.cacheHits)),
                "failuresOnInputsThatSucceeded": .number(Double(transient)), "failuresFollowed": .number(Double(s.failuresFollowed)),
                "failuresFollowedBySuccess": .number(Double(s.failuresFollowedBySuccess)), "transientLowerBound": Self.number(transientBound),
                "rescueLowerBound": Self.number(rescue), "successRate": Self.number(successRate),
                "topError": s.errors.counts.max { $0.value < $1.value }.map { .string($0.key) } ?? .null,
            ],
            patch: [c.guardOp, JSONPatchOperation(c.step.retryPolicy == nil ? .add : .replace, "\(c.path)/retryPolicy", policy)])
    }

    /// A step with retries whose first attempts failed at least 10 times and whose retries
    /// rescued it with a Wilson upper bound under 10%. Confidence: 1 − that upper bound.
    func removeRetries(_ c: StepContext) -> Suggestion? {
        let s = c.stats
        guard c.retryPolicy.maxAttempts > 1, s.firstAttemptFailures >= 10 else { return nil }
        let upper = Statistics.wilsonUpper(s.recovered, s.firstAttemptFailures)
        guard upper < 0.1 else { return nil }
        let wasted = max(0, s.attempts - s.runs + s.cacheHits)
        let impact = s.attempts > 0 ? Double(wasted) / Double(s.attempts) * c.shareOfExecution * 100 : 0
        var policy = c.retryPolicy
        policy.maxAttempts = 1
        return Suggestion(
            id: "\(Suggestion.Kind.removeRetries.rawValue)/\(c.step.id)", kind: .removeRetries, step: c.step.id,
            description:
                "Stop retrying \(c.step.id): its first attempt failed \(s.firstAttemptFailures) times and a retry rescued it \(s.recovered) times; the retries only delay the failure",
            expectedImpact: impact, priority: Self.priority(impact), confidence: 1 - upper, safe: false, semanticChange: false,
            evidence: [
                "firstAttemptFailures": .number(Double(s.firstAttemptFailures)), "recovered": .number(Double(s.recovered)),
                "recoveryRateUpperBound": Self.number(upper), "retryAttempts": .number(Double(wasted)),
            ],
            patch: [c.guardOp, JSONPatchOperation(c.step.retryPolicy == nil ? .add : .replace, "\(c.path)/retryPolicy", Workflow.document(policy))])
    }

    /// An uncached step whose inputs repeat (Wilson lower bound of the share of successful runs
    /// whose inputs had succeeded before at least 20%, at least 5 repeats) and gave the same
    /// outputs. Only for steps declared `idempotent` (caching skips side effects). Confidence:
    /// Wilson lower bound of the share of repeats whose outputs were the same.
    func enableCache(_ c: StepContext) -> Suggestion? {
        let s = c.stats
        guard c.step.effectiveCache == nil, c.step.idempotent, s.repeatedInputs >= 5,
            Statistics.wilsonLower(s.repeatedInputs, s.successes) >= 0.2
        else { return nil }
        let confidence = Statistics.wilsonLower(s.repeatedSameOutputs, s.repeatedInputs)
        let repeatRate = Double(s.repeatedInputs) / Double(max(1, s.successes))
        let impact = repeatRate * c.shareOfExecution * 100
        return Suggestion(
            id: "\(Suggestion.Kind.enableCache.rawValue)/\(c.step.id)", kind: .enableCache, step: c.step.id,
            description:
                "Cache \(c.step.id): it is idempotent, \(s.repeatedInputs) of its \(s.successes) successful runs had inputs seen before, and \(s.repeatedSameOutputs) of those gave the same outputs",
            expectedImpact: impact, priority: Self.priority(impact), confidence: confidence, safe: true, semanticChange: false,
            evidence: [
                "successes": .number(Double(s.successes)), "repeatedInputs": .number(Double(s.repeatedInputs)),
                "repeatRateLowerBound": Self.number(Statistics.wilsonLower(s.repeatedInputs, s.successes)),
                "sameOutputs": .number(Double(s.repeatedSameOutputs)), "meanSeconds": Self.number(s.duration.mean),
            ],
            patch: [c.guardOp, JSONPatchOperation(.add, "\(c.path)/cache", ["enabled": true, "ttl": "1h"])])
    }

    /// Recent runs significantly slower (see ``StepStatistics/regression``). The patch moves the
    /// estimate to the recent median, so plans and ETAs stop being optimistic; what made it
    /// slower is for a person to find. Confidence: 1 − the corrected p-value.
    func regression(_ c: StepContext) -> Suggestion? {
        guard let r = c.stats.regression else { return nil }
        let estimate = Duration.clamped(seconds: r.recentMedian)
        // Already planned with the slower duration (this suggestion was applied).
        if let current = c.step.estimatedDuration, abs(current.seconds - r.recentMedian) <= 0.1 * r.recentMedian { return nil }
        let impact = (r.ratio - 1) * c.shareOfExecution * 100
        return Suggestion(
            id: "\(Suggestion.Kind.durationRegression.rawValue)/\(c.step.id)", kind: .durationRegression, step: c.step.id,
            description:
                "\(c.step.id) got \(String(format: "%.1f", r.ratio))× slower over its last \(r.recentRuns) runs (median \(DurationText.format(.clamped(seconds: r.baselineMedian))) → \(DurationText.format(estimate))); find out what changed. The patch updates its estimate",
            expectedImpact: impact, priority: Self.priority(max(impact, 10)), confidence: 1 - r.pValue, safe: true, semanticChange: false,
            evidence: [
                "recentRuns": .number(Double(r.recentRuns)), "baselineMedianSeconds": Self.number(r.baselineMedian),
                "recentMedianSeconds": Self.number(r.recentMedian), "ratio": Self.number(r.ratio), "pValue": .number(r.pValue),
            ],
            patch: [
                c.guardOp,
                JSONPatchOperation(
                    c.step.estimatedDuration == nil ? .add : .replace, "\(c.path)/estimatedDuration",
                    .string(DurationText.format(estimate.roundedToMilliseconds))),
            ])
    }

    /// A step without `estimatedDuration`, with at least `minimumExecutions` successful runs: the
    /// median. Confidence: the normal approximation of the binomial probability that the true
    /// median lies within ±25% of it, Φ((c₊ − n/2)/√(n/4)) − Φ((c₋ − n/2)/√(n/4)), where c₋ and
    /// c₊ count the samples at most 0.8× and 1.25× the median.
    func setEstimate(_ c: StepContext) -> Suggestion? {
        let s = c.stats
        guard c.step.estimatedDuration == nil, s.duration.count >= configuration.minimumExecutions, c.stats.regression == nil else { return nil }
        let samples = s.duration.recent.values
        let median = s.duration.percentile(0.5)
        guard median > 0 else { return nil }
        let n = Double(samples.count)
        let below = Double(samples.filter { $0 <= 0.8 * median }.count), within = Double(samples.filter { $0 <= 1.25 * median }.count)
        let sd = (n / 4).squareRoot()
        let confidence = max(0, Statistics.normalCDF((within - n / 2) / sd) - Statistics.normalCDF((below - n / 2) / sd))
        let impact = min(100, abs(median - 1) / median * 100)
        let estimate = Duration.clamped(seconds: median).roundedToMilliseconds
        return Suggestion(
            id: "\(Suggestion.Kind.setEstimate.rawValue)/\(c.step.id)", kind: .setEstimate, step: c.step.id,
            description:
                "Set \(c.step.id)'s estimatedDuration to \(DurationText.format(estimate)), its median over \(samples.count) runs; plans use 1s without it",
            expectedImpact: impact, priority: .low, confidence: confidence, safe: true, semanticChange: false,
            evidence: [
                "samples": .number(n), "medianSeconds": Self.number(median), "p95Seconds": Self.number(s.duration.percentile(0.95)),
                "withinQuarter": Self.number((within - below) / n),
            ],
            patch: [c.guardOp, JSONPatchOperation(.add, "\(c.path)/estimatedDuration", .string(DurationText.format(estimate)))])
    }

    /// Listed dependencies another path already implies (the transitive reduction). Removing one
    /// changes nothing about when the step runs: confidence 1.
    func redundantDependencies(_ workflow: Workflow, plan: ExecutionPlan) -> [Suggestion] {
        plan.redundantDependencies.compactMap { r in
            guard let index = workflow.steps.firstIndex(where: { $0.id == r.step }),
                let position = workflow.steps[index].dependencies.firstIndex(of: r.dependency)
            else { return nil }
            return Suggestion(
                id: "\(Suggestion.Kind.removeDependency.rawValue)/\(r.step):\(r.dependency)", kind: .removeDependency, step: r.step,
                description: "Drop \(r.step)'s dependency on \(r.dependency): it already waits for \(r.dependency) through \(r.via)",
                expectedImpact: 0, priority: .low, confidence: 1, safe: true, semanticChange: false,
                evidence: ["dependency": .string(r.dependency), "via": .string(r.via)],
                patch: [
                    JSONPatchOperation(.test, "/steps/\(index)/id", .string(r.step)),
                    JSONPatchOperation(.test, "/steps/\(index)/dependencies/\(position)", .string(r.dependency)),
                    JSONPatchOperation(.remove, "/steps/\(index)/dependencies/\(position)"),
                ])
        }
    }

    /// Listed dependencies whose outputs the step never reads (no `${dep.…}` in it), not
    /// redundant, whose removal shortens the planned makespan with learned durations by at least
    /// 5%. A semantic change — the step would no longer wait for its dependency's side effects —
    /// so never applied automatically. Confidence: ½ × Wilson lower bound of the dependency's
    /// success rate (how often the order made no visible difference), deliberately low.
    func parallelize(_ workflow: Workflow, graph: WorkflowGraph, plan: ExecutionPlan, statistics: WorkflowStatistics, learned: [String: Duration])
        -> [Suggestion]
    {
        let implicit = Set(plan.implicitDependencies.map { "\($0.step)\u{1}\($0.dependency)" })
        let redundant = Set(plan.redundantDependencies.map { "\($0.step)\u{1}\($0.dependency)" })
        let before = plan.estimatedDuration.seconds
        guard before > 0 else { return [] }
        var out: [Suggestion] = []
        for (index, step) in workflow.steps.enumerated() {
            for (position, dependency) in step.dependencies.enumerated() {
                let key = "\(step.id)\u{1}\(dependency)"
                guard !implicit.contains(key), !redundant.contains(key), let upstream = statistics.steps[dependency], upstream.runs > 0 else {
                    continue
                }
                var changed = workflow
                changed.steps[index].dependencies.remove(at: position)
                guard let changedGraph = WorkflowValidator().validate(changed).graph else { continue }
                let after = Planner(learnedDurations: learned).plan(changedGraph).estimatedDuration.seconds
                let gain = (before - after) / before
                guard gain >= 0.05 else { continue }
                let confidence = 0.5 * Statistics.wilsonLower(upstream.successes, upstream.successes + upstream.failures)
                out.append(
                    Suggestion(
                        id: "\(Suggestion.Kind.parallelize.rawValue)/\(step.id):\(dependency)", kind: .parallelize, step: step.id,
                        description:
                            "Let \(step.id) run alongside \(dependency): it never reads \(dependency)'s outputs, and the plan would take \(DurationText.format(.clamped(seconds: after).roundedToMilliseconds)) instead of \(DurationText.format(.clamped(seconds: before).roundedToMilliseconds)). Check that \(step.id) does not need \(dependency)'s side effects first",
                        expectedImpact: gain * 100, priority: Self.priority(gain * 100), confidence: confidence, safe: false, semanticChange: true,
                        evidence: [
                            "dependency": .string(dependency), "plannedSecondsBefore": Self.number(before), "plannedSecondsAfter": Self.number(after),
                        ],
                        patch: [
                            JSONPatchOperation(.test, "/steps/\(index)/id", .string(step.id)),
                            JSONPatchOperation(.test, "/steps/\(index)/dependencies/\(position)", .string(dependency)),
                            JSONPatchOperation(.remove, "/steps/\(index)/dependencies/\(position)"),
                        ]))
            }
        }
        return out
    }
}

extension Duration {
    /// Rounded to whole milliseconds, for durations people read.
    var roundedToMilliseconds: Duration { .clamped(seconds: (seconds * 1000).rounded() / 1000) }
}
