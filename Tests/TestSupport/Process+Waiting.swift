import Foundation
import Orchestration

// Waiting for a process or reading a pipe blocks the thread that does it. On a thread of Swift's
// cooperative pool (as many as cores: two in CI) that stalls every task of the test process,
// servers and database clients included, and two such waits at once freeze it for good when what
// they wait for needs the pool. So these wait on a thread of their own.

extension FileHandle {
    /// The next line (without its newline; what there is at the end of the stream), read on a
    /// thread of its own: how a test server says the port it got ("listening 40665").
    package func nextLine() async -> String {
        await OwnThread.run {
            var bytes: [UInt8] = []
            while let byte = try? self.read(upToCount: 1)?.first, byte != 10 { bytes.append(byte) }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

extension Process {
    /// Waits until the process has exited.
    package func exited() async {
        await OwnThread.run { self.waitUntilExit() }
    }

    /// Starts the process with its standard output on a pipe and waits until it has exited;
    /// everything it wrote there.
    package func runForOutput() async throws -> Data {
        let out = Pipe()
        standardOutput = out
        try run()
        return await OwnThread.run {
            // Read to the end before waiting, so a full pipe cannot block the child.
            let data = out.fileHandleForReading.readDataToEndOfFile()
            self.waitUntilExit()
            return data
        }
    }
}
