import ArgumentParser
import Foundation
import NIOHTTP1
import Orchestration

/// `executions concurrency KEY`: who holds a concurrency key and who waits for it.
extension ExecutionsCommand {
    struct Concurrency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Who holds a concurrency key (oldest first) and who waits for it, in the order they run.")

        @Argument(help: "The rendered key (as `executions show` prints it).") var key: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if let problem = ConcurrencyPolicy.checkKey(key) { throw Decision.invalid(problem) }
            var rows = [["EXECUTION", "STEP", "STATE", "SINCE"]]
            if remote.serverURL != nil {
                let answer = try await remote.call(.GET, "/api/v1/concurrency/\(Decision.segment(key))")
                for (state, field) in [("holding", "holders"), ("waiting", "waiting")] {
                    guard case .array(let slots)? = answer[field] else { continue }
                    for slot in slots {
                        rows.append([slot["executionID"]?.text ?? "", slot["stepID"]?.text ?? "-", state, slot["since"]?.text ?? ""])
                    }
                }
            } else {
                let store = try await storeOptions.openExisting()
                let slots = try await StoreCall.run { try await store.concurrencySlots(key: key) }
                for slot in slots {
                    rows.append([
                        slot.executionID, slot.stepID.isEmpty ? "-" : slot.stepID, slot.holding ? "holding" : "waiting",
                        ExecutionReport.iso(slot.since),
                    ])
                }
            }
            guard rows.count > 1 else { return Console.out("nobody holds or waits for concurrency key \(key)") }
            Console.out(Table.render(rows))
        }
    }
}

/// `text` as one shell word: in single quotes, a quote written as `'\''`, so a key from a
/// webhook prints as data an operator can paste, never as a command.
func shellQuoted(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
}

extension ExecutionsCommand.Show {
    /// The line `executions show` prints for an execution's concurrency key.
    static func keyLine(_ key: String, pending: Bool) -> String {
        pending
            ? "\nwaiting for its turn on concurrency key \(key) (see: novacron executions concurrency \(shellQuoted(key)))"
            : "\nconcurrency key \(key)"
    }
}
