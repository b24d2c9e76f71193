import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Ports for the tests' servers, without the race of "bind port 0, close, hand the number on"
/// (another test may take the port in between): servers bind port 0 and the test reads the port
/// they got from what they print (``from(_:after:)``); a port that must refuse connections is
/// ``Reserved``.
package enum ListeningPort {
    /// The port in `text` right after `marker` (`Listening on" address=127.0.0.1:` → 40665), once
    /// the whole number has arrived (something follows it).
    package static func from(_ text: String, after marker: String) -> Int? {
        guard let range = text.range(of: marker) else { return nil }
        let rest = text[range.upperBound...]
        let digits = rest.prefix { $0.isNumber }
        guard !digits.isEmpty, digits.endIndex < rest.endIndex else { return nil }
        return Int(digits)
    }

    /// A loopback port bound and not listening, for as long as this lives.
    package final class Reserved: Sendable {
        package let port: Int
        private let fd: Int32

        package init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
            guard bound == 0 else {
                close(fd)
                throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot bind a loopback port: errno \(errno)"])
            }
            self.fd = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit { close(fd) }
    }
}
