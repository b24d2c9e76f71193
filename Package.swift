// swift-tools-version: 6.1
import PackageDescription

let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "novacron",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Orchestration", targets: ["Orchestration"]),
        .library(name: "OrchestrationTesting", targets: ["OrchestrationTesting"]),
        .executable(name: "novacron", targets: ["novacron"]),
        .executable(name: "novacron-bench", targets: ["NovaCronBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "Orchestration",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: upcoming
        ),
        .target(
            name: "OrchestrationTesting",
            dependencies: ["Orchestration"],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "novacron",
            dependencies: [
                "Orchestration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: upcoming
        ),
        .executableTarget(
            name: "NovaCronBenchmark",
            dependencies: ["Orchestration"],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "OrchestrationTests",
            dependencies: ["Orchestration", "OrchestrationTesting"],
            resources: [],
            swiftSettings: upcoming
        ),
        .testTarget(
            name: "novacronTests",
            dependencies: ["novacron", "Orchestration"],
            swiftSettings: upcoming
        ),
    ],
    swiftLanguageModes: [.v6]
)
