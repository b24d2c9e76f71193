import ArgumentParser
import Foundation
import Logging
import Orchestration
import OrchestrationServer

/// `--log-level`, `--log-format`, `--log-file` for `novacron run` (and `executions resume`), with
/// `NOVACRON_LOG_LEVEL`, `NOVACRON_LOG_FORMAT` and `NOVACRON_LOG_FILE` behind them. `run` shows its
/// progress anyway, so it logs only when asked to: one of these set.
struct LogOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "Log at this level and above: trace, debug, info, warning, error (NOVACRON_LOG_LEVEL). Without any log option, run does not log.")
    var logLevel: String?

    @Option(name: .long, help: "text (default) or json: one JSON object a line (NOVACRON_LOG_FORMAT).")
    var logFormat: String?

    @Option(name: .long, help: ArgumentHelp("Append the log to this file instead of standard error (NOVACRON_LOG_FILE).", valueName: "path"))
    var logFile: String?

    /// The logger asked for, or `nil` when none was.
    func logger(secrets: SecretProvider, environment: [String: String] = ProcessInfo.processInfo.environment) throws(EngineError) -> Logger? {
        let level = logLevel ?? environment["NOVACRON_LOG_LEVEL"]
        let format = logFormat ?? environment["NOVACRON_LOG_FORMAT"]
        let file = logFile ?? environment["NOVACRON_LOG_FILE"]
        guard level != nil || format != nil || file != nil else { return nil }
        let settings = try LogSettings.resolve(level: level, format: format, file: file, defaultLevel: .info)
        do { return try settings.makeLogger(secrets: secrets.allValues) } catch let error as EngineError { throw error } catch {
            throw EngineError(.invalidInput, "\(error)")
        }
    }
}
