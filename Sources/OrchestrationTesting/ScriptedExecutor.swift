import Orchestration
import Synchronization

/// An executor whose outcomes a test writes down in advance, per step and attempt, and which
/// records every request it got. A step may also be held until the test releases it.
///
/// ```swift
/// let executor = ScriptedExecutor()
/// executor.script("deploy", [.failure("boom"), .success(outputs: ["url": "https://x"])])
/// ```
public final class ScriptedExecutor: StepExecutor, Sendable {
    struct State {
        var scripts: [String: [StepOutcome]] = [:]
        var requests: [StepRequest] = []
        var held: Set<String> = []
        var waiting: [String: CheckedContinuation<Void, Never>] = [:]
        var startWatchers: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var durations: [String: Duration] = [:]
        var calls: [String: Int] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Outcomes for the successive runs of `stepID` from now on (across attempts and
    /// executions); the last repeats. Unscripted steps succeed.
    public func script(_ stepID: String, _ outcomes: [StepOutcome]) {
        state.withLock {
            $0.scripts[stepID] = outcomes
            $0.calls[stepID] = 0
        }
    }

    /// Each attempt of `stepID` takes `duration` on the executor context's clock.
    public func takes(_ stepID: String, _ duration: Duration) {
        state.withLock { $0.durations[stepID] = duration }
    }

    /// Attempts of `stepID` wait until ``release(_:)``.
    public func hold(_ stepID: String) {
        _ = state.withLock { $0.held.insert(stepID) }
    }

    /// Lets a held attempt of `stepID` finish (now or when it starts).
    public func release(_ stepID: String) {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.held.remove(stepID)
            return s.waiting.removeValue(forKey: stepID)
        }
        c?.resume()
    }

    /// Every request so far, in start order.
    public var requests: [StepRequest] { state.withLock { $0.requests } }

    /// Step ids in start order (one per attempt).
    public var started: [String] { state.withLock { $0.requests.map(\.stepID) } }

    /// Returns once at least `count` attempts have started.
    public func waitForStarts(_ count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.requests.count >= count { return true }
                s.startWatchers.append((count, c))
                return false
            }
            if ready { c.resume() }
        }
    }

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let (outcome, isHeld, duration, ready) = state.withLock { s -> (StepOutcome, Bool, Duration?, [CheckedContinuation<Void, Never>]) in
            s.requests.append(request)
            let script = s.scripts[request.stepID] ?? []
            let call = s.calls[request.stepID, default: 0]
            s.calls[request.stepID] = call + 1
            let outcome = script.isEmpty ? .success() : script[min(call, script.count - 1)]
            let n = s.requests.count
            let ready = s.startWatchers.filter { $0.count <= n }.map(\.continuation)
            s.startWatchers.removeAll { $0.count <= n }
            return (outcome, s.held.contains(request.stepID), s.durations[request.stepID], ready)
        }
        for c in ready { c.resume() }
        if isHeld {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { s -> Bool in
                        if !s.held.contains(request.stepID) || Task.isCancelled { return true }
                        s.waiting[request.stepID] = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                let c = state.withLock { $0.waiting.removeValue(forKey: request.stepID) }
                c?.resume()
            }
            if Task.isCancelled { return StepOutcome.cancelled() }
        }
        if let duration {
            do { try await context.clock.sleep(for: duration) } catch {
                return StepOutcome.cancelled()
            }
        }
        return outcome
    }
}
