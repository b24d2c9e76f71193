import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration

/// One HTTP exchange with a cloud API.
package struct CloudResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    package var text: String { String(decoding: body, as: UTF8.self) }

    /// The body as JSON; nil when it is not.
    package var json: JSONValue? {
        guard !body.isEmpty else { return nil }
        return try? JSONDecoder().decode(JSONValue.self, from: Data(body))
    }
}

/// An error from a cloud API or from reaching it, in the provider's words.
package struct CloudError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `AWS Lambda`, `Azure Resource Manager`…
    package var service: String
    /// The provider's error code (`ResourceNotFoundException`), or nil.
    package var code: String?
    package var message: String
    /// The HTTP status, or nil when no answer came.
    package var status: Int?

    package init(service: String, code: String? = nil, message: String, status: Int? = nil) {
        self.service = service
        self.code = code
        self.message = message
        self.status = status
    }

    package var description: String {
        var out = service + ": "
        if let code { out += code + ": " }
        out += message
        if let status, code == nil { out += " (HTTP \(status))" }
        return out
    }
}

/// Sends requests to cloud APIs: one shared client, bounded bodies, errors as ``CloudError``.
package enum CloudHTTP {
    /// The largest answer read.
    package static let bodyLimit = 8 << 20

    package static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.timeout.connect = .seconds(10)
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    package static func send(
        _ method: String, _ url: String, headers: [(name: String, value: String)] = [], body: [UInt8] = [],
        service: String, timeout: Duration = .seconds(60)
    ) async throws -> CloudResponse {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers where name.lowercased() != "host" { request.headers.add(name: name, value: value) }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
            let bytes = try await response.body.collect(upTo: bodyLimit)
            return CloudResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Array(bytes.readableBytesView))
        } catch is CancellationError {
            throw CancellationError()
        } catch let error as CloudError {
            throw error
        } catch {
            throw CloudError(service: service, message: "cannot reach \(url): \(error)")
        }
    }
}

extension URL {
    /// The `Host` header value: host, and port when it is not the scheme's default.
    var hostHeader: String {
        guard let host = host else { return "" }
        if let port, !(scheme == "https" && port == 443) && !(scheme == "http" && port == 80) { return "\(host):\(port)" }
        return host
    }
}
