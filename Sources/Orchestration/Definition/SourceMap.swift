import Synchronization

/// Where each field of a decoded definition came from, by field path (`steps[2].timeout`).
///
/// Validation uses it to put file:line:column on errors found after decoding. A definition read
/// through the JSON fast path has a map that finds its locations the first time one is asked for
/// (by reading the text again the slow way): a valid file pays nothing for them.
public struct SourceMap: Sendable {
    /// How a string was written, to turn an offset inside it into a line and column.
    struct StringOrigin: Sendable {
        var location: SourceLocation
        /// Added to the column of a character offset on the first line (1 for quoted strings).
        var firstLineShift: Int
        /// For block scalars (`|`, `>`): the first content line and its indentation column.
        var block: (line: Int, column: Int)?
    }

    public let file: String
    var values: [String: SourceLocation] = [:]
    var keys: [String: SourceLocation] = [:]
    var strings: [String: StringOrigin] = [:]

    /// Finds the locations on first use, once; `nil` when they were recorded while decoding.
    let locator: Locator?
    /// Whether every value of the file was seen (false when the text could not be read as YAML,
    /// as some valid JSON cannot): then nothing can be said absent.
    var complete = true

    final class Locator: Sendable {
        let locate: @Sendable () -> SourceMap
        private let found = Mutex<SourceMap?>(nil)

        init(_ locate: @escaping @Sendable () -> SourceMap) { self.locate = locate }

        var map: SourceMap {
            found.withLock { found in
                if let found { return found }
                let map = locate()
                found = map
                return map
            }
        }
    }

    public init(file: String) {
        self.file = file
        self.locator = nil
    }

    /// A map whose locations `locate` finds when one is first needed.
    init(file: String, locate: @escaping @Sendable () -> SourceMap) {
        self.file = file
        self.locator = Locator(locate)
    }

    /// Whether the file had a value at `path`.
    public func hasValue(at path: String) -> Bool {
        if let locator { return locator.map.hasValue(at: path) }
        return !complete || values[path] != nil
    }

    /// The location of the value at `path`, else of its key, else of the nearest parent.
    public func location(of path: String) -> SourceLocation? {
        if let locator { return locator.map.location(of: path) }
        var p = path
        while true {
            if let l = values[p] ?? keys[p] { return l }
            guard let cut = p.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            p = String(p[..<cut])
        }
        return values[""]
    }

    /// The location of the key of the field at `path` (falls back to ``location(of:)``).
    public func keyLocation(of path: String) -> SourceLocation? {
        if let locator { return locator.map.keyLocation(of: path) }
        return keys[path] ?? location(of: path)
    }

    /// The location of character `offset` inside the string at `path`.
    public func location(of path: String, offset: Int, in text: String) -> SourceLocation? {
        if let locator { return locator.map.location(of: path, offset: offset, in: text) }
        guard let origin = strings[path] else { return location(of: path) }
        guard let block = origin.block else {
            return origin.location.advanced(by: origin.firstLineShift + offset)
        }
        var line = block.line
        var column = block.column
        for (i, c) in text.unicodeScalars.enumerated() {
            if i == offset { break }
            if c == "\n" {
                line += 1
                column = block.column
            } else {
                column += 1
            }
        }
        return SourceLocation(file: file, line: line, column: column)
    }
}
