import Foundation
import Orchestration

/// Runs `task` steps: `command` through `/bin/sh -c` (with `${…}` values passed as environment
/// variables, see ``ShellSplice``), or `args` exec'd directly.
///
/// Inputs: `command` or `args`; `env` (a map added to the environment); `workingDirectory`.
/// The process gets `NOVACRON_OUTPUT`, a file where it writes outputs as `key=value` lines or one
/// JSON object; stdout and stderr are kept as the step's log (the tail, bounded).
///
/// ```yaml
/// - id: version
///   type: task
///   inputs: {command: 'echo "version=$(git describe)" >> "$NOVACRON_OUTPUT"'}
/// ```
public struct ShellExecutor: StepExecutor {
    /// The largest outputs file accepted.
    public static let outputLimit = 1 << 20
    public var shell: String

    public init(shell: String = "/bin/sh") {
        self.shell = shell
    }

    public func execute(_ request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        let executable: String
        let arguments: [String]
        if case .string(let command)? = request.inputs["command"] {
            executable = shell
            arguments = ["-c", command]
        } else if case .array(let args)? = request.inputs["args"], let first = args.first {
            executable = first.text
            arguments = args.dropFirst().map(\.text)
        } else {
            return .failure("a task step needs inputs.command (run by \(shell)) or inputs.args (exec'd directly)")
        }
        return await ProcessStep.run(
            executable: executable, arguments: arguments, request: request, context: context)
    }
}

/// The part shared by shell and container steps: environment, outputs file, exit status.
enum ProcessStep {
    static func run(executable: String, arguments: [String], request: StepRequest, context: ExecutorContext) async -> StepOutcome {
        // A clean environment: the allow-list of the server's own, then the step's.
        var environment = StepEnvironment.current.variables.merging(request.processEnvironment) { _, step in step }
        if case .object(let extra)? = request.inputs["env"] {
            for (k, v) in extra { environment[k] = v.text }
        }
        let outputPath = FileManager.default.temporaryDirectory
            .appendingPathComponent("novacron-\(UUID().uuidString).out").path
        guard FileManager.default.createFile(atPath: outputPath, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            return .failure("cannot create the outputs file \(outputPath)")
        }
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        environment["NOVACRON_OUTPUT"] = outputPath
        let runner = ProcessRunner(
            executable: executable, arguments: arguments, environment: environment,
            workingDirectory: request.text("workingDirectory"), grace: context.killGracePeriod, logLimit: context.logLimit,
            redactor: context.redactor, processStarted: context.processStarted)
        let result = await runner.run()
        if let launchError = result.launchError {
            return StepOutcome(ending: .failed, error: launchError, log: result.log)
        }
        let outputs: [String: JSONValue]
        do { outputs = try StepOutputs.read(path: outputPath) } catch {
            return StepOutcome(ending: .failed, error: error.message, exitCode: result.exitCode, log: result.log)
        }
        if let signal = result.signal {
            return StepOutcome(ending: .failed, outputs: outputs, error: "killed by signal \(signal)", log: result.log)
        }
        let code = result.exitCode ?? -1
        if code == 0 { return .success(outputs: outputs, exitCode: 0, log: result.log) }
        return StepOutcome(ending: .failed, outputs: outputs, error: "exit code \(code)", exitCode: code, log: result.log)
    }
}

/// Reads what a step wrote to `$NOVACRON_OUTPUT`.
public enum StepOutputs {
    public struct Problem: Error, Sendable {
        public var message: String
    }

    /// `key=value` lines (blank lines and `#` comments ignored), or one JSON object.
    public static func parse(_ text: String) throws(Problem) -> [String: JSONValue] {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty { return [:] }
        if trimmed.hasPrefix("{") {
            guard let data = trimmed.data(using: .utf8), let value = try? JSONDecoder().decode(JSONValue.self, from: data),
                case .object(let object) = value
            else {
                throw Problem(message: "NOVACRON_OUTPUT: starts with '{' but is not one JSON object")
            }
            return object
        }
        var outputs: [String: JSONValue] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            if l.allSatisfy(\.isWhitespace) || l.hasPrefix("#") { continue }
            guard let eq = l.firstIndex(of: "="), eq != l.startIndex else {
                throw Problem(message: "NOVACRON_OUTPUT line \(n + 1): expected key=value, got \"\(l.prefix(80))\"")
            }
            outputs[String(l[..<eq]).trimmingCharacters(in: .whitespaces)] = .string(String(l[l.index(after: eq)...]))
        }
        return outputs
    }

    static func read(path: String) throws(Problem) -> [String: JSONValue] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [:] }
        defer { try? handle.close() }
        let data = (try? handle.read(upToCount: ShellExecutor.outputLimit + 1)) ?? Data()
        if data.count > ShellExecutor.outputLimit {
            throw Problem(
                message: "NOVACRON_OUTPUT: outputs larger than \(ShellExecutor.outputLimit / 1024) KiB; write big data to a file and output its path")
        }
        return try parse(String(decoding: data, as: UTF8.self))
    }
}
