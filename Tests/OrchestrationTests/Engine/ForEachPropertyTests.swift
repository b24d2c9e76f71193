import Foundation
import Orchestration
import OrchestrationTesting
import TestSupport
import Testing

@Suite("forEach properties")
struct ForEachPropertyTests {
    /// Random lists, windows, tolerances, retries and outcomes, finished in random order: the window
    /// holds, every item ends exactly once, and the step ends as the tolerance rule says.
    @Test("random fans keep their window, end every item once and honour the tolerance")
    func randomFans() throws {
        let seed = ProcessInfo.processInfo.environment["NOVACRON_PROPERTY_SEED"].flatMap(UInt64.init) ?? UInt64(Date().timeIntervalSince1970)
        var rng = SeededGenerator(seed: seed)
        for round in 0..<300 {
            let count = Int.random(in: 0...25, using: &rng)
            let window = Int.random(in: 1...6, using: &rng)
            let limit = Int.random(in: 1...8, using: &rng)
            let attempts = Int.random(in: 1...3, using: &rng)
            let tolerated = Bool.random(using: &rng) ? Int.random(in: 0...3, using: &rng) : nil
            let percentage = Bool.random(using: &rng) ? Double(Int.random(in: 0...100, using: &rng)) : nil
            var yaml = """
                name: w
                steps:
                  - id: fan
                    forEach: ${list}
                    maxConcurrency: \(window)
                    retryPolicy: {maxAttempts: \(attempts), initialDelay: 1s, jitter: none}
                    inputs: {v: "${item}"}
                """
            if let tolerated { yaml += "\n    toleratedFailures: \(tolerated)" }
            if let percentage { yaml += "\n    toleratedFailurePercentage: \(Int(percentage))" }
            let context =
                "seed \(seed), round \(round): \(count) items, window \(window), limit \(limit), tolerated \(String(describing: tolerated)), \(String(describing: percentage))%"
            var m = try machine(yaml, limit: limit, inputs: ["list": .array((0..<count).map { .number(Double($0)) })])
            var running = Set<Int>(), retrying = Set<Int>(), stopped = Set<Int>(), ended: [String: Int] = [:]
            var clock = 0.0
            func absorb(_ actions: [ExecutionStateMachine.Action]) {
                for action in actions {
                    switch action {
                    case .startAttempt(let u, _, _): running.insert(u)
                    case .scheduleRetry(let u, _, _):
                        running.remove(u)
                        retrying.insert(u)
                    case .stepFinished(let u): ended[m.id(u), default: 0] += 1
                    case .cancelAttempts(let units): stopped.formUnion(units)
                    default: break
                    }
                }
            }
            absorb(m.start(now: t0))
            var steps = 0
            while !m.status.isTerminal, steps < 10_000 {
                steps += 1
                #expect(running.count <= min(window, limit), "\(context)")
                clock += 1
                if let u = retrying.randomElement(using: &rng), running.isEmpty || Bool.random(using: &rng) {
                    retrying.remove(u)
                    absorb(m.retryDue(step: u, now: t0.addingTimeInterval(clock)))
                    continue
                }
                guard let u = running.randomElement(using: &rng) else { break }
                running.remove(u)
                let fails = Int.random(in: 0..<3, using: &rng) == 0
                let outcome: StepOutcome =
                    stopped.contains(u) ? .cancelled() : fails ? .failure("no") : .success(outputs: ["i": .number(Double(u))])
                absorb(m.attemptFinished(step: u, outcome: outcome, now: t0.addingTimeInterval(clock)))
            }
            #expect(m.status.isTerminal, "\(context): the execution did not end")
            let items = (0..<count).map { "fan[\($0)]" }
            #expect(items.allSatisfy { ended[$0] == 1 }, "\(context): every item ends exactly once: \(ended)")
            #expect(ended["fan"] == 1, "\(context)")
            let failed = items.filter { m.result($0).status == .failed }.count
            let exceeds = ForEach.exceeds(failed: failed, of: count, toleratedFailures: tolerated, toleratedPercentage: percentage)
            #expect(m.result("fan").status == (exceeds ? .failed : .success), "\(context): \(failed) failed")
            #expect(m.status == (exceeds ? .failed : .completed), "\(context)")
            #expect(m.result("fan").outputs["failedItems"] == .number(Double(failed)), "\(context)")
            if case .array(let list)? = m.result("fan").outputs["results"] {
                #expect(list.count == count, "\(context)")
            } else {
                Issue.record("\(context): no results list")
            }
        }
    }
}
