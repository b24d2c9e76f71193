import Foundation
import Synchronization

/// Attempts' ends reach the engine's actor in batches. An attempt's task leaves its end in the
/// engine's inbox; the first task to find nobody applying ends applies them (on the actor), and
/// what was left meanwhile is applied next (``applyFinished()`` says by whom). The others leave
/// theirs and end. So when many attempts end at once (a fan-out) the actor is entered and left once per
/// batch, not once per attempt — each of those hops handed the actor to a newly woken thread,
/// the larger part of a short step's cost — and the batch's writes go to the store in one commit.
/// A lone attempt (a chain) is applied at once by its own task, as before.
///
/// Ends are applied in the order they were left. The batch's writes are committed before any of
/// its actions are carried out, so a dependent still never starts before the result it depends
/// on is saved.
extension WorkflowEngine {
    /// An attempt's end, as its task left it.
    struct FinishedAttempt: Sendable {
        var executionID: String
        var step: Int
        var attempt: Int
        var outcome: StepOutcome
        var cached: Bool
        var rollback: Bool
        var owner: RunIdentity
    }

    /// Ends waiting to be applied, and whether a task is applying them.
    final class FinishedInbox: Sendable {
        private let state = Mutex<(applying: Bool, ends: [FinishedAttempt])>((false, []))

        /// Leaves `end`; true when nobody is applying ends, so the caller is to.
        func leave(_ end: FinishedAttempt) -> Bool {
            state.withLock { s in
                s.ends.append(end)
                guard !s.applying else { return false }
                s.applying = true
                return true
            }
        }

        /// Gives up applying ends, once the caller took its own: true when more were left
        /// meanwhile (the caller has another task apply them), else the next task to leave one
        /// applies it.
        func handOver() -> Bool {
            state.withLock { s in
                guard s.ends.isEmpty else { return true }
                s.applying = false
                return false
            }
        }

        /// The ends left since the last call; nil when there are none, and from then on the next
        /// task to leave one applies it.
        func take() -> [FinishedAttempt]? {
            state.withLock { s in
                guard !s.ends.isEmpty else {
                    s.applying = false
                    return nil
                }
                defer { s.ends = [] }
                return s.ends
            }
        }
    }

    /// Hands an attempt's end to the engine: applies it and the others waiting (returning the
    /// attempt to carry on with, if they started any), or leaves it to the task applying them.
    /// A task cancelled by stopping its attempt stays cancelled, so it applies nothing itself:
    /// a new job does.
    nonisolated func deliver(_ end: FinishedAttempt, fromCancelledTask cancelled: Bool = false) async -> Job? {
        guard finished.leave(end) else { return nil }
        guard cancelled else { return await endingAttempt { await applyFinished() } }
        jobQueue.append(applyingFinished())
        return nil
    }

    /// A job that applies the ends in the inbox.
    nonisolated func applyingFinished() -> Job {
        .followUp { [self] in
            if let next = await endingAttempt({ await applyFinished() }) { await perform(next) }
        }
    }

    /// Applies the ends in the inbox: their decisions are recorded, saved in one commit, then
    /// carried out. With a store, the ends left while these are recorded are applied by a new
    /// job, so they are recorded while these commit (and go into the next commit); without
    /// one, there is nothing to wait for, and this task applies them too.
    func applyFinished() async {
        var first = true
        let handoff = Self.handoff
        while let ends = finished.take() {
            // Going round again (no store): what the last batch started goes to the loop now,
            // not once the inbox is empty, which under steady load might be never.
            if !first, let started = handoff?.takeKeepingOpen(), !started.isEmpty { jobQueue.append(contentsOf: started) }
            first = false
            // Nothing in here waits: every end's writes are recorded before any is saved.
            var applied: [Applied] = []
            applied.reserveCapacity(ends.count)
            for end in ends {
                if let a = attemptFinished(end) { applied.append(a) }
            }
            if writer != nil, finished.handOver() { jobQueue.append(applyingFinished()) }
            await save(applied)
            for a in applied { await carryOut(a) }
            if writer != nil { return }
        }
    }
}
