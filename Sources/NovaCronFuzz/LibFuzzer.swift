import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Hands a target to libFuzzer's driver, in the libFuzzer build of `novacron-fuzz` (`scripts/fuzz`):
/// instrumented with `-sanitize=address -sanitize-coverage=…` and linked with libFuzzer's
/// `fuzzer_no_main` runtime, whose `LLVMFuzzerRunDriver` is looked up here at run time. A plain
/// build has no driver and says so.
enum LibFuzzer {
    typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    typealias Driver =
        @convention(c) (UnsafeMutablePointer<CInt>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>, Callback) -> CInt

    /// The target the driver's callback runs (set once, before the driver starts).
    nonisolated(unsafe) private static var target = FuzzTarget.workflow

    /// Runs libFuzzer on `target` with its own options and corpus folders (`-max_total_time=600 CORPUS`).
    static func run(_ target: FuzzTarget, options: [String]) -> CInt {
        guard let symbol = dlsym(nil, "LLVMFuzzerRunDriver") else {
            FileHandle.standardError.write(
                Data("novacron-fuzz: this build has no libFuzzer driver; scripts/fuzz TARGET [seconds] builds one and runs it\n".utf8))
            return 2
        }
        Self.target = target
        let driver = unsafeBitCast(symbol, to: Driver.self)
        var arguments: [UnsafeMutablePointer<CChar>?] = ([CommandLine.arguments[0]] + options).map { strdup($0) }
        var count = CInt(arguments.count)
        arguments.append(nil)
        return arguments.withUnsafeMutableBufferPointer { buffer in
            var argv = buffer.baseAddress
            return driver(&count, &argv) { data, size in
                LibFuzzer.target.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
                return 0
            }
        }
    }
}
