import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOEmbedded
import Orchestration
import OrchestrationServer
import ServiceLifecycle
import Synchronization

/// The server's inputs: a settings file, and the body of every API request that takes one.
extension FuzzTarget {
    /// `serve --config FILE`: the bytes are the file. It is refused with a message that says
    /// what, or read into settings the server can be configured with.
    static func settingsFile(_ bytes: [UInt8]) {
        let path = SettingsFile.path
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { broken("cannot write \(path)") }
        let outcome = Blocking.run { () async -> Result<ServeSettings, any Error> in
            do { return .success(try await ServeSettings.resolve(flags: [:], environment: [:], configFile: path)) } catch { return .failure(error) }
        }
        switch outcome {
        case .success(let settings):
            let configuration = settings.serverConfiguration(tokens: APITokens())
            if !(0...65535).contains(configuration.port) { broken("port \(configuration.port) was accepted") }
            if configuration.idleTimeout <= .zero || configuration.maxConnections < 1 { broken("a limit of zero or less was accepted") }
            if let age = settings.retention, age < .seconds(3600) { broken("retention \(age) was accepted") }
        case .failure(let error):
            if "\(error)".isEmpty { broken("a settings file refused without a reason") }
        }
    }

    /// An API request with a body: the first byte picks the operation (every one the API
    /// document gives a request body), the second the media type, the rest is the body. Ids name
    /// nothing, and what a body creates (a workflow, a subscription) is deleted again, so nothing
    /// piles up from one input to the next. The answer is never a server error (but 501, what
    /// is switched off in a server without a store or a learning engine), and an error is a
    /// problem document.
    static func apiRequest(_ bytes: [UInt8]) {
        guard bytes.count >= 2 else { return }
        let route = APISession.routes[Int(bytes[0]) % APISession.routes.count]
        let type = bytes[1] % 3 == 0 ? "application/yaml" : "application/json"
        let (status, contentType, body) = APISession.shared.send(route, contentType: type, body: Array(bytes.dropFirst(2)))
        if status == 201, let collection = APISession.created[route],
            case .object(let made)? = try? JSONDecoder().decode(JSONValue.self, from: Data(body)), case .string(let id)? = made["id"]
        {
            let gone = APISession.shared.send("\(collection)/\(id)", method: .delete, contentType: nil, body: [])
            if gone.status >= 300 { broken("\(collection)/\(id) was created and could not be deleted: \(gone.status)") }
        }
        if ProcessInfo.processInfo.environment["NOVACRON_FUZZ_SHOW"] != nil {
            FileHandle.standardError.write(Data("\(route) \(status) \(String(decoding: body.prefix(200), as: UTF8.self))\n".utf8))
        }
        if status >= 500 && status != 501 { broken("\(route) answered \(status): \(String(decoding: body.prefix(300), as: UTF8.self))") }
        if status >= 400 {
            guard contentType == "application/problem+json",
                case .object(let problem)? = try? JSONDecoder().decode(JSONValue.self, from: Data(body)),
                problem["status"] == .number(Double(status)), problem["title"] != nil
            else { broken("\(route) answered \(status) without a problem document: \(String(decoding: body.prefix(300), as: UTF8.self))") }
        }
    }
}

/// Where the settings target writes each input (one file, overwritten, removed at exit).
enum SettingsFile {
    static let path: String = {
        atexit { _ = unlink(SettingsFile.path) }
        return FileManager.default.temporaryDirectory.appendingPathComponent("novacron-fuzz-settings-\(getpid()).yaml").path
    }()
}

/// Runs async work to its end from the fuzzer's (synchronous, non-pool) thread.
enum Blocking {
    static func run<T: Sendable>(_ work: @escaping @Sendable () async -> T) -> T {
        let result = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let value = await work()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}

/// One server for the whole run (its router, without sockets), built on first use: an engine
/// without a store, no workflows, no tokens (loopback).
final class APISession: Sendable {
    /// Every operation with a request body in the API document, in its order there (the seeds
    /// in Tests/Fixtures/fuzz/api start with their index). The callback token has a token's
    /// form, so its body is read.
    static let routes = [
        "/api/v1/workflows", "/api/v1/workflows/nope/executions", "/api/v1/workflows/nope/backfill",
        "/api/v1/executions/nope/steps/s/approve", "/api/v1/executions/nope/steps/s/reject", "/api/v1/executions/nope/signals/go",
        "/api/v1/webhooks/generic", "/api/v1/callbacks/ncb_" + String(repeating: "A", count: 43), "/api/v1/events",
        "/api/v1/subscriptions", "/api/v1/learning/suggestions/nope/apply",
    ]
    /// Routes whose 201 created something, and where it is deleted.
    static let created = ["/api/v1/workflows": "/api/v1/workflows", "/api/v1/subscriptions": "/api/v1/subscriptions"]
    static let shared = APISession()
    typealias Answer = (status: Int, contentType: String?, body: [UInt8])
    private struct Job: Sendable {
        var path: String
        var method: HTTPRequest.Method
        var contentType: String?
        var body: [UInt8]
        var reply: @Sendable (Answer) -> Void
    }
    private let jobs: AsyncStream<Job>.Continuation

    private init() {
        let (stream, jobs) = AsyncStream.makeStream(of: Job.self)
        self.jobs = jobs
        Task {
            do {
                let engine = WorkflowEngine(executors: ExecutorRegistry(), secrets: SecretProvider(environment: [:]))
                let app = try await buildApplication(engine: engine, store: nil, configuration: ServerConfiguration(port: 0))
                try await Self.serve(app, jobs: stream)
            } catch {
                FuzzTarget.broken("the API could not be served: \(error)")
            }
        }
    }

    /// Answers each job with the application's responder, its services running beside it, as
    /// the server would but without sockets. Not HummingbirdTesting's router client: it makes a
    /// channel per request that is never closed, about 5.5 KB kept per request, which stopped
    /// the fuzzer at its memory limit. One channel serves every request here.
    private static func serve<App: ApplicationProtocol>(_ app: App, jobs: AsyncStream<Job>) async throws {
        let responder = try await app.responder
        let channel = NIOAsyncTestingChannel()
        try await withThrowingTaskGroup(of: Void.self) { group in
            let services = ServiceGroup(configuration: .init(services: app.services, logger: app.logger))
            group.addTask { try await services.run() }
            for process in app.processesRunBeforeServerStart { try await process() }
            for await job in jobs {
                var headers = HTTPFields()
                if let type = job.contentType { headers[.contentType] = type }
                headers[.contentLength] = String(job.body.count)
                let request = Request(
                    head: HTTPRequest(method: job.method, scheme: "http", authority: "localhost", path: job.path, headerFields: headers),
                    body: RequestBody(buffer: ByteBuffer(bytes: job.body)))
                let context = App.Context(source: .init(channel: channel, logger: app.logger))
                let response: Response
                do { response = try await responder.respond(to: request, context: context) } catch {
                    response = Response(status: .internalServerError)
                }
                let body = BodyCollector()
                try await response.body.write(body)
                job.reply((Int(response.status.code), response.headers[.contentType], body.bytes.withLock { $0 }))
            }
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }

    func send(_ path: String, method: HTTPRequest.Method = .post, contentType: String?, body: [UInt8]) -> Answer {
        Blocking.run { [jobs] in
            await withCheckedContinuation { (c: CheckedContinuation<Answer, Never>) in
                jobs.yield(Job(path: path, method: method, contentType: contentType, body: body) { c.resume(returning: $0) })
            }
        }
    }
}

/// A response body, collected.
private final class BodyCollector: ResponseBodyWriter, Sendable {
    let bytes = Mutex<[UInt8]>([])
    func write(_ buffer: ByteBuffer) async throws { bytes.withLock { $0 += buffer.readableBytesView } }
    func finish(_ headers: HTTPFields?) async throws {}
}
