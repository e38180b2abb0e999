import Foundation
import KimiJSON
import KimiTokenizer
import Testing

/// The tool-call parsers over model outputs that include every pitfall of spec §6.5: the batch
/// parser against the official K2 regexes where those apply and against stated behaviour where
/// they fail; the streaming parser against the batch parser with the output cut at every token
/// boundary and at every character.
@Suite struct ToolCallParserTests {
    static let outputs = try! TokenizerFixtures.json("tool_outputs.json")["outputs"]!.array!

    static func output(_ name: String) -> JSONValue { outputs.first { $0["name"]!.string! == name }! }

    static func stream(_ pieces: [String]) -> ToolCallParser.Result {
        var parser = StreamingToolCallParser()
        var events: [StreamingToolCallParser.Event] = []
        for piece in pieces { events += parser.feed(piece) }
        events += parser.finish()
        return StreamingToolCallParser.collect(events)
    }

    @Test("well-formed outputs parse as the official regexes do")
    func official() {
        var compared = 0
        for o in Self.outputs {
            guard let official = o["official"], !official.isNull else { continue }
            let result = ToolCallParser.parse(o["text"]!.string!)
            let name = o["name"]!.string!
            let calls = official["tool_calls"]!.array!
            guard !calls.isEmpty else { continue }  // the official regex drops these calls: checked below
            // The official parse keeps only the text before the section; text after it is kept too.
            if name != "text_after_section" { #expect(result.content == official["content"]!.string!, "\(name)") }
            #expect(result.toolCalls.map(\.id) == calls.map { $0["id"]!.string! }, "\(name)")
            #expect(result.toolCalls.map(\.arguments) == calls.map { $0["arguments"]!.string! }, "\(name)")
            #expect(result.toolCalls.allSatisfy { $0.complete }, "\(name)")
            compared += 1
        }
        #expect(compared >= 10)
    }

    /// (output, content, [(id, name, arguments, complete)])
    static let expectations: [(String, String, [(String, String, String, Bool)])] = [
        ("plain", "Hello! I am Kimi, an AI assistant created by Moonshot AI.", []),
        ("dotted_name", "", [("functions.db.query:0", "db.query", #"{"sql": "SELECT 1"}"#, true)]),
        ("hyphen_name", "", [("functions.get-weather_v2:7", "get-weather_v2", "{}", true)]),
        ("cut_in_args", "", [("functions.get_weather:0", "get_weather", #"{"city": "Ber"#, false)]),
        ("cut_after_first_call", "", [("functions.get_weather:0", "get_weather", #"{"city": "Lima"}"#, true),
                                      ("functions.get_weather:1", "get_weather", #"{"ci"#, false)]),
        ("cut_in_id", "Checking.", [("functions.get_wea", "get_wea", "", false)]),
        ("missing_section_end", "", [("functions.get_weather:0", "get_weather", #"{"city": "Cairo"}"#, true)]),
        ("missing_call_end", "", [("functions.get_weather:0", "get_weather", #"{"city": "Lagos"}"#, true),
                                  ("functions.get_weather:1", "get_weather", #"{"city": "Accra"}"#, true)]),
        ("singular_section", "", [("functions.get_weather:0", "get_weather", #"{"city": "Delhi"}"#, true)]),
        ("no_section_begin", "", [("functions.get_weather:0", "get_weather", #"{"city": "Quito"}"#, true)]),
        ("openai_style_id", "", [("call_abc123", "call_abc123", #"{"city": "Bern"}"#, true)]),
        ("no_functions_prefix", "", [("get_weather:2", "get_weather", #"{"city": "Kyiv"}"#, true)]),
        ("stray_markers_in_text", "Here is text with stray markers.", []),
        ("text_after_section", "Done.", [("functions.get_weather:0", "get_weather", #"{"city": "Nice"}"#, true)]),
        ("angle_text", "Use a <b>bold</b> tag, 3 < 4 and <|not a marker|> here.", []),
        ("args_not_object", "", [("functions.ping:0", "ping", "[1, 2]", true)]),
        ("whitespace_around", "", [("functions.get_weather:0", "get_weather", #"{"city": "Rome"}"#, true)]),
        ("newline_before_id", "", [("functions.get_weather:0", "get_weather", #"{"city": "Oslo"}"#, true)]),
    ]

    @Test("every pitfall of spec §6.5 gives the stated result", arguments: 0..<expectations.count)
    func pitfalls(_ i: Int) {
        let (name, content, calls) = Self.expectations[i]
        let result = ToolCallParser.parse(Self.output(name)["text"]!.string!)
        #expect(result.content == content, "\(name)")
        #expect(result.toolCalls.map { [$0.id, $0.name, $0.arguments] } == calls.map { [$0.0, $0.1, $0.2] }, "\(name)")
        #expect(result.toolCalls.map(\.complete) == calls.map(\.3), "\(name)")
    }

    @Test("streaming equals batch with the output cut at every token boundary and every character")
    func streamingAgrees() {
        let t = TokenizerFixtures.small
        for o in Self.outputs {
            let text = o["text"]!.string!
            let batch = ToolCallParser.parse(text)
            // Token by token, as the engine streams.
            var detokenizer = IncrementalDetokenizer(tokenizer: t)
            var pieces = o["ids"]!.array!.map { detokenizer.append($0.int!) }
            pieces.append(detokenizer.finish())
            #expect(pieces.joined() == text)
            #expect(Self.stream(pieces) == batch, "\(o["name"]!.string!) token by token")
            // Every single cut point, and one character at a time.
            let scalars = Array(text.unicodeScalars)
            for cut in 0...scalars.count {
                let a = String(String.UnicodeScalarView(scalars[..<cut])), b = String(String.UnicodeScalarView(scalars[cut...]))
                #expect(Self.stream([a, b]) == batch, "\(o["name"]!.string!) cut at \(cut)")
            }
            #expect(Self.stream(scalars.map { String($0) }) == batch, "\(o["name"]!.string!) per scalar")
        }
    }

    @Test("streaming emits each call's id and name once, before its argument fragments")
    func streamingShape() {
        var parser = StreamingToolCallParser()
        var events: [StreamingToolCallParser.Event] = []
        for piece in ["Sure.", "<|tool_calls_section_begin|>", "<|tool_call_begin|>", "functions.get_weather:0",
                      "<|tool_call_argument_begin|>", "{\"city\": ", "\"Paris\"}  ", "<|tool_call_end|>", "<|tool_calls_section_end|>"] {
            events += parser.feed(piece)
        }
        events += parser.finish()
        #expect(events == [.content("Sure."), .callBegin(index: 0, id: "functions.get_weather:0", name: "get_weather"),
                           .arguments(index: 0, fragment: "{\"city\":"), .arguments(index: 0, fragment: " \"Paris\"}"),
                           .callEnd(index: 0, complete: true)])
    }
}
