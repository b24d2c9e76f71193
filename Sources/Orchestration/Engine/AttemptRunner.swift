import Foundation

/// Runs one attempt with the executor for its step, racing the attempt's timeout and a stop
/// signal; a stopped or timed-out attempt is cancelled and awaited, so its processes are gone when
/// ``run(_:signal:redactor:processStarted:)`` returns. The engine runs local attempts with it, a
/// ``StepWorker`` the steps it claims from a queue.
struct AttemptRunner: Sendable {
    let executors: ExecutorRegistry
    let context: ExecutorContext
    let time: TimeSource

    enum Race: Sendable {
        case finished(StepOutcome)
        case stopped
        case timedOut
    }

    func run(
        _ request: StepRequest, signal: OneShotSignal, redactor: Redactor, processStarted: (@Sendable (ProcessHandle) -> Void)? = nil
    ) async -> StepOutcome {
        guard let executor = executors.executor(for: request) else {
            return .failure("no executor for \(request.type.rawValue) steps\(request.action.map { " (action \($0))" } ?? "")")
        }
        var context = self.context
        context.redactor = redactor
        if let processStarted { context.processStarted = processStarted }
        let time = self.time
        return await withTaskGroup(of: Race.self) { [context] group in
            group.addTask { .finished(await executor.execute(request, context: context)) }
            group.addTask {
                await signal.wait()
                return .stopped
            }
            if let timeout = request.timeout {
                group.addTask {
                    do { try await time.sleep(for: timeout) } catch { return .stopped }
                    return .timedOut
                }
            }
            var ending: Race?
            while let next = await group.next() {
                switch next {
                case .finished(var outcome):
                    group.cancelAll()
                    switch ending {
                    case .timedOut?:
                        outcome.ending = .timedOut
                        outcome.error = "timed out after \(DurationText.format(request.timeout ?? .zero))"
                    case .stopped?:
                        outcome.ending = .cancelled
                        outcome.error = outcome.error ?? "cancelled"
                    default:
                        if outcome.succeeded {
                            outcome.outputs.merge(request.actionOutputs) { own, _ in own }
                        }
                    }
                    return outcome
                case .stopped, .timedOut:
                    if ending == nil {
                        ending = next
                        group.cancelAll()
                    }
                }
            }
            return .failure("the attempt ended without a result")
        }
    }
}
