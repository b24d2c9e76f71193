/// The API's OpenAPI 3.1 document, `openapi.yaml` beside this file, as written (embedded at build
/// time by the EmbedFiles plugin). The OpenAPI generator makes its schemas this target's
/// `Components.Schemas`: the request and response bodies the server sends and reads.
package enum APIDocument {
    package static let yaml: String = EmbeddedFiles.files["openapi.yaml"] ?? ""
}
