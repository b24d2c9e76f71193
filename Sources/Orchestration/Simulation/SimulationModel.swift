import Foundation
import Yams

/// How each step behaves in a simulation: how long an attempt takes, how often it fails, whether
/// it slows down after a while, and whether its outputs depend only on its inputs.
///
/// ```yaml
/// default: {duration: 1s}
/// steps:
///   build:
///     duration: {median: 40s, p95: 90s}      # log-normal; or a fixed 30s; or {min: 10s, max: 20s}
///     failureRate: 0.05                      # per attempt
///     error: connection reset by peer
///   package:
///     duration: 20s
///     slowdown: {after: 120, factor: 2}      # from the 121st execution on, twice as long
///   lint:
///     outputs: same                          # same inputs, same outputs (default: unique per run)
/// ```
package struct SimulationModel: Sendable, Hashable {
    package enum DurationModel: Sendable, Hashable {
        case fixed(Double)
        case uniform(Double, Double)
        /// Log-normal with these parameters of log(seconds).
        case logNormal(mu: Double, sigma: Double)

        /// A duration for the uniform draws `u1`, `u2` in (0, 1).
        func draw(_ u1: Double, _ u2: Double) -> Double {
            switch self {
            case .fixed(let s): return s
            case .uniform(let a, let b): return a + (b - a) * u1
            case .logNormal(let mu, let sigma):
                let z = (-2 * log(max(u1, 1e-300))).squareRoot() * cos(2 * .pi * u2)
                return exp(mu + sigma * z)
            }
        }

        package var median: Double {
            switch self {
            case .fixed(let s): return s
            case .uniform(let a, let b): return (a + b) / 2
            case .logNormal(let mu, _): return exp(mu)
            }
        }
    }

    package struct Step: Sendable, Hashable {
        package var duration: DurationModel
        package var failureRate: Double
        package var error: String
        /// From this execution (1-based, exclusive) on, durations are multiplied by `factor`.
        package var slowdownAfter: Int?
        package var slowdownFactor: Double
        /// Outputs depend only on the inputs.
        package var deterministicOutputs: Bool

        package init(
            duration: DurationModel = .fixed(1), failureRate: Double = 0, error: String = "simulated failure", slowdownAfter: Int? = nil,
            slowdownFactor: Double = 1, deterministicOutputs: Bool = false
        ) {
            self.duration = duration
            self.failureRate = failureRate
            self.error = error
            self.slowdownAfter = slowdownAfter
            self.slowdownFactor = slowdownFactor
            self.deterministicOutputs = deterministicOutputs
        }
    }

    package var defaultStep: Step
    package var steps: [String: Step]

    package init(defaultStep: Step = Step(), steps: [String: Step] = [:]) {
        self.defaultStep = defaultStep
        self.steps = steps
    }

    package func step(_ id: String) -> Step { steps[id] ?? defaultStep }

    package struct Invalid: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    /// Reads a model file's text (`file` names it in errors).
    package static func parse(_ text: String, file: String) throws(Invalid) -> SimulationModel {
        let node: Node?
        do { node = try Yams.compose(yaml: text) } catch {
            throw Invalid(description: "\(file): not YAML: \(error)")
        }
        guard let root = node?.mapping else { throw Invalid(description: "\(file): a model is a mapping with 'steps' (and 'default')") }
        var model = SimulationModel()
        for (key, value) in root {
            let where_ = "\(file):\(key.mark.map { "\($0.line):\($0.column)" } ?? "")"
            switch key.string {
            case "default": model.defaultStep = try step(value, at: "\(where_) default")
            case "steps":
                guard let steps = value.mapping else { throw Invalid(description: "\(where_): 'steps' maps step ids to their behaviour") }
                for (id, body) in steps {
                    model.steps[id.string ?? ""] = try step(
                        body, at: "\(file):\(id.mark.map { "\($0.line):\($0.column)" } ?? "") step \(id.string ?? "")")
                }
            default: throw Invalid(description: "\(where_): unknown key '\(key.string ?? "")'; expected 'default' or 'steps'")
            }
        }
        return model
    }

    static func seconds(_ node: Node, at place: String) throws(Invalid) -> Double {
        if let n = node.float {
            guard let d = try? DurationText.duration(seconds: n) else {
                throw Invalid(description: "\(place): \(n) is not a number of seconds from 0 to 100 years")
            }
            return d.seconds
        }
        guard let text = node.string, let d = try? DurationText.parse(text) else {
            throw Invalid(description: "\(place): '\(node.string ?? "")' is not a duration like '30s'")
        }
        return d.seconds
    }

    static func step(_ node: Node, at place: String) throws(Invalid) -> Step {
        guard let fields = node.mapping else { throw Invalid(description: "\(place): a step's behaviour is a mapping") }
        var step = Step()
        for (key, value) in fields {
            let here = "\(place).\(key.string ?? "")"
            switch key.string {
            case "duration":
                if let m = value.mapping {
                    let get = { (k: String) -> Node? in m[Node(k)] }
                    if let median = get("median"), let p95 = get("p95") {
                        let a = try seconds(median, at: here), b = try seconds(p95, at: here)
                        guard a > 0, b >= a else { throw Invalid(description: "\(here): needs 0 < median ≤ p95") }
                        step.duration = .logNormal(mu: log(a), sigma: max(0, (log(b) - log(a)) / Statistics.normalQuantile(0.95)))
                    } else if let min = get("min"), let max = get("max") {
                        let a = try seconds(min, at: here), b = try seconds(max, at: here)
                        guard a >= 0, b >= a else { throw Invalid(description: "\(here): needs 0 ≤ min ≤ max") }
                        step.duration = .uniform(a, b)
                    } else {
                        throw Invalid(description: "\(here): a duration is fixed ('30s'), {median, p95} or {min, max}")
                    }
                } else {
                    step.duration = .fixed(try seconds(value, at: here))
                }
            case "failureRate":
                guard let p = value.float, p >= 0, p <= 1 else { throw Invalid(description: "\(here): a probability from 0 to 1") }
                step.failureRate = p
            case "error": step.error = value.string ?? step.error
            case "slowdown":
                guard let m = value.mapping, let after = m[Node("after")]?.int, let factor = m[Node("factor")]?.float, factor > 0, factor <= 1e6
                else {
                    throw Invalid(description: "\(here): {after: EXECUTIONS, factor: N}")
                }
                step.slowdownAfter = after
                step.slowdownFactor = factor
            case "outputs":
                switch value.string {
                case "same": step.deterministicOutputs = true
                case "unique": step.deterministicOutputs = false
                default: throw Invalid(description: "\(here): 'same' (outputs depend only on inputs) or 'unique'")
                }
            default:
                throw Invalid(description: "\(here): unknown key; expected duration, failureRate, error, slowdown or outputs")
            }
        }
        return step
    }

    /// A model from what the learning engine saw: per step, a log-normal fitted to its successful
    /// durations (the timed-out attempts as right-censored) and its per-attempt failure rate.
    package static func learned(from statistics: WorkflowStatistics) -> SimulationModel {
        var model = SimulationModel()
        for (id, s) in statistics.steps {
            var step = Step()
            if let fit = Statistics.censoredLogNormal(observed: s.duration.recent.values, censoredAt: s.censored.values) {
                step.duration = .logNormal(mu: fit.mu, sigma: fit.sigma)
            } else if s.duration.count > 0 {
                step.duration = .fixed(s.duration.mean)
            }
            let finished = s.duration.count + s.failedAttempts
            step.failureRate = finished > 0 ? Double(s.failedAttempts) / Double(finished) : 0
            if let top = s.errors.counts.max(by: { $0.value < $1.value }) { step.error = s.errorExamples[top.key] ?? top.key }
            step.deterministicOutputs = s.repeatedInputs > 0 && s.repeatedSameOutputs == s.repeatedInputs
            model.steps[id] = step
        }
        return model
    }
}
