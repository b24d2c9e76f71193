import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration
import OrchestrationExecutors

/// Polls Prometheus for every enabled metric trigger (`GET /api/v1/query`) at the trigger's
/// interval and fires it once per breach (see ``MetricCondition``). A Prometheus that is down, or a
/// query it rejects, is noted on the trigger's status; the breach state is kept.
actor MetricWatcher {
    let scheduler: TriggerScheduler
    /// Where triggers without `conditions.url` look.
    let defaultURL: String
    /// Polls are timed on it; breaches are dated by it.
    let time: TimeSource
    let client: HTTPClient
    var states: [String: MetricCondition.State] = [:]
    var nextPoll: [String: Date] = [:]

    /// The HTTP steps' client: a refused connection fails at once instead of being retried until
    /// the connect timeout, which would hold up every other trigger's poll.
    init(scheduler: TriggerScheduler, defaultURL: String?, time: TimeSource = .system, client: HTTPClient = HTTPExecutor.sharedClient) {
        self.scheduler = scheduler
        self.defaultURL = defaultURL ?? "http://127.0.0.1:9090"
        self.time = time
        self.client = client
    }

    func run() async {
        while !Task.isCancelled {
            var wait = Duration.seconds(5)
            let now = time.now()
            var due: [(String, WorkflowTrigger, MetricCondition, String)] = []
            for (workflowID, trigger) in await scheduler.enabledTriggers(.metric) {
                guard let condition = MetricCondition(trigger: trigger) else { continue }
                let key = workflowID + "\u{1}" + trigger.id
                let at = nextPoll[key] ?? now
                if at <= now {
                    nextPoll[key] = now.addingTimeInterval(condition.interval.seconds)
                    due.append((workflowID, trigger, condition, key))
                    wait = min(wait, condition.interval)
                } else {
                    wait = min(wait, .clamped(seconds: at.timeIntervalSince(now) + 0.001))
                }
            }
            // At once, so a slow or unreachable Prometheus does not hold up the other triggers.
            await withTaskGroup(of: Void.self) { group in
                for (workflowID, trigger, condition, key) in due {
                    group.addTask { await self.poll(workflowID, trigger, condition, key: key) }
                }
            }
            do { try await time.sleep(for: wait) } catch { return }
        }
    }

    func poll(_ workflowID: String, _ trigger: WorkflowTrigger, _ condition: MetricCondition, key: String) async {
        let base = (condition.url ?? defaultURL).hasSuffix("/") ? String((condition.url ?? defaultURL).dropLast()) : (condition.url ?? defaultURL)
        let values: [Double]
        do {
            values = try await query(base: base, condition.query)
        } catch {
            await scheduler.recordError(workflowID, trigger.id, "cannot read Prometheus at \(base): \(error)")
            return
        }
        await scheduler.clearError(workflowID, trigger.id)
        var state = states[key] ?? MetricCondition.State()
        let firing = condition.observe(values, at: time.now(), state: &state)
        states[key] = state
        guard let value = firing else { return }
        let payload: JSONValue = [
            "type": "metric", "trigger": .string(trigger.id), "query": .string(condition.query), "value": .number(value),
            "operator": .string(condition.op.rawValue), "threshold": .number(condition.threshold),
            "since": .string((state.breachSince ?? time.now()).formatted(.iso8601)),
        ]
        _ = try? await scheduler.fire(workflowID: workflowID, trigger: trigger, payload: payload)
    }

    struct PrometheusError: Error, CustomStringConvertible {
        var description: String
    }

    /// The query's values now: one per series of a vector, or the scalar.
    func query(base: String, _ promQL: String) async throws -> [Double] {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let encoded = promQL.addingPercentEncoding(withAllowedCharacters: allowed) ?? promQL
        let response = try await client.execute(HTTPClientRequest(url: "\(base)/api/v1/query?query=\(encoded)"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 8 << 20)
        guard case .object(let o)? = try? JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: body).utf8)) else {
            throw PrometheusError(description: "HTTP \(response.status.code), not a Prometheus answer")
        }
        guard o["status"] == "success", case .object(let data)? = o["data"] else {
            throw PrometheusError(description: o["error"]?.text ?? "HTTP \(response.status.code)")
        }
        func number(_ pair: JSONValue?) -> Double? {
            guard case .array(let p)? = pair, p.count == 2 else { return nil }
            return Double(p[1].text)
        }
        switch (data["resultType"], data["result"]) {
        case (.string("vector")?, .array(let series)?):
            return series.compactMap { s in if case .object(let so) = s { number(so["value"]) } else { nil } }
        case (.string("scalar")?, let pair?):
            return number(pair).map { [$0] } ?? []
        default:
            throw PrometheusError(description: "the query must give a vector or a scalar")
        }
    }
}
