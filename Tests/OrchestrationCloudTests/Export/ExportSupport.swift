import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// Loading workflows and exporting them, for the exporter tests.
enum ExportSupport {
    static func graph(_ yaml: String) throws -> WorkflowGraph {
        try WorkflowLoader.load(source: yaml, file: "test.yaml").graph
    }

    static func graph(file: String) throws -> WorkflowGraph {
        try WorkflowLoader.load(contentsOf: Repository.path(file)).graph
    }

    /// Writes `text` to a new temporary file and returns its path.
    static func temporary(_ text: String, extension ext: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-export-\(UUID().uuidString).\(ext)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// The problems an export fails with, as text.
    static func problems(_ graph: WorkflowGraph, _ target: CloudTarget, options: ExportOptions = ExportOptions()) -> [String] {
        do {
            _ = try WorkflowExporter.export(graph, to: target, options: options)
            return []
        } catch {
            return error.problems.map(\.description)
        }
    }
}
