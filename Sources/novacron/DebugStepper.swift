import Foundation
import Orchestration
import Synchronization

/// `novacron run --debug` (the guide's `SetDebugMode`): the execution pauses before each step;
/// this shows the step with its inputs resolved (secrets redacted) and waits for a line on
/// stdin — Enter runs that one step, `c` continues without stopping, `q` cancels the execution.
/// With `--break-at STEP` the steps before STEP run without stopping.
final class DebugStepper: Sendable {
    let breakAt: String?
    private let reached = Mutex(false)

    init(breakAt: String?) {
        self.breakAt = breakAt
    }

    /// The execution paused before `step`: run it, stop stepping, or cancel, as the user says.
    func paused(_ engine: WorkflowEngine, execution id: String, before step: String?) async {
        guard let step else { return }
        let stop = reached.withLock { reached -> Bool in
            if !reached, breakAt == nil || breakAt == step { reached = true }
            return reached
        }
        guard stop else {
            try? await engine.resumeExecution(id)
            return
        }
        Console.err(await describe(engine, id, step))
        FileHandle.standardError.write(Data("[Enter] run \(step) · c: continue without stopping · q: cancel > ".utf8))
        // Whichever comes first: an answer, or the execution ending meanwhile (Ctrl-C cancels it).
        // The read blocks a thread of its own, which is simply left behind if the execution wins.
        let answer: String?? = await withCheckedContinuation { continuation in
            let settled = Mutex(false)
            let settle: @Sendable (String??) -> Void = { value in
                if settled.withLock({ done in
                    defer { done = true }
                    return !done
                }) {
                    continuation.resume(returning: value)
                }
            }
            DispatchQueue.global().async { settle(.some(readLine(strippingNewline: true))) }
            Task {
                _ = try? await engine.waitForExecution(id)
                settle(.none)
            }
        }
        guard let answer else { return }  // ended while waiting
        switch answer?.trimmingCharacters(in: .whitespaces).lowercased() {
        case nil, "q"?:
            Console.err(answer == nil ? "\nno more input: cancelling" : "cancelling")
            try? await engine.cancelExecution(id, reason: "cancelled in debug mode")
        case "c"?:
            try? await engine.setDebug(id, false)
            try? await engine.resumeExecution(id)
        default:
            try? await engine.resumeExecution(id)
        }
    }

    /// The step, its resolved inputs and the values its shell command's references stand for.
    func describe(_ engine: WorkflowEngine, _ id: String, _ step: String) async -> String {
        var text = "paused before step \(step)"
        do {
            let (inputs, values) = try await engine.preview(id, stepID: step)
            if !inputs.isEmpty {
                text += "\n  inputs:"
                for key in inputs.keys.sorted() { text += "\n    \(key): \(inputs[key]!.text)" }
            }
            if !values.isEmpty {
                text += "\n  values:"
                for key in values.keys.sorted(by: { $0.localizedStandardCompare($1) == .orderedAscending }) {
                    text += "\n    $\(key) = \(values[key]!)"
                }
            }
        } catch {
            text += "\n  (its inputs cannot be resolved yet: \(error); running it fails the same way)"
        }
        return text
    }
}
