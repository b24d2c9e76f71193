import Foundation
import TestSupport
import Synchronization

/// moto's server (the AWS API emulator, installed by scripts/test) on 127.0.0.1, with its Lambda
/// answering without Docker and its Step Functions executing state machines.
///
/// With `verifySignatures`, every request after the first `setupRequests` must be signed with the
/// keys of an IAM user that exists in moto (its INITIAL_NO_AUTH_ACTION_COUNT), so a bad SigV4
/// signature is refused as AWS would refuse it.
package final class MotoServer: Sendable {
    package let process: Process
    package let url: String

    private init(process: Process, url: String) {
        self.process = process
        self.url = url
    }

    package static func start(setupRequests: Int? = nil) async throws -> MotoServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"]
        var environment = ExternalTool.pythonEnvironment
        if let setupRequests { environment["INITIAL_NO_AUTH_ACTION_COUNT"] = String(setupRequests) }
        // Its log goes to a pipe: unbuffered, or the line it is ready with never comes.
        environment["PYTHONUNBUFFERED"] = "1"
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        // Ready when it logs the address it listens on.
        // Bound to port 0, it logs the port it got.
        let seen = Mutex<(text: String, continuation: CheckedContinuation<Int, any Error>?)>(("", nil))
        let port = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
            seen.withLock { $0.continuation = continuation }
            pipe.fileHandleForReading.readabilityHandler = { handle in
                let data = handle.availableData
                seen.withLock { state in
                    if data.isEmpty {
                        state.continuation?.resume(throwing: MotoError(message: "moto server exited before it was ready:\n\(state.text)"))
                        state.continuation = nil
                        handle.readabilityHandler = nil
                        return
                    }
                    state.text += String(decoding: data, as: UTF8.self)
                    if let port = ListeningPort.from(state.text, after: "Running on http://127.0.0.1:") {
                        state.continuation?.resume(returning: port)
                        state.continuation = nil
                    }
                    // Keep only the tail: moto logs every request.
                    if state.text.count > 8192 { state.text = String(state.text.suffix(4096)) }
                }
            }
            do { try process.run() } catch {
                seen.withLock { $0.continuation = nil }
                continuation.resume(throwing: error)
            }
        }
        let server = MotoServer(process: process, url: "http://127.0.0.1:\(port)")
        let config = try await ExternalTool.run([
            "python3", "-c",
            "import urllib.request, json; urllib.request.urlopen(urllib.request.Request('\(server.url)/moto-api/config', data=json.dumps({'lambda': {'use_docker': False}, 'stepfunctions': {'execute_state_machine': True}}).encode(), method='POST'))",
        ])
        guard config.status == 0 else {
            server.stop()
            throw MotoError(message: "cannot configure moto: \(config.output)")
        }
        return server
    }

    /// Runs Python with boto3 pointed at this server (`client(name)` makes a client).
    package func python(_ script: String) async throws -> String {
        let prelude = """
            import boto3, json, io, zipfile
            def client(name):
                return boto3.client(name, region_name="us-east-1", endpoint_url="\(url)", aws_access_key_id="setup", aws_secret_access_key="setup")

            """
        let run = try await ExternalTool.run(["python3", "-c", prelude + script])
        guard run.status == 0 else { throw MotoError(message: "setup script failed:\n\(run.output)") }
        return run.output
    }

    package func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    package struct MotoError: Error, CustomStringConvertible {
        package var message: String
        package var description: String { message }
    }
}
