import Orchestration

struct LogicAppsExporter {
    let model: ExportModel

    func export() -> ExporterOutput {
        ExporterOutput(
            result: ExportResult(target: .aws, document: .null, text: "", fileExtension: "", warnings: [], layout: nil),
            problems: [ExportProblem(message: "not built yet")])
    }
}
