import HTTPTypes
import Hummingbird
import Orchestration

/// Who may call a route. Every route declares one when it is added (``Routes``); the check runs
/// on the route the router matched, never on the raw path, so `//api/v1/…`, `/api/v1//…` or a
/// trailing slash reach the same check as the path they resolve to.
///
/// | access | who |
/// |---|---|
/// | `open` | anyone: `/healthz`, `/readyz`, the OpenAPI document, the web UI's files |
/// | `signed` | anyone who proves the trigger's secret (webhooks check their own signature) |
/// | `role(r)` | a bearer token whose role is at least `r` (`viewer` < `operator` < `admin`) |
public enum Access: Sendable, Hashable, CustomStringConvertible {
    case open
    case signed
    case role(Role)

    public var description: String {
        switch self {
        case .open: "open"
        case .signed: "signed"
        case .role(let role): role.rawValue
        }
    }
}

/// Who is calling: the token's name and role, or the local user of a server without tokens (who
/// may do everything: such a server only listens on loopback, unless `--insecure`).
public struct Principal: Sendable, Hashable {
    public var name: String
    public var role: Role
    public var authenticated: Bool

    public static let local = Principal(name: "local", role: .admin, authenticated: false)
    public static let anonymous = Principal(name: "anonymous", role: .viewer, authenticated: false)
}

/// Decides a request's ``Access``: authenticates the bearer token and compares its role.
public struct AccessControl: Sendable {
    public let tokens: APITokens

    public init(tokens: APITokens) {
        self.tokens = tokens
    }

    /// The caller of `request`: the token's principal, ``Principal/local`` without tokens, `nil`
    /// when tokens are configured and the request carries no valid one.
    public func principal(of request: Request) -> Principal? {
        guard !tokens.isEmpty else { return .local }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let entry = tokens.entry(of: String(header.dropFirst(7)))
        else { return nil }
        return Principal(name: entry.name, role: entry.role, authenticated: true)
    }

    /// The name streams and audit trails count the caller of `request` under.
    public func callerName(of request: Request) -> String { (principal(of: request) ?? .anonymous).name }

    /// Checks `access` for `request`: the principal, or a 401 (no valid token) or 403 (role too low).
    @discardableResult
    package func authorize(_ request: Request, _ access: Access) throws(Problem) -> Principal {
        guard case .role(let needed) = access else { return principal(of: request) ?? .anonymous }
        guard let principal = principal(of: request) else {
            throw Problem(.unauthorized, "a bearer token is needed: Authorization: Bearer TOKEN", headers: [.wwwAuthenticate: "Bearer"])
        }
        guard principal.role >= needed else {
            throw Problem(.forbidden, "this needs the \(needed.rawValue) role; the token has \(principal.role.rawValue)")
        }
        return principal
    }
}
