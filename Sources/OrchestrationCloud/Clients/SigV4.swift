import Crypto
import Foundation
import Orchestration

/// AWS credentials: from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`.
package struct AWSCredentials: Sendable, Hashable {
    package var accessKeyID: String
    package var secretAccessKey: String
    package var sessionToken: String?

    package init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }
}

/// An HTTP request as SigV4 sees it: the path and query as sent (not yet percent-encoded for the
/// canonical form), headers in order (a name may repeat), and the body.
package struct SigV4Request: Sendable, Hashable {
    package var method: String
    package var path: String
    /// The query string without `?` (`a=1&b=2`), as it appears in the request line.
    package var query: String
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]

    package init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
    }

    package static func == (a: SigV4Request, b: SigV4Request) -> Bool {
        a.method == b.method && a.path == b.path && a.query == b.query && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(method)
        hasher.combine(path)
        hasher.combine(query)
    }
}

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`), in the Authorization header or as a presigned
/// URL. Checked against AWS's published test suites (Tests/…/SigV4Tests.swift).
///
/// ```swift
/// let signer = SigV4(service: "states", region: "eu-west-1")
/// let signed = signer.sign(request, credentials: credentials, date: Date())
/// ```
package struct SigV4: Sendable {
    package var service: String
    package var region: String
    /// Remove `.` and `..` segments and repeated slashes from the path before signing (every
    /// service but S3).
    package var normalizePath: Bool
    /// Add and sign `x-amz-content-sha256` (S3 and some others want it).
    package var signBody: Bool
    /// Add the session token after signing instead of signing it (a few services want that).
    package var omitSessionTokenFromSignature: Bool

    package init(service: String, region: String, normalizePath: Bool = true, signBody: Bool = false, omitSessionTokenFromSignature: Bool = false) {
        self.service = service
        self.region = region
        self.normalizePath = normalizePath
        self.signBody = signBody
        self.omitSessionTokenFromSignature = omitSessionTokenFromSignature
    }

    /// What signing produced: the parts, for checking, and the request to send.
    package struct Signed: Sendable {
        package var canonicalRequest: String
        package var stringToSign: String
        package var signature: String
        package var request: SigV4Request
    }

    static let algorithm = "AWS4-HMAC-SHA256"

    /// `20150830T123600Z` and `20150830`.
    static func stamps(_ date: Date) -> (time: String, day: String) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        let day = String(format: "%04d%02d%02d", c.year!, c.month!, c.day!)
        return (day + String(format: "T%02d%02d%02dZ", c.hour!, c.minute!, c.second!), day)
    }

    /// Signs with the `Authorization` header: adds `X-Amz-Date` (and the session token, and the
    /// body hash when `signBody`).
    package func sign(_ request: SigV4Request, credentials: AWSCredentials, date: Date) -> Signed {
        let (time, day) = Self.stamps(date)
        var request = request
        request.headers.append(("X-Amz-Date", time))
        let payload = Hex.encode(SHA256.hash(data: request.body))
        if signBody { request.headers.append(("x-amz-content-sha256", payload)) }
        if let token = credentials.sessionToken, !omitSessionTokenFromSignature { request.headers.append(("X-Amz-Security-Token", token)) }
        let (canonical, signedHeaders) = canonicalRequest(request, query: Self.canonicalQuery(request.query), payloadHash: payload)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = [Self.algorithm, time, scope, Hex.encode(SHA256.hash(data: Array(canonical.utf8)))].joined(separator: "\n")
        let signature = Hex.encode(signingKey(credentials.secretAccessKey, day: day).sign(stringToSign))
        request.headers.append(
            (
                "Authorization",
                "\(Self.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        if let token = credentials.sessionToken, omitSessionTokenFromSignature { request.headers.append(("X-Amz-Security-Token", token)) }
        return Signed(canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, request: request)
    }

    /// Signs in the query string (a presigned URL valid for `expires`).
    package func presign(_ request: SigV4Request, credentials: AWSCredentials, date: Date, expires: Int) -> Signed {
        let (time, day) = Self.stamps(date)
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let signedHeaders = Self.headerLines(request.headers).map(\.name).joined(separator: ";")
        var parameters: [(String, String)] = [
            ("X-Amz-Algorithm", Self.algorithm), ("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"),
            ("X-Amz-Date", time), ("X-Amz-Expires", String(expires)), ("X-Amz-SignedHeaders", signedHeaders),
        ]
        if let token = credentials.sessionToken, !omitSessionTokenFromSignature { parameters.append(("X-Amz-Security-Token", token)) }
        let added = parameters.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        var request = request
        request.query = request.query.isEmpty ? added : request.query + "&" + added
        let payload = Hex.encode(SHA256.hash(data: request.body))
        let (canonical, _) = canonicalRequest(request, query: Self.canonicalQuery(request.query), payloadHash: payload)
        let stringToSign = [Self.algorithm, time, scope, Hex.encode(SHA256.hash(data: Array(canonical.utf8)))].joined(separator: "\n")
        let signature = Hex.encode(signingKey(credentials.secretAccessKey, day: day).sign(stringToSign))
        request.query += "&X-Amz-Signature=\(signature)"
        if let token = credentials.sessionToken, omitSessionTokenFromSignature { request.query += "&X-Amz-Security-Token=\(Self.encode(token))" }
        return Signed(canonicalRequest: canonical, stringToSign: stringToSign, signature: signature, request: request)
    }

    struct Key {
        var bytes: SymmetricKey
        func sign(_ text: String) -> [UInt8] { Array(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: bytes)) }
    }

    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request").
    func signingKey(_ secret: String, day: String) -> Key {
        var key = SymmetricKey(data: Array("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Array(HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key)))
        }
        return Key(bytes: key)
    }

    /// The canonical request and the signed header names.
    func canonicalRequest(_ request: SigV4Request, query: String, payloadHash: String) -> (String, String) {
        let lines = Self.headerLines(request.headers)
        let signed = lines.map(\.name).joined(separator: ";")
        let headers = lines.map { "\($0.name):\($0.value)\n" }.joined()
        let path = normalizePath ? Self.normalized(request.path) : request.path
        let uri = path.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/")
        return ([request.method, uri.isEmpty ? "/" : uri, query, headers, signed, payloadHash].joined(separator: "\n"), signed)
    }

    /// Lower-case names, sorted; values trimmed with inner runs of spaces made one; a repeated
    /// name's values joined with commas in order.
    static func headerLines(_ headers: [(name: String, value: String)]) -> [(name: String, value: String)] {
        var values: [String: [String]] = [:]
        for (name, value) in headers {
            let clean = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" }).joined(separator: " ")
            values[name.lowercased(), default: []].append(clean)
        }
        return values.keys.sorted().map { ($0, values[$0]!.joined(separator: ",")) }
    }

    /// Parameters decoded and encoded again the strict way, sorted by name, then value.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { item -> (String, String) in
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let decode = { (s: Substring) in s.removingPercentEncoding ?? String(s) }
            return (encode(decode(parts[0])), parts.count > 1 ? encode(decode(parts[1])) : "")
        }
        return pairs.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Percent-encodes everything but `A–Z a–z 0–9 - _ . ~`, UTF-8, upper-case hex.
    package static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }

    /// `.` and `..` segments resolved and repeated slashes made one (RFC 3986 §5.2.4, plus the
    /// slashes); a trailing slash is kept.
    static func normalized(_ path: String) -> String {
        var out: [Substring] = []
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        for segment in segments {
            switch segment {
            case ".": continue
            case "..": if !out.isEmpty { out.removeLast() }
            default: out.append(segment)
            }
        }
        var result = "/" + out.joined(separator: "/")
        let last = segments.last
        if path.hasSuffix("/") || last == "." || last == "..", result != "/" { result += "/" }
        return result
    }
}

/// Where AWS requests go and with which keys, from the standard variables: `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, else the `AWS_PROFILE` (default `default`)
/// section of `~/.aws/credentials` (`AWS_SHARED_CREDENTIALS_FILE`); `AWS_REGION` (or
/// `AWS_DEFAULT_REGION`); `AWS_ENDPOINT_URL`.
package struct AWSEnvironment: Sendable, Hashable {
    package var credentials: AWSCredentials
    package var region: String
    package var endpointURL: String?

    package init(credentials: AWSCredentials, region: String, endpointURL: String? = nil) {
        self.credentials = credentials
        self.region = region
        self.endpointURL = endpointURL
    }

    package struct Missing: Error, Sendable, CustomStringConvertible {
        package var description: String
    }

    package static func resolve(_ environment: [String: String] = ProcessInfo.processInfo.environment, home: String = NSHomeDirectory())
        throws(Missing) -> AWSEnvironment
    {
        let value = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        guard let region = value("AWS_REGION") ?? value("AWS_DEFAULT_REGION") else {
            throw Missing(description: "no AWS region: set AWS_REGION (e.g. eu-west-1)")
        }
        guard region.range(of: #"^[a-z]{2,4}(-gov|-iso[a-z]?)?-[a-z]+-\d$"#, options: .regularExpression) != nil else {
            throw Missing(description: "'\(region)' is not an AWS region name like eu-west-1")
        }
        // An endpoint of one's own (LocalStack, moto, a new region) takes any well-formed name.
        guard Self.knownRegions.contains(region) || value("AWS_ENDPOINT_URL") != nil else {
            let near = Self.knownRegions.filter { $0.hasPrefix(String(region.prefix(3))) }.sorted()
            throw Missing(
                description:
                    "unknown AWS region '\(region)'\(near.isEmpty ? "" : "; regions like it: " + near.joined(separator: ", ")) (set AWS_ENDPOINT_URL to use an endpoint of your own)"
            )
        }
        if let key = value("AWS_ACCESS_KEY_ID") {
            guard let secret = value("AWS_SECRET_ACCESS_KEY") else {
                throw Missing(description: "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not")
            }
            return AWSEnvironment(
                credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: value("AWS_SESSION_TOKEN")), region: region,
                endpointURL: value("AWS_ENDPOINT_URL"))
        }
        let profile = value("AWS_PROFILE") ?? "default"
        let file = value("AWS_SHARED_CREDENTIALS_FILE") ?? home + "/.aws/credentials"
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
            throw Missing(description: "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or put profile '\(profile)' in \(file)")
        }
        let section = ini(text)[profile] ?? [:]
        guard let key = section["aws_access_key_id"], let secret = section["aws_secret_access_key"] else {
            throw Missing(description: "\(file) has no aws_access_key_id and aws_secret_access_key for profile '\(profile)'")
        }
        return AWSEnvironment(
            credentials: AWSCredentials(accessKeyID: key, secretAccessKey: secret, sessionToken: section["aws_session_token"]), region: region,
            endpointURL: value("AWS_ENDPOINT_URL"))
    }

    /// The regions AWS has opened (2026), in every partition.
    package static let knownRegions: Set<String> = [
        "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2", "ap-south-1", "ap-south-2",
        "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7",
        "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2",
        "eu-west-1", "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1", "me-south-1",
        "me-central-1", "mx-central-1", "sa-east-1", "us-gov-east-1", "us-gov-west-1", "cn-north-1", "cn-northwest-1",
        "eusc-de-east-1",
    ]

    /// `[section]` and `key = value` lines; `#` and `;` start comments.
    static func ini(_ text: String) -> [String: [String: String]] {
        var out: [String: [String: String]] = [:]
        var current: String?
        for raw in text.split(whereSeparator: \.isNewline) {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            if line.hasPrefix("["), line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard let current, let eq = line.firstIndex(of: "=") else { continue }
            out[current, default: [:]][line[..<eq].trimmingCharacters(in: .whitespaces).lowercased()] = line[line.index(after: eq)...]
                .trimmingCharacters(in: .whitespaces)
        }
        return out
    }
}
