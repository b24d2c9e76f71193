import Foundation
import Orchestration

/// Signed requests to AWS services: the endpoint from `AWS_ENDPOINT_URL` or the service's
/// regional one, SigV4 with the resolved credentials, the service's error as a ``CloudError``.
package struct AWSClient: Sendable {
    package var environment: AWSEnvironment
    /// The clock signatures are dated by.
    package var now: @Sendable () -> Date

    package init(environment: AWSEnvironment, now: @escaping @Sendable () -> Date = { Date() }) {
        self.environment = environment
        self.now = now
    }

    /// `https://<service>.<region>.amazonaws.com`, or `AWS_ENDPOINT_URL`.
    package func endpoint(_ service: String) -> String {
        if let custom = environment.endpointURL { return custom.hasSuffix("/") ? String(custom.dropLast()) : custom }
        return "https://\(service).\(environment.region).amazonaws.com"
    }

    /// Sends a signed request. `name` is the service as people know it, for errors.
    package func send(
        service: String, name: String, method: String, path: String, query: String = "",
        headers: [(name: String, value: String)] = [], body: [UInt8] = [], timeout: Duration = .seconds(60)
    ) async throws -> CloudResponse {
        let base = endpoint(service)
        guard let url = URL(string: base) else { throw CloudError(service: name, message: "AWS_ENDPOINT_URL '\(base)' is not a URL") }
        let basePath = url.path == "/" ? "" : url.path
        var request = SigV4Request(method: method, path: basePath + path, query: query, headers: [("host", url.hostHeader)] + headers, body: body)
        request = SigV4(service: service, region: environment.region).sign(request, credentials: environment.credentials, date: now()).request
        let target = "\(url.scheme ?? "https")://\(url.hostHeader)\(request.path)\(request.query.isEmpty ? "" : "?" + request.query)"
        return try await CloudHTTP.send(method, target, headers: request.headers, body: body, service: name, timeout: timeout)
    }

    /// The error an AWS answer carries: `__type`/`code` and `message` from a JSON body, or the
    /// `x-amzn-ErrorType` header.
    package static func error(_ response: CloudResponse, service: String) -> CloudError {
        let json = response.json
        // Query-protocol services (and authentication failures) answer in XML.
        func xml(_ tag: String) -> String? {
            guard let open = response.text.range(of: "<\(tag)>"),
                let close = response.text.range(of: "</\(tag)>", range: open.upperBound..<response.text.endIndex)
            else { return nil }
            return String(response.text[open.upperBound..<close.lowerBound])
        }
        var code = json?["__type"]?.text ?? json?["code"]?.text ?? json?["Code"]?.text ?? response.header("x-amzn-ErrorType") ?? xml("Code")
        if let c = code, let hash = c.lastIndex(of: "#") { code = String(c[c.index(after: hash)...]) }
        if let c = code, let colon = c.firstIndex(of: ":") { code = String(c[..<colon]) }
        let fallback: String = response.text.isEmpty ? "HTTP \(response.status)" : String(response.text.prefix(500))
        let fromJSON: String? = ["message", "Message", "errorMessage"].lazy.compactMap { json?[$0]?.text }.first
        let message: String = fromJSON ?? xml("Message") ?? fallback
        return CloudError(service: service, code: code, message: message, status: response.status)
    }

    // MARK: JSON 1.0 APIs (Step Functions)

    /// Calls `<prefix>.<operation>` of a JSON 1.0 API and returns the answer's JSON.
    package func json(service: String, name: String, target: String, _ body: JSONValue) async throws -> JSONValue {
        let response = try await send(
            service: service, name: name, method: "POST", path: "/",
            headers: [("content-type", "application/x-amz-json-1.0"), ("x-amz-target", target)],
            body: Array(body.jsonText.utf8))
        guard (200..<300).contains(response.status) else { throw Self.error(response, service: name) }
        return response.json ?? [:]
    }
}
