/// The fast path for definitions written as JSON: strict RFC 8259 JSON straight into the tree the
/// decoder reads, with each scalar's type known from its syntax, so nothing of YAML's machinery
/// (libyaml's scanner, tag resolution by regular expression, marks for every node) is paid for.
///
/// The tree carries no locations. Anything this parser does not accept — a syntax error, a
/// duplicate key, nesting beyond ``WorkflowDecoder/maximumFlowDepth``, JSON-looking YAML such as
/// `{name: x}` — returns `nil`, and the decoder reads the text through the YAML path instead,
/// which reports the problem at its line and column. Locations of valid JSON are found the same
/// way, only when a diagnostic needs one (see ``SourceMap``).
enum JSONNodeParser {
    /// Whether `source` is meant as JSON: its first non-blank character opens an object.
    static func looksLikeJSON(_ source: String) -> Bool {
        for byte in source.utf8 {
            switch byte {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "{"): return true
            default: return false
            }
        }
        return false
    }

    static func parse(_ source: String) -> DefinitionNode? {
        var text = source
        return text.withUTF8 { bytes in
            var parser = Cursor(bytes: bytes)
            guard let node = parser.value(depth: 0) else { return nil }
            parser.skipBlank()
            return parser.index == bytes.count ? node : nil
        }
    }

    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        var current: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipBlank() {
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
                default: return
                }
            }
        }

        mutating func value(depth: Int) -> DefinitionNode? {
            skipBlank()
            guard let byte = current else { return nil }
            switch byte {
            case UInt8(ascii: "{"): return depth < WorkflowDecoder.maximumFlowDepth ? object(depth: depth + 1) : nil
            case UInt8(ascii: "["): return depth < WorkflowDecoder.maximumFlowDepth ? array(depth: depth + 1) : nil
            case UInt8(ascii: "\""): return string().map(DefinitionNode.string)
            case UInt8(ascii: "t"): return literal("true", .bool, true)
            case UInt8(ascii: "f"): return literal("false", .bool, false)
            case UInt8(ascii: "n"): return literal("null", .null, nil)
            default: return number()
            }
        }

        mutating func object(depth: Int) -> DefinitionNode? {
            index += 1
            var pairs: [(key: DefinitionNode, value: DefinitionNode)] = []
            var keys: [String] = []
            // Objects are small (a step has a handful of fields): a linear search beats hashing
            // until they are not.
            var seen: Set<String>?
            skipBlank()
            if current == UInt8(ascii: "}") {
                index += 1
                return .mapping(pairs, .none)
            }
            while true {
                skipBlank()
                guard current == UInt8(ascii: "\""), let key = string() else { return nil }
                // A duplicate key is an error; the YAML path reports it with its place.
                if seen != nil {
                    guard seen!.insert(key).inserted else { return nil }
                } else if keys.count < 16 {
                    guard !keys.contains(key) else { return nil }
                    keys.append(key)
                } else {
                    var large = Set(keys)
                    guard large.insert(key).inserted else { return nil }
                    seen = large
                }
                skipBlank()
                guard current == UInt8(ascii: ":") else { return nil }
                index += 1
                guard let value = value(depth: depth) else { return nil }
                pairs.append((key: .string(key), value: value))
                skipBlank()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "}"):
                    index += 1
                    return .mapping(pairs, .none)
                default: return nil
                }
            }
        }

        mutating func array(depth: Int) -> DefinitionNode? {
            index += 1
            var items: [DefinitionNode] = []
            skipBlank()
            if current == UInt8(ascii: "]") {
                index += 1
                return .sequence(items, .none)
            }
            while true {
                guard let item = value(depth: depth) else { return nil }
                items.append(item)
                skipBlank()
                switch current {
                case UInt8(ascii: ","): index += 1
                case UInt8(ascii: "]"):
                    index += 1
                    return .sequence(items, .none)
                default: return nil
                }
            }
        }

        mutating func literal(_ word: StaticString, _ kind: DefinitionNode.Kind, _ boolean: Bool?) -> DefinitionNode? {
            let count = word.utf8CodeUnitCount
            guard index + count <= bytes.count else { return nil }
            for k in 0..<count where bytes[index + k] != word.utf8Start[k] { return nil }
            index += count
            return .scalar(.init(text: word.description, kind: kind, style: .plain, mark: .none, boolean: boolean))
        }

        /// A string's value; `nil` on anything RFC 8259 does not allow (raw control characters,
        /// unknown escapes, lone surrogates, invalid UTF-8).
        mutating func string() -> String? {
            index += 1
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    index += 1
                    return String(validating: slice, as: UTF8.self)
                }
                if byte == UInt8(ascii: "\\") { return escapedString(from: start) }
                if byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// The slow path of ``string()``, from the first backslash on.
        mutating func escapedString(from start: Int) -> String? {
            var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard let escape = current else { return nil }
                    index += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar) {
                            guard current == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else { return nil }
                            index += 2
                            guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        guard let unicode = Unicode.Scalar(scalar) else { return nil }
                        out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    default: return nil
                    }
                default:
                    if byte < 0x20 { return nil }
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let b = bytes[index]
                let digit: UInt32
                switch b {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
                default: return nil
                }
                value = value << 4 | digit
                index += 1
            }
            return value
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, typed int when it has no fraction or
        /// exponent and fits an `Int`, else float.
        mutating func number() -> DefinitionNode? {
            let start = index
            func digits() -> Int {
                let from = index
                while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
                return index - from
            }
            if current == UInt8(ascii: "-") { index += 1 }
            if current == UInt8(ascii: "0") {
                index += 1
            } else {
                guard digits() > 0 else { return nil }
            }
            var integral = true
            if current == UInt8(ascii: ".") {
                index += 1
                integral = false
                guard digits() > 0 else { return nil }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                index += 1
                integral = false
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
                guard digits() > 0 else { return nil }
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            let integer = integral ? Int(text) : nil
            return .scalar(
                .init(text: text, kind: integer != nil ? .int : .float, style: .plain, mark: .none, integer: integer, number: Double(text)))
        }
    }
}
