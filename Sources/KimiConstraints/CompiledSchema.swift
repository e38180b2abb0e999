import KimiJSON

/// A JSON Schema compiled for generation: a graph of nodes (cycles for recursive `$ref`s),
/// the string automata its strings use, and the root. Immutable; shared by every sequence
/// that generates against it.
public final class CompiledSchema: Sendable {
    let nodes: [SchemaNode]
    /// The leaf alternatives of each node (a leaf's own index for leaves).
    let leaves: [[Int32]]
    let dfas: [ByteDFA]
    let root: Int32

    init(nodes: [SchemaNode], leaves: [[Int32]], dfas: [ByteDFA], root: Int32) {
        self.nodes = nodes
        self.leaves = leaves
        self.dfas = dfas
        self.root = root
    }

    /// Compiles `schema`. `strict`: a keyword the engine cannot enforce is an error naming it;
    /// otherwise such keywords are ignored and the output satisfies the rest of the schema.
    public static func compile(_ schema: JSONValue, strict: Bool) throws -> CompiledSchema {
        try SchemaCompiler(document: schema, strict: strict).compile()
    }

    /// Any JSON object (`response_format` json_object; a tool that declares no parameters).
    public static let anyObject: CompiledSchema = try! compile(.object(JSONObject(["type": .string("object")])), strict: true)

    /// Whether the root admits only objects (a tool's arguments must be one).
    public var rootIsObject: Bool {
        leaves[Int(root)].allSatisfy { if case .object = nodes[Int($0)] { return true } else { return false } }
    }
}
