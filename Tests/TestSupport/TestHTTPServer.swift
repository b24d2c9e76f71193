import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) answering with a closure and
/// recording every request it got.
package final class TestHTTPServer: Sendable {
    package struct Request: Sendable {
        package var method: String
        package var uri: String
        package var headers: [(String, String)]
        package var body: String
        package func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    package struct Response: Sendable {
        package var status: Int = 200
        package var headers: [(String, String)] = []
        package var body: String = ""

        package init(status: Int = 200, headers: [(String, String)] = [], body: String = "") {
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    package typealias Handler = @Sendable (Request, Int) -> Response

    package let channel: any Channel
    private let log = Mutex<[Request]>([])
    private let watchers = Mutex<[(count: Int, continuation: CheckedContinuation<Void, Never>)]>([])

    package var port: Int { channel.localAddress!.port! }
    package var url: String { "http://127.0.0.1:\(port)" }
    package var requests: [Request] { log.withLock { $0 } }

    private init(channel: any Channel) {
        self.channel = channel
    }

    package static func start(_ handler: @escaping Handler) async throws -> TestHTTPServer {
        let box = Mutex<TestHTTPServer?>(nil)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler_(handler: handler, record: { r in box.withLock { $0?.record(r) } ?? 0 }))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = TestHTTPServer(channel: channel)
        box.withLock { $0 = server }
        return server
    }

    /// Runs `body` with a server, stopping it afterwards whatever happens.
    package static func with<R: Sendable>(_ handler: @escaping Handler, _ body: (TestHTTPServer) async throws -> R) async throws -> R {
        let server = try await start(handler)
        do {
            let result = try await body(server)
            await server.stop()
            return result
        } catch {
            await server.stop()
            throw error
        }
    }

    /// Records a request and returns its 1-based number.
    private func record(_ r: Request) -> Int {
        let n = log.withLock {
            $0.append(r)
            return $0.count
        }
        let ready = watchers.withLock { w -> [CheckedContinuation<Void, Never>] in
            defer { w.removeAll { $0.count <= n } }
            return w.filter { $0.count <= n }.map(\.continuation)
        }
        for c in ready { c.resume() }
        return n
    }

    /// Returns once at least `count` requests have arrived.
    package func waitForRequests(_ count: Int) async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = watchers.withLock { w -> Bool in
                if log.withLock({ $0.count }) >= count { return true }
                w.append((count, c))
                return false
            }
            if now { c.resume() }
        }
    }

    package func stop() async {
        try? await channel.close()
    }

    private final class Handler_: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let handler: Handler
        let record: @Sendable (Request) -> Int
        var head: HTTPRequestHead?
        var body = ""

        init(handler: @escaping Handler, record: @escaping @Sendable (Request) -> Int) {
            self.handler = handler
            self.record = record
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h):
                head = h
                body = ""
            case .body(var buffer):
                body += buffer.readString(length: buffer.readableBytes) ?? ""
            case .end:
                guard let head else { return }
                let request = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: body)
                let n = record(request)
                let response = handler(request, n)
                var headers = HTTPHeaders(response.headers)
                headers.replaceOrAdd(name: "Content-Length", value: String(response.body.utf8.count))
                context.write(
                    wrapOutboundOut(
                        .head(HTTPResponseHead(version: head.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers))),
                    promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: response.body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
