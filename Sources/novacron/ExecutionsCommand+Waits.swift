import ArgumentParser
import Foundation
import NIOHTTP1
import Orchestration

/// `executions approve|reject ID STEP` and `executions signal ID NAME`: saved in the store (or
/// sent to a server with --server), taken by the execution wherever it runs, within a second.
extension ExecutionsCommand {
    /// What `approve` and `reject` take.
    struct DecisionArguments: ParsableArguments {
        @Argument(help: "The execution id.") var id: String
        @Argument(help: "The approval step (an item of a forEach step as STEP[i]).") var step: String
        @Option(name: .long, help: "A comment, read downstream as ${STEP.comment}.") var comment: String?
        @Option(name: .long, help: ArgumentHelp("A JSON object, read downstream as ${STEP.data…}.", valueName: "json")) var data: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func send(_ kind: ExecutionSignal.Kind) async throws {
            try await Decision.send(kind, id: id, step: step, comment: comment, data: data, store: storeOptions, remote: remote)
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Approve an approval step that waits for a decision.")
        @OptionGroup var decision: DecisionArguments
        func run() async throws { try await decision.send(.approve) }
    }

    struct Reject: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Reject an approval step that waits for a decision: the step fails.")
        @OptionGroup var decision: DecisionArguments
        func run() async throws { try await decision.send(.reject) }
    }

    struct Signal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send a signal to an execution: its wait steps for NAME end, now or when they start waiting.")
        @Argument(help: "The execution id.") var id: String
        @Argument(help: "The signal's name.") var name: String
        @Option(name: .long, help: ArgumentHelp("Any JSON value, read as ${STEP.payload}.", valueName: "json")) var data: String?
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            guard (1...100).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
                throw Decision.invalid("a signal name is 1 to 100 letters, digits, '-', '_' or '.'")
            }
            guard (data?.utf8.count ?? 0) <= 1 << 16 else { throw Decision.invalid("--data is more than 64 KiB") }
            let payload = try Decision.json(data, option: "--data") ?? .null
            if remote.serverURL != nil {
                _ = try await remote.call(.POST, "/api/v1/executions/\(Decision.segment(id))/signals/\(name)", body: payload)
                return Console.out("sent signal \(name) to \(id)")
            }
            let store = try await Decision.open(id, storeOptions)
            _ = try await StoreCall.run {
                try await store.addSignal(
                    ExecutionSignal(executionID: id, kind: .signal, name: name, payload: payload, sender: "cli", sentAt: Date()))
            }
            Console.out("sent signal \(name) to \(id); the execution takes it within a second where it runs, or when it is resumed")
        }
    }

    enum Decision {
        static func send(
            _ kind: ExecutionSignal.Kind, id: String, step: String, comment: String?, data: String?, store options: StoreOptions,
            remote: RemoteOptions
        ) async throws {
            var payload: [String: JSONValue] = [:]
            if let comment { payload["comment"] = .string(comment) }
            if let value = try json(data, option: "--data") {
                guard case .object = value else { throw Decision.invalid("--data must be a JSON object") }
                payload["data"] = value
            }
            let verb = kind == .approve ? "approved" : "rejected"
            if remote.serverURL != nil {
                _ = try await remote.call(
                    .POST, "/api/v1/executions/\(segment(id))/steps/\(segment(step))/\(kind == .approve ? "approve" : "reject")",
                    body: .object(payload))
                return Console.out("\(verb) \(step) of \(id)")
            }
            let store = try await open(id, options)
            guard let record = try await StoreCall.run({ try await store.execution(id: id) }), let result = record.execution.stepResults[step],
                result.waitReason == .approval
            else {
                Console.err("error: step \(step) of execution \(id) is not waiting for approval")
                throw ExitStatus.invalidInput
            }
            _ = try await StoreCall.run {
                try await store.addSignal(
                    ExecutionSignal(executionID: id, kind: kind, name: step, payload: .object(payload), sender: "cli", sentAt: Date()))
            }
            Console.out("\(verb) \(step) of \(id); the execution takes it within a second where it runs, or when it is resumed")
        }

        /// Says `message` as an error and exits 2, as every command does for invalid input.
        static func invalid(_ message: String) -> ExitCode {
            Console.err("error: \(message)")
            return ExitStatus.invalidInput
        }

        /// A path segment, percent-encoded (`build[2]`, ids with odd characters).
        static func segment(_ text: String) -> String {
            text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? text
        }

        static func json(_ text: String?, option: String) throws -> JSONValue? {
            guard let text else { return nil }
            guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw Decision.invalid("\(option) is not JSON: \(text.prefix(80))")
            }
            return value
        }

        /// The store holding execution `id`, which must not have ended.
        static func open(_ id: String, _ options: StoreOptions) async throws -> any Store {
            let store = try await options.openExisting()
            guard let record = try await StoreCall.run({ try await store.execution(id: id) }) else {
                Console.err("error: no execution '\(id)' in \(options.location)")
                throw ExitStatus.invalidInput
            }
            guard !record.execution.status.isTerminal else {
                Console.err("error: execution \(id) already \(record.execution.status.rawValue)")
                throw ExitStatus.invalidInput
            }
            return store
        }
    }
}
