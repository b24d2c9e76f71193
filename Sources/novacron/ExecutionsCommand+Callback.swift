import ArgumentParser
import Foundation
import NIOHTTP1
import Orchestration

/// `executions callback ID STEP`: a single-use callback for a waiting step, for an outside system
/// without an API token.
extension ExecutionsCommand {
    struct Callback: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A single-use callback URL for a step waiting for a decision or a signal (for an outside system with no API token).",
            discussion: """
                The token is printed once; the store keeps only its digest. POST to the path on the
                server (`novacron serve`) with {"decision": "approve"|"reject", "comment": …} for an
                approval, or the signal's body for a signal wait. It works once, for 7 days. Without
                --server it is saved in the store the options name: the one the server uses.
                """)

        @Argument(help: "The execution id.") var id: String
        @Argument(help: "The waiting step (an item of a forEach step as STEP[i]).") var step: String
        @OptionGroup var storeOptions: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let token: String
            let expires: String
            if remote.serverURL != nil {
                let answer = try await remote.call(.POST, "/api/v1/executions/\(Decision.segment(id))/steps/\(Decision.segment(step))/callback")
                guard let given = answer["token"]?.text, !given.isEmpty else { throw Decision.invalid("the server gave no token") }
                token = given
                expires = answer["expiresAt"]?.text ?? ""
            } else {
                let store = try await Decision.open(id, storeOptions)
                guard let record = try await StoreCall.run({ try await store.execution(id: id) }) else {
                    throw Decision.invalid("no execution '\(id)' in \(storeOptions.location)")
                }
                let minted: (token: String, record: CallbackToken)
                do { minted = try CallbackToken.mint(for: record.execution, stepID: step, by: "cli", now: Date()) } catch let error as EngineError {
                    throw Decision.invalid(error.message)
                }
                try await StoreCall.run { try await store.addCallback(minted.record) }
                token = minted.token
                expires = ExecutionReport.iso(minted.record.expiresAt)
            }
            Console.out("POST /api/v1/callbacks/\(token)")
            Console.out("works once, until \(expires); the token is not shown again")
        }
    }
}
