import HTTPTypes
import Hummingbird
import Orchestration

/// Keeps web pages the user visits from driving the API through the user's browser.
///
/// A server without tokens trusts whoever reaches its port, and a browser reaches loopback for
/// any page it shows. So, on every request:
///
/// | check | refuses | defends against |
/// |---|---|---|
/// | `Host` is one the server answers to: a loopback name when it listens on loopback, else `allowedHosts` when given | 421 | DNS rebinding (a page whose name resolves to 127.0.0.1 reads and writes as same-origin) |
/// | on POST/PUT/PATCH/DELETE, `Origin`, when sent, is the server's own (`http(s)://` + the `Host`) | 403 | cross-site requests (forms, `fetch` with `no-cors`) |
/// | on those methods, `Sec-Fetch-Site`, when sent, is `same-origin` or `none` | 403 | the same, from browsers that send fetch metadata |
/// | on those methods from a browser (it sent `Origin` or `Sec-Fetch-Site`), the header `X-NovaCron-Request` is present | 403 | a custom header cannot be sent across sites without a CORS preflight, which this server never grants |
///
/// Each route also refuses bodies of types it does not read (``MediaType``), so the `text/plain`,
/// form and multipart bodies that browsers send without a preflight are refused even where the
/// checks above cannot see a browser. Clients that are not browsers (curl, the CLI, webhook
/// senders) send none of these headers and pass.
struct RequestGuard<Context: RequestContext>: RouterMiddleware {
    /// The names `Host` may carry (lower case, without port); empty means any.
    let allowedHosts: Set<String>
    /// Whether the server listens on loopback only: then `Host` must be a loopback name.
    let loopbackOnly: Bool

    static var csrfHeader: HTTPField.Name { HTTPField.Name("X-NovaCron-Request")! }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let authority = request.head.authority {
            let allowed =
                allowedHosts.isEmpty
                ? (!loopbackOnly || Loopback.isLoopbackName(Self.hostName(of: authority)))
                : allowedHosts.contains(Self.hostName(of: authority).lowercased())
            guard allowed else {
                return Problem(
                    .misdirectedRequest,
                    "this server does not answer to the host '\(authority.prefix(100))'; use http://127.0.0.1:PORT or http://localhost:PORT\(allowedHosts.isEmpty ? "" : ", or one of the allowed hosts")"
                ).response
            }
        }
        if ![.get, .head, .options].contains(request.method) {
            let origin = request.headers[.origin]
            let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!]
            if let origin, !Self.isSameOrigin(origin, authority: request.head.authority) {
                return Problem(.forbidden, "cross-origin request refused: Origin '\(origin.prefix(100))' is not this server").response
            }
            if let site, site != "same-origin", site != "none" {
                return Problem(.forbidden, "cross-site request refused (Sec-Fetch-Site: \(site.prefix(20)))").response
            }
            if origin != nil || site != nil, request.headers[Self.csrfHeader] == nil {
                return Problem(.forbidden, "a request from a browser must carry the header X-NovaCron-Request (the web UI sends it)").response
            }
        }
        return try await next(request, context)
    }

    /// `example.com:8080` → `example.com`; `[::1]:8080` → `::1`; as written (compare without case).
    static func hostName(of authority: String) -> Substring {
        var host = Substring(authority)
        if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
            host = host[host.index(after: host.startIndex)..<close]
        } else if let colon = host.lastIndex(of: ":") {
            host = host[..<colon]
        }
        return host
    }

    /// Whether `origin` (`http://127.0.0.1:8080`) names the server the request was sent to.
    static func isSameOrigin(_ origin: String, authority: String?) -> Bool {
        guard let authority else { return false }
        let lower = origin.lowercased()
        for scheme in ["http://", "https://"] where lower.hasPrefix(scheme) {
            return lower.dropFirst(scheme.count) == authority.lowercased()
        }
        return false
    }
}
