import Foundation
import KimiJSON
import KimiTokenizer
import Testing

/// A reasoning model's output (K2-Thinking's `<think>` … `</think>` before its answer): split into
/// reasoning and the rest by the rule of vLLM's Kimi K2 reasoning parser — the text between the
/// two markers' special tokens, a tool-call section ending the reasoning too — from the ids, as
/// the engine streams them, and the same whether fed whole or token by token.
@Suite struct ReasoningTests {
    /// The fixture vocabulary with two of its reserved special tokens named `<think>` and
    /// `</think>`, as K2-Thinking's vocabulary has them.
    static let tokenizer: Tokenizer = {
        let directory = TokenizerFixtures.directory
        let ranks = try! Data(contentsOf: URL(fileURLWithPath: directory + "/tiktoken.model"))
        var config = try! JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: directory + "/tokenizer_config.json"))))
        guard case var .object(root) = config, case var .object(decoder)? = root["added_tokens_decoder"] else { fatalError() }
        let base = TokenizerFixtures.small.vocabSize - 256
        for (offset, text) in [(22, "<think>"), (23, "</think>")] {
            decoder[String(base + offset)] = .object(JSONObject(["content": .string(text), "special": .bool(true)]))
        }
        root["added_tokens_decoder"] = .object(decoder)
        config = .object(root)
        return try! Tokenizer(tiktokenModel: [UInt8](ranks), tokenizerConfig: Array(JSONWriter().string(config).utf8))
    }()

    static func parse(_ text: String) -> ToolCallParser.Result {
        ToolCallParser.parse(tokenizer.decodeOutput(tokenizer.encode(text)))
    }

    @Test("the markers are special ids of this vocabulary, and the detokenizer makes them pieces")
    func markers() {
        for marker in ReasoningMarker.allCases {
            let id = Self.tokenizer.specialId(marker.text)!
            #expect(Self.tokenizer.reasoningMarker(id) == marker)
            #expect(Self.tokenizer.decodeOutput([id]) == [.reasoning(marker)])
        }
        #expect(TokenizerFixtures.small.specialId("<think>") == nil)
    }

    @Test("reasoning, then content")
    func answer() {
        let result = Self.parse("<think>The user greets me.\nAnswer briefly.</think>Hello! How can I help?")
        #expect(result == .init(reasoning: "The user greets me.\nAnswer briefly.", content: "Hello! How can I help?", toolCalls: []))
    }

    @Test("reasoning, then a tool call; a section also ends reasoning left open")
    func toolCall() {
        let call = ToolCall(id: "functions.get_weather:0", name: "get_weather", arguments: #"{"city": "Lima"}"#, complete: true)
        let section =
            #"<|tool_calls_section_begin|><|tool_call_begin|>functions.get_weather:0<|tool_call_argument_begin|>{"city": "Lima"}<|tool_call_end|><|tool_calls_section_end|>"#
        #expect(
            Self.parse("<think>I need Lima's weather.</think>" + section)
                == .init(reasoning: "I need Lima's weather.", content: "", toolCalls: [call]))
        #expect(
            Self.parse("<think>Straight to the tool." + section)
                == .init(reasoning: "Straight to the tool.", content: "", toolCalls: [call]))
    }

    @Test("no reasoning: nil; cut off while reasoning: all of it reasoning; marker text spelled with ordinary tokens: content")
    func edges() {
        #expect(Self.parse("Just an answer.") == .init(reasoning: nil, content: "Just an answer.", toolCalls: []))
        #expect(
            Self.parse("<think>Still thinking when max_tokens came")
                == .init(reasoning: "Still thinking when max_tokens came", content: "", toolCalls: []))
        let spelled = ToolCallParser.parse(Self.tokenizer.decodeOutput(Self.tokenizer.encode("<think>x</think>y", allowSpecial: false)))
        #expect(spelled == .init(reasoning: nil, content: "<think>x</think>y", toolCalls: []))
    }

    @Test("streamed token by token, the events fold into the same message")
    func streaming() {
        let ids = Self.tokenizer.encode(
            "<think>Plan: 你好, then 👋.</think>Done <|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"
        )
        var detokenizer = IncrementalDetokenizer(tokenizer: Self.tokenizer)
        var parser = StreamingToolCallParser()
        var events: [StreamingToolCallParser.Event] = []
        for id in ids { events += parser.feed(detokenizer.append(id)) }
        events += parser.feed([.text(detokenizer.finish())]) + parser.finish()
        let whole = Self.parse(
            "<think>Plan: 你好, then 👋.</think>Done <|tool_calls_section_begin|><|tool_call_begin|>functions.f:0<|tool_call_argument_begin|>{}<|tool_call_end|><|tool_calls_section_end|>"
        )
        #expect(StreamingToolCallParser.collect(events) == whole)
        #expect(whole.reasoning == "Plan: 你好, then 👋." && whole.content == "Done " && whole.toolCalls.count == 1)
    }
}
