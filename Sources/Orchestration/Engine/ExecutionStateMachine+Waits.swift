import Foundation

/// Approvals and signals: steps that wait for something from outside, holding no slot.
///
/// An `approval` step, or a `wait` step with `signal:` or `until:`, is *suspended* when it would start: it
/// leaves the ready queue's count of running steps, and ends when a decision or the named signal
/// arrives (``receive(_:now:)``), or when its timeout passes (``waitTimedOut(step:now:)``). A signal
/// is kept once received, so a step that waits for it later ends at once; a decision on an
/// approval step that does not wait yet is kept for when it does.
extension ExecutionStateMachine {
    /// What unit `i` waits for when it starts with `request`, or nil for a step that runs. A bad
    /// `signal:` or `until:` (a reference rendered empty, text that is not a time) is `.failure`:
    /// present means a wait, and it fails naming the input rather than running as a sleep.
    func waitReason(_ request: StepRequest) -> Result<WaitReason, ResolutionError>? {
        switch request.type {
        case .approval: return .success(.approval)
        case .wait:
            if let signal = request.inputs["signal"] {
                guard !signal.text.isEmpty else { return .failure(ResolutionError(message: "inputs.signal is empty: name the signal to wait for")) }
                return .success(.signal(signal.text))
            }
            if let until = request.inputs["until"] {
                guard let time = TimeText.parse(until.text) else {
                    return .failure(
                        ResolutionError(message: "until: '\(until.text.prefix(60))' is not a time like 2026-12-24T18:00:00Z or 2026-12-24"))
                }
                return .success(.until(time))
            }
            return nil
        default: return nil
        }
    }

    /// Unit `i` starts waiting (the ready queue counts it as running already; it stops counting it).
    mutating func suspend(_ i: Int, attempt: Int, request: StepRequest, waitingFor wait: WaitReason, now: Date, actions: inout [Action]) {
        readyQueue.finish(i)
        phase[i] = .suspended(attempt: attempt)
        attemptStartedAt[i] = now
        results[i].status = .running
        results[i].attempts = attempt
        results[i].waitingFor = wait.description
        if results[i].startedAt == nil { results[i].startedAt = now }
        actions.append(.suspend(step: i, attempt: attempt, request: request))
        switch wait {
        case .until(let time) where time <= now:
            resolveWait(i, status: .success, outputs: ["until": .string(TimeText.format(time))], now: now, actions: &actions)
        case .signal(let name):
            if let payload = signals[name] {
                resolveWait(i, status: .success, outputs: ["signal": .string(name), "payload": payload], now: now, actions: &actions)
            }
        case .approval:
            if let decision = decisions[results[i].stepID] { decide(i, decision, now: now, actions: &actions) }
        default:
            break
        }
    }

    /// Whether unit `i` waits as attempt `attempt`.
    package func isSuspended(_ i: Int, attempt: Int) -> Bool {
        guard phase.indices.contains(i), case .suspended(let a) = phase[i] else { return false }
        return a == attempt
    }

    /// Whether a unit waits for something from outside (a decision, a signal, a time), not only
    /// for a concurrency slot.
    package var waitsForOutside: Bool {
        phase.indices.contains { u in
            guard case .suspended = phase[u] else { return false }
            return results[u].waitReason.map { !$0.isConcurrency } ?? true
        }
    }

    /// Units waiting now.
    package var waitingCount: Int {
        phase.reduce(0) { n, p in
            if case .suspended = p { return n + 1 }
            return n
        }
    }

    /// A signal or a decision arrived: the steps waiting for it end.
    package mutating func receive(_ signal: ExecutionSignal, now: Date) -> [Action] {
        guard !status.isTerminal else { return [] }
        var actions: [Action] = []
        switch signal.kind {
        case .signal:
            signals[signal.name] = signal.payload
            for u in phase.indices where results[u].waitReason == .signal(signal.name) {
                guard case .suspended = phase[u] else { continue }
                resolveWait(u, status: .success, outputs: ["signal": .string(signal.name), "payload": signal.payload], now: now, actions: &actions)
            }
        case .approve, .reject:
            guard let u = unit(of: signal.name), results[u].waitReason == .approval, case .suspended = phase[u] else {
                decisions[signal.name] = signal
                return []
            }
            decide(u, signal, now: now, actions: &actions)
        }
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    mutating func decide(_ u: Int, _ decision: ExecutionSignal, now: Date, actions: inout [Action]) {
        decisions[decision.name] = nil
        let comment = JSONValue.descend(decision.payload, [.key("comment")]) ?? .null
        let approved = decision.kind == .approve
        let outputs: [String: JSONValue] = [
            "approved": .bool(approved), "approvedBy": .string(decision.sender), "comment": comment,
            "data": JSONValue.descend(decision.payload, [.key("data")]) ?? .object([:]),
        ]
        let why = comment == .null ? "" : ": \(comment.text)"
        resolveWait(
            u, status: approved ? .success : .failed, outputs: outputs, error: approved ? nil : "rejected by \(decision.sender)\(why)", now: now,
            actions: &actions)
    }

    /// The time waiting unit `i` waits for (`until:`) came.
    package mutating func untilReached(step i: Int, now: Date) -> [Action] {
        guard case .suspended = phase[i], case .until(let time)? = results[i].waitReason else { return [] }
        var actions: [Action] = []
        resolveWait(i, status: .success, outputs: ["until": .string(TimeText.format(time))], now: now, actions: &actions)
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// The timeout of waiting unit `i` passed: an approval's `onTimeout` decides, else it fails as timed out.
    package mutating func waitTimedOut(step i: Int, now: Date) -> [Action] {
        guard case .suspended = phase[i] else { return [] }
        var actions: [Action] = []
        let step = compiled.workflow.steps[stepIndex(of: i)]
        let limit = step.timeout.map { DurationText.format($0) } ?? "its timeout"
        let what = results[i].waitReason?.words ?? "its wait"
        switch step.onTimeout {
        case "approve"?:
            resolveWait(
                i, status: .success, outputs: ["approved": true, "approvedBy": "timeout", "comment": .null, "data": .object([:])], now: now,
                actions: &actions)
        case "reject"?:
            resolveWait(
                i, status: .failed, outputs: ["approved": false, "approvedBy": "timeout", "comment": .null, "data": .object([:])],
                error: "rejected: no decision within \(limit)", now: now, actions: &actions)
        default:
            resolveWait(
                i, status: .failed, outputs: [:], error: "timed out after \(limit) waiting for \(what)", timedOut: true, now: now, actions: &actions)
        }
        fill(now: now, actions: &actions)
        checkCompletion(now: now, actions: &actions)
        return actions
    }

    /// Ends waiting unit `i`.
    mutating func resolveWait(
        _ i: Int, status: StepStatus, outputs: [String: JSONValue], error: String? = nil, timedOut: Bool = false, now: Date,
        actions: inout [Action]
    ) {
        guard case .suspended = phase[i] else { return }
        results[i].waitingFor = nil
        results[i].outputs = outputs
        results[i].timedOut = timedOut
        if status == .success { results[i].error = nil }
        end(i, status: status, reason: nil, error: error, now: now, actions: &actions)
        if status == .failed { failedWithoutContinue(i, now: now, actions: &actions) }
        releaseDownstream(of: i, now: now, actions: &actions)
    }
}
