import Foundation
import TestSupport
import Testing

/// The folders of the Orchestration target depend on each other one way only
/// (docs/architecture.md): a folder that uses a type declared in another may not be used back,
/// directly or through others.
@Suite("Architecture")
struct FolderLayeringTests {
    static let sources = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Orchestration")

    /// Folder → the folders whose types it names.
    static func folderGraph() throws -> [String: Set<String>] {
        let fm = FileManager.default
        var texts: [(folder: String, text: String)] = []
        var declaredIn: [String: String] = [:]
        let declaration = try Regex(
            #"(?m)^(?:public |package |internal |fileprivate |private )?(?:final )?(?:struct|enum|class|actor|protocol|typealias)\s+(\w+)"#)
        for folder in try fm.contentsOfDirectory(atPath: sources.path).sorted() {
            let dir = sources.appendingPathComponent(folder)
            guard let files = try? fm.contentsOfDirectory(atPath: dir.path) else { continue }
            for file in files.sorted() where file.hasSuffix(".swift") {
                let text = try String(contentsOf: dir.appendingPathComponent(file), encoding: .utf8)
                // Comments may name anything.
                let code = text.split(separator: "\n", omittingEmptySubsequences: false).map { line in
                    line.range(of: "//").map { String(line[..<$0.lowerBound]) } ?? String(line)
                }.joined(separator: "\n")
                texts.append((folder, code))
                for match in text.matches(of: declaration) {
                    if let name = match.output[1].substring, declaredIn[String(name)] == nil { declaredIn[String(name)] = folder }
                }
            }
        }
        var graph: [String: Set<String>] = [:]
        for (folder, code) in texts {
            let words = Set(code.split { !($0.isLetter || $0.isNumber || $0 == "_") }.map(String.init))
            for word in words {
                if let other = declaredIn[word], other != folder { graph[folder, default: []].insert(other) }
            }
        }
        return graph
    }

    @Test("the Orchestration target's folders depend on each other without cycles")
    func noCycles() throws {
        let graph = try Self.folderGraph()
        #expect(graph.count >= 8, "read only \(graph.count) folders under \(Self.sources.path)")
        for start in graph.keys.sorted() {
            var seen: Set<String> = []
            var stack = Array(graph[start] ?? [])
            while let next = stack.popLast() {
                guard seen.insert(next).inserted else { continue }
                stack.append(contentsOf: graph[next] ?? [])
            }
            #expect(!seen.contains(start), "\(start) depends on itself through \(seen.sorted()); the graph: \(graph.mapValues { $0.sorted() })")
        }
    }
}
