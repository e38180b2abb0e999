// swift-tools-version:6.0
import PackageDescription

// Kernels are plain Swift over SIMD8 types. Without AVX2/FMA/F16C the compiler emits
// libm calls per lane (50-100x slower), so the compute targets are built for x86-64-v3;
// the binary checks the CPU at start-up and refuses to run on anything older.
let simdFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-march=x86-64-v3"])]

let package = Package(
    name: "kimi-serve",
    platforms: [.macOS(.v14)],
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
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CNUMA", pkgConfig: "numa", providers: [.apt(["libnuma-dev"])]),
        .target(name: "KimiJSON"),
        .target(name: "CKimiKernels", cSettings: [.unsafeFlags(["-march=x86-64-v3"])]),
        .target(
            name: "KimiModel",
            dependencies: ["KimiJSON", "CKimiKernels", "COpenBLAS", "CNUMA"],
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
            dependencies: ["HTTPServer", "KimiServing", "KimiTokenizer", "KimiJSON", "KimiConstraints",
                           .product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(
            name: "kimi-serve",
            dependencies: [
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
        .target(name: "TestSupport", path: "Tests/TestSupport"),
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
            dependencies: ["kimi-serve", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .testTarget(
            name: "KimiServingTests",
            dependencies: ["KimiServing", "KimiModel", "KimiTokenizer"]
        ),
        .testTarget(
            name: "KimiModelTests",
            dependencies: ["KimiModel", "KimiJSON", "TestSupport", "kimi-serve"],
            swiftSettings: simdFlags
        ),
    ],
    swiftLanguageModes: [.v5]
)
