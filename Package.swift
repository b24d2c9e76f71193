// swift-tools-version: 6.1
import PackageDescription

/// Settings every target gets (applied in one loop at the end).
let upcoming: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "novacron",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Orchestration", targets: ["Orchestration"]),
        .library(name: "OrchestrationExecutors", targets: ["OrchestrationExecutors"]),
        .library(name: "OrchestrationSQLite", targets: ["OrchestrationSQLite"]),
        .library(name: "OrchestrationPostgres", targets: ["OrchestrationPostgres"]),
        .library(name: "OrchestrationServer", targets: ["OrchestrationServer"]),
        .library(name: "OrchestrationTesting", targets: ["OrchestrationTesting"]),
        .library(name: "OrchestrationCloud", targets: ["OrchestrationCloud"]),
        .executable(name: "novacron", targets: ["novacron"]),
        .executable(name: "novacron-bench", targets: ["NovaCronBenchmark"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        // NIOHTTPTypes: the request parts the server's request-head deadline watches (Hummingbird's own dependency).
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-configuration", from: "1.4.0", traits: ["YAML"]),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-openapi-generator", from: "1.14.3"),
        .package(url: "https://github.com/apple/swift-openapi-runtime", from: "1.13.4"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC trait would build grpc-swift and its transport for a
        // protocol collectors also take over HTTP.
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0", traits: ["OTLPHTTP"]),
    ],
    targets: [
        .target(
            name: "Orchestration",
            dependencies: [
                .product(name: "Yams", package: "Yams"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .target(
            name: "OrchestrationExecutors",
            dependencies: [
                "Orchestration",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "OrchestrationSQLite",
            dependencies: [
                "Orchestration",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .target(
            name: "OrchestrationPostgres",
            dependencies: [
                "Orchestration",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "OrchestrationServer",
            dependencies: [
                "Orchestration", "OrchestrationExecutors", "OrchestrationSQLite", "OrchestrationPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Configuration", package: "swift-configuration"),
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                "OrchestrationAPI",
            ],
            exclude: ["Web"],
            plugins: ["EmbedFiles"]
        ),
        // The API's OpenAPI document and the types generated from its schemas (Components.Schemas):
        // the server's request and response bodies, so the document and the code cannot drift.
        .target(
            name: "OrchestrationAPI",
            dependencies: [.product(name: "OpenAPIRuntime", package: "swift-openapi-runtime")],
            plugins: ["EmbedFiles", .plugin(name: "OpenAPIGenerator", package: "swift-openapi-generator")]
        ),
        // Embeds the web UI and the OpenAPI document into OrchestrationServer at build time.
        .executableTarget(name: "embed-files", path: "Tools/EmbedFiles"),
        // Fuzz targets for the parsers of outside input, and their replayer (`novacron-fuzz TARGET FILE…`).
        .executableTarget(
            name: "novacron-fuzz",
            dependencies: [
                "Orchestration", "OrchestrationServer",
                // The API target sends requests to the server's responder, without sockets.
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Sources/NovaCronFuzz"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"]),
        .target(
            name: "OrchestrationCloud",
            dependencies: [
                "Orchestration",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .target(
            name: "OrchestrationTesting",
            dependencies: ["Orchestration"]
        ),
        .executableTarget(
            name: "novacron",
            dependencies: [
                "Orchestration",
                "OrchestrationAPI",
                "OrchestrationExecutors",
                "OrchestrationSQLite",
                "OrchestrationPostgres",
                "OrchestrationServer",
                "OrchestrationCloud",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .executableTarget(
            name: "NovaCronBenchmark",
            dependencies: [
                "Orchestration", "OrchestrationExecutors", "OrchestrationSQLite", "OrchestrationServer", "OrchestrationTesting", "OrchestrationCloud",
                "OrchestrationPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
                // SQLite's own commit rate, beside the store's (`durable`).
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // What several test targets share: the repository's paths, external tools, a loopback HTTP
        // server, the store kinds the conformance suites run over, state-machine helpers.
        .target(
            name: "TestSupport",
            dependencies: [
                "Orchestration", "OrchestrationSQLite", "OrchestrationPostgres", "OrchestrationTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "OrchestrationTests",
            dependencies: ["Orchestration", "OrchestrationTesting", "TestSupport"]
        ),
        .testTarget(
            name: "OrchestrationExecutorsTests",
            dependencies: ["Orchestration", "OrchestrationExecutors", "OrchestrationTesting", "TestSupport"]
        ),
        .testTarget(
            name: "OrchestrationSQLiteTests",
            dependencies: [
                "Orchestration", "OrchestrationExecutors", "OrchestrationSQLite", "OrchestrationTesting", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "OrchestrationServerTests",
            dependencies: [
                "Orchestration", "OrchestrationExecutors", "OrchestrationSQLite", "OrchestrationServer", "OrchestrationTesting", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "OrchestrationCloudTests",
            dependencies: ["Orchestration", "OrchestrationCloud", "OrchestrationTesting", "TestSupport"]
        ),
        .testTarget(
            name: "OrchestrationPostgresTests",
            dependencies: ["Orchestration", "OrchestrationPostgres", "OrchestrationExecutors", "OrchestrationTesting", "TestSupport"]
        ),
        .testTarget(
            name: "novacronTests",
            dependencies: ["novacron", "Orchestration", "OrchestrationTesting", "TestSupport"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + upcoming
}
