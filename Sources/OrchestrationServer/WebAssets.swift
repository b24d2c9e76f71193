/// The web UI's files, from `Web/` beside this file (embedded at build time by the EmbedFiles
/// plugin, so they are inside the one `novacron` binary and the folder is their only source).
enum WebAssets {
    /// Path under /ui/ (index.html is also /) → (content type, text).
    static let files: [String: (contentType: String, text: String)] = {
        var out: [String: (contentType: String, text: String)] = [:]
        for (name, text) in EmbeddedFiles.files where name.hasPrefix("Web/") {
            let file = String(name.dropFirst(4))
            guard let type = contentTypes[file.split(separator: ".").last.map(String.init) ?? ""] else { continue }
            out[file] = (type, text)
        }
        return out
    }()

    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
    ]
}
