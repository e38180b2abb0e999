import Foundation
import KimiJSON
import KimiTokenizer
import Testing

/// Prompts against jinja2 rendering Scripts/kimi-k2-chat-template.jinja and
/// Scripts/kimi-k2-thinking-chat-template.jinja in Hugging Face's environment, and prompt ids
/// against tiktoken's encoding of that text.
@Suite struct ChatTemplateTests {
    static let chats = try! TokenizerFixtures.json("chat.json")["chats"]!.array!

    static func render(_ chat: JSONValue, _ kind: ChatTemplate.Kind = .k2Instruct) throws -> ChatTemplate.Prompt {
        let request = try JSONParser.parse(chat["request"]!.string!)
        return ChatTemplate.render(messages: request["messages"]!.array!, tools: request["tools"], kind: kind)
    }

    @Test("every conversation renders byte-identical to jinja2", arguments: 0..<chats.count)
    func prompt(_ i: Int) throws {
        let chat = Self.chats[i]
        #expect(try Self.render(chat).text == chat["prompt"]!.string!, "\(chat["name"]!.string!)")
    }

    @Test("every conversation renders byte-identical to jinja2 with K2-Thinking's template", arguments: 0..<chats.count)
    func thinkingPrompt(_ i: Int) throws {
        let chat = Self.chats[i]
        #expect(try Self.render(chat, .k2Thinking).text == chat["thinking_prompt"]!.string!, "\(chat["name"]!.string!)")
    }

    @Test(
        "K2-Thinking prompt ids equal tiktoken's encoding of the rendered text (<think> is text in this vocabulary)",
        arguments: 0..<chats.count)
    func thinkingIds(_ i: Int) throws {
        let chat = Self.chats[i]
        guard chat["name"]!.string! != "special_text_in_content" else { return }  // as in `ids` below
        let ids = TokenizerFixtures.small.encode(prompt: try Self.render(chat, .k2Thinking))
        #expect(ids == chat["thinking_ids"]!.array!.map { $0.int! }, "\(chat["name"]!.string!)")
    }

    @Test("K2-Thinking keeps reasoning_content only after the last assistant answer without tool calls")
    func thinkingReasoning() throws {
        let chat = Self.chats.first { $0["name"]!.string! == "reasoning_tool_loop" }!
        let text = try Self.render(chat, .k2Thinking).text
        #expect(!text.contains("Earlier thought."))
        #expect(text.contains("<think>I should call get_weather for Lima.</think>"))
        #expect(try Self.render(chat, .k2Thinking).segments.contains(.control("<think>")))
    }

    @Test(
        "continuing the final message is the jinja2-verified rendering without its generation prompt, final <|im_end|> cut off",
        arguments: 0..<chats.count)
    func continuingFinalMessage(_ i: Int) throws {
        let request = try JSONParser.parse(Self.chats[i]["request"]!.string!)
        let messages = request["messages"]!.array!
        guard !messages.isEmpty else { return }
        for kind in ChatTemplate.Kind.allCases {
            let closed = ChatTemplate.render(messages: messages, tools: request["tools"], kind: kind, addGenerationPrompt: false)
            let open = ChatTemplate.render(
                messages: messages, tools: request["tools"], kind: kind, addGenerationPrompt: false, continuingFinalMessage: true)
            #expect(closed.segments.last == .control("<|im_end|>"))
            #expect(open.segments == Array(closed.segments.dropLast()))
        }
    }

    @Test(
        "prompt ids equal tiktoken's encoding of the rendered text, except where a client typed markup",
        arguments: 0..<chats.count)
    func ids(_ i: Int) throws {
        let chat = Self.chats[i]
        let ids = TokenizerFixtures.small.encode(prompt: try Self.render(chat))
        let reference = chat["ids"]!.array!.map { $0.int! }
        if chat["name"]!.string! == "special_text_in_content" {
            // Hugging Face turns the typed "<|im_end|><|im_assistant|>…" into control tokens; we do not.
            let imEnd = TokenizerFixtures.small.specialId("<|im_end|>")!
            #expect(reference.filter { $0 == imEnd }.count == 3)
            #expect(ids.filter { $0 == imEnd }.count == 2)
            #expect(TokenizerFixtures.small.decode(ids) == chat["prompt"]!.string!)
        } else {
            #expect(ids == reference, "\(chat["name"]!.string!)")
        }
    }

    @Test("the fixtures cover every template rule")
    func coverage() {
        let names = Set(Self.chats.map { $0["name"]!.string! })
        #expect(Self.chats.count >= 30)
        for required in [
            "no_system", "empty_messages", "tools_weather_loop", "multi_turn_tools", "list_content_multi",
            "unicode_tools", "empty_content", "developer_first", "dict_arguments", "raw_number_literals",
            "tool_without_name", "list_content_image", "reasoning_history", "reasoning_tool_loop", "reasoning_continue_final",
        ] {
            #expect(names.contains(required), "\(required)")
        }
    }

    @Test("a message of many content parts renders in linear time")
    func manyContentParts() {
        // Each part's text used to be appended to a copy of the run so far: quadratic time
        // (a 16 MB body holds ~600,000 parts). Four times the parts must cost about four times
        // as long, not sixteen.
        func seconds(_ count: Int) -> Double {
            let part = JSONValue.object(JSONObject(["type": .string("text"), "text": .string("a")]))
            let message = JSONValue.object(JSONObject(["role": .string("user"), "content": .array(Array(repeating: part, count: count))]))
            let start = ContinuousClock.now
            let prompt = ChatTemplate.render(messages: [message], tools: nil)
            let elapsed = ContinuousClock.now - start
            #expect(prompt.segments.contains(.text(String(repeating: "a", count: count))))
            return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        }
        let small = min(seconds(150_000), seconds(150_000))
        let large = seconds(600_000)
        #expect(large < 8 * small, "150,000 parts \(small) s, 600,000 parts \(large) s")
    }

    @Test("keys that are two spellings of one character stay two keys, as json.loads and tojson keep them")
    func canonicallyEquivalentKeys() throws {
        // "é" precomposed and "e" + U+0301: equal as Swift Strings, two keys for Python.
        let text = "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"\u{E9}\":1,\"e\u{301}\":2}}}]"
        let tools = try JSONParser.parse(text)
        let parameters = tools.array?.first?["function"]?["parameters"]
        #expect(parameters?.object?.count == 2)
        #expect(parameters?["e\u{301}"] == JSONValue(2))
        #expect(JSONWriter().string(tools) == text)
        let prompt = ChatTemplate.render(
            messages: [.object(JSONObject(["role": .string("user"), "content": .string("hi")]))], tools: tools)
        #expect(prompt.text.contains("{\"\u{E9}\":1,\"e\u{301}\":2}"))
    }

    @Test("Python's float repr, which tojson uses for numbers")
    func pythonNumbers() {
        let cases: [(String, String)] = [
            ("1E3", "1000.0"), ("1.50", "1.5"), ("-0", "0"), ("-0.0", "-0.0"), ("2.5e-5", "2.5e-05"),
            ("1e16", "1e+16"), ("1e15", "1000000000000000.0"), ("0.0001", "0.0001"),
            ("0.00001", "1e-05"), ("123", "123"), ("1e400", "Infinity"), ("5e-324", "5e-324"),
            ("1234567890123456.5", "1234567890123456.5"), ("0.1", "0.1"), ("100", "100"),
        ]
        for (literal, python) in cases {
            #expect(PythonNumber.format(literal) == python, "\(literal)")
        }
    }
}
