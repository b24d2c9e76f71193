import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A client that sends exactly the bytes a test writes — odd paths, forged headers, half a
/// request — to a live server on 127.0.0.1, as an attacker's tool would. Every read has a
/// bound (`SO_RCVTIMEO`), so a server that never answers fails the test instead of hanging it.
/// Reads and sends block, so they run on a thread of their own: on the test's task they would
/// take a thread of the pool the server in the same process answers on.
package final class RawHTTP: @unchecked Sendable {
    package let fd: Int32

    package struct Failure: Error, CustomStringConvertible { package var description: String }

    package init(port: Int, receiveBuffer: Int? = nil, timeout: Double = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        if var size = receiveBuffer.map(Int32.init) {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        setTimeout(timeout)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Closes the connection both ways (the descriptor itself is closed when this is released).
    package func shutdown() { _ = Glibc.shutdown(fd, Int32(SHUT_RDWR)) }

    /// How long a read waits before it fails.
    package func setTimeout(_ seconds: Double) {
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - seconds.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Sends every byte; a send blocks while the server's receive buffer is full (a big body).
    package func send(_ text: String) async throws { try await send(Array(text.utf8)) }

    package func send(_ bytes: [UInt8]) async throws {
        try await offPool { try self.sendNow(bytes) }
    }

    package func sendNow(_ text: String) throws { try sendNow(Array(text.utf8)) }

    package func sendNow(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send: errno \(errno)") }
            offset += n
        }
    }

    /// The next bytes, `[]` at the end of the stream; throws when nothing came within the bound.
    package func receive(max: Int = 65536) async throws -> [UInt8] {
        try await offPool { try self.receiveNow(max: max) }
    }

    package func receiveNow(max: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, max, 0) }
        if n < 0 {
            if errno == ECONNRESET { return [] }
            throw Failure(description: "no answer within the bound (errno \(errno))")
        }
        return Array(buffer[0..<n])
    }

    /// Reads until the head of the response is in; its status and the head's text.
    package func head() async throws -> (status: Int, text: String) {
        try await offPool { try self.headNow() }
    }

    package func headNow() throws -> (status: Int, text: String) {
        var data: [UInt8] = []
        while !data.containsCRLFCRLF {
            let chunk = try receiveNow()
            guard !chunk.isEmpty else { break }
            data += chunk
        }
        let text = String(decoding: data, as: UTF8.self)
        guard let line = text.split(separator: "\r\n").first, let status = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw Failure(description: "no HTTP response: \(text.prefix(200))")
        }
        return (status, text)
    }

    /// Reads until the server closes the connection; everything it sent.
    package func readToEnd() async throws -> String {
        try await offPool { try self.readToEndNow() }
    }

    package func readToEndNow() throws -> String {
        var data: [UInt8] = []
        while true {
            let chunk = try receiveNow()
            if chunk.isEmpty { break }
            data += chunk
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Sends one request (closing the connection after it) and returns the status and the whole response.
    package static func request(
        port: Int, method: String, path: String, headers: [String: String] = [:], body: String = "", host: String? = nil
    ) async throws -> (status: Int, text: String) {
        let client = try RawHTTP(port: port)
        var text = "\(method) \(path) HTTP/1.1\r\nHost: \(host ?? "127.0.0.1:\(port)")\r\nConnection: close\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { text += "Content-Length: \(body.utf8.count)\r\n" }
        text += "\r\n" + body
        try await client.send(text)
        let all = try await client.readToEnd()
        guard let line = all.split(separator: "\r\n").first, let status = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else {
            throw Failure(description: "no HTTP response to \(method) \(path): \(all.prefix(200))")
        }
        return (status, all)
    }
}

extension Array where Element == UInt8 {
    package var containsCRLFCRLF: Bool {
        guard count >= 4 else { return false }
        for i in 0...(count - 4) where self[i] == 13 && self[i + 1] == 10 && self[i + 2] == 13 && self[i + 3] == 10 { return true }
        return false
    }
}

/// Runs blocking work on a thread of its own and awaits its result.
package func offPool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try body() }) }
    }
}
