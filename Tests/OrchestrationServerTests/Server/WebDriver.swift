import AsyncHTTPClient
import Foundation
import TestSupport
import NIOCore
import NIOHTTP1
import Orchestration

/// A real headless Chromium driven over the W3C WebDriver protocol by Debian's `chromedriver`
/// (scripts/test installs both). Enough of the protocol for the web UI test: navigate, run a
/// script, wait for a condition inside the page, click, type, take screenshots.
package final class WebDriver: Sendable {
    package let base: String
    package let session: String
    package let process: Process
    /// Chromium's own temporary files (`TMPDIR` for chromedriver and the browser), removed by `quit`.
    private let scratch: String

    package struct Failure: Error, CustomStringConvertible {
        package var description: String
    }

    /// Starts chromedriver on a free loopback port and opens a session with headless Chromium.
    package static func start(width: Int = 1300, height: Int = 1000) async throws -> WebDriver {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["chromedriver", "--port=0"]
        // Short: Chromium puts a socket two levels down, and a socket's path has at most 107 bytes.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("chrome-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        process.environment = ProcessInfo.processInfo.environment.merging(["TMPDIR": scratch]) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        let port: Int
        do { port = try await listeningPort(of: process, reading: pipe) } catch {
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
        let base = "http://127.0.0.1:\(port)"
        let capabilities: JSONValue = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": "/usr/bin/chromium",
                        "args": .array(
                            ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=\(width),\(height)"].map(
                                JSONValue.string)),
                    ],
                ]
            ]
        ]
        do {
            let created = try await Self.send(.POST, base + "/session", capabilities)
            guard case .object(let value)? = created.objectValue?["value"], let id = value["sessionId"]?.stringValue else {
                throw Failure(description: "chromedriver gave no session: \(created.jsonText)")
            }
            let driver = WebDriver(base: base, session: id, process: process, scratch: scratch)
            _ = try await driver.command(.POST, "/timeouts", ["script": 20_000, "implicit": 0, "pageLoad": 20_000])
            return driver
        } catch {
            kill(process.processIdentifier, SIGKILL)
            try? FileManager.default.removeItem(atPath: scratch)
            throw error
        }
    }

    /// Starts chromedriver and reads the port it reports listening on.
    private static func listeningPort(of process: Process, reading pipe: Pipe) async throws -> Int {
        try await withCheckedThrowingContinuation { continuation in
            let seen = LockedBox("")
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                let text = seen.update {
                    $0 += String(decoding: data, as: UTF8.self)
                    return $0
                }
                if let range = text.range(of: #"started successfully on port (\d+)"#, options: .regularExpression) {
                    handle.readabilityHandler = nil
                    let digits = text[range].split(separator: " ").last.map(String.init) ?? ""
                    continuation.resume(returning: Int(digits) ?? 0)
                } else if data.isEmpty {
                    handle.readabilityHandler = nil
                    continuation.resume(throwing: Failure(description: "chromedriver ended before it listened: \(text)"))
                }
            }
            do { try process.run() } catch {
                pipe.fileHandleForReading.readabilityHandler = nil
                continuation.resume(throwing: Failure(description: "cannot start chromedriver (scripts/test installs chromium-driver): \(error)"))
            }
        }
    }

    private init(base: String, session: String, process: Process, scratch: String) {
        self.base = base
        self.session = session
        self.process = process
        self.scratch = scratch
    }

    package func quit() async {
        _ = try? await Self.send(.DELETE, base + "/session/" + session, nil)
        // SIGKILL: a child started by Foundation's Process here inherits a mask that blocks
        // SIGTERM, so terminate() would leave chromedriver running.
        kill(process.processIdentifier, SIGKILL)
        await process.exited()
        try? FileManager.default.removeItem(atPath: scratch)
    }

    // MARK: Commands

    package func navigate(_ url: String) async throws {
        _ = try await command(.POST, "/url", ["url": .string(url)])
    }

    /// Runs `body` (a function body; `arguments` holds `args`) in the page and returns its result.
    @discardableResult
    package func run(_ body: String, _ args: [JSONValue] = []) async throws -> JSONValue {
        try await command(.POST, "/execute/sync", ["script": .string(body), "args": .array(args)])
    }

    /// Waits inside the page, on its own event loop, until the JavaScript expression is true.
    /// Fails with `what` and the page's text if it is not within the script timeout.
    package func waitUntil(_ expression: String, _ what: String) async throws {
        let script = """
            const done = arguments[arguments.length - 1];
            const started = Date.now();
            const check = () => {
              let ok = false;
              try { ok = !!(\(expression)); } catch (e) {}
              if (ok) return done(true);
              if (Date.now() - started > 15000) return done(false);
              setTimeout(check, 10);
            };
            check();
            """
        let result = try await command(.POST, "/execute/async", ["script": .string(script), "args": []])
        guard result == .bool(true) else {
            let text = try await run("return document.body.innerText;")
            throw Failure(description: "the page never showed \(what); it shows:\n\(text.stringValue ?? "")")
        }
    }

    /// Clicks the element like a user would. The UI redraws a page when an event arrives, so an
    /// element found a moment ago may have been replaced: then it is found again.
    package func click(_ selector: String) async throws {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let element = try await find(selector)
                _ = try await command(.POST, "/element/\(element)/click", [:])
                return
            } catch let failure as Failure where failure.description.contains("stale element") && attempt < 5 {
                continue
            }
        }
    }

    package func type(_ selector: String, _ text: String) async throws {
        let element = try await find(selector)
        _ = try await command(.POST, "/element/\(element)/value", ["text": .string(text)])
    }

    package func find(_ selector: String) async throws -> String {
        let found = try await command(.POST, "/element", ["using": "css selector", "value": .string(selector)])
        guard case .object(let o) = found, let id = o.first(where: { $0.key.hasPrefix("element-") })?.value.stringValue else {
            throw Failure(description: "no element matches \(selector)")
        }
        return id
    }

    /// Saves a PNG of the window.
    package func screenshot(to path: String) async throws {
        let value = try await command(.GET, "/screenshot", nil)
        guard let base64 = value.stringValue, let data = Data(base64Encoded: base64) else { throw Failure(description: "no screenshot") }
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: path))
    }

    // MARK: Protocol

    private func command(_ method: HTTPMethod, _ path: String, _ body: JSONValue?) async throws -> JSONValue {
        let answer = try await Self.send(method, base + "/session/" + session + path, body)
        guard case .object(let o) = answer, let value = o["value"] else { throw Failure(description: "bad WebDriver answer: \(answer.jsonText)") }
        if case .object(let v) = value, let error = v["error"]?.stringValue {
            throw Failure(description: "WebDriver \(path): \(error): \(v["message"]?.stringValue ?? "")")
        }
        return value
    }

    private static func send(_ method: HTTPMethod, _ url: String, _ body: JSONValue?) async throws -> JSONValue {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body.jsonText))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return try JSONDecoder().decode(JSONValue.self, from: Data(String(buffer: bytes).utf8))
    }
}

/// A value shared with a callback on another thread.
package final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    package init(_ value: Value) { self.value = value }
    package func update<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
