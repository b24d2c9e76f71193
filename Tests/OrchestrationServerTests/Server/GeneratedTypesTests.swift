import Foundation
import TestSupport
import Testing
import Yams

/// The API's bodies are generated from openapi.yaml's schemas, filtered by the generator's
/// configuration (so no per-operation code is generated): a schema missing from the filter would
/// have no type, and one listed but gone would fail the build far from its cause.
@Suite("Generated API types")
struct GeneratedTypesTests {
    @Test("the generator's schema filter names every schema of the document, and nothing else")
    func filterNamesEverySchema() throws {
        let document = try Yams.load(yaml: try String(contentsOfFile: Repository.path("Sources/OrchestrationAPI/openapi.yaml"), encoding: .utf8))
        let schemas = try #require(((document as? [String: Any])?["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let config = try Yams.load(
            yaml: try String(contentsOfFile: Repository.path("Sources/OrchestrationAPI/openapi-generator-config.yaml"), encoding: .utf8))
        let listed = try #require(((config as? [String: Any])?["filter"] as? [String: Any])?["schemas"] as? [String])
        #expect(Set(listed) == Set(schemas.keys), "add new schemas to openapi-generator-config.yaml's filter, remove gone ones")
        #expect(listed.count == Set(listed).count, "a schema is listed twice")
    }
}
