import Foundation
import Orchestration
import OrchestrationCloud
import TestSupport
import Testing

/// AWS's SigV4 test suite (aws-c-auth's aws-signing-test-suite/v4, copied into
/// Tests/Fixtures/sigv4; see SOURCES.md there): every case, signed in the header and in the query.
@Suite("AWS Signature Version 4 against AWS's test suite")
struct SigV4Tests {
    static let folder = Repository.path("Tests/Fixtures/sigv4/aws-signing-test-suite/v4")

    struct Case {
        var name: String
        var request: SigV4Request
        var signer: SigV4
        var credentials: AWSCredentials
        var date: Date
        var expires: Int
        func expected(_ file: String) throws -> String {
            try String(contentsOfFile: "\(SigV4Tests.folder)/\(name)/\(file)", encoding: .utf8)
        }
    }

    /// A raw HTTP request: request line, headers (a line starting with whitespace continues the
    /// previous value), a blank line, the body.
    static func parse(_ text: String) -> SigV4Request {
        var lines = text.components(separatedBy: "\n")
        let first = lines.removeFirst()
        let method = String(first.prefix(while: { $0 != " " }))
        var target = String(first.dropFirst(method.count + 1))
        if let end = target.range(of: " HTTP/", options: .backwards) { target = String(target[..<end.lowerBound]) }
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var headers: [(name: String, value: String)] = []
        var bodyLines: [String]?
        for line in lines {
            if var body = bodyLines {
                body.append(line)
                bodyLines = body
                continue
            }
            if line.isEmpty {
                bodyLines = []
                continue
            }
            if line.first == " " || line.first == "\t", !headers.isEmpty {
                headers[headers.count - 1].value += " " + line.trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
        }
        return SigV4Request(method: method, path: path, query: query, headers: headers, body: Array((bodyLines ?? []).joined(separator: "\n").utf8))
    }

    static func cases() throws -> [Case] {
        try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map { name in
            let context = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(name)/context.json"))) as? [String: Any])
            let credentials = try #require(context["credentials"] as? [String: Any])
            let signer = SigV4(
                service: context["service"] as! String, region: context["region"] as! String,
                normalizePath: context["normalize"] as? Bool ?? true, signBody: context["sign_body"] as? Bool ?? false,
                omitSessionTokenFromSignature: context["omit_session_token"] as? Bool ?? false)
            let date = try #require(ISO8601DateFormatter().date(from: context["timestamp"] as! String))
            let request = parse(try String(contentsOfFile: "\(folder)/\(name)/request.txt", encoding: .utf8))
            return Case(
                name: name, request: request, signer: signer,
                credentials: AWSCredentials(
                    accessKeyID: credentials["access_key_id"] as! String, secretAccessKey: credentials["secret_access_key"] as! String,
                    sessionToken: credentials["token"] as? String),
                date: date, expires: context["expiration_in_seconds"] as? Int ?? 3600)
        }
    }

    @Test("every case of the suite: canonical request, string to sign and signature, in the Authorization header")
    func header() throws {
        let all = try Self.cases()
        #expect(all.count == 38)
        for c in all {
            let signed = c.signer.sign(c.request, credentials: c.credentials, date: c.date)
            #expect(signed.canonicalRequest == (try c.expected("header-canonical-request.txt")), "\(c.name)")
            #expect(signed.stringToSign == (try c.expected("header-string-to-sign.txt")), "\(c.name)")
            #expect(signed.signature == (try c.expected("header-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines), "\(c.name)")
            let authorization = signed.request.headers.first { $0.name == "Authorization" }?.value
            #expect((try c.expected("header-signed-request.txt")).contains("Authorization:\(authorization ?? "-")"), "\(c.name)")
        }
    }

    @Test("every case of the suite, presigned in the query string")
    func query() throws {
        for c in try Self.cases() {
            let signed = c.signer.presign(c.request, credentials: c.credentials, date: c.date, expires: c.expires)
            #expect(signed.canonicalRequest == (try c.expected("query-canonical-request.txt")), "\(c.name)")
            #expect(signed.stringToSign == (try c.expected("query-string-to-sign.txt")), "\(c.name)")
            #expect(signed.signature == (try c.expected("query-signature.txt")).trimmingCharacters(in: .whitespacesAndNewlines), "\(c.name)")
        }
    }
}

@Suite("AWS credentials and region from the standard variables")
struct AWSEnvironmentTests {
    @Test("keys from the variables win; else the profile in the credentials file; clear errors for what is missing")
    func resolve() throws {
        let direct = try AWSEnvironment.resolve(
            [
                "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s3cr3t", "AWS_SESSION_TOKEN": "tok",
                "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
            ], home: "/nonexistent")
        #expect(direct.credentials == AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s3cr3t", sessionToken: "tok"))
        #expect(direct.region == "eu-west-1")
        #expect(direct.endpointURL == "http://127.0.0.1:5000")

        let home = FileManager.default.temporaryDirectory.appendingPathComponent("novacron-aws-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home + "/.aws", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try """
        # keys
        [default]
        aws_access_key_id = AKIDDEFAULT
        aws_secret_access_key = secretdefault

        [ci]
        aws_access_key_id=AKIDCI
        aws_secret_access_key=secretci
        aws_session_token = tokci
        """.write(toFile: home + "/.aws/credentials", atomically: true, encoding: .utf8)
        #expect(try AWSEnvironment.resolve(["AWS_DEFAULT_REGION": "us-east-1"], home: home).credentials.accessKeyID == "AKIDDEFAULT")
        let ci = try AWSEnvironment.resolve(["AWS_REGION": "us-east-1", "AWS_PROFILE": "ci"], home: home)
        #expect(ci.credentials == AWSCredentials(accessKeyID: "AKIDCI", secretAccessKey: "secretci", sessionToken: "tokci"))

        func message(_ environment: [String: String]) -> String {
            do {
                _ = try AWSEnvironment.resolve(environment, home: home)
                return ""
            } catch { return error.description }
        }
        #expect(message([:]) == "no AWS region: set AWS_REGION (e.g. eu-west-1)")
        #expect(message(["AWS_REGION": "europe"]) == "'europe' is not an AWS region name like eu-west-1")
        #expect(
            message(["AWS_REGION": "eu-east-1"])
                == "unknown AWS region 'eu-east-1'; regions like it: eu-central-1, eu-central-2, eu-north-1, eu-south-1, eu-south-2, eu-west-1, eu-west-2, eu-west-3 (set AWS_ENDPOINT_URL to use an endpoint of your own)"
        )
        #expect(
            try AWSEnvironment.resolve(
                ["AWS_REGION": "eu-east-1", "AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ACCESS_KEY_ID": "A", "AWS_SECRET_ACCESS_KEY": "B"],
                home: home
            ).region == "eu-east-1")
        #expect(message(["AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "A"]) == "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
        #expect(
            message(["AWS_REGION": "us-east-1", "AWS_PROFILE": "prod"]).contains(
                "has no aws_access_key_id and aws_secret_access_key for profile 'prod'"))
        #expect(
            message(["AWS_REGION": "us-east-1", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/c"]).hasPrefix(
                "no AWS credentials: set AWS_ACCESS_KEY_ID"))
    }
}
