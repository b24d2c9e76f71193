import Foundation
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import TestSupport
import Testing

/// A tokenless server on loopback, attacked the way a web page the user visits would: simple
/// cross-site POSTs, a rebound DNS name, a page that forges nothing but its own origin.
@Suite("Requests a browser makes for other sites", .serialized)
struct BrowserRequestTests {
    static let definition = "name: pwned\nsteps:\n  - {id: s, inputs: {command: id}}\n"

    @Test("a cross-site text/plain or form POST, which browsers send without asking, registers nothing")
    func simpleRequests() async throws {
        try await withLiveServer { port, engine in
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain;charset=UTF-8"] {
                let (status, text) = try await RawHTTP.request(
                    port: port, method: "POST", path: "/api/v1/workflows", headers: ["Content-Type": type], body: Self.definition)
                #expect(status == 415, "\(type): \(status)")
                #expect(text.contains("send application/yaml"))
            }
            // With the page's Origin, as a browser sends it: refused before anything is read.
            let (status, text) = try await RawHTTP.request(
                port: port, method: "POST", path: "/api/v1/workflows",
                headers: ["Content-Type": "application/json", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"], body: "{}")
            #expect(status == 403)
            #expect(text.contains("cross-origin request refused"))
            let (null, _) = try await RawHTTP.request(port: port, method: "POST", path: "/api/v1/workflows/x/executions", headers: ["Origin": "null"])
            #expect(null == 403)
            #expect(await engine.workflow("pwned") == nil)
        }
    }

    @Test("a rebound DNS name (Host not loopback) gets 421 on reads and writes; loopback names are served")
    func rebinding() async throws {
        try await withLiveServer { port, _ in
            for host in ["evil.example:\(port)", "127.0.0.1.evil.example", "127.evil.example:\(port)"] {
                let answer8 = try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/executions", host: host).status
                #expect(answer8 == 421, "\(host)")
                let answer9 = try await RawHTTP.request(
                    port: port, method: "POST", path: "/api/v1/workflows", headers: ["Content-Type": "application/yaml"], body: Self.definition,
                    host: host
                ).status
                #expect(answer9 == 421)
            }
            for host in ["127.0.0.1:\(port)", "localhost:\(port)", "LOCALHOST", "[::1]:\(port)"] {
                let answer10 = try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/executions", host: host).status
                #expect(answer10 == 200, "\(host)")
            }
        }
        // An operator who names the server may serve it by that name.
        try await withLiveServer(configure: { $0.allowedHosts = ["novacron.internal"] }) { port, _ in
            let answer11 = try await RawHTTP.request(port: port, method: "GET", path: "/healthz", host: "novacron.internal:\(port)").status
            #expect(answer11 == 200)
            let answer12 = try await RawHTTP.request(port: port, method: "GET", path: "/healthz", host: "evil.example").status
            #expect(answer12 == 421)
        }
    }

    @Test("the web UI's own requests (same origin, X-NovaCron-Request) work; the same request without the header is refused")
    func sameOrigin() async throws {
        try await withLiveServer { port, engine in
            let origin = "http://127.0.0.1:\(port)"
            let browser = ["Content-Type": "application/yaml", "Origin": origin, "Sec-Fetch-Site": "same-origin"]
            let (refused, text) = try await RawHTTP.request(
                port: port, method: "POST", path: "/api/v1/workflows", headers: browser, body: Self.definition)
            #expect(refused == 403)
            #expect(text.contains("X-NovaCron-Request"))
            var ui = browser
            ui["X-NovaCron-Request"] = "1"
            let answer13 = try await RawHTTP.request(port: port, method: "POST", path: "/api/v1/workflows", headers: ui, body: Self.definition).status
            #expect(answer13 == 201)
            #expect(await engine.workflow("pwned") != nil)
            // Another port on the same host is another origin.
            ui["Origin"] = "http://127.0.0.1:1"
            let answer14 = try await RawHTTP.request(port: port, method: "DELETE", path: "/api/v1/workflows/pwned", headers: ui).status
            #expect(answer14 == 403)
            // A script without a browser sends none of these headers and is served.
            let answer15 = try await RawHTTP.request(port: port, method: "DELETE", path: "/api/v1/workflows/pwned").status
            #expect(answer15 == 204)
        }
    }
}
