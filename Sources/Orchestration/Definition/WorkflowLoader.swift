import Foundation

/// A workflow read from a file and validated, ready to plan or run.
public struct WorkflowDocument: Sendable {
    public var file: String
    public var workflow: Workflow
    public var sourceMap: SourceMap
    public var graph: WorkflowGraph
    /// Problems that do not stop the workflow from running (steps without a timeout, …).
    public var warnings: [DefinitionError]
}

/// Reads, decodes and validates workflow files, throwing every error at once.
///
/// ```swift
/// do {
///     let document = try WorkflowLoader.load(contentsOf: "Examples/data-pipeline.yaml")
///     let plan = Planner().plan(document.graph)
/// } catch {
///     for problem in error.errors { print(problem) }  // FILE:LINE:COL: error: …
/// }
/// ```
public enum WorkflowLoader {
    /// Reads the file at `path` (YAML or JSON) and validates it.
    public static func load(
        contentsOf path: String, actions: ActionCatalog = .builtIn, maximumBytes: Int = WorkflowDecoder.configuredMaximumBytes
    ) throws(DefinitionErrors) -> WorkflowDocument {
        try load(source: try read(path, maximumBytes: maximumBytes), file: path, actions: actions, maximumBytes: maximumBytes)
    }

    /// Decodes and validates `source`, naming `file` in locations.
    public static func load(
        source: String, file: String, actions: ActionCatalog = .builtIn, maximumBytes: Int = WorkflowDecoder.configuredMaximumBytes
    ) throws(DefinitionErrors) -> WorkflowDocument {
        let decoded = WorkflowDecoder(maximumBytes: maximumBytes).decode(source, file: file)
        guard let workflow = decoded.workflow else { throw DefinitionErrors(decoded.errors) }
        let validation = WorkflowValidator(actions: actions).validate(workflow, sourceMap: decoded.sourceMap)
        var errors = decoded.errors
        var seen = Set(errors.map { "\($0.location?.description ?? ""):\($0.message)" })
        for e in validation.errors where seen.insert("\(e.location?.description ?? ""):\(e.message)").inserted {
            errors.append(e)
        }
        guard errors.isEmpty, let graph = validation.graph else {
            throw DefinitionErrors(errors.sortedByLocation())
        }
        return WorkflowDocument(file: file, workflow: workflow, sourceMap: decoded.sourceMap, graph: graph, warnings: validation.warnings)
    }

    /// The text of `path`, refusing files over the size limit before reading them whole.
    static func read(_ path: String, maximumBytes limit: Int) throws(DefinitionErrors) -> String {
        let start = SourceLocation(file: path, line: 1, column: 1)
        func fail(_ code: DefinitionError.Code, _ message: String) -> DefinitionErrors {
            DefinitionErrors([DefinitionError(code, message, path: "", location: start)])
        }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                throw fail(.unreadable, isDirectory.boolValue ? "is a directory, not a workflow file" : "cannot open the file (permission denied?)")
            }
            throw fail(.unreadable, "no such file")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            throw fail(.unreadable, "cannot read the file: \(error.localizedDescription)")
        }
        if data.count > limit {
            throw fail(
                .tooLarge,
                "the file is larger than \(limit) bytes (\(WorkflowDecoder.describe(bytes: limit))), the limit for a definition; set NOVACRON_MAX_DEFINITION_BYTES to change it"
            )
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw fail(.unreadable, "the file is not UTF-8 text")
        }
        return text
    }
}
