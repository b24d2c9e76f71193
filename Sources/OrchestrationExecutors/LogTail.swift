import Foundation
import Orchestration

/// Keeps the last `limit` bytes of a stream, so a step that prints gigabytes uses bounded memory,
/// with secrets redacted before the cut.
///
/// It keeps `limit` bytes plus the length of the longest secret, redacts that, and only then cuts
/// to `limit`: a secret that straddles the cut is still whole when it is redacted, and a piece of
/// one left at the start of what is shown is masked too.
///
/// ```swift
/// var tail = LogTail(limit: 4)
/// tail.append(Array("abcdef".utf8))
/// tail.text   // "[… 2 bytes dropped …]\ncdef"
/// ```
package struct LogTail: Sendable {
    package let limit: Int
    let redactor: Redactor
    /// How much is kept: the limit plus the longest secret.
    let keep: Int
    private var buffer: [UInt8] = []
    /// Bytes seen in all.
    package private(set) var total = 0

    package init(limit: Int, redactor: Redactor = Redactor(secrets: [])) {
        self.limit = max(0, limit)
        self.redactor = redactor
        self.keep = limit > 0 ? max(0, limit) + redactor.longestSecret : 0
    }

    package mutating func append(_ bytes: UnsafeRawBufferPointer) {
        total += bytes.count
        guard keep > 0 else { return }
        if bytes.count >= keep {
            buffer = Array(bytes.suffix(keep))
            return
        }
        buffer.append(contentsOf: bytes)
        // Trim only once the buffer doubles: amortized O(1) per byte.
        if buffer.count > 2 * keep { buffer.removeFirst(buffer.count - keep) }
    }

    package mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// The kept tail, redacted, with a note of how much was dropped.
    package var text: String {
        let kept = buffer.suffix(keep)
        var body = redactor.redact(String(decoding: kept, as: UTF8.self))
        var cut = total - kept.count
        let excess = body.utf8.count - limit
        if excess > 0 {
            let utf8 = body.utf8
            var start = utf8.index(utf8.startIndex, offsetBy: excess)
            while start < utf8.endIndex, UTF8.isContinuation(utf8[start]) { start = utf8.index(after: start) }
            cut += utf8.distance(from: utf8.startIndex, to: start)
            body = String(body[start...])
        }
        guard cut > 0 else { return body }
        return "[… \(cut) bytes dropped …]\n" + redactor.withoutLeadingFragment(body)
    }
}
