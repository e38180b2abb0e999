// swift-tools-version:6.0
import PackageDescription

// The hot loops are C (CKimiKernels) and Swift over SIMD8 types, both built for x86-64-v3
// (AVX2, FMA, F16C): without those the compiler would emit a libm call per lane. The binary
// checks the CPU at start-up and refuses to run on anything older. Linux on x86-64 only.
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]

let package = Package(
    name: "kimi-serve",
    products: [
        .executable(name: "kimi-serve", targets: ["kimi-serve"]),
        // For the fuzz targets in Fuzz/, a package of its own that depends on this one.
        .library(name: "KimiJSON", targets: ["KimiJSON"]),
        .library(name: "KimiTokenizer", targets: ["KimiTokenizer"]),
        .library(name: "KimiAPI", targets: ["KimiAPI"]),
        .library(name: "KimiConstraints", targets: ["KimiConstraints"]),
        .library(name: "HTTPServer", targets: ["HTTPServer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        .systemLibrary(name: "CNUMA", pkgConfig: "numa", providers: [.apt(["libnuma-dev"])]),
        .target(name: "KimiJSON"),
        .target(name: "CKimiKernels", cSettings: [.unsafeFlags(["-march=x86-64-v3"])]),
        // The kernels, the thread pool and the scheduler of matrix products: model-agnostic.
        .target(name: "KimiKernels", dependencies: ["CKimiKernels", "CNUMA"], swiftSettings: simdFlags),
        .target(
            name: "KimiModel",
            dependencies: ["KimiJSON", "KimiKernels", "CNUMA"],
            swiftSettings: simdFlags
        ),
        .target(
            name: "KimiTokenizer",
            dependencies: ["KimiJSON"]
        ),
        .target(name: "HTTPServer"),
        .target(name: "KimiConstraints", dependencies: ["KimiJSON", "KimiTokenizer"]),
        .target(name: "CKimiDemo"),
        .target(name: "KimiDemo", dependencies: ["CKimiDemo"]),
        .target(
            name: "KimiServing",
            dependencies: ["KimiModel", "KimiTokenizer", "KimiConstraints", .product(name: "Prometheus", package: "swift-prometheus")]
        ),
        .target(
            name: "KimiAPI",
            dependencies: [
                "HTTPServer", "KimiServing", "KimiTokenizer", "KimiJSON", "KimiConstraints",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "KimiCommands",
            dependencies: [
                "KimiKernels",
                "KimiModel",
                "KimiTokenizer",
                "KimiServing",
                "KimiAPI",
                "KimiConstraints",
                "KimiDemo",
                "HTTPServer",
                "KimiJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: simdFlags
        ),
        .executableTarget(name: "kimi-serve", dependencies: ["KimiCommands"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        // Test doubles of the engine's model, and `kimi-serve-testbed`: `serve` with one of them
        // in place of the weights, for the black-box tests of the wire formats and of timing.
        .target(name: "ServingTestSupport", dependencies: ["KimiServing", "KimiModel"], path: "Tests/ServingTestSupport"),
        .executableTarget(
            name: "kimi-serve-testbed",
            dependencies: [
                "KimiCommands", "ServingTestSupport", "KimiServing", "KimiModel", "KimiTokenizer", "KimiJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/Testbed"
        ),
        .testTarget(
            name: "KimiTokenizerTests",
            dependencies: ["KimiTokenizer", "KimiJSON", "TestSupport", "kimi-serve"]
        ),
        .testTarget(
            name: "KimiConstraintsTests",
            dependencies: ["KimiConstraints", "KimiTokenizer", "KimiJSON", "TestSupport"]
        ),
        .testTarget(
            name: "DemoTests",
            dependencies: ["KimiDemo", "KimiModel", "KimiServing", "KimiTokenizer", "KimiJSON"]
        ),
        .testTarget(
            name: "KimiServeTests",
            dependencies: ["KimiCommands", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "KimiServingTests",
            dependencies: ["KimiServing", "KimiModel", "KimiTokenizer", "ServingTestSupport"]
        ),
        .testTarget(
            name: "KimiKernelsTests",
            dependencies: ["KimiKernels", "TestSupport"],
            swiftSettings: simdFlags
        ),
        .testTarget(
            name: "KimiModelTests",
            dependencies: ["KimiModel", "KimiKernels", "KimiJSON", "TestSupport", "kimi-serve"],
            swiftSettings: simdFlags
        ),
    ],
    swiftLanguageModes: [.v6]
)
