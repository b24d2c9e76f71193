import ArgumentParser
import Foundation
import NIOHTTP1
import Orchestration

/// The server's default address for the commands that only work against a server.
let defaultServer = "http://127.0.0.1:8080"

/// `novacron events publish|list`: the event bus of a running server.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Publish events on a running server's event bus, and read them back.",
        subcommands: [Publish.self, List.self]
    )

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish an event: event triggers whose pattern matches start their workflows.",
            discussion:
                "Example: novacron events publish deployment.finished --data '{\"service\": \"api\"}'. Prints the saved event with its sequence number."
        )

        @Argument(help: "The event type, e.g. deployment.finished.") var type: String
        @Option(name: .long, help: ArgumentHelp("The event's data, a JSON object.", valueName: "json")) var data: String = "{}"
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            do { try EventBus.validate(type: type) } catch {
                Console.err("error: \(error.message)")
                throw ExitStatus.invalidInput
            }
            guard case .object? = try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8)) else {
                Console.err("error: --data must be a JSON object, e.g. '{\"service\": \"api\"}'")
                throw ExitStatus.invalidInput
            }
            let parsed = try JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))
            let event = try await remote.call(
                .POST, "/api/v1/events", body: ["type": .string(type), "data": parsed, "source": "cli"], defaultServer: defaultServer)
            Console.out(event.jsonText + "\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Events after a sequence number, oldest first.")

        @Option(name: .long, help: "Only events after this sequence number (default 0).") var after: Int64 = 0
        @Option(name: .long, help: "Only types matching this pattern, e.g. 'deployment.*'.") var type: String?
        @Option(name: .long, help: "At most this many (1–1000).") var limit = 100
        @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            var path = "/api/v1/events?after=\(after)&limit=\(limit)"
            if let type {
                path +=
                    "&type=" + (type.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: ".*-_"))) ?? type)
            }
            let page = try await remote.call(.GET, path, defaultServer: defaultServer)
            guard output != "json" else {
                Console.out(page.jsonText + "\n")
                return
            }
            guard case .object(let o) = page, case .array(let events)? = o["events"] else { return }
            for case .object(let e) in events {
                Console.out("\(e["seq"]?.text ?? "")  \(e["time"]?.text ?? "")  \(e["type"]?.text ?? "")  \(e["data"]?.jsonText ?? "")\n")
            }
        }
    }
}

/// `novacron triggers list|enable|disable`: trigger status on a running server.
struct TriggersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "triggers",
        abstract: "The triggers of a running server: last fired, next fire, last error; switch them on or off.",
        subcommands: [List.self, Enable.self, Disable.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Every trigger with its state.")
        @Option(name: .long, help: "Only this workflow's.") var workflow: String?
        @Option(name: .shortAndLong, help: "text or json.") var output: String = "text"
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let path = workflow.map { "/api/v1/workflows/\($0)/triggers" } ?? "/api/v1/triggers"
            let answer = try await remote.call(.GET, path, defaultServer: defaultServer)
            guard output != "json" else {
                Console.out(answer.jsonText + "\n")
                return
            }
            guard case .object(let o) = answer, case .array(let triggers)? = o["triggers"] else { return }
            Console.out(
                "WORKFLOW / TRIGGER                TYPE      ENABLED  FIRED  LAST FIRED                NEXT FIRE                 LAST ERROR\n")
            for case .object(let t) in triggers {
                let name = "\(t["workflowID"]?.text ?? "")/\(t["id"]?.text ?? "")"
                let cells = [
                    name.padding(toLength: max(33, name.count), withPad: " ", startingAt: 0),
                    (t["type"]?.text ?? "").padding(toLength: 9, withPad: " ", startingAt: 0),
                    (t["enabled"] == .bool(true) ? "yes" : "no").padding(toLength: 8, withPad: " ", startingAt: 0),
                    (t["fireCount"]?.text ?? "0").padding(toLength: 6, withPad: " ", startingAt: 0),
                    (t["lastFiredAt"]?.text ?? "-").padding(toLength: 25, withPad: " ", startingAt: 0),
                    (t["nextFireAt"]?.text ?? "-").padding(toLength: 25, withPad: " ", startingAt: 0),
                    t["lastError"]?.text ?? "",
                ]
                Console.out(cells.joined(separator: " ") + "\n")
            }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Switch a trigger on (a schedule counts from now).")
        @OptionGroup var target: TriggerTarget
        func run() async throws { try await target.switchTo("enable") }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Switch a trigger off without editing the workflow.")
        @OptionGroup var target: TriggerTarget
        func run() async throws { try await target.switchTo("disable") }
    }
}

/// `WORKFLOW TRIGGER` on a running server, for enable and disable.
struct TriggerTarget: ParsableArguments {
    @Argument(help: "The workflow id.") var workflow: String
    @Argument(help: "The trigger id.") var trigger: String
    @OptionGroup var remote: RemoteOptions

    /// POSTs `…/triggers/{trigger}/enable` or `/disable` and prints the trigger's new state.
    func switchTo(_ verb: String) async throws {
        Console.out(
            try await remote.call(.POST, "/api/v1/workflows/\(workflow)/triggers/\(trigger)/\(verb)", defaultServer: defaultServer).jsonText + "\n")
    }
}
