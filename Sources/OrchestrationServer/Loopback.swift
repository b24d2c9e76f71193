/// Which hosts are this machine: the loopback range, by address or by name.
package enum Loopback {
    /// Whether `host` is `localhost`, an IPv4 address in 127.0.0.0/8 or `::1` — parsed, so a
    /// name like `127.example.com` is not taken for one.
    package static func isLoopbackName<S: StringProtocol>(_ host: S) -> Bool {
        // Read as bytes, without allocating: this runs on every request.
        let bytes = host.utf8
        func lower(_ b: UInt8) -> UInt8 { (65...90).contains(b) ? b + 32 : b }
        for name in ["localhost", "localhost.", "::1", "0:0:0:0:0:0:0:1"] where bytes.count == name.utf8.count {
            if zip(bytes, name.utf8).allSatisfy({ lower($0) == $1 }) { return true }
        }
        // Four decimal octets of 0–255, the first 127.
        var octets = 0, value = 0, digits = 0, first = -1
        for b in bytes {
            if b == UInt8(ascii: ".") {
                guard digits > 0, octets < 3 else { return false }
                if octets == 0 { first = value }
                octets += 1
                value = 0
                digits = 0
            } else if (48...57).contains(b) {
                digits += 1
                value = value * 10 + Int(b - 48)
                guard digits <= 3, value <= 255 else { return false }
            } else {
                return false
            }
        }
        return octets == 3 && digits > 0 && first == 127
    }
}
