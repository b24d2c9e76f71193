import Foundation
import Orchestration
import TestSupport
import Testing

@Suite("Shell splicing")
struct ShellSpliceTests {
    @Test("references become variables quoted for where they stand")
    func rewriting() throws {
        let s = try ShellSplice("echo 'tag: ${tag}' \"in ${dir}\" ${file} ${tag}")
        #expect(s.script == #"echo 'tag: '"${NOVACRON_REF_0}"'' "in ${NOVACRON_REF_1}" "${NOVACRON_REF_2}" "${NOVACRON_REF_0}""#)
        #expect(s.bindings.map(\.variable) == ["NOVACRON_REF_0", "NOVACRON_REF_1", "NOVACRON_REF_2"])
        #expect(s.bindings.map(\.reference.description) == ["tag", "dir", "file"])
        let nested = try ShellSplice(#"x=$(echo "${a}" | tr a b) `echo ${b}` \'${c}"#)
        #expect(nested.script == #"x=$(echo "${NOVACRON_REF_0}" | tr a b) `echo "${NOVACRON_REF_1}"` \'"${NOVACRON_REF_2}""#)
    }

    /// Runs the rewritten script in a real /bin/sh with the values in the environment.
    func run(_ command: String, _ values: [String: String]) async throws -> String {
        let splice = try ShellSplice(command)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", splice.script]
        var environment = ["PATH": "/usr/bin:/bin"]
        for b in splice.bindings { environment[b.variable] = values[b.reference.description] ?? "" }
        process.environment = environment
        return String(decoding: try await process.runForOutput(), as: UTF8.self)
    }

    @Test(
        "hostile values print exactly and inject nothing, in every quoting context",
        arguments: [
            #"$(touch /tmp/novacron-pwned)"#, #"'; touch /tmp/novacron-pwned; '"#, #"" ; touch /tmp/novacron-pwned ; ""#,
            "`touch /tmp/novacron-pwned`", "a b\tc\nd  *  ?", #"\\ \" \' $HOME ${HOME}"#, "",
        ])
    func injection(value: String) async throws {
        try? FileManager.default.removeItem(atPath: "/tmp/novacron-pwned")
        #expect(try await run(#"printf '%s|' ${v}"#, ["v": value]) == value + "|")
        #expect(try await run(#"printf '%s|' "got=${v}""#, ["v": value]) == "got=" + value + "|")
        #expect(try await run(#"printf '%s|' 'got=${v}'"#, ["v": value]) == "got=" + value + "|")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/novacron-pwned"))
    }
}
