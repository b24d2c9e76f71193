import Crypto
import CryptoExtras
import Foundation
import Orchestration

/// Azure bearer tokens from a service principal's client secret: `AZURE_TENANT_ID`,
/// `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`, at `AZURE_AUTHORITY_HOST` (default
/// `https://login.microsoftonline.com`), as azure-identity's EnvironmentCredential reads them.
package struct AzureCredentials: Sendable {
    package var tenant: String
    package var clientID: String
    package var clientSecret: String
    package var authority: String

    package static func resolve(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(CloudError) -> AzureCredentials {
        let value = { (name: String) -> String? in environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let missing = ["AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"].filter { value($0) == nil }
        guard missing.isEmpty else {
            throw CloudError(
                service: "Azure", message: "no Azure credentials: set \(missing.joined(separator: ", ")) (a service principal with a client secret)")
        }
        var authority = value("AZURE_AUTHORITY_HOST") ?? "https://login.microsoftonline.com"
        if authority.hasSuffix("/") { authority.removeLast() }
        return AzureCredentials(
            tenant: value("AZURE_TENANT_ID")!, clientID: value("AZURE_CLIENT_ID")!, clientSecret: value("AZURE_CLIENT_SECRET")!, authority: authority)
    }

    /// A token for `scope` (`https://management.azure.com/.default`).
    package func token(scope: String) async throws -> String {
        let form = [("grant_type", "client_credentials"), ("client_id", clientID), ("client_secret", clientSecret), ("scope", scope)]
        let response = try await CloudHTTP.send(
            "POST", "\(authority)/\(tenant)/oauth2/v2.0/token",
            headers: [("content-type", "application/x-www-form-urlencoded")], body: Array(FormEncoding.encode(form).utf8),
            service: "Microsoft Entra ID")
        guard response.status == 200, let token = response.json?["access_token"]?.stringValue else {
            let json = response.json
            throw CloudError(
                service: "Microsoft Entra ID", code: json?["error"]?.stringValue,
                message: json?["error_description"]?.stringValue ?? "no token (HTTP \(response.status))", status: response.status)
        }
        return token
    }
}

/// Google tokens from a service account key file (`GOOGLE_APPLICATION_CREDENTIALS`): a JWT
/// signed with the key (RS256) exchanged at the file's `token_uri` for an access token (with
/// `scope`) or an ID token (with `target_audience`, for Cloud Run and Cloud Functions).
package struct GoogleCredentials: Sendable {
    package var clientEmail: String
    package var privateKey: String
    package var tokenURI: String
    package var projectID: String?
    package var now: @Sendable () -> Date

    package static func resolve(
        _ environment: [String: String] = ProcessInfo.processInfo.environment, now: @escaping @Sendable () -> Date = { Date() }
    ) throws(CloudError) -> GoogleCredentials {
        guard let path = environment["GOOGLE_APPLICATION_CREDENTIALS"], !path.isEmpty else {
            throw CloudError(
                service: "Google Cloud", message: "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account key file")
        }
        guard let data = FileManager.default.contents(atPath: path), let json = try? JSONDecoder().decode(JSONValue.self, from: data) else {
            throw CloudError(service: "Google Cloud", message: "GOOGLE_APPLICATION_CREDENTIALS: cannot read a JSON key file at \(path)")
        }
        guard json["type"]?.stringValue == "service_account" else {
            throw CloudError(
                service: "Google Cloud",
                message: "\(path): only service account keys (type service_account) are supported, not \(json["type"]?.text ?? "this file")")
        }
        guard let email = json["client_email"]?.stringValue, let key = json["private_key"]?.stringValue else {
            throw CloudError(service: "Google Cloud", message: "\(path): no client_email or private_key")
        }
        return GoogleCredentials(
            clientEmail: email, privateKey: key, tokenURI: json["token_uri"]?.stringValue ?? "https://oauth2.googleapis.com/token",
            projectID: json["project_id"]?.stringValue, now: now)
    }

    /// The signed assertion: `{"alg":"RS256","typ":"JWT"}` and the claims, base64url, RS256.
    package func assertion(_ extra: [String: JSONValue]) throws -> String {
        let issued = Int(now().timeIntervalSince1970)
        var claims: [String: JSONValue] = [
            "iss": .string(clientEmail), "sub": .string(clientEmail), "aud": .string(tokenURI),
            "iat": .number(Double(issued)), "exp": .number(Double(issued + 3600)),
        ]
        claims.merge(extra) { _, b in b }
        let input =
            Base64URL.encode(Array(#"{"alg":"RS256","typ":"JWT"}"#.utf8)) + "." + Base64URL.encode(Array(JSONValue.object(claims).jsonText.utf8))
        let key: _RSA.Signing.PrivateKey
        do { key = try _RSA.Signing.PrivateKey(pemRepresentation: privateKey) } catch {
            throw CloudError(service: "Google Cloud", message: "the service account's private_key is not an RSA key in PEM form")
        }
        let signature = try key.signature(for: Array(input.utf8), padding: .insecurePKCS1v1_5)
        return input + "." + Base64URL.encode(Array(signature.rawRepresentation))
    }

    /// An access token for `scope` (`https://www.googleapis.com/auth/cloud-platform`).
    package func accessToken(scope: String) async throws -> String {
        try await exchange(["scope": .string(scope)], field: "access_token")
    }

    /// An ID token whose audience is `audience` (the URL of a Cloud Run service or function).
    package func idToken(audience: String) async throws -> String {
        try await exchange(["target_audience": .string(audience)], field: "id_token")
    }

    private func exchange(_ claims: [String: JSONValue], field: String) async throws -> String {
        let jwt = try assertion(claims)
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", jwt)]
        let response = try await CloudHTTP.send(
            "POST", tokenURI, headers: [("content-type", "application/x-www-form-urlencoded")], body: Array(FormEncoding.encode(form).utf8),
            service: "Google OAuth")
        guard response.status == 200, let token = response.json?[field]?.stringValue else {
            let json = response.json
            throw CloudError(
                service: "Google OAuth", code: json?["error"]?.stringValue,
                message: json?["error_description"]?.stringValue ?? "no \(field) (HTTP \(response.status))", status: response.status)
        }
        return token
    }
}

enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

enum FormEncoding {
    static func encode(_ pairs: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return pairs.map { k, v in
            (k.addingPercentEncoding(withAllowedCharacters: allowed) ?? k) + "=" + (v.addingPercentEncoding(withAllowedCharacters: allowed) ?? v)
        }.joined(separator: "&")
    }
}

extension JSONValue {
    var stringValue: String? { if case .string(let s) = self { s } else { nil } }
}
