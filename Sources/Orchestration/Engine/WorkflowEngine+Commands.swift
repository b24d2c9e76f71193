import Foundation
import Logging

extension WorkflowEngine {
    /// Carries out `command` on execution `id` — here when this engine runs it (returns `true`);
    /// otherwise, on a store other nodes share, hands it to the node that holds the execution
    /// (returns `false`: that node carries it out, at once when it is listening, within seconds
    /// otherwise).
    @discardableResult
    public func send(_ command: ExecutionCommand, to id: String) async throws -> Bool {
        if runs[id] == nil, let store, let channel = store as? any ExecutionCommands {
            guard let record = try await store.execution(id: id) else { throw EngineError(.notFound, "no execution '\(id)'") }
            guard !record.execution.status.isTerminal else {
                throw EngineError(.conflict, "execution \(id) already \(record.execution.status.rawValue)")
            }
            if case .pause = command, record.execution.status == .pending, let key = record.execution.concurrencyKey {
                throw EngineError(.conflict, "execution \(id) waits for its turn on concurrency key \(key); it can be cancelled, not paused")
            }
            try await channel.sendCommand(command, to: id)
            return false
        }
        try await carryOut(command, on: id)
        return true
    }

    func carryOut(_ command: ExecutionCommand, on id: String) async throws {
        switch command {
        case .cancel(let reason): try await cancelExecution(id, reason: reason)
        case .pause: try await pauseExecution(id)
        case .resume: try await resumeExecution(id)
        case .debug(let on): try await setDebug(id, on)
        }
    }

    /// Carries out, while ``run()`` runs, the commands other nodes send to the executions this
    /// one holds.
    nonisolated func followCommands(_ channel: any ExecutionCommands) async {
        while !Task.isCancelled {
            await channel.waitForCommands(upTo: .seconds(2))
            if Task.isCancelled { return }
            guard let commands = try? await channel.takeCommands() else { continue }
            await carryOut(commands, from: channel)
        }
    }

    /// Carries out commands taken from the store. One whose execution was handed to another node
    /// before it was carried out here, or while (what this node did of it was then not saved),
    /// goes back to the store for the node that carries the execution on.
    func carryOut(_ commands: [(executionID: String, command: ExecutionCommand)], from channel: any ExecutionCommands) async {
        for (id, command) in commands {
            do { try await carryOut(command, on: id) } catch {
                logger.warning(
                    "a command from another node could not be carried out",
                    metadata: ["execution": "\(id)", "command": "\(command)", "error": "\(error)"])
            }
            guard runs[id] == nil, handedOverReasons[id] != nil else { continue }
            do {
                try await channel.sendCommand(command, to: id)
                logger.info(
                    "a command for an execution handed over meanwhile goes on to its node", metadata: ["execution": "\(id)", "command": "\(command)"])
            } catch {
                logger.error(
                    "a command for an execution handed over meanwhile is lost: the store failed",
                    metadata: ["execution": "\(id)", "command": "\(command)", "error": "\(error)"])
            }
        }
    }
}
