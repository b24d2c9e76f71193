import Foundation
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import TestSupport
import Testing

/// Every operation of the OpenAPI document, with every role, through every spelling of its path
/// an attacker tried: the role the document declares (`x-novacron-access`) is the one enforced.
@Suite("Authorization on the matched route", .serialized)
struct RouteAccessTests {
    static let tokens = try! APITokens(environment: "viewer:v-token,operator:o-token,admin:a-token")
    static let callers: [(token: String?, role: Role?)] = [(nil, nil), ("v-token", .viewer), ("o-token", .operator), ("a-token", .admin)]

    struct Operation {
        var method: String
        var path: String
        var access: String
    }

    static func operations(port: Int) async throws -> [Operation] {
        let (_, text) = try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/openapi.json")
        let body = String(text[text.range(of: "\r\n\r\n")!.upperBound...])
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        var out: [Operation] = []
        for (path, item) in try #require(doc["paths"] as? [String: [String: Any]]) {
            for method in ["get", "post", "delete"] {
                guard let op = item[method] as? [String: Any] else { continue }
                let access = try #require(op["x-novacron-access"] as? String, "\(method) \(path) declares no x-novacron-access")
                let concrete = path.replacing(/\{[A-Za-z]+\}/, with: "x")
                out.append(Operation(method: method.uppercased(), path: concrete, access: access))
            }
        }
        return out.sorted { ($0.path, $0.method) < ($1.path, $1.method) }
    }

    /// The spellings that reach the same route: double slashes anywhere, a trailing slash.
    static func variants(_ path: String) -> [String] {
        [
            path, "/" + path, path.replacingOccurrences(of: "/api/v1/", with: "/api/v1//"),
            path.replacingOccurrences(of: "/api/", with: "/api//"), path + "/",
        ]
    }

    @Test("every documented operation answers 401 without a token and 403 below its declared role, however its path is spelt")
    func everyRouteEveryRole() async throws {
        try await withLiveServer(tokens: Self.tokens) { port, _ in
            let operations = try await Self.operations(port: port)
            #expect(operations.count >= 40)
            for op in operations where op.access != "open" && op.access != "signed" {
                let needed = try #require(Role(rawValue: op.access), "\(op.method) \(op.path): unknown access \(op.access)")
                for caller in Self.callers {
                    for path in Self.variants(op.path) {
                        var headers = ["Content-Type": "application/json"]
                        if let token = caller.token { headers["Authorization"] = "Bearer \(token)" }
                        let client = try RawHTTP(port: port)
                        let body = op.method == "POST" ? "{}" : ""
                        var request =
                            "\(op.method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n"
                        for (k, v) in headers { request += "\(k): \(v)\r\n" }
                        try await client.send(request + "\r\n" + body)
                        let status = try await client.head().status
                        let expected: Int? = caller.role == nil ? 401 : caller.role! < needed ? 403 : nil
                        if let expected {
                            #expect(
                                status == expected, "\(op.method) \(path) as \(caller.role?.rawValue ?? "nobody"): \(status), expected \(expected)")
                        } else {
                            #expect(status != 401 && status != 403, "\(op.method) \(path) as \(caller.role!.rawValue): \(status)")
                        }
                    }
                }
            }
        }
    }

    @Test("percent-encoded, upper-case and dot-segment spellings of an admin route reach no route at all with an operator token")
    func otherSpellings() async throws {
        try await withLiveServer(tokens: Self.tokens) { port, engine in
            let definition = "name: sneaky\nsteps:\n  - {id: s, inputs: {command: id}}\n"
            for path in [
                "/api/v1/%77orkflows", "/API/v1/workflows", "/api/V1/workflows", "/api/v1/./workflows", "/api/v1/x/../workflows",
                "//api//v1//workflows//", "/api/v1/workflows?x=/api/v1/executions",
            ] {
                let (status, _) = try await RawHTTP.request(
                    port: port, method: "POST", path: path,
                    headers: ["Authorization": "Bearer o-token", "Content-Type": "application/yaml"], body: definition)
                #expect([403, 404, 405].contains(status), "POST \(path) as operator: \(status)")
            }
            #expect(await engine.workflow("sneaky") == nil)
            // The admin gets through on the plain path, so the requests above were refused for the role.
            let (status, _) = try await RawHTTP.request(
                port: port, method: "POST", path: "//api/v1/workflows",
                headers: ["Authorization": "Bearer a-token", "Content-Type": "application/yaml"], body: definition)
            #expect(status == 201)
        }
    }

    @Test("loopback means an address in 127.0.0.0/8, ::1 or localhost, not a name that starts with 127.")
    func loopback() {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1"] { #expect(ServerConfiguration(host: host).isLoopback, "\(host)") }
        for host in ["127.example.com", "127.0.0.1.nip.io", "0.0.0.0", "1270.0.0.1", "127.0.0", "::"] {
            #expect(!ServerConfiguration(host: host).isLoopback, "\(host)")
        }
    }
}
