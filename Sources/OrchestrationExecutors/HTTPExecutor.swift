import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration

/// Runs `api` steps: one HTTP request.
///
/// Inputs: `url` (required), `method` (default GET), `headers` (map), `body` (text) or `json`
/// (any value, sent as JSON), `expectedStatus` (a code or a list; default any 2xx).
/// Outputs: `statusCode`, `headers` (lower-cased names), `body` (parsed when it is JSON).
/// Every request carries `Idempotency-Key: <execution>/<step>`.
///
/// ```yaml
/// - id: notify
///   type: api
///   inputs: {url: "https://hooks.example.com/x", method: POST, json: {text: "deployed ${build.image}"}}
/// ```
public struct HTTPExecutor: StepExecutor {
    /// The largest response body kept.
    public static let bodyLimit = 1 << 20
    let client: HTTPClient

    public init(client: HTTPClient = HTTPExecutor.sharedClient) {
        self.client = client
    }

    /// The process-wide client steps use: a refused connection fails the attempt at once (the
    /// step's retry policy decides about retrying, not the connection pool); connecting gives up
    /// after 10 s; redirects are followed.
    public static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        configuration.redirectConfiguration = .follow(max: 5, allowCycles: false)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let prepared: HTTPClientRequest
        let expected: (Int) -> Bool
        do {
            prepared = try Self.makeRequest(request)
            expected = try Self.expectedStatus(request.inputs["expectedStatus"])
        } catch {
            return .failure(error.message)
        }
        do {
            let response = try await client.execute(prepared, timeout: .hours(24))
            let body = try await response.body.collect(upTo: Self.bodyLimit)
            var headers: [String: JSONValue] = [:]
            for (name, value) in response.headers {
                let key = name.lowercased()
                if case .string(let existing)? = headers[key] {
                    headers[key] = .string(existing + ", " + value)
                } else {
                    headers[key] = .string(value)
                }
            }
            let text = String(buffer: body)
            let bodyValue: JSONValue
            if let data = text.data(using: .utf8), let parsed = try? JSONDecoder().decode(JSONValue.self, from: data),
                !text.trimmingCharacters(in: .whitespaces).isEmpty
            {
                bodyValue = parsed
            } else {
                bodyValue = .string(text)
            }
            let code = Int(response.status.code)
            let outputs: [String: JSONValue] = ["statusCode": .number(Double(code)), "headers": .object(headers), "body": bodyValue]
            let log =
                "\(prepared.method.rawValue) \(prepared.url) → \(code)\n"
                + Self.cut(context.redactor.redact(text), to: context.logLimit, redactor: context.redactor)
            if expected(code) { return .success(outputs: outputs, log: log) }
            return .failure(
                "\(prepared.method.rawValue) \(prepared.url) answered \(code) \(response.status.reasonPhrase)", outputs: outputs, log: log)
        } catch is CancellationError {
            return StepOutcome.cancelled()
        } catch let error as NIOTooManyBytesError {
            return .failure("the response body is larger than \(Self.bodyLimit / 1024) KiB (\(error))")
        } catch {
            return .failure("\(prepared.method.rawValue) \(prepared.url) failed: \(error)")
        }
    }

    /// The first `limit` bytes of an already redacted `text`, with a piece of a secret at the cut masked.
    static func cut(_ text: String, to limit: Int, redactor: Redactor) -> String {
        guard text.utf8.count > limit else { return text }
        var end = text.utf8.index(text.utf8.startIndex, offsetBy: max(0, limit))
        while end > text.utf8.startIndex, UTF8.isContinuation(text.utf8[end]) { end = text.utf8.index(before: end) }
        return redactor.withoutTrailingFragment(String(text[..<end]))
    }

    struct Problem: Error { var message: String }

    static func makeRequest(_ request: StepRequest) throws(Problem) -> HTTPClientRequest {
        guard let url = request.text("url"), let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(),
            scheme == "http" || scheme == "https", parsed.host != nil
        else {
            throw Problem(message: "inputs.url must be an http or https URL, got \(request.text("url").map { "'\($0)'" } ?? "nothing")")
        }
        var r = HTTPClientRequest(url: url)
        r.method = HTTPMethod(rawValue: (request.text("method") ?? "GET").uppercased())
        if case .object(let headers)? = request.inputs["headers"] {
            for (k, v) in headers.sorted(by: { $0.key < $1.key }) { r.headers.add(name: k, value: v.text) }
        } else if let h = request.inputs["headers"], h != .null {
            throw Problem(message: "inputs.headers must be a map of name: value")
        }
        if let json = request.inputs["json"], json != .null {
            r.body = .bytes(ByteBuffer(string: json.jsonText))
            if !r.headers.contains(name: "content-type") { r.headers.add(name: "Content-Type", value: "application/json") }
        } else if let body = request.text("body") {
            r.body = .bytes(ByteBuffer(string: body))
        }
        r.headers.replaceOrAdd(name: "Idempotency-Key", value: request.idempotencyKey)
        if !r.headers.contains(name: "user-agent") { r.headers.add(name: "User-Agent", value: "novacron") }
        // The attempt's span is the parent of whatever the call does (W3C Trace Context), unless
        // the step sends a traceparent of its own.
        if let trace = request.trace, !r.headers.contains(name: "traceparent") {
            r.headers.add(name: "traceparent", value: trace.traceparent)
            if let state = trace.tracestate { r.headers.replaceOrAdd(name: "tracestate", value: state) }
        }
        return r
    }

    static func expectedStatus(_ value: JSONValue?) throws(Problem) -> (Int) -> Bool {
        switch value {
        case nil, .null?: return { (200..<300).contains($0) }
        case .number(let n)?: return { $0 == Int(n) }
        case .string(let s)?:
            guard let n = Int(s) else { throw Problem(message: "inputs.expectedStatus must be a status code or a list of them") }
            return { $0 == n }
        case .array(let items)?:
            var codes = Set<Int>()
            for item in items {
                guard let n = Int(item.text) else { throw Problem(message: "inputs.expectedStatus must be a status code or a list of them") }
                codes.insert(n)
            }
            return { codes.contains($0) }
        default:
            throw Problem(message: "inputs.expectedStatus must be a status code or a list of them")
        }
    }
}
