import Foundation

/// The most recent samples, up to a capacity (a ring): what percentiles and regressions are
/// computed from, so one observation costs the same however long the history is.
package struct RecentSamples: Sendable, Hashable, Codable {
    package private(set) var values: [Double] = []
    var next = 0
    package var capacity: Int

    package init(capacity: Int) { self.capacity = max(1, capacity) }

    package mutating func add(_ value: Double) {
        if values.count < capacity {
            values.append(value)
        } else {
            values[next] = value
            next = (next + 1) % capacity
        }
    }

    /// Oldest first.
    package var ordered: [Double] {
        values.count < capacity || next == 0 ? values : Array(values[next...] + values[..<next])
    }

    package var count: Int { values.count }
}

/// Counts per key, keeping the most frequent `capacity` keys (when full, the rarest half is
/// dropped; what is dropped was rare).
package struct BoundedCounts: Sendable, Hashable, Codable {
    package private(set) var counts: [String: Int] = [:]
    package var capacity: Int

    package init(capacity: Int) { self.capacity = capacity }

    package mutating func add(_ key: String, _ n: Int = 1) {
        counts[key, default: 0] += n
        if counts.count > capacity {
            let keep = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.prefix(capacity / 2)
            counts = Dictionary(uniqueKeysWithValues: keep.map { ($0.key, $0.value) })
        }
    }
}

/// Duration aggregates: all-time count, mean and variance (Welford), an EWMA with the configured
/// learning rate, and the recent samples.
package struct DurationStatistics: Sendable, Hashable, Codable {
    package var count = 0
    package var mean = 0.0
    var m2 = 0.0
    package var ewma: Double?
    package var recent: RecentSamples

    package init(window: Int) { recent = RecentSamples(capacity: window) }

    /// `seconds` is clamped into [0, 100 years] (NaN counts as 0): a damaged or hostile history
    /// cannot make a mean, variance or percentile infinite.
    package mutating func add(_ seconds: Double, learningRate: Double) {
        let seconds = Self.sample(seconds)
        let learningRate = learningRate.isFinite ? min(max(learningRate, 0), 1) : 0.1
        count += 1
        let delta = seconds - mean
        mean += delta / Double(count)
        m2 += delta * (seconds - mean)
        ewma = ewma.map { learningRate * seconds + (1 - learningRate) * $0 } ?? seconds
        recent.add(seconds)
    }

    static func sample(_ seconds: Double) -> Double {
        seconds.isNaN ? 0 : min(max(seconds, 0), DurationText.maximumSeconds)
    }

    package var standardDeviation: Double { count > 1 ? (m2 / Double(count - 1)).squareRoot() : 0 }

    package func percentile(_ q: Double) -> Double { Statistics.quantile(recent.values.sorted(), q) }
}

/// What the learning engine keeps about one step, updated per execution in O(window).
package struct StepStatistics: Sendable, Hashable, Codable {
    /// Executions in which the step started (ran or was served from cache).
    package var runs = 0
    package var successes = 0
    /// Executions in which the step ended failed.
    package var failures = 0
    package var skipped = 0
    package var cacheHits = 0
    /// Attempts, and those cut off by the step timeout or ending in another failure.
    package var attempts = 0
    package var timedOutAttempts = 0
    package var failedAttempts = 0
    /// Executions whose first attempt did not succeed.
    package var firstAttemptFailures = 0
    /// …of those, the ones a later attempt rescued.
    package var recovered = 0
    /// Executions with a retry that still ended failed.
    package var exhausted = 0
    /// Successful attempts.
    package var duration: DurationStatistics
    /// How long attempts ran before their timeout cut them off (right-censored durations).
    package var censored: RecentSamples
    package var queueWait: DurationStatistics
    /// Error signatures (see ``ErrorSignature``) and how often each failed an attempt.
    package var errors: BoundedCounts
    /// One redacted message per signature.
    package var errorExamples: [String: String] = [:]
    /// Per input fingerprint: executions that ended succeeded and failed.
    package var inputSuccesses: BoundedCounts
    package var inputFailures: BoundedCounts
    /// Successful runs whose inputs had succeeded before, and of those, the ones whose outputs were the same.
    package var repeatedInputs = 0
    package var repeatedSameOutputs = 0
    /// The outputs last seen per input fingerprint.
    package var outputsByInput: [String: String] = [:]
    /// Failures followed by another run of the step, and of those, the ones whose next run
    /// succeeded: isolated failures look transient, runs of failures look like breakage.
    package var failuresFollowed = 0
    package var failuresFollowedBySuccess = 0
    var lastRunFailed: Bool?

    package init(window: Int) {
        duration = DurationStatistics(window: window)
        censored = RecentSamples(capacity: window)
        queueWait = DurationStatistics(window: 64)
        errors = BoundedCounts(capacity: 64)
        inputSuccesses = BoundedCounts(capacity: 512)
        inputFailures = BoundedCounts(capacity: 512)
    }

    package mutating func add(_ step: StepObservation, learningRate: Double) {
        switch step.status {
        case .skipped:
            skipped += 1
            return
        case .success: successes += 1
        case .failed: failures += 1
        default: break
        }
        guard !step.attempts.isEmpty else { return }
        runs += 1
        if lastRunFailed == true {
            failuresFollowed += 1
            if step.status == .success { failuresFollowedBySuccess += 1 }
        }
        if step.status == .success || step.status == .failed { lastRunFailed = step.status == .failed }
        if step.attempts.contains(where: { $0.outcome == .cached }) {
            cacheHits += 1
            return
        }
        if let wait = step.queueWait { queueWait.add(wait, learningRate: learningRate) }
        for attempt in step.attempts {
            attempts += 1
            switch attempt.outcome {
            case .succeeded: duration.add(attempt.seconds, learningRate: learningRate)
            case .timedOut:
                timedOutAttempts += 1
                censored.add(DurationStatistics.sample(attempt.seconds))
            case .failed:
                failedAttempts += 1
            case .cancelled, .cached, .running, .interrupted: break
            }
            if attempt.outcome == .failed || attempt.outcome == .timedOut, let error = attempt.error {
                let signature = ErrorSignature.of(error)
                errors.add(signature)
                if errorExamples[signature] == nil, errorExamples.count < 64 { errorExamples[signature] = String(error.prefix(500)) }
            }
        }
        if let first = step.attempts.first, first.outcome == .failed || first.outcome == .timedOut {
            firstAttemptFailures += 1
            if step.status == .success { recovered += 1 }
        }
        if step.attempts.count > 1, step.status == .failed { exhausted += 1 }
        if let key = step.inputKey {
            if step.status == .success {
                if let previous = outputsByInput[key] {
                    repeatedInputs += 1
                    if previous == step.outputKey { repeatedSameOutputs += 1 }
                }
                if outputsByInput.count >= 512, outputsByInput[key] == nil { outputsByInput.removeAll(keepingCapacity: true) }
                outputsByInput[key] = step.outputKey ?? ""
                inputSuccesses.add(key)
            } else if step.status == .failed {
                inputFailures.add(key)
            }
        }
    }

    /// Failed executions whose inputs succeeded in some other execution: failures that were not
    /// caused by what the step was given.
    package var failuresWithSucceedingInputs: Int {
        inputFailures.counts.reduce(0) { $0 + (inputSuccesses.counts[$1.key] != nil ? $1.value : 0) }
    }
}

/// What the learning engine keeps about one workflow.
package struct WorkflowStatistics: Sendable, Hashable, Codable {
    package var workflowID: String
    package var executions = 0
    package var completed = 0
    package var failed = 0
    package var cancelled = 0
    package var duration: DurationStatistics
    package var steps: [String: StepStatistics] = [:]
    /// Per definition version: executions, successes, and the sum of durations of the successful ones.
    package var versions: [String: VersionStatistics] = [:]
    /// The store sequence number up to which every observation is included (0 without a store)…
    package var appliedSeq: Int64 = 0
    /// …and the executions after it that are included too.
    package var alsoApplied: [String] = []
    package var window: Int

    package init(workflowID: String, window: Int) {
        self.workflowID = workflowID
        self.window = window
        duration = DurationStatistics(window: window)
    }

    package mutating func add(_ observation: ExecutionObservation, learningRate: Double) {
        executions += 1
        switch observation.status {
        case .completed: completed += 1
        case .failed: failed += 1
        case .cancelled: cancelled += 1
        default: break
        }
        if observation.status == .completed { duration.add(observation.seconds, learningRate: learningRate) }
        var version = versions[observation.version] ?? VersionStatistics(firstSeen: observation.startedAt)
        version.executions += 1
        if observation.status == .completed {
            version.successes += 1
            version.durations.add(DurationStatistics.sample(observation.seconds))
        }
        versions[observation.version] = version
        for step in observation.steps {
            steps[step.stepID, default: StepStatistics(window: window)].add(step, learningRate: learningRate)
        }
    }
}

/// One definition version's record, for judging an applied optimization.
package struct VersionStatistics: Sendable, Hashable, Codable {
    package var firstSeen: Date
    package var executions = 0
    package var successes = 0
    package var durations = RecentSamples(capacity: 256)

    package init(firstSeen: Date) { self.firstSeen = firstSeen }
}
