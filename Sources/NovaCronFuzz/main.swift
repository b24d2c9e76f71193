import Foundation

// Replays inputs through a fuzz target's checks: `novacron-fuzz TARGET FILE…`. The tests run every
// seed and regression input in Tests/Fixtures/fuzz this way (FuzzCorpusTests).
//
// `LLVMFuzzerTestOneInput` is libFuzzer's entry point, for a libFuzzer build of these targets. That
// build is not wired up yet (docs/reliability.md#fuzzing says why): `swift build --sanitize=fuzzer`
// also links the package's build-tool executables against libFuzzer's `main`.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    FuzzTarget.selected.run(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
    FileHandle.standardError.write(
        Data("usage: novacron-fuzz TARGET FILE…  (TARGET: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n".utf8))
    exit(2)
}
for file in arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("novacron-fuzz: cannot read \(file)\n".utf8))
        exit(2)
    }
    target.run(Array(data))
}
