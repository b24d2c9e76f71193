import AsyncHTTPClient
import Foundation
import NIOCore
import Orchestration

/// Runs `wait` steps: `duration` (the `sleep` action), or polling `url` until it answers
/// `expectedStatus` (the `health-check` action) every `interval`, within `maxWait` (default: the
/// step timeout, else 5 minutes). Waits use the engine's clock.
///
/// ```yaml
/// - id: health
///   type: wait
///   action: health-check
///   inputs: {url: "http://127.0.0.1:8080/healthz", interval: 2s, expectedStatus: 200}
///   timeout: 2m
/// ```
public struct WaitExecutor: StepExecutor {
    let http: HTTPExecutor

    public init(client: HTTPClient = HTTPExecutor.sharedClient) {
        self.http = HTTPExecutor(client: client)
    }

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        if request.inputs["url"] != nil, request.inputs["url"] != .null {
            return await healthCheck(request, context: context)
        }
        guard let text = request.text("duration") else {
            return .failure("a wait step needs inputs.duration, or inputs.url for a health check")
        }
        let duration: Duration
        do { duration = try Self.duration(text) } catch { return .failure("inputs.duration: \(error.message)") }
        do { try await context.clock.sleep(for: duration) } catch {
            return StepOutcome.cancelled()
        }
        return .success(outputs: ["waited": .string(DurationText.format(duration))])
    }

    func healthCheck(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let interval: Duration
        let maxWait: Duration
        do {
            interval = try request.text("interval").map(Self.duration) ?? .seconds(2)
            maxWait = try request.text("maxWait").map(Self.duration) ?? request.timeout ?? .seconds(300)
        } catch {
            return .failure(error.message)
        }
        var probe = request
        probe.inputs["method"] = "GET"
        probe.inputs["body"] = nil
        probe.inputs["json"] = nil
        var checks = 0
        var waited = Duration.zero
        var last = ""
        while true {
            checks += 1
            let outcome = await http.execute(probe, context: context)
            if outcome.cancelled { return outcome }
            if outcome.succeeded {
                var outputs = outcome.outputs
                outputs["checks"] = .number(Double(checks))
                return .success(outputs: outputs, log: "healthy after \(checks) check\(checks == 1 ? "" : "s")")
            }
            last = outcome.error ?? "unhealthy"
            if waited + interval > maxWait {
                return .failure("not healthy after \(checks) check\(checks == 1 ? "" : "s") over \(DurationText.format(waited)): \(last)")
            }
            do { try await context.clock.sleep(for: interval) } catch {
                return StepOutcome.cancelled("cancelled while waiting for \(request.text("url") ?? "")")
            }
            waited += interval
        }
    }

    struct Problem: Error { var message: String }

    static func duration(_ text: String) throws(Problem) -> Duration {
        do {
            if let seconds = Double(text) { return try DurationText.duration(seconds: seconds) }
            return try DurationText.parse(text)
        } catch {
            throw Problem(message: "'\(text.prefix(40))' is not a duration (\(error.message))")
        }
    }
}
