import Foundation
import KimiJSON
import KimiTokenizer
import TestSupport
import Testing

/// tokenize, detokenize, render and parse-tools through the built binary, against the same
/// references as the library tests.
@Suite struct CommandTests {
    let model = TokenizerFixtures.directory

    @Test("tokenize matches tiktoken in both modes; detokenize inverts it exactly")
    func tokenizeRoundTrip() throws {
        let c = EncodeTests.cases.first { $0["name"]!.string! == "special_text" }!
        let text = c["text"]!.string!
        for (flag, mode) in [([String](), "ordinary"), (["--allow-special"], "special")] {
            let result = try Binary.run(["tokenize", "--model", model] + flag, stdin: Data(text.utf8))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stdout.hasSuffix("]\n"))
            let ids = try JSONParser.parse(result.stdout).array!.map { $0.int! }
            #expect(ids == c["small"]![mode]!["ids"]!.array!.map { $0.int! })
            let back = try Binary.run(["detokenize", "--model", model], stdin: Data(result.stdout.utf8))
            #expect(back.status == 0 && back.stdout == text)
        }
        // stdin is read verbatim: a trailing newline is part of the text.
        let newline = try Binary.run(["tokenize", "--model", model], stdin: Data("hi\n".utf8))
        #expect(try JSONParser.parse(newline.stdout).array!.count == TokenizerFixtures.small.encodeOrdinary("hi\n").count)
    }

    @Test("render prints jinja2's prompt exactly, and its ids with --ids")
    func render() throws {
        for name in ["tools_weather_loop", "no_system", "raw_number_literals"] {
            let chat = ChatTemplateTests.chats.first { $0["name"]!.string! == name }!
            let request = Data(chat["request"]!.string!.utf8)
            let text = try Binary.run(["render", "--model", model], stdin: request)
            #expect(text.status == 0 && text.stdout == chat["prompt"]!.string!, "\(name): \(text.stderr)")
            let ids = try Binary.run(["render", "--model", model, "--ids"], stdin: request)
            #expect(try JSONParser.parse(ids.stdout).array!.map { $0.int! } == chat["ids"]!.array!.map { $0.int! })
        }
    }

    @Test("parse-tools turns output ids into content and OpenAI tool calls")
    func parseTools() throws {
        let o = ToolCallParserTests.output("text_before")
        let ids = JSONWriter().string(o["ids"]!)
        let result = try Binary.run(["parse-tools", "--model", model], stdin: Data(ids.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        let message = try JSONParser.parse(result.stdout)
        #expect(message["content"]?.string == "Let me check the weather for you.")
        let call = message["tool_calls"]!.array![0]
        #expect(call["id"]?.string == "functions.get_weather:0" && call["type"]?.string == "function")
        #expect(call["function"]?["name"]?.string == "get_weather")
        #expect(call["function"]?["arguments"]?.string == #"{"city": "Paris"}"#)
    }

    @Test("bad input is a clear error with exit status 1")
    func badInput() throws {
        let notIds = try Binary.run(["detokenize", "--model", model], stdin: Data("[1, \"x\"]".utf8))
        #expect(notIds.status != 0 && notIds.stderr.contains("JSON array of integer token ids"))
        let outOfRange = try Binary.run(["detokenize", "--model", model], stdin: Data("[99999999]".utf8))
        #expect(outOfRange.status != 0 && outOfRange.stderr.contains("outside the vocabulary"))
        let noMessages = try Binary.run(["render", "--model", model], stdin: Data("{}".utf8))
        #expect(noMessages.status != 0 && noMessages.stderr.contains("messages"))
        let invalidUTF8 = try Binary.run(["tokenize", "--model", model], stdin: Data([0x61, 0xFF]))
        #expect(invalidUTF8.status != 0 && invalidUTF8.stderr.contains("UTF-8"))
    }
}
