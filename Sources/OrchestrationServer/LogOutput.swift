import Foundation
import Logging
import Orchestration
import Synchronization

/// Where and how `novacron serve` and `novacron run` log (swift-log): a level, text or JSON lines
/// (one object a line), standard error or a file appended to. Every line is redacted with the
/// secrets the process knows, on top of the engine redacting what it logs.
///
/// ```swift
/// let logger = try LogSettings(level: .info, format: .json, file: "/var/log/novacron.log").makeLogger(secrets: secrets.allValues)
/// ```
public struct LogSettings: Sendable, Hashable {
    public enum Format: String, Sendable, Hashable, CaseIterable {
        case text, json
    }

    public var level: Logger.Level
    public var format: Format
    /// Appended to; `nil`: standard error.
    public var file: String?

    public init(level: Logger.Level = .info, format: Format = .text, file: String? = nil) {
        self.level = level
        self.format = format
        self.file = file
    }

    /// Settings from their texts (flags, `NOVACRON_LOG_*`, a settings file), each checked.
    public static func resolve(level: String?, format: String?, file: String?, defaultLevel: Logger.Level) throws(EngineError) -> LogSettings {
        var settings = LogSettings(level: defaultLevel)
        if let level {
            guard let parsed = Self.level(level) else {
                throw EngineError(.invalidInput, "logLevel: '\(level)' is not one of trace, debug, info, notice, warning, error, critical")
            }
            settings.level = parsed
        }
        if let format {
            guard let parsed = Format(rawValue: format.lowercased()) else {
                throw EngineError(.invalidInput, "logFormat: '\(format)' is not text or json")
            }
            settings.format = parsed
        }
        if let file, !file.isEmpty { settings.file = file }
        return settings
    }

    /// `trace|debug|info|warning|error` (also `notice`, `critical`), case-insensitive.
    public static func level(_ text: String) -> Logger.Level? {
        Logger.Level(rawValue: text.lowercased())
    }

    /// A logger with these settings; throws when the file cannot be opened for appending.
    public func makeLogger(label: String = "novacron", secrets: [String] = []) throws -> Logger {
        let sink = try LogSink(file: file)
        let handler = LineLogHandler(sink: sink, format: format, redactor: Redactor(secrets: secrets), label: label, logLevel: level)
        return Logger(label: label, factory: { _ in handler })
    }
}

/// One file handle, written a whole line at a time: when `log` returns, its line has been
/// written (a line logged just before the process exits is not lost in a buffer).
final class LogSink: Sendable {
    private let handle: Mutex<FileHandle>

    init(file: String?) throws {
        if let file {
            if !FileManager.default.fileExists(atPath: file) {
                guard FileManager.default.createFile(atPath: file, contents: nil, attributes: [.posixPermissions: 0o640]) else {
                    throw EngineError(.invalidInput, "\(file): cannot create the log file")
                }
            }
            guard let h = FileHandle(forWritingAtPath: file) else {
                throw EngineError(.invalidInput, "\(file): cannot open the log file for writing")
            }
            h.seekToEndOfFile()
            handle = Mutex(h)
        } else {
            handle = Mutex(FileHandle.standardError)
        }
    }

    /// A line that cannot be written (a full disk, a closed pipe) is dropped: logging never stops
    /// the process.
    func write(_ line: String) {
        handle.withLock { try? $0.write(contentsOf: Data(line.utf8)) }
    }
}

/// A line per log event: `TIME LEVEL message key=value…`, or a JSON object with `time`, `level`,
/// `message`, `label` and the metadata.
struct LineLogHandler: LogHandler {
    let sink: LogSink
    let format: LogSettings.Format
    let redactor: Redactor
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(
        level: Logger.Level, message: Logger.Message, metadata explicit: Logger.Metadata?, source: String, file: String, function: String, line: UInt
    ) {
        var all = metadata.isEmpty ? explicit ?? [:] : metadata
        if let explicit, !metadata.isEmpty { all.merge(explicit) { $1 } }
        let time = ExecutionReport.iso(Date())
        switch format {
        case .text:
            var text = "\(time) \(level.rawValue) \(Self.escaped(redactor.redact(message.description)))"
            for key in all.keys.sorted() { text += " \(key)=\(Self.quoted(redactor.redact(all[key]!.description)))" }
            sink.write(text + "\n")
        case .json:
            var object: [String: JSONValue] = [
                "time": .string(time), "level": .string(level.rawValue), "message": .string(redactor.redact(message.description)),
                "label": .string(label),
            ]
            for (key, value) in all where object[key] == nil { object[key] = .string(redactor.redact(value.description)) }
            sink.write(JSONValue.object(object).jsonText + "\n")
        }
    }

    /// A message with its control characters escaped (it stays one line).
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else { return text }
        let q = quoted(text)
        return String(q.dropFirst().dropLast())
    }

    /// A value as `key=value`: quoted when it holds a space, `"` or `=`, with control characters
    /// escaped as JSON escapes them, so no value can forge a line or send a terminal escape.
    static func quoted(_ value: String) -> String {
        let plain = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && $0 != "\"" && $0 != "=" && $0 != "\\" }
        // Quoted the way JSON quotes a string: every control character escaped.
        return plain ? value : JSONValue.string(value).jsonText
    }
}
