import Foundation
import KimiJSON
import KimiTokenizer
import Testing

/// Which template a checkpoint's own files select: the two Kimi K2 templates as published
/// (Scripts/*.jinja), wherever the checkpoint keeps them, and what happens with another one.
@Suite struct ChatTemplateKindTests {
    static let scripts = TokenizerFixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")

    static func template(_ file: String) throws -> String {
        try String(contentsOf: scripts.appendingPathComponent(file), encoding: .utf8)
    }

    /// A checkpoint directory holding tokenizer_config.json (with `chatTemplate` as its
    /// chat_template, if any) and, if given, chat_template.jinja.
    static func checkpoint(chatTemplate: JSONValue?, jinja: String? = nil) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kimi-template-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        var config = JSONObject(["tokenizer_class": .string("TikTokenTokenizer")])
        if let chatTemplate { config["chat_template"] = chatTemplate }
        try Data(JSONWriter(compact: true).string(.object(config)).utf8).write(to: dir.appendingPathComponent("tokenizer_config.json"))
        if let jinja { try Data(jinja.utf8).write(to: dir.appendingPathComponent("chat_template.jinja")) }
        return dir.path
    }

    @Test("each published template is recognised in tokenizer_config.json, with or without its final newline")
    func recognised() throws {
        for (file, kind) in [
            ("kimi-k2-chat-template.jinja", ChatTemplate.Kind.k2Instruct), ("kimi-k2-thinking-chat-template.jinja", .k2Thinking),
        ] {
            let text = try Self.template(file)
            for variant in [text, String(text.dropLast())] {
                let detection = try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: .string(variant)))
                #expect(detection == .init(kind: kind, note: nil), "\(file)")
            }
        }
    }

    @Test("chat_template.jinja takes precedence over tokenizer_config.json")
    func jinjaFile() throws {
        let thinking = try Self.template("kimi-k2-thinking-chat-template.jinja")
        let instruct = try Self.template("kimi-k2-chat-template.jinja")
        let dir = try Self.checkpoint(chatTemplate: .string(instruct), jinja: thinking)
        #expect(try ChatTemplate.Kind.detect(directory: dir) == .init(kind: .k2Thinking, note: nil))
    }

    @Test("a list of named templates counts its \"default\" one")
    func namedList() throws {
        let thinking = try Self.template("kimi-k2-thinking-chat-template.jinja")
        let list = JSONValue.array([
            .object(JSONObject(["name": .string("tool_use"), "template": .string("x")])),
            .object(JSONObject(["name": .string("default"), "template": .string(thinking)])),
        ])
        #expect(try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: list)).kind == .k2Thinking)
        let noDefault = JSONValue.array([.object(JSONObject(["name": .string("tool_use"), "template": .string("x")]))])
        #expect(throws: TokenizerError.self) { try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: noDefault)) }
    }

    @Test("no template reads as K2-Instruct's; another one renders by whether it writes <think>, with a note")
    func fallback() throws {
        #expect(try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: nil)) == .init(kind: .k2Instruct, note: nil))
        let edited = try Self.template("kimi-k2-thinking-chat-template.jinja").replacingOccurrences(of: "You are Kimi", with: "You are K")
        let thinking = try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: .string(edited)))
        #expect(thinking.kind == .k2Thinking)
        #expect(thinking.note?.contains("tokenizer_config.json") == true)
        let other = try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: .string("{{ messages }}")))
        #expect(other.kind == .k2Instruct)
        #expect(other.note?.contains("neither") == true)
        #expect(throws: TokenizerError.self) { try ChatTemplate.Kind.detect(directory: try Self.checkpoint(chatTemplate: .number("1"))) }
    }
}
