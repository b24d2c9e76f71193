import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Orchestration

/// `--server URL --token T`: work against a running `novacron serve` instead of the store.
struct RemoteOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("A running novacron serve, e.g. http://127.0.0.1:8080 (default $NOVACRON_SERVER).", valueName: "url"))
    var server: String?

    @Option(name: .long, help: ArgumentHelp("Its API token (default $NOVACRON_TOKEN).", valueName: "token"))
    var token: String?

    var serverURL: String? {
        (server ?? ProcessInfo.processInfo.environment["NOVACRON_SERVER"]).map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
    }

    /// Sends a request to the server and returns the JSON it answered; a problem document
    /// becomes an error message and exit status (2 for 4xx, 1 otherwise).
    func call(_ method: HTTPMethod, _ path: String, body: JSONValue? = nil, defaultServer: String? = nil) async throws -> JSONValue {
        guard let base = serverURL ?? defaultServer else { throw ValidationError("no server given") }
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        if let token = token ?? ProcessInfo.processInfo.environment["NOVACRON_TOKEN"] {
            request.headers.add(name: "Authorization", value: "Bearer \(token)")
        }
        let response: HTTPClientResponse
        do { response = try await HTTPClient.shared.execute(request, timeout: .seconds(30)) } catch {
            Console.err("error: cannot reach \(base): \(error)")
            throw ExitCode(1)
        }
        let body = try await response.body.collect(upTo: 16 << 20)
        let value = (try? JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: body).utf8))) ?? .string(String(buffer: body))
        guard (200..<300).contains(Int(response.status.code)) else {
            var detail = String(buffer: body)
            if case .object(let o) = value, case .string(let d)? = o["detail"] { detail = d }
            Console.err("error: \(detail)")
            throw (400..<500).contains(Int(response.status.code)) ? ExitStatus.invalidInput : ExitCode(1)
        }
        return value
    }
}
