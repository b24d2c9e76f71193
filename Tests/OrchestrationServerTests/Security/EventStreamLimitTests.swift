import Foundation
import Orchestration
import OrchestrationServer
import OrchestrationTesting
import TestSupport
import Testing

/// Clients of `/api/v1/events/stream` that connect and never read, or connect too often.
@Suite("Event stream limits", .serialized)
struct EventStreamLimitTests {
    static func publish(_ port: Int, _ type: String, data: String = "{}") async throws {
        let (status, text) = try await RawHTTP.request(
            port: port, method: "POST", path: "/api/v1/events", headers: ["Content-Type": "application/json"],
            body: #"{"type": "\#(type)", "data": \#(data)}"#)
        #expect(status == 201, "\(text.suffix(200))")
    }

    /// A stream's connection, its status, and the events that came with its head.
    static func openStream(_ port: Int, token: String? = nil, after: String = "", receiveBuffer: Int? = nil) async throws -> (RawHTTP, Int, String) {
        let client = try RawHTTP(port: port, receiveBuffer: receiveBuffer)
        try await client.send(
            "GET /api/v1/events/stream\(after) HTTP/1.1\r\nHost: 127.0.0.1\r\n\(token.map { "Authorization: Bearer \($0)\r\n" } ?? "")\r\n")
        let (status, text) = try await client.head()
        return (client, status, text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n"))
    }

    static func openStreams(_ port: Int) async throws -> Int {
        let (_, text) = try await RawHTTP.request(port: port, method: "GET", path: "/metrics")
        return Int(text.firstMatch(of: /novacron_event_streams_open (\d+)/)?.1 ?? "-1") ?? -1
    }

    @Test("a stream without after starts at now: the log is not replayed; after=0 replays it")
    func startsAtNow() async throws {
        try await withLiveServer { port, _ in
            for _ in 0..<3 { try await Self.publish(port, "before.now") }
            let (live, status, first) = try await Self.openStream(port)
            #expect(status == 200)
            try await Self.publish(port, "after.now")
            var seen = first
            while !seen.contains("event: after.now") {
                let chunk = try await live.receive()
                #expect(!chunk.isEmpty)
                if chunk.isEmpty { break }
                seen += String(decoding: chunk, as: UTF8.self)
            }
            #expect(!seen.contains("before.now"))
            #expect(seen.contains("id: 4\n"))
            // The saved events may come in the same read as the head.
            var (replay, _, all) = try await Self.openStream(port, after: "?after=0")
            while !all.contains("event: after.now") { all += String(decoding: try await replay.receive(), as: UTF8.self) }
            #expect(all.components(separatedBy: "event: before.now").count - 1 == 3)
        }
    }

    @Test("a stream whose filter leaves out every event still sends its heartbeat while events flow; an unfiltered one once they stop")
    func heartbeatWhileFiltered() async throws {
        try await withLiveServer(configure: { $0.streamLimits = StreamLimits(heartbeat: .milliseconds(300)) }) { port, _ in
            let (filtered, status, _) = try await Self.openStream(port, after: "?type=never.published")
            #expect(status == 200)
            let (quiet, _, _) = try await Self.openStream(port)
            let (other, _, _) = try await Self.openStream(port, after: "?type=also.never")
            // Unrelated events, one after another, until the test ends: each wakes the streams.
            let publisher = Task {
                var published = 0
                while !Task.isCancelled {
                    try await Self.publish(port, "noise.event")
                    published += 1
                }
                return published
            }
            defer { publisher.cancel() }
            for stream in [filtered, other] {
                var text = ""
                while !text.contains(": heartbeat") { text += String(decoding: try await stream.receive(), as: UTF8.self) }
                #expect(!text.contains("noise.event"))
            }
            publisher.cancel()
            #expect(try await publisher.value > 0)
            // The stream without a filter got every event; once they stop, its heartbeat comes.
            var text = ""
            while !text.contains(": heartbeat") { text += String(decoding: try await quiet.receive(), as: UTF8.self) }
            #expect(text.contains("event: noise.event"))
        }
    }

    @Test("300 streams at once each get the next event in order; /healthz and the API answer meanwhile; closing them gives their places back")
    func manyStreams() async throws {
        try await withLiveServer(configure: { $0.streamLimits = StreamLimits(perPrincipal: 300, total: 300) }) { port, _ in
            var streams: [(RawHTTP, String)] = []
            for _ in 0..<300 {
                let (stream, status, first) = try await Self.openStream(port)
                #expect(status == 200)
                streams.append((stream, first))
            }
            #expect(try await Self.openStreams(port) == 300)
            let (_, full, _) = try await Self.openStream(port)
            #expect(full == 429)
            #expect(try await RawHTTP.request(port: port, method: "GET", path: "/healthz").status == 200)
            try await Self.publish(port, "fan.one")
            try await Self.publish(port, "fan.two")
            #expect(try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/workflows").status == 200)
            for (stream, first) in streams {
                var text = first
                while !text.contains("event: fan.two") { text += String(decoding: try await stream.receive(), as: UTF8.self) }
                let one = try #require(text.range(of: "event: fan.one")), two = try #require(text.range(of: "event: fan.two"))
                #expect(one.lowerBound < two.lowerBound)
                stream.shutdown()
            }
            streams.removeAll()
            // Each closed stream's place comes back once the server notices the close.
            var (open, rounds) = (try await Self.openStreams(port), 0)
            while open > 0 && rounds < 500 {
                try await Self.publish(port, "after.close")
                (open, rounds) = (try await Self.openStreams(port), rounds + 1)
            }
            #expect(open == 0, "\(open) streams still counted as open after \(rounds) events")
            let (_, again, _) = try await Self.openStream(port)
            #expect(again == 200)
        }
    }

    @Test("streams are capped per token and in all, with 429 and Retry-After")
    func caps() async throws {
        let tokens = try APITokens(environment: "viewer:v1,viewer:v2")
        try await withLiveServer(tokens: tokens, configure: { $0.streamLimits = StreamLimits(perPrincipal: 2, total: 3) }) { port, _ in
            var held: [RawHTTP] = []
            for _ in 0..<2 {
                let (c, status, _) = try await Self.openStream(port, token: "v1")
                #expect(status == 200)
                held.append(c)
            }
            let (_, third, _) = try await Self.openStream(port, token: "v1")
            #expect(third == 429)
            let (other, status, _) = try await Self.openStream(port, token: "v2")
            #expect(status == 200)
            held.append(other)
            let (_, overall, _) = try await Self.openStream(port, token: "v2")
            #expect(overall == 429)
            let (text) = try await RawHTTP.request(port: port, method: "GET", path: "/api/v1/events/stream", headers: ["Authorization": "Bearer v2"])
                .text
            #expect(text.contains("Retry-After: 5"))
        }
    }

    @Test("a client that stops reading is dropped after the stall timeout instead of being buffered for")
    func stalledClient() async throws {
        try await withLiveServer(configure: { $0.streamLimits = StreamLimits(stallTimeout: .milliseconds(200)) }) { port, _ in
            let (stalled, status, _) = try await Self.openStream(port, receiveBuffer: 4096)
            #expect(status == 200)
            #expect(try await Self.openStreams(port) == 1)
            // 24 MiB of events, far more than the socket buffers hold.
            let pad = String(repeating: "x", count: 120_000)
            for i in 0..<200 { try await Self.publish(port, "bulk.\(i)", data: #"{"pad": "\#(pad)"}"#) }
            // The server gives up on the client: its stream is closed, not kept buffering.
            var open = try await Self.openStreams(port)
            for _ in 0..<2000 where open != 0 {
                await Task.yield()
                open = try await Self.openStreams(port)
            }
            #expect(open == 0)
            // What the client can still read ends (the connection is closed), well short of all 24 MiB.
            let rest = try await stalled.readToEnd()
            #expect(rest.utf8.count < 20_000_000)
        }
    }
}
