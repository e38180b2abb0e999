import KimiTokenizer

/// What one request constrains, at the level of tokens: the content (free text or a JSON
/// document) and Kimi's tool-call section — which functions a call may name, with which
/// running index, arguments valid against each function's parameters, how many calls. Built
/// by the API from a request; `Constraint` walks it for one sequence.
public struct Grammar: Sendable {
    public enum Content: Sendable {
        case text
        case json(CompiledSchema)
    }

    public enum Calls: Sendable {
        /// The section may not open.
        case forbidden
        /// The model may open the section (before any content when the content is JSON).
        case allowed
        /// The answer starts inside the section (tool_choice "required"): at least one call.
        case required
        /// The answer starts inside this function's arguments (a named tool_choice).
        case named(String)
    }

    public var content: Content
    public var calls: Calls
    /// The declared functions and their parameter schemas; nil schema: unconstrained call
    /// (guided tools off), only the section's shape is then left to the model.
    public var functions: [(name: String, parameters: CompiledSchema)]
    /// More than one call in the section.
    public var parallel: Bool
    /// The index of the first call (`functions.NAME:IDX`): the conversation's earlier calls.
    public var firstIndex: Int

    public init(content: Content, calls: Calls, functions: [(name: String, parameters: CompiledSchema)], parallel: Bool, firstIndex: Int) {
        self.content = content
        self.calls = calls
        self.functions = functions
        self.parallel = parallel
        self.firstIndex = firstIndex
    }
}

/// The tokens a sequence may take next under its grammar, and the grammar's state advanced by
/// the token taken. One per sequence; never shared.
public struct Constraint {
    public enum Allowed {
        /// Every token but these.
        case allExcept([Int])
        case only(TokenMask)
    }

    enum Phase {
        case text
        /// JSON content; `started`: a byte has been written (the section can no longer open).
        case json(MatcherState, started: Bool)
        /// Inside the section between calls.
        case section(calls: Int)
        /// A call's `functions.NAME:IDX`.
        case header(Int32, calls: Int)
        case arguments(function: Int, MatcherState, calls: Int)
        /// After the section: only the end of the turn.
        case done
    }

    let grammar: Grammar
    let vocabulary: ConstraintVocabulary
    let endTokens: [Int]
    let markers: [ToolCallMarker: Int]
    /// The marker each marker id is (the reverse of `markers`).
    let markerOf: [Int: ToolCallMarker]
    /// The matcher of the JSON content (response_format), if any.
    let content: JSONMatcher?
    /// What free text may not contain: the markers inside a section, and the section's opening
    /// when calls are forbidden.
    let bannedInText: [Int]
    private(set) var phase: Phase
    private var jsonLevels: [MatcherState] = []
    private var headerLevels: [Int32] = []
    private var header: (dfa: ByteDFA, function: [Int32])?

    public init(_ grammar: Grammar, vocabulary: ConstraintVocabulary, tokenizer: Tokenizer, endTokens: Set<Int>) {
        self.grammar = grammar
        self.vocabulary = vocabulary
        self.endTokens = endTokens.sorted()
        var markers: [ToolCallMarker: Int] = [:]
        for m in ToolCallMarker.allCases { markers[m] = tokenizer.specialId(m.text) }
        self.markers = markers
        markerOf = Dictionary(uniqueKeysWithValues: markers.map { ($0.value, $0.key) })
        if case let .json(schema) = grammar.content { content = JSONMatcher(schema) } else { content = nil }
        var banned = [ToolCallMarker.sectionEnd, .callBegin, .argumentBegin, .callEnd]
        if case .forbidden = grammar.calls { banned.append(.sectionBegin) }
        bannedInText = banned.compactMap { markers[$0] }.sorted()
        switch grammar.calls {
        case .required: phase = .section(calls: 0)
        case let .named(name):
            let f = grammar.functions.firstIndex { $0.name == name } ?? 0
            phase = .arguments(function: f, JSONMatcher(grammar.functions[f].parameters).initial, calls: 0)
        case .forbidden, .allowed:
            phase = content.map { .json($0.initial, started: false) } ?? .text
        }
    }

    /// The matcher of the JSON the phase is writing, and where it stands.
    private func json(_ phase: Phase) -> (JSONMatcher, MatcherState)? {
        switch phase {
        case let .json(state, _): return (content!, state)
        case let .arguments(f, state, _): return (JSONMatcher(grammar.functions[f].parameters), state)
        default: return nil
        }
    }

    private var callsOpen: Bool {
        if case .forbidden = grammar.calls { return false }
        return markers[.sectionBegin] != nil
    }

    /// The tokens allowed next.
    public mutating func allowed() -> Allowed {
        if case .text = phase { return .allExcept(bannedInText) }
        var mask = TokenMask(count: vocabulary.size)
        switch phase {
        case .text:
            break
        case let .json(state, started):
            walk(content!, state, &mask)
            if content!.canEnd(state) { endTokens.forEach { mask.insert($0) } }
            if !started && callsOpen, let id = markers[.sectionBegin] { mask.insert(id) }
        case let .section(calls):
            if calls == 0 || grammar.parallel, let id = markers[.callBegin] { mask.insert(id) }
            if calls > 0, let id = markers[.sectionEnd] { mask.insert(id) }
        case let .header(s, calls):
            let (dfa, _) = headerAutomaton(calls: calls)
            vocabulary.walk(vocabulary.all, DFAMachine(dfa: dfa), from: s, into: &mask, levels: &headerLevels)
            if dfa.isAccepting(s), let id = markers[.argumentBegin] { mask.insert(id) }
        case let .arguments(f, state, _):
            let matcher = JSONMatcher(grammar.functions[f].parameters)
            walk(matcher, state, &mask)
            if matcher.canEnd(state), let id = markers[.callEnd] { mask.insert(id) }
        case .done:
            endTokens.forEach { mask.insert($0) }
        }
        return .only(mask)
    }

    /// The ordinary tokens `matcher` allows from `state`: inside a free string, every plain
    /// token short enough, and a walk of the others; elsewhere a walk of all.
    private mutating func walk(_ matcher: JSONMatcher, _ state: MatcherState, _ mask: inout TokenMask) {
        let key = ConstraintVocabulary.MaskKey(schema: matcher.schema, state: matcher.normalized(state))
        if let hit = vocabulary.cachedMask(key) {
            mask = hit
            return
        }
        defer { vocabulary.storeMask(mask, for: key) }
        let stacks = matcher.stacks(state)
        guard stacks.allSatisfy(matcher.isBetweenCharacters) else {
            return vocabulary.walk(vocabulary.all, matcher, from: state, into: &mask, levels: &jsonLevels)
        }
        // Inside strings only: a plain token stays in its string, so each stack takes it or not
        // on its own; the others (quotes, escapes, partial characters) are walked with all stacks.
        for stack in stacks {
            switch matcher.plainContent(stack) {
            case let .free(characters)?: mask.formUnion(vocabulary.plainTokens(upTo: characters))
            case let .automaton(dfa, at)?: mask.formUnion(vocabulary.plainTokens(matcher.schema, dfa: dfa, state: at))
            case nil: vocabulary.walk(vocabulary.plain, matcher, from: stack, into: &mask, levels: &jsonLevels)
            }
        }
        vocabulary.walk(vocabulary.special, matcher, from: state, into: &mask, levels: &jsonLevels)
    }

    /// The call headers allowed for the next call: `functions.NAME:IDX` for each function the
    /// request lets the model call, IDX the running index.
    private mutating func headerAutomaton(calls: Int) -> (ByteDFA, [Int32]) {
        if let header { return header }
        var names = grammar.functions.map(\.name)
        if case let .named(name) = grammar.calls { names = [name] }
        let trie = ByteDFA.trie(names.map { Array("functions.\($0):\(grammar.firstIndex + calls)".utf8) })
        let functions = grammar.functions
        let functionAt = trie.value.map { v -> Int32 in
            v < 0 ? -1 : Int32(functions.firstIndex { $0.name == names[Int(v)] }!)
        }
        header = (trie.dfa, functionAt)
        return (trie.dfa, functionAt)
    }

    /// Advances past `token`; false when the grammar does not allow it (the state is unchanged).
    public mutating func accept(_ token: Int) -> Bool {
        let marker = markerOf[token]
        switch phase {
        case .text:
            switch marker {
            case .sectionBegin?: guard callsOpen else { return false }; phase = .section(calls: 0)
            case nil: break
            default: return false
            }
            return true
        case let .json(state, started):
            if marker == .sectionBegin && !started && callsOpen { phase = .section(calls: 0); return true }
            if endTokens.contains(token) { return content!.canEnd(state) }
            guard token < vocabulary.ordinary, let next = content!.advance(state, vocabulary.tokenBytes[token]) else { return false }
            phase = .json(next, started: started || !vocabulary.tokenBytes[token].isEmpty)
            return true
        case let .section(calls):
            if marker == .callBegin && (calls == 0 || grammar.parallel) {
                header = nil
                phase = .header(0, calls: calls)
                return true
            }
            if marker == .sectionEnd && calls > 0 { phase = .done; return true }
            return false
        case let .header(s, calls):
            let (dfa, functionAt) = headerAutomaton(calls: calls)
            if marker == .argumentBegin {
                guard dfa.isAccepting(s) else { return false }
                let f = Int(functionAt[Int(s)])
                phase = .arguments(function: f, JSONMatcher(grammar.functions[f].parameters).initial, calls: calls)
                return true
            }
            guard token < vocabulary.ordinary else { return false }
            var at = s
            for b in vocabulary.tokenBytes[token] {
                at = dfa.step(at, b)
                if at < 0 { return false }
            }
            phase = .header(at, calls: calls)
            return true
        case let .arguments(f, state, calls):
            let matcher = JSONMatcher(grammar.functions[f].parameters)
            if marker == .callEnd {
                guard matcher.canEnd(state) else { return false }
                phase = .section(calls: calls + 1)
                return true
            }
            guard token < vocabulary.ordinary, let next = matcher.advance(state, vocabulary.tokenBytes[token]) else { return false }
            phase = .arguments(function: f, next, calls: calls)
            return true
        case .done:
            return endTokens.contains(token)
        }
    }
}

extension Constraint {
    /// Where inside `token` the grammar refuses it: the index of the first byte no state
    /// survives (nil for a refused special token or when its bytes all pass).
    public func firstRejectedByte(_ token: Int) -> Int? {
        guard token < vocabulary.ordinary else { return nil }
        let bytes = vocabulary.tokenBytes[token]
        guard let (matcher, state) = json(phase) else { return 0 }
        var s = state, next = MatcherState()
        for (i, b) in bytes.enumerated() {
            guard matcher.step(s, b, into: &next) else { return i }
            swap(&s, &next)
        }
        return nil
    }
}
