/// A model's output as the tool-call parsers read it: runs of text, and the tool-call and
/// reasoning markers that came as their special tokens, in order. Marker characters spelled
/// with ordinary tokens are part of the text.
public enum OutputPiece: Equatable, Sendable {
    case text(String)
    case marker(ToolCallMarker)
    case reasoning(ReasoningMarker)
}

extension Sequence<OutputPiece> {
    /// The pieces as one string, each marker as its token's text (for logs and tests).
    public var text: String {
        var out = ""
        for piece in self {
            switch piece {
            case let .text(s): out += s
            case let .marker(marker): out += marker.text
            case let .reasoning(marker): out += marker.text
            }
        }
        return out
    }
}

extension Sequence<OutputPiece> {
    /// The pieces with adjacent texts joined: the same output however it was cut into tokens.
    public var coalesced: [OutputPiece] {
        var out: [OutputPiece] = []
        for piece in self {
            if case let .text(s) = piece, case let .text(previous)? = out.last {
                out[out.count - 1] = .text(previous + s)
            } else {
                out.append(piece)
            }
        }
        return out
    }
}

extension Tokenizer {
    /// The ids of pieces (the start of an answer the server writes for the model): each marker
    /// as its special id, text as ordinary tokens, so marker characters in the text stay text.
    public func encode(pieces: [OutputPiece]) -> [Int] {
        var out: [Int] = []
        for piece in pieces {
            switch piece {
            case let .text(s):
                out += encodeOrdinary(s)
            case let .marker(marker):
                if let id = specialId(marker.text) { out.append(id) } else { out += encodeOrdinary(marker.text) }
            case let .reasoning(marker):
                if let id = specialId(marker.text) { out.append(id) } else { out += encodeOrdinary(marker.text) }
            }
        }
        return out
    }
}
