import Foundation
import Synchronization

/// Error messages reduced to their shape, so that "connection to 10.0.0.7:5432 refused after
/// 3012 ms" and "connection to 10.0.0.9:5432 refused after 95 ms" count as one failure.
///
/// In order: ISO-8601 timestamps → `<time>`, UUIDs → `<uuid>`, hex ids of 8+ digits → `<hex>`,
/// paths (`/a/b`, `C:\a`) → `<path>`, IPv4 addresses → `<ip>`, numbers → `<n>`; whitespace
/// runs become one space; at most 200 characters are kept.
package enum ErrorSignature {
    package static func of(_ message: String) -> String {
        var s = message
        s = replace(s, #"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"#, "<time>")
        s = replace(s, #"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"#, "<uuid>")
        s = replace(
            s, #"\b(0x)?[0-9a-fA-F]*[0-9][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*\b|\b(0x)?[0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*[0-9][0-9a-fA-F]*\b"#, "<hex>",
            minimumLength: 8)
        s = replace(s, #"(?<![\w<])(/[\w.\-]+){2,}/?|\b[A-Za-z]:\\[\w.\\\-]+"#, "<path>")
        s = replace(s, #"\b\d{1,3}(\.\d{1,3}){3}\b"#, "<ip>")
        s = replace(s, #"\d+(\.\d+)?"#, "<n>")
        s = replace(s, #"\s+"#, " ")
        s = s.trimmingCharacters(in: .whitespaces)
        return s.count > 200 ? String(s.prefix(200)) : s
    }

    private static let expressions = Mutex<[String: NSRegularExpression]>([:])

    static func expression(_ pattern: String) -> NSRegularExpression {
        expressions.withLock { cache in
            if let e = cache[pattern] { return e }
            // The patterns are the constants above.
            let e = try! NSRegularExpression(pattern: pattern)
            cache[pattern] = e
            return e
        }
    }

    static func replace(_ text: String, _ pattern: String, _ with: String, minimumLength: Int = 0) -> String {
        let expression = expression(pattern)
        let ns = text as NSString
        var out = ""
        var last = 0
        for match in expression.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            guard match.range.length >= minimumLength else { continue }
            out += ns.substring(with: NSRange(location: last, length: match.range.location - last))
            out += with
            last = match.range.location + match.range.length
        }
        out += ns.substring(from: last)
        return out
    }
}
