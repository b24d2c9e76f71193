import Foundation
import OrchestrationAPI
import Yams

/// The OpenAPI 3.1 document of the API, served at `/api/v1/openapi.json`: written as YAML for
/// people in `openapi.yaml` beside this file (embedded at build time by the EmbedFiles plugin),
/// served as JSON. A test runs schemathesis against the live server with it.
enum OpenAPIDocument {
    /// The document as YAML, as written.
    static let yaml: String = APIDocument.yaml

    /// The document as JSON text, built once.
    static let json: String = {
        // The file is ours and parses; a failure here is a programming error caught by the tests.
        let object = try! Yams.load(yaml: yaml) as Any
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }()
}
