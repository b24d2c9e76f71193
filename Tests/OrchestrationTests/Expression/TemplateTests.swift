import Orchestration
import TestSupport
import Testing

@Suite("Interpolation")
struct TemplateTests {
    let values: [String: JSONValue] = ["build.image": "ghcr.io/acme/app", "replicas": 3, "flags": ["a", "b"], "dry": false]

    func render(_ text: String) throws -> JSONValue {
        try Template(text).render { values[$0.description] }
    }

    @Test("a lone reference keeps its type; mixed text splices as text")
    func typing() throws {
        #expect(try render("${replicas}") == 3)
        #expect(try render("${dry}") == false)
        #expect(try render("${flags}") == ["a", "b"])
        #expect(try render("n=${replicas}") == "n=3")
        #expect(try render("image=${build.image}:${dry}") == "image=ghcr.io/acme/app:false")
        #expect(try render("list=${flags}") == #"list=["a","b"]"#)
        #expect(try render("${unknown}") == .null)
        #expect(try render("cost: $${HOME} and $5") == "cost: ${HOME} and $5")
    }

    @Test("broken references say where")
    func errors() {
        #expect(throws: ExpressionError("'${' at column 4 is not closed with '}' (write $${ for a literal ${)", offset: 3)) {
            try Template("ab ${oops")
        }
        #expect(throws: ExpressionError("unexpected 'b' in reference '${a b}'", offset: 4)) { try Template("${a b}") }
    }
}
