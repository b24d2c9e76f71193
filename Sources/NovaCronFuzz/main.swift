import Foundation

// `novacron-fuzz TARGET FILE…` replays inputs through a fuzz target's checks; the tests run every
// seed and regression input in Tests/Fixtures/fuzz this way (FuzzCorpusTests).
// `novacron-fuzz --libfuzzer TARGET [libFuzzer options] CORPUS…` fuzzes it, in the libFuzzer
// build that scripts/fuzz makes.

var arguments = Array(CommandLine.arguments.dropFirst())
let fuzzing = arguments.first == "--libfuzzer"
if fuzzing { arguments.removeFirst() }
guard let name = arguments.first, let target = FuzzTarget(rawValue: name) else {
    FileHandle.standardError.write(
        Data(
            "usage: novacron-fuzz [--libfuzzer] TARGET FILE…  (TARGET: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", ")))\n".utf8))
    exit(2)
}
if fuzzing { exit(LibFuzzer.run(target, options: Array(arguments.dropFirst()))) }
for file in arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: file) else {
        FileHandle.standardError.write(Data("novacron-fuzz: cannot read \(file)\n".utf8))
        exit(2)
    }
    target.run(Array(data))
}
