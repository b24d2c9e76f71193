import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Orchestration
import Yams

/// What a token may do: `viewer` reads, `operator` also starts and operates executions, `admin`
/// also registers workflows.
public enum Role: String, Sendable, Comparable, CaseIterable {
    case viewer, `operator`, admin

    public static func < (a: Role, b: Role) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Bearer API tokens, kept only as SHA-256 hashes and compared in constant time.
///
/// From the environment, `NOVACRON_API_TOKENS=operator:s3cret,admin:…` (hashed as they are read);
/// from a file (`--tokens-file`), a list of `{name, role, sha256}` so the file holds no secret:
///
/// ```yaml
/// - {name: ci, role: operator, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08}
/// ```
public struct APITokens: Sendable {
    struct Entry: Sendable {
        var name: String
        var role: Role
        var hash: [UInt8]
    }

    var entries: [Entry]

    public var isEmpty: Bool { entries.isEmpty }

    public init() { entries = [] }

    public static func hash(_ token: String) -> [UInt8] { Array(SHA256.hash(data: Array(token.utf8))) }

    /// Parses `role:token` pairs separated by commas.
    public init(environment value: String) throws(EngineError) {
        entries = []
        for (n, item) in value.split(separator: ",").enumerated() {
            let parts = item.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let role = Role(rawValue: parts[0]), !parts[1].isEmpty else {
                throw EngineError(.invalidInput, "NOVACRON_API_TOKENS item \(n + 1): expected role:token with role viewer, operator or admin")
            }
            entries.append(Entry(name: "env-\(n + 1)", role: role, hash: Self.hash(parts[1])))
        }
    }

    /// Reads a tokens file: a list of `{name, role, sha256}`.
    public init(file: String) throws(EngineError) {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw EngineError(.invalidInput, "\(file): cannot read the tokens file")
        }
        guard let list = (try? Yams.load(yaml: text)) as? [[String: Any]] else {
            throw EngineError(.invalidInput, "\(file): expected a list of {name, role, sha256}")
        }
        entries = []
        for (i, item) in list.enumerated() {
            guard let roleText = item["role"] as? String, let role = Role(rawValue: roleText) else {
                throw EngineError(.invalidInput, "\(file): item \(i + 1): role must be viewer, operator or admin")
            }
            guard let hex = item["sha256"] as? String, let bytes = Hex.decode(hex), bytes.count == 32 else {
                throw EngineError(.invalidInput, "\(file): item \(i + 1): sha256 must be 64 hex digits (printf %s TOKEN | sha256sum)")
            }
            entries.append(Entry(name: item["name"] as? String ?? "token-\(i + 1)", role: role, hash: bytes))
        }
    }

    public mutating func merge(_ other: APITokens) { entries += other.entries }

    /// The role of `token`, comparing with every stored hash without stopping early.
    public func role(of token: String) -> Role? {
        let presented = Self.hash(token)
        var found: Role?
        for entry in entries where Hex.constantTimeEqual(entry.hash, presented) && found == nil {
            found = entry.role
        }
        return found
    }

    /// The name of `token`'s entry (for audit trails), compared like ``role(of:)``.
    public func name(of token: String) -> String? {
        let presented = Self.hash(token)
        var found: String?
        for entry in entries where Hex.constantTimeEqual(entry.hash, presented) && found == nil {
            found = entry.name
        }
        return found
    }
}

/// Checks the bearer token against the role the route needs: reads need `viewer`, starting and
/// operating executions `operator`, registering workflows `admin`. `/healthz` and `/readyz`
/// are open. 401 without a valid token, 403 with one whose role is too low.
struct AuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let tokens: APITokens

    static func requiredRole(_ request: Request) -> Role? {
        let path = request.uri.path
        if path == "/healthz" || path == "/readyz" || path == "/api/v1/openapi.json" { return nil }
        // The web UI's page and assets carry no data; the data they fetch needs a token.
        if path == "/" || path.hasPrefix("/ui/") { return nil }
        // Webhook senders prove themselves with the trigger's secret (HMAC), not with a token.
        if path.hasPrefix("/api/v1/webhooks/") { return nil }
        if request.method == .get || request.method == .head { return .viewer }
        // Applying a suggestion changes a workflow's definition, like registering one.
        if path.hasPrefix("/api/v1/learning/") { return .admin }
        // Outbound webhooks make the server call other hosts: admins only.
        if path.hasPrefix("/api/v1/subscriptions") { return .admin }
        // Registering and deleting workflows is for admins; running them (…/executions) and
        // switching their triggers on or off is operating, like pausing an execution.
        if path.hasPrefix("/api/v1/workflows"), !path.hasSuffix("/executions"), !path.hasSuffix("/enable"), !path.hasSuffix("/disable") { return .admin }
        return .operator
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let needed = Self.requiredRole(request) else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
              let role = tokens.role(of: String(header.dropFirst(7))) else {
            var response = Problem(.unauthorized, "a bearer token is needed: Authorization: Bearer TOKEN").response
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        guard role >= needed else {
            return Problem(.forbidden, "this needs the \(needed.rawValue) role; the token has \(role.rawValue)").response
        }
        if request.uri.path == "/api/v1/whoami", request.method == .get {
            return JSONValue.object(["role": .string(role.rawValue), "authenticated": true]).response()
        }
        return try await next(request, context)
    }
}
