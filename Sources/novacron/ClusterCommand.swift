import ArgumentParser
import Foundation
import Orchestration

/// `novacron cluster status`: the nodes sharing a PostgreSQL database.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "The nodes sharing a PostgreSQL database (docs/cluster.md).", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Nodes (role, host, pid, last heartbeat, live or not, executions held), executions waiting for a node, leases about to run out."
        )

        @OptionGroup var storeOptions: StoreOptions
        @Option(name: .shortAndLong, help: "text or json.") var output: RunCommand.Format = .text

        func run() async throws {
            guard storeOptions.postgresURL != nil else {
                Console.err("error: a cluster shares a PostgreSQL database: give --database-url (or NOVACRON_DATABASE_URL)")
                throw ExitStatus.invalidInput
            }
            let store = try await storeOptions.openExisting()
            guard let leases = store as? any ExecutionLeases else { throw ExitStatus.invalidInput }
            let status = try await StoreCall.run { try await leases.clusterStatus() }
            switch output {
            case .json:
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                encoder.dateEncodingStrategy = .iso8601
                Console.out(String(decoding: try encoder.encode(status), as: UTF8.self))
            case .text:
                Console.out(Self.text(status))
            }
        }

        static func text(_ status: ClusterStatus) -> String {
            var rows = [["NODE", "ROLE", "HOST", "PID", "LIVE", "EXECUTIONS", "STEPS", "QUEUES", "LAST HEARTBEAT"]]
            for n in status.nodes {
                let ago = max(0, status.at.timeIntervalSince(n.lastHeartbeat))
                rows.append([
                    n.id, n.role, n.host, String(n.pid), n.live ? "yes" : "no", String(n.executions), String(n.steps),
                    n.queues.isEmpty ? "-" : n.queues.joined(separator: ","), String(format: "%.1fs ago", ago),
                ])
            }
            let widths = (0..<rows[0].count).map { c in rows.map { $0[c].count }.max() ?? 0 }
            var lines = rows.map { row in
                row.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                    .trimmingCharacters(in: .whitespaces)
            }
            if status.nodes.isEmpty { lines = ["no nodes"] }
            lines.append("executions waiting for a node: \(status.waitingForANode)")
            for q in status.queues { lines.append("queue \(q.name): \(q.waiting) waiting, \(q.running) running") }
            for lease in status.leasesExpiringSoon {
                lines.append(String(format: "lease of %@ held by %@ runs out in %.1fs", lease.executionID, lease.node, lease.expiresIn))
            }
            return lines.joined(separator: "\n")
        }
    }
}
