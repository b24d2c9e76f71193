import Foundation
import PackagePlugin

/// Embeds a target's `Web/` folder and `openapi.yaml` as `EmbeddedFiles.files`, generated into
/// the build directory at each build where they changed: the files in the repository are the only
/// source, nothing generated is committed, and `novacron` stays one binary.
@main
struct EmbedFiles: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = target.directoryURL
        // (name in EmbeddedFiles.files, file)
        var files: [(name: String, url: URL)] = []
        let web = root.appending(path: "Web")
        for name in (try? FileManager.default.contentsOfDirectory(atPath: web.path)) ?? [] where !name.hasPrefix(".") {
            files.append(("Web/" + name, web.appending(path: name)))
        }
        let openAPI = root.appending(path: "openapi.yaml")
        if FileManager.default.fileExists(atPath: openAPI.path) { files.append(("openapi.yaml", openAPI)) }
        files.sort { $0.name < $1.name }
        let inputs = files.map(\.url)
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedFiles.swift")
        let pairs = files.map { "\($0.name)=\($0.url.path)" }
        return [
            .buildCommand(
                displayName: "Embedding \(inputs.count) files into \(target.name)",
                executable: try context.tool(named: "embed-files").url,
                arguments: [output.path] + pairs,
                inputFiles: inputs,
                outputFiles: [output])
        ]
    }
}
