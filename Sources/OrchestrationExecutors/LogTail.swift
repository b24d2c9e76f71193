import Foundation

/// Keeps the last `limit` bytes of a stream, so a step that prints gigabytes uses bounded memory.
///
/// ```swift
/// var tail = LogTail(limit: 4)
/// tail.append(Array("abcdef".utf8))
/// tail.text   // "[… 2 bytes dropped …]\ncdef"
/// ```
public struct LogTail: Sendable {
    public let limit: Int
    private var buffer: [UInt8] = []
    /// Bytes seen in all.
    public private(set) var total = 0

    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        total += bytes.count
        guard limit > 0 else { return }
        if bytes.count >= limit {
            buffer = Array(bytes.suffix(limit))
            return
        }
        buffer.append(contentsOf: bytes)
        // Trim only once the buffer doubles: amortized O(1) per byte.
        if buffer.count > 2 * limit { buffer.removeFirst(buffer.count - limit) }
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The kept tail, with a note of how much was dropped.
    public var text: String {
        let kept = buffer.suffix(limit)
        let dropped = total - kept.count
        let body = String(decoding: kept, as: UTF8.self)
        return dropped > 0 ? "[… \(dropped) bytes dropped …]\n" + body : body
    }
}
