import Foundation

// embed-files OUTPUT NAME=PATH…: writes a Swift file declaring
// `enum EmbeddedFiles { static let files: [String: String] }` with each file's text under NAME,
// so files the build embeds (the web UI, the OpenAPI document) are inside the one binary, and the
// files in the repository are the only source of them. Run by the EmbedFiles build plugin. An
// `@main` type rather than top-level code: fuzzing builds compile executables as libraries.

@main
enum EmbedFiles {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let output = arguments.first else {
            FileHandle.standardError.write(Data("usage: embed-files OUTPUT NAME=PATH…\n".utf8))
            exit(2)
        }
        var lines = [
            "// Generated at build time by the EmbedFiles plugin. Do not edit.", "", "enum EmbeddedFiles {",
            "    static let files: [String: String] = [",
        ]
        for pair in arguments.dropFirst().sorted() {
            guard let equals = pair.firstIndex(of: "=") else {
                FileHandle.standardError.write(Data("embed-files: '\(pair)' is not NAME=PATH\n".utf8))
                exit(2)
            }
            let name = String(pair[..<equals])
            let path = String(pair[pair.index(after: equals)...])
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                FileHandle.standardError.write(Data("embed-files: cannot read \(path) as UTF-8\n".utf8))
                exit(1)
            }
            // A raw string delimiter longer than any run of # in the text.
            var longest = 0
            var run = 0
            for character in text {
                run = character == "#" ? run + 1 : 0
                longest = max(longest, run)
            }
            let hashes = String(repeating: "#", count: longest + 1)
            lines.append("        \"\(name)\": \(hashes)\"\"\"")
            lines.append(contentsOf: text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
            lines.append("\"\"\"\(hashes),")
        }
        lines += ["    ]", "}", ""]
        do {
            try lines.joined(separator: "\n").write(toFile: output, atomically: true, encoding: .utf8)
        } catch {
            FileHandle.standardError.write(Data("embed-files: cannot write \(output): \(error)\n".utf8))
            exit(1)
        }
    }
}
