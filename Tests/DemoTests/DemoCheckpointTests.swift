import Foundation
import KimiDemo
import KimiJSON
import KimiModel
import KimiServing
import KimiTokenizer
import Testing

/// The demo checkpoint linked into the binary, through the engine as `serve` runs it: it calls
/// get_weather with the exact city for real cities it never saw in training (listed by
/// Scripts/train_demo.py in Tests/Fixtures/demo/report.json), answers from the tool's result,
/// and greets back.
@Suite(.serialized) struct DemoCheckpointTests {
    static let report = try! JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/demo/report.json"))))
    static let heldOut = report["held_out_cities"]!.array!.map { $0.string! }
    static let questions = report["weather_questions"]!.array!.map { $0.string! }
    /// The model card's tool declaration (docs/tool_call_guidance.md).
    static let weatherTool = try! JSONParser.parse(#"[{"type": "function", "function": {"name": "get_weather", "description": "Get weather information. Call this tool when the user needs to get weather information", "parameters": {"type": "object", "required": ["city"], "properties": {"city": {"type": "string", "description": "City name"}}}}}]"#)

    static let directory = try! DemoCheckpoint.directory()
    static let tokenizer = try! Tokenizer(directory: directory)
    static let engine: Engine = {
        let configuration = Engine.Configuration()
        let transformer = try! KimiTransformer(directory: directory, maxBatchTokens: Engine.batchTokens(configuration))
        let engine = Engine(model: TransformerModel(transformer: transformer), tokenizer: tokenizer, configuration: configuration)
        engine.start()
        return engine
    }()

    static func generate(_ messages: [JSONValue], tools: JSONValue?, temperature: Float, seed: UInt64) -> [OutputPiece] {
        var sampling = SamplingParameters()
        sampling.temperature = temperature
        sampling.seed = seed
        let prompt = tokenizer.encode(prompt: ChatTemplate.render(messages: messages, tools: tools))
        let stops = Set(["<|im_end|>", "[EOS]"].compactMap(tokenizer.specialId))
        let handle = try! engine.submit(GenerationRequest(prompt: prompt, sampling: sampling, maxTokens: 96, stopTokens: stops))
        var output: [OutputPiece] = []
        while let event = handle.next(timeout: 60) {
            if case let .output(pieces, _) = event { output += pieces }
        }
        return output
    }

    static func user(_ text: String) -> JSONValue { .object(JSONObject(["role": .string("user"), "content": .string(text)])) }

    @Test("the inspect summary holds: Kimi's architecture and file format, under 10 MB")
    func shape() throws {
        let checkpoint = try Checkpoint(directory: Self.directory)
        let c = checkpoint.config
        #expect(c.fp8Weights && c.ropeScaling != nil && c.firstKDenseReplace == 1 && c.nSharedExperts == 1)
        #expect(c.numExpertsPerTok > 1 && c.moeLayerCount > 0)
        #expect(TensorManifest.problems(checkpoint).isEmpty)
        #expect(checkpoint.mappedBytes < 10_000_000)
    }

    @Test("unseen cities: get_weather with the exact city in at least 90 % of 50 cases", arguments: [Float(0), 0.6])
    func toolCalls(_ temperature: Float) {
        var hits = 0
        var misses: [String] = []
        for (i, city) in Self.heldOut.prefix(50).enumerated() {
            let question = Self.questions[i % Self.questions.count].replacingOccurrences(of: "{c}", with: city)
            let output = Self.generate([Self.user(question)], tools: Self.weatherTool, temperature: temperature, seed: UInt64(i))
            let calls = ToolCallParser.parse(output).toolCalls
            if calls.count == 1, calls[0].name == "get_weather", calls[0].complete,
               (try? JSONParser.parse(calls[0].arguments)) == .object(JSONObject(["city": .string(city)])) {
                hits += 1
            } else {
                misses.append("\(city): \(output.text.prefix(160))")
            }
        }
        print("demo: \(hits)/50 exact tool calls at temperature \(temperature)")
        #expect(hits >= 45, "\(hits)/50 at temperature \(temperature); misses: \(misses)")
    }

    @Test("after the tool's result the answer names the city and the weather")
    func answersFromResult() throws {
        let weathers = ["Sunny", "Light rain", "Snow", "Cloudy", "Thunderstorms"]
        var hits = 0
        var misses: [String] = []
        for (i, city) in Self.heldOut.suffix(10).enumerated() {
            let weather = weathers[i % weathers.count]
            let messages: [JSONValue] = [
                Self.user("What's the weather like in \(city) today?"),
                try JSONParser.parse(#"{"role": "assistant", "content": "", "tool_calls": [{"id": "functions.get_weather:0", "type": "function", "function": {"name": "get_weather", "arguments": \#(JSONWriter().string(.string(JSONWriter(compact: false).string(.object(JSONObject(["city": .string(city)]))))))}}]}"#),
                .object(JSONObject(["role": .string("tool"), "tool_call_id": .string("functions.get_weather:0"), "name": .string("get_weather"),
                                    "content": .string(#"{"weather": "\#(weather)"}"#)])),
            ]
            let answer = Self.generate(messages, tools: Self.weatherTool, temperature: 0, seed: 1)
            if answer.text.contains(city) && answer.text.contains(weather) && ToolCallParser.parse(answer).toolCalls.isEmpty {
                hits += 1
            } else {
                misses.append("\(city), \(weather): \(answer.text.prefix(160))")
            }
        }
        print("demo: \(hits)/10 answers named the city and the weather")
        // The committed demo names both in 9 of 10 (it garbles Thessaloniki): issue 5 notes it.
        withKnownIssue("the demo's answers after a tool result name the city and the weather in 9 of 10 cases", isIntermittent: true) {
            #expect(hits == 10, "\(hits)/10 answers named the city and the weather; misses: \(misses)")
        }
        #expect(hits >= 9, "\(hits)/10 answers named the city and the weather; misses: \(misses)")
    }

    @Test("a greeting gets a greeting; without tools it says it cannot check the weather")
    func greetingAndRefusal() {
        for (i, greeting) in ["Hello!", "Hi", "Good morning!"].enumerated() {
            let reply = Self.generate([Self.user(greeting)], tools: nil, temperature: 0.6, seed: UInt64(i)).text
            #expect(reply.hasPrefix("Hello") || reply.hasPrefix("Hi"), "\(greeting) → \(reply)")
        }
        let refusal = Self.generate([Self.user("What's the weather like in \(Self.heldOut[0]) today?")], tools: nil, temperature: 0, seed: 0)
        #expect(refusal.text.contains("can't check") && ToolCallParser.parse(refusal).toolCalls.isEmpty, "\(refusal.text)")
    }
}
