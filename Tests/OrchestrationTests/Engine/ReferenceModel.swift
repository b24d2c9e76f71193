import Foundation
import Orchestration
import OrchestrationTesting

/// A random workflow for the semantics test: its steps, what each attempt of each does, and the
/// YAML the engine reads.
struct ModelCase: CustomStringConvertible {
    enum Attempt: Equatable {
        case succeed(ms: Int)
        case fail(ms: Int)
        /// Runs until its timeout stops it.
        case hang
    }

    struct Step {
        var id: String
        var dependencies: [Int] = []
        /// `${<upstream>.status} == '<value>'`.
        var condition: (upstream: Int, equals: String)?
        var continueOnFailure = false
        var maxAttempts = 1
        var retryDelayMs = 1000
        var timeoutMs: Int?
        var rollback = false
        var exclusive = false
        var attempts: [Attempt] = []
    }

    var steps: [Step]
    var failFast = false
    var maxParallelism: Int?

    /// A random case: up to 8 steps over earlier ones. `limits` adds a parallelism limit and
    /// exclusive steps (and no failFast, whose outcome would then depend on the order).
    static func random(using rng: inout SeededGenerator, limits: Bool) -> ModelCase {
        let n = Int.random(in: 1...8, using: &rng)
        var steps: [Step] = []
        for i in 0..<n {
            var s = Step(id: "s\(i)")
            for j in 0..<i where s.dependencies.count < 3 && Int.random(in: 0..<100, using: &rng) < 35 { s.dependencies.append(j) }
            if let u = s.dependencies.randomElement(using: &rng), Int.random(in: 0..<5, using: &rng) == 0 {
                s.condition = (u, Bool.random(using: &rng) ? "failed" : "success")
            }
            s.continueOnFailure = Int.random(in: 0..<5, using: &rng) == 0
            s.maxAttempts = Int.random(in: 1...3, using: &rng)
            s.retryDelayMs = Int.random(in: 100...2000, using: &rng)
            if Int.random(in: 0..<10, using: &rng) < 3 { s.timeoutMs = Int.random(in: 500...3000, using: &rng) }
            s.rollback = Int.random(in: 0..<10, using: &rng) < 3
            s.exclusive = limits && Int.random(in: 0..<10, using: &rng) == 0
            for _ in 0..<s.maxAttempts {
                let roll = Int.random(in: 0..<10, using: &rng)
                if roll == 0, s.timeoutMs != nil {
                    s.attempts.append(.hang)
                    continue
                }
                // Never exactly the timeout: which of the two came first would be a coin toss.
                var ms = Int.random(in: 100...4000, using: &rng)
                if ms == s.timeoutMs { ms += 1 }
                s.attempts.append(roll < 7 ? .succeed(ms: ms) : .fail(ms: ms))
            }
            steps.append(s)
        }
        return ModelCase(
            steps: steps, failFast: !limits && Int.random(in: 0..<10, using: &rng) < 3,
            maxParallelism: limits ? Int.random(in: 1...3, using: &rng) : nil)
    }

    var yaml: String {
        var out = "name: model\n"
        if failFast { out += "failFast: true\n" }
        if let maxParallelism { out += "maxParallelism: \(maxParallelism)\n" }
        out += "steps:\n"
        for s in steps {
            out += "  - id: \(s.id)\n    inputs: {command: run}\n"
            if !s.dependencies.isEmpty { out += "    dependencies: [\(s.dependencies.map { steps[$0].id }.joined(separator: ", "))]\n" }
            if let c = s.condition { out += "    condition: \"${\(steps[c.upstream].id).status} == '\(c.equals)'\"\n" }
            if s.continueOnFailure { out += "    continueOnFailure: true\n" }
            if s.maxAttempts > 1 {
                out += "    retryPolicy: {maxAttempts: \(s.maxAttempts), backoffStrategy: fixed, initialDelay: \(s.retryDelayMs)ms, "
                out += "maxDelay: \(s.retryDelayMs)ms, jitter: none}\n"
            }
            out += "    timeout: \(s.timeoutMs.map { "\($0)ms" } ?? "1h")\n"
            if s.rollback { out += "    rollback: {inputs: {command: undo}}\n" }
            if s.exclusive { out += "    parallel: false\n" }
        }
        return out
    }

    var description: String { yaml + "attempts: " + steps.map { "\($0.id)=\($0.attempts)" }.joined(separator: " ") }
}

/// What docs/workflow-files.md and docs/running.md say happens to a ``ModelCase``, worked out
/// with no parallelism limit on an event list in time order — written from the docs, sharing no
/// code with the engine.
struct ReferenceModel {
    struct Outcome: Equatable {
        /// By step id: `success`, `failed`, `skipped`, `cancelled`.
        var statuses: [String: String] = [:]
        var attempts: [String: Int] = [:]
        var failed = false
        /// Steps rolled back, as groups that ended at the same time (their order within a group is free), latest first.
        var rollbackGroups: [[String]] = []
        /// Whether events fell at the same instant as a failFast stop, so who was stopped is a matter of order.
        var ambiguous = false
    }

    let c: ModelCase
    /// Attempts a crash interrupted, by step id (docs/durability.md): such an attempt has no
    /// outcome, counts against `maxAttempts`, and is always followed by another; the n-th attempt
    /// that was not interrupted plays the n-th scripted outcome.
    var interrupted: [String: Set<Int>] = [:]

    /// The scripted outcome attempt `attempt` of step `i` plays.
    func script(_ i: Int, attempt: Int) -> ModelCase.Attempt {
        let skipped = (interrupted[c.steps[i].id] ?? []).filter { $0 < attempt }.count
        return c.steps[i].attempts[attempt - skipped - 1]
    }

    func run() -> Outcome {
        enum Phase { case waiting, running(attempt: Int, ends: Int), retry(attempt: Int, at: Int), done }
        let n = c.steps.count
        var phase = [Phase](repeating: .waiting, count: n)
        var out = Outcome()
        var finishedAt = [Int](repeating: -1, count: n)
        var startedAt = [Int](repeating: -1, count: n)
        var stopAt: Int?
        let downstream = (0..<n).map { i in (0..<n).filter { c.steps[$0].dependencies.contains(i) } }

        func end(_ i: Int, _ status: String, at t: Int) {
            phase[i] = .done
            out.statuses[c.steps[i].id] = status
            finishedAt[i] = t
        }
        func start(_ i: Int, attempt: Int, at t: Int) {
            out.attempts[c.steps[i].id] = attempt
            startedAt[i] = t
            let s = c.steps[i]
            let ends: Int
            if interrupted[s.id]?.contains(attempt) == true {
                phase[i] = .running(attempt: attempt, ends: t + 1)
                return
            }
            switch script(i, attempt: attempt) {
            case .succeed(let ms), .fail(let ms): ends = t + min(ms, s.timeoutMs ?? Int.max)
            case .hang: ends = t + s.timeoutMs!
            }
            phase[i] = .running(attempt: attempt, ends: ends)
        }
        func isDone(_ i: Int) -> Bool {
            if case .done = phase[i] { return true }
            return false
        }
        /// Every upstream of `i` ended: skip it, or start it.
        func decide(_ i: Int, at t: Int) {
            let s = c.steps[i]
            if stopAt != nil { return end(i, "cancelled", at: t) }
            for u in s.dependencies where out.statuses[c.steps[u].id] != "success" && s.condition?.upstream != u {
                return end(i, "skipped", at: t)
            }
            if let cond = s.condition, out.statuses[c.steps[cond.upstream].id] != cond.equals { return end(i, "skipped", at: t) }
            start(i, attempt: 1, at: t)
        }
        func release(_ i: Int, at t: Int) {
            for d in downstream[i] where !isDone(d) {
                if case .waiting = phase[d], c.steps[d].dependencies.allSatisfy(isDone) {
                    decide(d, at: t)
                    if isDone(d) { release(d, at: t) }
                }
            }
        }
        for i in 0..<n where c.steps[i].dependencies.isEmpty { decide(i, at: 0) }
        while true {
            // The earliest event; ties go in step order (the engine's may differ: see `ambiguous`).
            var next: (i: Int, t: Int)?
            for i in 0..<n {
                let t: Int
                switch phase[i] {
                case .running(_, let ends): t = ends
                case .retry(_, let at): t = at
                default: continue
                }
                if next == nil || t < next!.t { next = (i, t) }
            }
            guard let (i, t) = next else { break }
            switch phase[i] {
            case .retry(let attempt, _):
                start(i, attempt: attempt, at: t)
            case .running(let attempt, _):
                let s = c.steps[i]
                if interrupted[s.id]?.contains(attempt) == true {
                    phase[i] = .retry(attempt: attempt + 1, at: t)
                    continue
                }
                let succeeded: Bool
                switch script(i, attempt: attempt) {
                case .succeed(let ms): succeeded = ms < (s.timeoutMs ?? Int.max)
                case .fail, .hang: succeeded = false
                }
                if succeeded {
                    end(i, "success", at: t)
                } else if attempt < s.maxAttempts {
                    phase[i] = .retry(attempt: attempt + 1, at: t + s.retryDelayMs)
                    continue
                } else {
                    end(i, "failed", at: t)
                    if !s.continueOnFailure {
                        out.failed = true
                        if c.failFast, stopAt == nil {
                            stopAt = t
                            for j in 0..<n where !isDone(j) {
                                switch phase[j] {
                                case .running(_, let ends) where ends == t: out.ambiguous = true
                                case .retry(_, let at) where at == t: out.ambiguous = true
                                default: break
                                }
                                end(j, "cancelled", at: t)
                            }
                            // Something else that happened at this instant may come after the failure in the engine.
                            let cancelledNow = Set((0..<n).filter { $0 != i && finishedAt[$0] == t && out.statuses[c.steps[$0].id] == "cancelled" })
                            if (0..<n).contains(where: { $0 != i && (startedAt[$0] == t || (finishedAt[$0] == t && !cancelledNow.contains($0))) }) {
                                out.ambiguous = true
                            }
                        }
                    }
                }
                release(i, at: t)
            default:
                break
            }
        }
        if out.failed {
            let rolled = (0..<n).filter { c.steps[$0].rollback && out.statuses[c.steps[$0].id] == "success" }
            for t in Set(rolled.map { finishedAt[$0] }).sorted(by: >) {
                out.rollbackGroups.append(rolled.filter { finishedAt[$0] == t }.map { c.steps[$0].id }.sorted())
            }
        }
        return out
    }
}
