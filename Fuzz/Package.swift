// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for kimi-serve, kept out of the root package: each is an executable whose
// `main` comes from libFuzzer, so `swift build` / `swift test` at the root must not see it.
// Built and run by Scripts/fuzz.sh, which passes `-sanitize=fuzzer,address` for every module
// (the root package's code included, so that libFuzzer sees its coverage).
//
// A target is one entry below, one folder Sources/<name>/ with one file defining
// `@_cdecl("LLVMFuzzerTestOneInput")`, a seed corpus in corpus/<name>/ and optionally a
// libFuzzer dictionary dict/<name>.dict. Scripts/fuzz.sh runs every Sources/fuzz-* folder.
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("fuzz-json", [.product(name: "KimiJSON", package: "kimi-serve")]),
    ("fuzz-http-request", [.product(name: "HTTPServer", package: "kimi-serve")]),
    ("fuzz-tool-calls", [.product(name: "KimiTokenizer", package: "kimi-serve")]),
    (
        "fuzz-constraints",
        [
            .product(name: "KimiJSON", package: "kimi-serve"),
            .product(name: "KimiConstraints", package: "kimi-serve"),
            .product(name: "KimiTokenizer", package: "kimi-serve"),
        ]
    ),
    (
        "fuzz-chat-request",
        [
            .product(name: "KimiJSON", package: "kimi-serve"),
            .product(name: "KimiAPI", package: "kimi-serve"),
            .product(name: "KimiTokenizer", package: "kimi-serve"),
        ]
    ),
]

let package = Package(
    name: "kimi-serve-fuzz",
    dependencies: [.package(name: "kimi-serve", path: "..")],
    targets: [
        .target(name: "FuzzSupport")
    ]
        + fuzzTargets.map { target in
            .executableTarget(
                name: target.name,
                dependencies: ["FuzzSupport"] + target.dependencies,
                // No top-level code: libFuzzer's main calls LLVMFuzzerTestOneInput.
                swiftSettings: [.unsafeFlags(["-parse-as-library"])]
            )
        },
    swiftLanguageModes: [.v6]
)
