#!/usr/bin/env python3
"""Compares kimi-serve's constrained-decoding masks with llguidance's, token by token.

What it compares: for each schema of Tests/Fixtures/schemas/corpus.json (or a sample) and a few of
its valid instances (instances.json: the compact and the json.dumps spellings, the same rewritten in
llguidance's property order, the first one indented), kimi-serve tokenizes each document itself
(`kimi-serve constrain --dump-masks --each-line`: tiktoken-exact BPE of the vocabulary) and prints its
allowed set before every token. The same token ids are fed to an llguidance `LLMatcher` built over the
same vocabulary (a tiktoken `Encoding` from the directory's tiktoken.model ranks plus its 256 special
tokens, through llguidance's tiktoken adapter; the pre-tokenizer pattern plays no part in masks, only
token bytes and ids do), whose mask is computed after the same prefix. The two sets are compared over
the ordinary tokens plus the end token `<|im_end|>` (llguidance's EOS). Every token one side allows and
the other does not is classified (property order, escapes in names or constrained strings, raw DEL,
`\/`, formats, numbers, whitespace, ...) and counted; for a sample of them a witness document is built
(prefix + token + a completion taken from the schema's valid instances) and judged by jsonschema
(Draft 2020-12, formats checked, patterns read as the corpus does). A token only kimi-serve allows
needs a valid witness that kimi-serve itself accepts to the end; otherwise it is reported as a
suspected bug of ours, with our mask after it (empty = a dead end). Corpus documents we refuse are
reported too, and with --invalid the corpus's invalid texts are walked on both sides.

llguidance's JSON options are as close to kimi-serve's documented behaviour as its API allows (the
report lists them): `whitespace_pattern` = 1-64 bytes with at most one newline (ours: runs of at most
64 bytes, at most one line break), `coerce_one_of` (we read oneOf as anyOf), `lenient` (we ignore
keywords we cannot enforce), `json_allow_general_unicode_escapes` (we take any `\\uXXXX`), default
separators; llguidance's JSON allows no whitespace around the root value, so the schema is embedded
in a Lark grammar `start: WS? %json{...} WS?` with the same whitespace, and `%llguidance
{"no_forcing": true}` keeps llguidance from masking forced bytes down to their canonical tokens.

How to run (about 3 minutes for kimi-mini and the whole corpus; the binary is copied first, so a
rebuild meanwhile does not matter):

    pip install llguidance==1.9.1 tiktoken jsonschema rfc3339-validator numpy
    python3 Scripts/compare_masks.py [--model DIR ...] [--instances 2] [--schemas A,B | --sample N]
        [--invalid] [--report FILE.md] [--json FILE.pickle]

--model (repeatable) takes any directory with tiktoken.model and tokenizer_config.json; default
Tests/Fixtures/checkpoints/kimi-mini (384 tokens); Tests/Fixtures/tokenizer has 3,256 with real
merges; `python3 Scripts/make_bench_vocabulary.py /tmp/k2vocab` builds one of Kimi K2's size (163,584),
for which about --sample-large (24) schemas with one instance pair are walked. The committed report
Tests/Fixtures/schemas/mask_comparison.md comes from

    python3 Scripts/compare_masks.py --model Tests/Fixtures/checkpoints/kimi-mini \
        --model Tests/Fixtures/tokenizer --model /tmp/k2vocab --invalid \
        --report Tests/Fixtures/schemas/mask_comparison.md

Reference versions: llguidance 1.9.1 (PyPI), tiktoken 0.14.0, jsonschema 4.26.0 with
rfc3339-validator 0.1.4, numpy 2.4.6, Python 3.11.7.
"""
import argparse
import base64
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

from schema_reading import one_of_as_any_of, strict_regex

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
FIXTURES = os.path.join(ROOT, "Tests", "Fixtures", "schemas")
DEFAULT_MODEL = os.path.join(ROOT, "Tests", "Fixtures", "checkpoints", "kimi-mini")
DEFAULT_BINARY = os.path.join(ROOT, ".build", "release", "kimi-serve")

# Our whitespace rule as one regex: 1..64 bytes of [ \t\r\n] with at most one \n.
WS_REGEX = "[ \\t\\r]{1,64}|" + "|".join(f"[ \\t\\r]{{{k}}}\\n[ \\t\\r]{{0,{63 - k}}}" for k in range(64))
LLG_OPTIONS = {
    "whitespace_pattern": WS_REGEX,
    "coerce_one_of": True,
    "lenient": True,
    "json_allow_general_unicode_escapes": True,
}
LLG_OPTIONS_SHOWN = {
    "whitespace_pattern": "[ \\t\\r]{1,64} | [ \\t\\r]{k}\\n[ \\t\\r]{0,63-k} for k in 0..63",
    "coerce_one_of": True,
    "lenient": True,
    "json_allow_general_unicode_escapes": True,
    "item_separator": "\",\" (default)",
    "key_separator": "\":\" (default)",
    "json_allowed_escapes": "default (n, r, b, t, f, backslash, quote, u; the option refuses `/`, so `\\/` cannot be enabled)",
    "root whitespace": "Lark wrapper: start: WS? %json{schema} WS?, WS = whitespace_pattern",
    "grammar option": "%llguidance {\"no_forcing\": true} (else llguidance masks forced bytes down to their canonical tokens)",
}


# ---------------------------------------------------------------- vocabulary

class Vocabulary:
    def __init__(self, directory):
        self.ranks = {}
        with open(os.path.join(directory, "tiktoken.model")) as f:
            for line in f:
                if line.strip():
                    b, r = line.split()
                    self.ranks[base64.b64decode(b)] = int(r)
        self.ordinary = len(self.ranks)
        self.bytes = [b""] * self.ordinary
        for b, r in self.ranks.items():
            self.bytes[r] = b
        config = json.load(open(os.path.join(directory, "tokenizer_config.json")))
        self.specials = {v["content"]: int(k) for k, v in config.get("added_tokens_decoder", {}).items()}
        taken = set(self.specials.values())
        for i in range(self.ordinary, self.ordinary + 256):
            if i not in taken:
                self.specials[f"<|reserved_special_{i}|>"] = i
        self.size = max(self.specials.values()) + 1
        self.end = self.specials["<|im_end|>"]
        self.special_names = {v: k for k, v in self.specials.items()}

    def text(self, ids):
        return b"".join(self.bytes[i] if i < self.ordinary else b"" for i in ids)

    def show(self, i):
        if i >= self.ordinary:
            return self.special_names.get(i, f"<special {i}>")
        return show_bytes(self.bytes[i])

    def llguidance_tokenizer(self):
        import tiktoken
        from llguidance.tiktoken import lltokenizer_from_encoding
        pattern = r"""[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
        enc = tiktoken.Encoding(name="compare", pat_str=pattern, mergeable_ranks=self.ranks, special_tokens=self.specials)
        return lltokenizer_from_encoding(enc, n_vocab=self.size, eos_token=self.end)


def show_bytes(b, limit=None):
    """Bytes as readable text: JSON-like escapes for controls, ⟨xx⟩ for bytes outside complete UTF-8."""
    out = []
    i = 0
    while i < len(b):
        c = b[i]
        n = 1 if c < 0x80 else 2 if 0xC2 <= c < 0xE0 else 3 if 0xE0 <= c < 0xF0 else 4 if 0xF0 <= c <= 0xF4 else 0
        try:
            ch = b[i:i + n].decode("utf-8") if n else None
        except UnicodeDecodeError:
            ch = None
        if ch is None or len(b[i:i + n]) < n:
            out.append(f"⟨{c:02x}⟩")
            i += 1
            continue
        i += n
        if ch == "\n":
            out.append("↵")
        elif ch == "\t":
            out.append("⇥")
        elif ch == "\r":
            out.append("␍")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F or 0x80 <= ord(ch) < 0xA0:
            out.append(f"⟨U+{ord(ch):04X}⟩")
        elif ch == "`":
            out.append("ˋ")
        else:
            out.append(ch)
    s = "".join(out)
    if limit and len(s) > limit:
        s = "…" + s[-limit:]
    return "`" + s + "`"


# ---------------------------------------------------------------- documents

def resolve(root, ref):
    """The subschema a local `$ref` (a JSON pointer into `root`) names."""
    at = root
    for part in ref.lstrip("#").split("/"):
        if part:
            part = part.replace("~1", "/").replace("~0", "~")
            at = at[int(part)] if isinstance(at, list) else at[part]
    return at


class SchemaOrder:
    """Rewrites an instance with its keys in the order llguidance enforces (its `properties`
    in schema order, applicators processed left to right, branches chosen by validation), so
    that llguidance can follow the whole document and the other differences show."""

    def __init__(self, root):
        import jsonschema
        self.root = root
        self.validator = jsonschema.Draft202012Validator(root)

    def valid(self, schema, value):
        try:
            return self.validator.evolve(schema=schema).is_valid(value)
        except Exception:
            return False

    def parts(self, schema, value, depth=0):
        """The subschemas that apply to value, in llguidance's processing order."""
        if not isinstance(schema, dict) or depth > 40:
            return []
        out = []
        for key, v in schema.items():
            if key == "$ref":
                out += self.parts(resolve(self.root, v), value, depth + 1)
            elif key == "allOf":
                for b in v:
                    out += self.parts(b, value, depth + 1)
            elif key in ("anyOf", "oneOf"):
                for b in v:
                    if self.valid(b, value):
                        out += self.parts(b, value, depth + 1)
                        break
        return [schema] + out

    def order(self, schema, value):
        if isinstance(value, list):
            parts = self.parts(schema, value)
            out = []
            for i, item in enumerate(value):
                sub = True
                for p in parts:
                    prefix = p.get("prefixItems")
                    if prefix is not None and i < len(prefix):
                        sub = prefix[i]
                        break
                    if isinstance(p.get("items"), (dict, bool)):
                        sub = p["items"]
                        break
                out.append(self.order(sub, item))
            return out
        if not isinstance(value, dict):
            return value
        parts = self.parts(schema, value)
        names = []
        for p in parts:
            for n in (p.get("properties") or {}):
                if n not in names:
                    names.append(n)
        for p in parts:
            for n in p.get("required") or []:
                if n not in names:
                    names.append(n)
        keys = sorted(value, key=lambda k: (names.index(k) if k in names else len(names)))
        out = {}
        for k in keys:
            sub = True
            for p in parts:
                if k in (p.get("properties") or {}):
                    sub = p["properties"][k]
                    break
            else:
                for p in parts:
                    if "additionalProperties" in p:
                        sub = p["additionalProperties"]
                        break
            out[k] = self.order(sub, value[k])
        return out


def documents(entry, texts, count):
    """(label, text) pairs for a schema: the first `count` instances compact and with
    json.dumps' spacing as the corpus spells them, the same in llguidance's key order, and the
    first instance pretty-printed (indent 2, schema order)."""
    order = SchemaOrder(entry["schema"])
    out = []
    for i in range(min(count, len(texts) // 2)):
        compact, spaced = texts[2 * i], texts[2 * i + 1]
        value = json.loads(compact)
        out.append((f"valid[{2 * i}]", compact))
        out.append((f"valid[{2 * i + 1}]", spaced))
        ordered = order.order(entry["schema"], value)
        if json.dumps(ordered) != json.dumps(value):
            out.append((f"valid[{2 * i}] schema order", json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))))
            out.append((f"valid[{2 * i + 1}] schema order", json.dumps(ordered)))
        if i == 0:
            out.append((f"valid[{2 * i}] indent=2 schema order", json.dumps(ordered, ensure_ascii=False, indent=2)))
    return out


# ---------------------------------------------------------------- our masks

def our_masks(binary, model, schema_path, docs):
    """Runs `kimi-serve constrain --dump-masks` over the documents, streaming. Yields
    ("step", doc, step, token, allowed ids as an array) for every step, then ("end", doc,
    refusal) for every document, refusal being our stderr message when we refused a token (the
    refused token is then the document's last step). Single-line documents share a process
    (--each-line); after a refusal the process stops, so the rest are run again."""
    pending = list(range(len(docs)))
    while pending:
        batch = [i for i in pending if "\n" not in docs[i]]
        if batch:
            run = batch
            cmd = [binary, "constrain", "--model", model, "--schema", schema_path, "--dump-masks", "--each-line"]
            data = "\n".join(docs[i] for i in run).encode()
        else:
            run = pending[:1]
            cmd = [binary, "constrain", "--model", model, "--schema", schema_path, "--dump-masks"]
            data = docs[run[0]].encode()
        with tempfile.TemporaryFile() as inp, tempfile.TemporaryFile() as err:
            inp.write(data)
            inp.seek(0)
            proc = subprocess.Popen(cmd, stdin=inp, stdout=subprocess.PIPE, stderr=err)
            for line in proc.stdout:
                o = json.loads(line)
                yield ("step", run[o["document"] - 1], o["step"], o["token"], np.asarray(o["allowed"], dtype=np.int64))
            rc = proc.wait()
            err.seek(0)
            message = err.read().decode().strip()
        if rc not in (0, 1):
            raise RuntimeError(f"kimi-serve exited {rc}: {message[:500]}")
        failed = None
        if rc == 1:
            m = re.match(r"document (\d+): ", message)
            failed = int(m.group(1)) if m else 1
        done = []
        for n, i in enumerate(run, start=1):
            if failed is not None and n > failed:
                break
            yield ("end", i, message if n == failed else None)
            done.append(i)
        pending = [i for i in pending if i not in done]


# ---------------------------------------------------------------- where a prefix stands

WS_BYTES = b" \t\r\n"


class Scan:
    """A byte-level JSON scanner over a document prefix: where it stands (`ctx`), the path of the
    value being written, the open containers. ctx is one of: value (a value may start: root,
    after ':' or ',' in an array, after '['), key (after '{' or ',' in an object: a key or '}'),
    in-key, colon (after a key), after (after a value in a container), string, number, literal,
    end (the root is complete), error (not JSON)."""

    def __init__(self):
        self.ctx = "value"
        self.stack = []  # [kind, key or index, keys seen, raw key bytes]
        self.buf = b""  # current string's raw bytes, number or literal text
        self.ws = 0  # bytes in the current whitespace run
        self.newlines = 0
        self.comma = False  # the last token was a comma

    def path(self):
        return [f[1] for f in self.stack]

    def copy(self):
        c = Scan()
        c.ctx, c.buf, c.ws, c.newlines, c.comma = self.ctx, self.buf, self.ws, self.newlines, self.comma
        c.stack = [[f[0], f[1], set(f[2]), f[3]] for f in self.stack]
        return c

    def _value_done(self):
        self.ctx = "after" if self.stack else "end"
        self.buf = b""

    def feed(self, data):
        for b in data:
            self.step(b)
            if self.ctx == "error":
                break
        return self

    def step(self, b):
        c = bytes([b])
        ctx = self.ctx
        if ctx in ("value", "key", "colon", "after", "end") and c in WS_BYTES:
            self.ws += 1
            self.newlines += c == b"\n"
            return
        if ctx not in ("string", "in-key"):
            self.ws = self.newlines = 0
            self.comma = False
        if ctx == "string" or ctx == "in-key":
            if self.buf.endswith(b"\\") and not unescaped_backslash_run(self.buf) % 2 == 0:
                self.buf += c
                return
            if c == b'"' and not pending_escape(self.buf):
                if ctx == "in-key":
                    key = decode_json_string(self.buf)
                    self.stack[-1][3] = key
                    self.ctx = "colon"
                    self.buf = b""
                else:
                    self._value_done()
                return
            self.buf += c
            return
        if ctx == "number":
            if c in b"0123456789+-.eE":
                self.buf += c
                return
            self._value_done()
            return self.step(b)
        if ctx == "literal":
            self.buf += c
            if self.buf in (b"true", b"false", b"null"):
                self._value_done()
            elif not any(w.startswith(self.buf) for w in (b"true", b"false", b"null")):
                self.ctx = "error"
            return
        if ctx == "value":
            if c == b"]" and self.stack and self.stack[-1][0] == "array" and self.stack[-1][1] == 0 and not self.stack[-1][2]:
                self.stack.pop()
                self._value_done()
            elif c == b"{":
                self.stack.append(["object", None, set(), None])
                self.ctx = "key"
            elif c == b"[":
                self.stack.append(["array", 0, set(), None])
                self.ctx = "value"
            elif c == b'"':
                self.ctx, self.buf = "string", b""
            elif c in b"-0123456789":
                self.ctx, self.buf = "number", c
            elif c in b"tfn":
                self.ctx, self.buf = "literal", c
            else:
                self.ctx = "error"
            return
        if ctx == "key":
            if c == b'"':
                self.ctx, self.buf = "in-key", b""
            elif c == b"}":
                self.stack.pop()
                self._value_done()
            else:
                self.ctx = "error"
            return
        if ctx == "colon":
            if c == b":":
                f = self.stack[-1]
                f[1] = f[3]
                f[2].add(f[3])
                self.ctx = "value"
            else:
                self.ctx = "error"
            return
        if ctx == "after":
            f = self.stack[-1]
            if c == b",":
                self.comma = True
                if f[0] == "array":
                    f[2].add(f[1])
                    f[1] += 1
                    self.ctx = "value"
                else:
                    self.ctx = "key"
                return
            elif (c == b"}" and f[0] == "object") or (c == b"]" and f[0] == "array"):
                self.stack.pop()
                self._value_done()
            else:
                self.ctx = "error"
            return
        self.ctx = "error"


def unescaped_backslash_run(buf):
    n = 0
    while n < len(buf) and buf[len(buf) - 1 - n] == 0x5C:
        n += 1
    return n


def pending_escape(buf):
    """Whether a string's raw bytes end inside an escape (after a backslash or within \\uXXXX)."""
    if unescaped_backslash_run(buf) % 2 == 1:
        return True
    m = re.search(rb"(\\+)u([0-9a-fA-F]{0,3})$", buf)
    return bool(m and len(m.group(1)) % 2 == 1)


def decode_json_string(raw):
    try:
        return json.loads(b'"' + raw + b'"')
    except Exception:
        return raw.decode("utf-8", "replace")


class Subschemas:
    """The schemas that may apply at a JSON path (all branches of anyOf/oneOf, through $ref and
    allOf), for naming the keyword a difference is about."""

    def __init__(self, root):
        self.root = root

    def flatten(self, s, depth=0, seen=None):
        if not isinstance(s, dict) or depth > 30:
            return []
        out = [s]
        if "$ref" in s:
            try:
                out += self.flatten(resolve(self.root, s["$ref"]), depth + 1)
            except Exception:
                pass
        for k in ("allOf", "anyOf", "oneOf"):
            for b in s.get(k) or []:
                out += self.flatten(b, depth + 1)
        return out

    def at(self, path):
        current = self.flatten(self.root)
        for step in path:
            nxt = []
            for s in current:
                if isinstance(step, int):
                    prefix = s.get("prefixItems")
                    if prefix is None and isinstance(s.get("items"), list):
                        prefix = s["items"]
                    if prefix is not None and step < len(prefix):
                        nxt += self.flatten(prefix[step])
                    elif isinstance(s.get("items"), dict):
                        nxt += self.flatten(s["items"])
                    elif isinstance(s.get("additionalItems"), dict):
                        nxt += self.flatten(s["additionalItems"])
                elif step is not None:
                    props = s.get("properties") or {}
                    if step in props:
                        nxt += self.flatten(props[step])
                    elif isinstance(s.get("additionalProperties"), dict):
                        nxt += self.flatten(s["additionalProperties"])
            current = nxt
        return current

    def keyword(self, path, *names):
        for s in self.at(path):
            for n in names:
                if n in s:
                    return n, s[n]
        return None


# ---------------------------------------------------------------- judging a prefix


class Judge:
    """jsonschema's verdict on a complete document, as the corpus's judges: Draft 2020-12 with
    formats checked and patterns with ASCII classes and a final `$` as the very end (Python's
    `$` also matches before a final newline), and the same with oneOf read as anyOf (the
    engine's documented reading)."""

    def __init__(self, schema):
        import jsonschema
        from jsonschema import Draft202012Validator, ValidationError

        def strict_pattern(validator, pattern, instance, schema):
            if validator.is_type(instance, "string") and not re.search(strict_regex(pattern), instance, re.ASCII):
                yield ValidationError(f"{instance!r} does not match {pattern!r}")

        Strict = jsonschema.validators.extend(Draft202012Validator, {"pattern": strict_pattern})
        checker = Draft202012Validator.FORMAT_CHECKER
        self.strict = Strict(schema, format_checker=checker)
        self.engine = Strict(one_of_as_any_of(schema), format_checker=checker)

    def verdict(self, text):
        """"valid", "valid-anyOf" (only with oneOf read as anyOf), "invalid" or "not-json"."""
        try:
            value = json.loads(text)
        except Exception:
            return "not-json"
        if not unicode_clean(value):
            return "lone-surrogate"
        try:
            if self.strict.is_valid(value):
                return "valid"
            if self.engine.is_valid(value):
                return "valid-anyOf"
        except Exception:
            return "invalid"
        return "invalid"


def unicode_clean(v):
    """No string holds a lone surrogate (which `\\uD800`-style escapes can spell)."""
    if isinstance(v, str):
        try:
            v.encode("utf-8")
            return True
        except UnicodeEncodeError:
            return False
    if isinstance(v, dict):
        return all(unicode_clean(k) and unicode_clean(x) for k, x in v.items())
    if isinstance(v, list):
        return all(unicode_clean(x) for x in v)
    return True


FORMAT_SAMPLES = {
    "date-time": ["2024-01-01T00:00:00Z", "2024-01-01T00:00:00+00:00"], "date": ["2024-01-01"],
    "time": ["00:00:00Z", "00:00:00+00:00"], "uuid": ["00000000-0000-0000-0000-000000000000"],
    "email": ["a@b.co"], "uri": ["http://a.b/"], "hostname": ["a.b"], "ipv4": ["1.2.3.4"], "ipv6": ["::1"],
}


PADS = ["", "a", "0", "aa", "a0", "00", "aaaa", "0000", "aaaa0000", "a" * 16, "0" * 16]


def star(path):
    return tuple("*" if isinstance(p, int) else p for p in path)


class Witness:
    """Builds complete documents that start with a given prefix: the partial lexeme finished,
    then every open container closed (missing required properties and items filled), with
    values taken from the schema's valid instances at the same path or made up from the
    schema, and judged by jsonschema. A valid witness proves that some valid document starts
    with the prefix."""

    def __init__(self, schema, instances, judge):
        self.schema = schema
        self.sub = Subschemas(schema)
        self.judge = judge
        self.pool = collections.defaultdict(list)
        self.seen = set()
        self.minimal = False
        self.forced = None
        self.cache = {}
        for v in instances:
            self.collect(v, ())

    def collect(self, v, path):
        for p in {path, star(path)}:
            key = (p, json.dumps(v, sort_keys=True))
            if key not in self.seen:
                self.seen.add(key)
                self.pool[p].append(v)
        if isinstance(v, dict):
            for k, x in v.items():
                self.collect(x, path + (k,))
        elif isinstance(v, list):
            for i, x in enumerate(v):
                self.collect(x, path + (i,))

    def made_up(self, schemas, depth=0):
        out = []
        for s in schemas:
            if "const" in s:
                out.append(s["const"])
            if s.get("enum"):
                out += s["enum"]
            if "default" in s:
                out.append(s["default"])
            out += s.get("examples") or []
            types = s.get("type")
            types = [types] if isinstance(types, str) else types or []
            if "format" in s:
                out += FORMAT_SAMPLES.get(s["format"], [])
            for t in types:
                if t == "string":
                    out.append("a" * (s.get("minLength") or 0))
                elif t in ("integer", "number"):
                    lo = s.get("minimum", s.get("exclusiveMinimum"))
                    hi = s.get("maximum", s.get("exclusiveMaximum"))
                    cands = [0, 1, -1]
                    if isinstance(lo, (int, float)):
                        cands = [int(lo) + 1, lo, int(lo)] + cands
                    if isinstance(hi, (int, float)):
                        cands += [int(hi) - 1, hi]
                    out += cands
                elif t == "boolean":
                    out += [False, True]
                elif t == "null":
                    out.append(None)
                elif t == "array" and depth < 4:
                    n = s.get("minItems") or 0
                    item = self.made_up(Subschemas(self.schema).flatten(s.get("items", {})) if isinstance(s.get("items"), dict) else [], depth + 1)
                    out.append([item[0] if item else None] * n)
                elif t == "object" and depth < 4:
                    o = {}
                    for name in s.get("required") or []:
                        sub = (s.get("properties") or {}).get(name, {})
                        vals = self.made_up(self.sub.flatten(sub), depth + 1)
                        o[name] = vals[0] if vals else None
                    out.append(o)
        return out

    def values(self, path, rng):
        vals = list(self.pool.get(tuple(path), [])) + list(self.pool.get(star(path), []))
        vals += self.made_up(self.sub.at(list(path)))
        if not vals:
            vals = ["", 0, None, {}, []]
        first, rest = vals[:1], vals[1:]
        rng.shuffle(rest)
        return first + rest

    def strings(self, path, rng):
        return [v for v in self.values(path, rng) if isinstance(v, str)]

    def names(self, objpath):
        names = []
        for s in self.sub.at(list(objpath)):
            for n in list((s.get("properties") or {})) + list(s.get("required") or []):
                if n not in names:
                    names.append(n)
        return names

    def required(self, objpath, rng, attempt):
        req = []
        for s in self.sub.at(list(objpath)):
            for n in s.get("required") or []:
                if n not in req:
                    req.append(n)
        if attempt % 3 == 1:
            return [n for n in req if rng.random() < 0.5]
        return req

    def min_items(self, path):
        return max([s.get("minItems") or 0 for s in self.sub.at(list(path))] + [0])

    def finish_string(self, raw, candidates, rng):
        """Rest of a JSON string whose raw bytes so far are `raw`, to spell one of `candidates`."""
        m = re.search(rb"(\\+)(u[0-9a-fA-F]{0,4}(\\(u[0-9a-fA-F]{0,4})?)?)?$", raw)
        escape = b""
        body = raw
        if m and len(m.group(1)) % 2 == 1:
            escape = raw[m.start() + len(m.group(1)) - 1:]
            body = raw[:m.start() + len(m.group(1)) - 1]
        if escape == b"\\u" + escape[2:6] and len(escape) == 6 and not (0xD800 <= int(escape[2:6], 16) <= 0xDBFF):
            body, escape = raw, b""  # a complete BMP escape
        try:
            decoded = json.loads(b'"' + body + b'"') if not body.endswith(b"\\") else None
        except Exception:
            # partial UTF-8 at the end: decode what is complete, keep the bytes
            k = len(body)
            decoded = None
            for cut in range(1, 4):
                try:
                    decoded = json.loads(b'"' + body[:k - cut] + b'"')
                    tail = body[k - cut:]
                    break
                except Exception:
                    continue
            if decoded is None:
                return None
            out = []
            made = []
            for cont in (0x80, 0x90, 0xA0, 0xBF):
                for n in range(1, 4):
                    try:
                        made.append(decoded + (tail + bytes([cont]) * n).decode())
                        break
                    except UnicodeDecodeError:
                        continue
            pads = [m + pad for m in made for pad in PADS]
            for c in (list(candidates) + pads if not self.minimal else pads + list(candidates)):
                cb = c.encode()
                head = decoded.encode() + tail
                if cb.startswith(head) and not escape:
                    rest = cb[len(head):]
                    n = next((j for j in range(len(rest) + 1) if rest[j:j + 1] == b"" or rest[j] < 0x80 or rest[j] >= 0xC0), len(rest))
                    out.append(rest[:n] + json.dumps(rest[n:].decode("utf-8", "replace"), ensure_ascii=False)[1:-1].encode() + b'"')
            return out
        if decoded is None:
            return None
        out = []
        extra = []
        if escape:
            # a made-up next character the escape can spell
            if escape == b"\\":
                extra = [decoded + "A", decoded + "a", decoded + "0", decoded + "\n", decoded + "/", decoded + "\""]
            else:
                hexes = escape[2:6].decode()
                code = int((hexes + "0000")[:4], 16) if hexes else 0x41
                if 0xD800 <= code <= 0xDBFF:
                    low = escape[7:].lstrip(b"u").decode() if len(escape) > 6 else ""
                    lo = int((low + "0000")[:4], 16) if low else 0xDC00
                    extra = [decoded + chr(0x10000 + ((code - 0xD800) << 10) + (max(lo, 0xDC00) - 0xDC00 if lo <= 0xDFFF else 0))]
                elif not (0xDC00 <= code <= 0xDFFF):
                    extra = [decoded + chr(code)]
        joined = [decoded + c[i:] for c in list(candidates)[:8] for i in range(len(c))]
        pads = [b + pad for b in extra + [decoded] for pad in PADS]
        order = list(candidates) + joined + pads if not self.minimal else pads + list(candidates) + joined
        for c in order:
            if not c.startswith(decoded):
                continue
            rest = c[len(decoded):]
            if escape:
                if not rest:
                    continue
                ch, rest = rest[0], rest[1:]
                spellings = []
                short = {"\n": "n", "/": "/", '"': '"', "\\": "\\", "\b": "b", "\f": "f", "\r": "r", "\t": "t"}
                if ch in short:
                    spellings.append("\\" + short[ch])
                if ord(ch) >= 0x10000:
                    v = ord(ch) - 0x10000
                    spellings += ["\\u%04x\\u%04x" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF))]
                    spellings += [x.upper().replace("\\U", "\\u") for x in spellings]
                else:
                    spellings += ["\\u%04x" % ord(ch), "\\u%04X" % ord(ch)]
                e = escape.decode()
                spell = next((x for x in spellings if x.startswith(e)), None)
                if spell is None:
                    continue
                out.append(spell[len(e):].encode() + json.dumps(rest, ensure_ascii=False)[1:-1].encode() + b'"')
            else:
                out.append(json.dumps(rest, ensure_ascii=False)[1:-1].encode() + b'"')
        return list(dict.fromkeys(out))

    def template(self, path, seen, rng, attempt, partial=None):
        """A valid object from the instances at this path to take missing members from (one
        with a key that continues the partial key, when there is one)."""
        objs = [v for v in self.values(path, rng) if isinstance(v, dict)]
        if partial is not None:
            objs = [o for o in objs if any(k.startswith(partial) and k not in seen for k in o)] or objs
        if not objs:
            return None
        if attempt == 0:
            return max(objs, key=lambda o: len(set(o) & set(seen)))
        return rng.choice(objs)

    def pick_rest(self, rests, rng, attempt):
        """How the partial lexeme goes on: the option chosen by find() when it enumerates them."""
        if self.forced is not None:
            return rests[self.forced] if self.forced < len(rests) else None
        return self.pick(rests, rng, attempt)

    def pick(self, vals, rng, attempt):
        """The first value on the first attempt, else one biased towards the front."""
        if attempt < 2:
            return vals[0]
        return vals[int(len(vals) * rng.random() ** (2 if attempt % 4 < 2 else 1))]

    def member(self, objpath, key, template, rng, attempt):
        if template is not None and key in template and (attempt < 2 or rng.random() < 0.7):
            return template[key]
        return self.pick(self.values(list(objpath) + [key], rng), rng, attempt)

    def attempt(self, prefix, rng, attempt, scanned=None):
        self.minimal = attempt % 2 == 1  # odd attempts finish strings as early as possible
        sc = scanned.copy() if scanned is not None else Scan().feed(prefix)
        if sc.ctx == "error":
            return None
        out = prefix
        path = sc.path()
        stack = sc.stack
        templates = {}
        partial = None
        if sc.ctx == "in-key":
            raw = re.sub(rb"\\(u[0-9a-fA-F]{0,3})?$", b"", sc.buf)
            partial = decode_json_string(raw) if raw == sc.buf or not raw.endswith(b"\\") else None
        for depth, f in enumerate(stack):
            if f[0] == "object":
                templates[depth] = self.template([g[1] for g in stack[:depth]], f[2], rng, attempt,
                                                 partial if depth == len(stack) - 1 else None)
        closed_value = False
        dump = lambda v: json.dumps(v, ensure_ascii=False).encode()
        if sc.ctx == "string":
            rests = self.finish_string(sc.buf, self.strings(path, rng), rng)
            rest = self.pick_rest(rests, rng, attempt) if rests else None
            if rest is None:
                return None
            out += rest
            closed_value = True
        elif sc.ctx == "number":
            texts = [json.dumps(v) for v in self.values(path, rng) if isinstance(v, (int, float)) and not isinstance(v, bool)]
            rests = [t[len(sc.buf):] for t in texts if t.startswith(sc.buf.decode())] if sc.buf else []
            # Runs of nines reach the values just below a digit that round up to a bound's double.
            rests = (["", "0"] if sc.buf[-1:].isdigit() else ["0", "1"]) + rests + ["", "0", "1", "5", "00", "9", "01", "1e1", "0e0"] \
                + ["9" * n for n in (17, 25, 37)]
            rest = self.pick_rest(rests, rng, attempt)
            if rest is None:
                return None
            out += rest.encode()
            closed_value = True
        elif sc.ctx == "literal":
            for w in (b"true", b"false", b"null"):
                if w.startswith(sc.buf):
                    out += w[len(sc.buf):]
            closed_value = True
        elif sc.ctx in ("in-key", "colon"):
            objpath = path[:-1]
            seen = stack[-1][2]
            template = templates.get(len(stack) - 1)
            if sc.ctx == "in-key":
                names = [n for n in self.names(objpath) if n not in seen]
                if template is not None:
                    names = [n for n in template if n not in seen] + names
                if attempt % 2 == 1:
                    rng.shuffle(names)
                rests = self.finish_string(sc.buf, names + ["x", "zz"], rng)
                rest = self.pick_rest(rests, rng, attempt) if rests else None
                if rest is None:
                    return None
                out += rest
                key = decode_json_string(sc.buf + rest[:-1])
            else:
                key = stack[-1][3]
            out += b":" + dump(self.member(objpath, key, template, rng, attempt))
            stack[-1][2].add(key)
            closed_value = True
        elif sc.ctx == "value":
            if not stack:
                return out + dump(self.pick(self.values([], rng), rng, attempt))
            top = stack[-1]
            if top[0] == "object":
                out += dump(self.member(path[:-1], top[1], templates.get(len(stack) - 1), rng, attempt))
                closed_value = True
            elif sc.comma or self.min_items(path[:-1]) > top[1]:
                out += dump(self.pick(self.values(path, rng), rng, attempt))
                closed_value = True
        elif sc.ctx == "key" and sc.comma:
            objpath = path[:-1]
            seen = stack[-1][2]
            template = templates.get(len(stack) - 1)
            names = ([n for n in template if n not in seen] if template else []) or \
                [n for n in self.required(objpath, rng, 0) if n not in seen] or [n for n in self.names(objpath) if n not in seen] or ["x"]
            key = self.pick(names, rng, attempt)
            out += dump(key) + b":" + dump(self.member(objpath, key, template, rng, attempt))
            stack[-1][2].add(key)
            closed_value = True
        elif sc.ctx == "end":
            return out
        # close the containers, innermost first
        for depth in range(len(stack) - 1, -1, -1):
            f = stack[depth]
            here = [g[1] for g in stack[:depth]]
            if f[0] == "object":
                members = bool(f[2]) or closed_value or sc.ctx == "after"
                template = templates.get(depth)
                if template is not None and (attempt % 3 != 2):
                    missing = [n for n in template if n not in f[2]]
                else:
                    missing = [n for n in self.required(here, rng, attempt) if n not in f[2]]
                for name in missing:
                    out += (b"," if members else b"") + dump(name) + b":" + dump(self.member(here, name, template, rng, attempt))
                    members = True
                out += b"}"
            else:
                count = f[1] + 1 if (closed_value or sc.ctx == "after") else f[1]
                need = self.min_items(here)
                while count < need:
                    out += (b"," if count else b"") + dump(self.pick(self.values(here + [count], rng), rng, attempt))
                    count += 1
                out += b"]"
            closed_value = True
            sc.ctx = "after"
        return out

    def find(self, prefix, attempts=24, want=1):
        """(verdict, documents): up to `want` distinct valid witnesses, else ([last attempt])."""
        import random
        key = (prefix, want)
        if key in self.cache:
            return self.cache[key]
        rng = random.Random(0)
        found, verdict, last = [], None, None
        scanned = Scan().feed(prefix)
        # First the first options for the partial lexeme one by one (each with the first values
        # and with the shortest strings), then random choices everywhere.
        plan = [(i, a) for i in range(12) for a in (0, 1)] + [(None, a) for a in range(2, attempts)]
        for forced, a in plan:
            self.forced = forced
            try:
                doc = self.attempt(prefix, rng, a, scanned)
            except Exception:
                doc = None
            finally:
                self.forced = None
            if doc is None or doc in found:
                continue
            v = self.judge.verdict(doc)
            if v in ("valid", "valid-anyOf"):
                verdict = "valid" if verdict in (None, "valid") and v == "valid" else "valid-anyOf"
                found.append(doc)
                if len(found) >= want:
                    break
            else:
                last = (v, doc)
        result = (verdict, found) if found else (last[0], [last[1]]) if last else (None, [])
        self.cache[key] = result
        return result


# ---------------------------------------------------------------- classifying a difference

NUMBER_BYTES = b"0123456789+-.eE"


def classify(sc, sub, tb, is_end, side="ours"):
    """The category of a token (bytes tb) that one side allows after a prefix scanned into sc."""
    ctx = sc.ctx
    path = sc.path()
    first = tb[:1]
    bounded = sub.keyword(path, "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
    if ctx == "number" and (is_end or (first and first not in NUMBER_BYTES)) and side == "ours" and bounded \
            and re.search(rb"\.\d*0$", sc.buf):
        return "number-fraction-zeros"
    if is_end:
        return "end:" + ctx
    if ctx in ("value", "key", "colon", "after", "end", "number") and first and first in WS_BYTES:
        # Leading whitespace within the limits: the difference is about what follows it.
        k = len(tb) - len(tb.lstrip(WS_BYTES))
        after = sc.copy().feed(tb[:k])
        if ctx == "number" and k == len(tb):
            return "number-end"
        if k < len(tb) and after.ws <= 64 and after.newlines <= 1 and after.ctx != "error":
            return classify(after, sub, tb[k:], False, side)
        return "whitespace"
    if side == "ours":
        # A comma inside an object that only we allow: only properties out of schema order remain.
        probe = sc.copy()
        for b in tb:
            top = probe.stack[-1][0] if probe.stack else None
            before = probe.ctx
            probe.step(b)
            if b == 0x2C and before in ("after", "number") and top == "object":
                return "key-order"
            if probe.ctx == "error":
                break
    if ctx == "end":
        return "after-root"
    if ctx == "number" and first and first not in NUMBER_BYTES:
        return "number-end"
    if ctx == "colon":
        return "structure"
    if ctx in ("key", "in-key"):
        if ctx == "key" and first != b'"':
            return "object-close" if first == b"}" else "structure"
        body = tb[1:] if ctx == "key" else tb
        escaped = pending_escape(sc.buf) if ctx == "in-key" else False
        quote = body.find(b'"') if not escaped else -1
        key_part = body if quote < 0 else body[:quote]
        if escaped or b"\\" in key_part:
            return "key-escape"
        return "key-order"
    if ctx == "value" and first == b'"' and len(tb) > 1:
        return classify(sc.copy().feed(b'"'), sub, tb[1:], False, side)
    if ctx == "string":
        in_escape = pending_escape(sc.buf)
        closing = first == b'"' and not in_escape
        body = tb
        if b"\x7f" in body and not closing:
            return "string-del"
        if (in_escape and unescaped_backslash_run(sc.buf) % 2 == 1 and first == b"/") or b"\\/" in body:
            return "string-solidus"
        kw = sub.keyword(path, "format", "pattern", "enum", "const")
        escape = in_escape or (b"\\" in body and not closing)
        if kw and escape:
            return "escape-constrained:" + ("format" if kw[0] == "format" else kw[0].replace("const", "enum"))
        if kw:
            return {"format": "format:" + str(kw[1]), "pattern": "pattern", "enum": "enum-const", "const": "enum-const"}[kw[0]]
        if sub.keyword(path, "minLength", "maxLength"):
            return "string-length"
        if escape:
            return "string-escape"
        return "string-other"
    if ctx == "number" or (ctx == "value" and first and first in b"-0123456789"):
        text = sc.buf if ctx == "number" else b""
        for b in tb:
            if bytes([b]) not in NUMBER_BYTES:
                break
            text += bytes([b])
        if sub.keyword(path, "enum", "const"):
            return "enum-const"
        low = sub.keyword(path, "minimum", "exclusiveMinimum")
        if text.startswith(b"-") and low and isinstance(low[1], (int, float)) and not isinstance(low[1], bool) and low[1] >= 0:
            return "number-negative-zero"
        if re.search(rb"[eE]", text):
            return "number-exponent-bounded" if bounded else "number-exponent"
        m = re.match(rb"-?(\d*)(?:\.(\d*))?", text)
        if m and (len(m.group(1) or b"") > 40 or len(m.group(2) or b"") > 40):
            return "number-digits"
        return "number-bounds" if bounded else "number-other"
    if ctx == "value":
        if sub.keyword(path, "enum", "const"):
            return "enum-const"
        return "value-start"
    if ctx == "after":
        top = sc.stack[-1][0] if sc.stack else None
        return "array-length" if top == "array" else "object-close" if first == b"}" else "structure"
    if ctx == "literal":
        return "literal"
    return "other"


# ---------------------------------------------------------------- llguidance

def llguidance_grammar(schema):
    import llguidance
    body = dict(schema) if isinstance(schema, dict) else {}
    body["x-guidance"] = LLG_OPTIONS
    lark = f'%llguidance {{"no_forcing": true}}\nstart: WS? body WS?\nWS: /{WS_REGEX}/\nbody: %json {json.dumps(body)}\n'
    return llguidance.LLMatcher.grammar_from_lark(lark)


class Reference:
    """An llguidance matcher for one schema over the vocabulary."""

    def __init__(self, tokenizer, vocab, schema):
        import llguidance
        self.vocab = vocab
        self.matcher = llguidance.LLMatcher(tokenizer, llguidance_grammar(schema), log_level=0)
        self.error = self.matcher.get_error() if self.matcher.is_error() else None

    def reset(self):
        self.matcher.reset()

    def mask(self):
        bits = np.unpackbits(np.frombuffer(self.matcher.compute_bitmask(), dtype=np.uint8), bitorder="little")
        return bits[: self.vocab.size].astype(bool)

    def consume(self, token):
        return self.matcher.consume_token(token)


# ---------------------------------------------------------------- comparison

def sample_ids(ids, token):
    """The ids, or an even sample of TOKEN_CAP of them (plus the document's token) when more."""
    if len(ids) <= TOKEN_CAP:
        return [int(i) for i in ids]
    picked = {int(i) for i in ids[:: max(1, len(ids) // TOKEN_CAP)]}
    if token in set(ids.tolist()):
        picked.add(int(token))
    return sorted(picked)


def compare_schema(entry, texts, args, vocab, tokenizer, universe):
    """Walks the documents of one schema on both sides. Returns a dict of per-step records."""
    out = {"name": entry["name"], "docs": [], "steps": 0, "identical": 0, "diffs": [], "error": None,
           "ours_specials": 0, "llg_specials": 0}
    ref = Reference(tokenizer, vocab, entry["schema"])
    if ref.error:
        out["error"] = "llguidance: " + ref.error.splitlines()[0][:300]
        return out
    docs = documents(entry, texts, args.instances_now)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(entry["schema"], f)
        schema_path = f.name
    state = {}
    try:
        for ev in our_masks(args.binary, args.model, schema_path, [t for _, t in docs]):
            if ev[0] == "end":
                _, d, refusal = ev
                st = state.pop(d, None) or {"tokens": [], "alive": True, "llg_refused": None}
                out["docs"].append({"index": d, "label": docs[d][0], "text": docs[d][1], "tokens": st["tokens"],
                                    "ours_refused": refusal, "llg_refused": st["llg_refused"],
                                    "compared": st.get("compared", 0)})
                continue
            _, d, step, token, allowed = ev
            st = state.get(d)
            if st is None:
                ref.reset()
                st = state[d] = {"tokens": [], "alive": True, "llg_refused": None, "compared": 0}
            if st["alive"]:
                ours = np.zeros(vocab.size, dtype=bool)
                ours[allowed] = True
                theirs = ref.mask()
                other_specials = [int(i) for i in np.nonzero(ours & ~universe)[0]]
                out["ours_specials"] += bool(other_specials)
                out["llg_specials"] += bool(np.any(theirs & ~universe))
                ours &= universe
                theirs_u = theirs & universe
                out["steps"] += 1
                st["compared"] += 1
                ours_only = np.nonzero(ours & ~theirs_u)[0]
                llg_only = np.nonzero(theirs_u & ~ours)[0]
                if len(ours_only) == 0 and len(llg_only) == 0 and not other_specials:
                    out["identical"] += 1
                else:
                    out["diffs"].append({"doc": d, "step": step, "prefix": list(st["tokens"]), "token": token,
                                         "ours_only": sample_ids(ours_only, token), "llg_only": sample_ids(llg_only, token),
                                         "n_ours": len(ours_only), "n_llg": len(llg_only),
                                         "other_specials": other_specials})
                if not theirs[token]:
                    st["alive"] = False
                    st["llg_refused"] = step
                elif not ref.consume(token):
                    st["alive"] = False
                    st["llg_refused"] = step
            st["tokens"].append(token)
    finally:
        os.unlink(schema_path)
    return out


WITNESS_CAP = 5  # witness checks per schema, category and side
TOKEN_CAP = 400  # tokens classified per step and side (a sample beyond)


def analyze(r, entry, texts, vocab, stats, args):
    """Classifies every differing token of one schema's walk into stats[category], and builds
    witnesses for a sample of them."""
    if r["error"]:
        return
    judge = Judge(entry["schema"])
    witness = Witness(entry["schema"], [json.loads(t) for t in texts], judge)
    sub = Subschemas(entry["schema"])
    docs = {d["index"]: d for d in r["docs"]}
    checked = collections.Counter()
    pending = []
    for x in r["diffs"]:
        prefix = vocab.text(x["prefix"])
        sc = Scan().feed(prefix)
        step_cats = set()
        refused_by = {}
        for side, ids in (("ours", x["ours_only"]), ("llg", x["llg_only"])):
            scale = x["n_" + side] / len(ids) if ids else 1
            by_cat = collections.defaultdict(list)
            if side == "ours":
                refused_by = by_cat
            for t in ids:
                by_cat[classify(sc, sub, vocab.bytes[t] if t < vocab.ordinary else b"", t == vocab.end, side)].append(t)
            for cat, toks in by_cat.items():
                st = stats.setdefault(cat, {"steps": 0, "ours": 0, "llg": 0, "schemas": set(), "examples": [],
                                            "witness": collections.Counter(), "unverified": [], "valid_llg": [],
                                            "unjustified_llg": []})
                st[side] += len(toks) * scale
                st["schemas"].add(r["name"])
                step_cats.add(cat)
                picks = ([x["token"]] if x["token"] in toks else []) + [t for t in toks if t != x["token"]][:1]
                for t in picks:
                    key = (cat, side)
                    if checked[key] >= WITNESS_CAP:
                        break
                    checked[key] += 1
                    tb = vocab.bytes[t] if t < vocab.ordinary else b""
                    if t == vocab.end:
                        verdict = judge.verdict(prefix)
                        docs_found = [prefix]
                    else:
                        verdict, docs_found = witness.find(prefix + tb, want=4 if side == "ours" else 1)
                    verdict = verdict or "none-found"
                    doc = docs_found[0] if docs_found else None
                    d = docs.get(x["doc"], {})
                    example = {"schema": r["name"], "doc": d.get("label"), "text": d.get("text"), "step": x["step"],
                               "prefix": prefix, "token": t, "side": side, "verdict": verdict, "witness": doc,
                               "doc_token": x["token"], "n_ours": x["n_ours"], "n_llg": x["n_llg"],
                               "candidates": docs_found if verdict in ("valid", "valid-anyOf") else [], "category": cat,
                               "token_text": vocab.show(t)}
                    pending.append((st, example))
        d = docs.get(x["doc"])
        if d is not None and d["llg_refused"] == x["step"]:
            d["llg_refused_category"] = next((c for c, toks in refused_by.items() if x["token"] in toks), "?")
        for cat in step_cats:
            stats[cat]["steps"] += 1
        stats.setdefault("_step_sets", collections.Counter())[frozenset(step_cats)] += 1
    # Ours-only tokens: a valid witness must also be one our engine completes (else the token
    # leads into a state of ours without a way out).
    wanted = sorted({d for _, e in pending if e["side"] == "ours" and e["token"] != vocab.end for d in e["candidates"]})
    accepted = our_acceptance(args, entry["schema"], wanted)
    probes = 0
    for st, e in pending:
        if e["side"] == "ours" and e["token"] != vocab.end and e["verdict"] in ("valid", "valid-anyOf"):
            ok = [d for d in e["candidates"] if accepted.get(d, (False,))[0]]
            if ok:
                e["witness"] = ok[0]
            else:
                e["verdict"] = "valid-but-not-ours"
                e["our_refusal"] = accepted.get(e["candidates"][0], (False, ""))[1]
        if e["side"] == "ours" and e["verdict"] not in ("valid", "valid-anyOf") and probes < 10:
            probes += 1
            after = our_mask_after(args, entry["schema"], e["prefix"] + vocab.bytes[e["token"]])
            e["mask_after"] = after
            if after is not None and len(after) == 0:
                e["verdict"] = "dead-end"
        st["witness"][(e["side"], e["verdict"])] += 1
        if len(st["examples"]) < 40:
            st["examples"].append(e)
        if e["side"] == "ours" and e["verdict"] not in ("valid", "valid-anyOf"):
            st["unverified"].append(e)
        if e["side"] == "llg" and e["verdict"] in ("valid", "valid-anyOf"):
            st["valid_llg"].append(e)
        if e["side"] == "llg" and e["verdict"] not in ("valid", "valid-anyOf"):
            st["unjustified_llg"].append(e)


def our_mask_after(args, schema, prefix):
    """Our allowed ids after the bytes `prefix` (the mask printed for the end token that
    follows them), or None when we refuse a token of the prefix itself."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(schema, f)
        path = f.name
    try:
        r = subprocess.run([args.binary, "constrain", "--model", args.model, "--schema", path, "--dump-masks"],
                           input=prefix, capture_output=True)
    finally:
        os.unlink(path)
    lines = r.stdout.splitlines()
    if not lines:
        return None
    last = json.loads(lines[-1])
    return last["allowed"] if last["token"] == args.end else None


def our_acceptance(args, schema, docs):
    """{document: (accepted, message)} from `kimi-serve constrain` (no masks printed)."""
    out = {}
    if not docs:
        return out
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(schema, f)
        path = f.name
    try:
        pending = list(docs)
        while pending:
            single = [d for d in pending if b"\n" not in d]
            run = single if single else pending[:1]
            cmd = [args.binary, "constrain", "--model", args.model, "--schema", path] + (["--each-line"] if single else [])
            r = subprocess.run(cmd, input=b"\n".join(run), capture_output=True)
            message = r.stderr.decode(errors="replace").strip()
            failed = None
            if r.returncode == 1:
                m = re.match(r"document (\d+): ", message)
                failed = int(m.group(1)) if m else 1
            elif r.returncode != 0:
                raise RuntimeError(f"kimi-serve exited {r.returncode}: {message[:300]}")
            done = []
            for n, d in enumerate(run, start=1):
                if failed is not None and n > failed:
                    break
                out[d] = (n != failed, message if n == failed else "")
                done.append(d)
            done = set(done)
            pending = [d for d in pending if d not in done]
    finally:
        os.unlink(path)
    return out


# ---------------------------------------------------------------- the report

# Categories: title, which side is right and why (JSON / JSON Schema / the engine's documents).
CATEGORIES = {
    "key-order": ("Property order",
        "We accept the declared properties in any order (each at most once) and other keys, where "
        "`additionalProperties` admits them, anywhere; llguidance fixes the order of `properties` and puts "
        "other keys after them (its documented departure, docs/json_schema.md \"Property order\"). The "
        "category also holds the commas we allow because only properties that llguidance wants earlier "
        "remain. JSON objects are unordered (RFC 8259 §4) and JSON Schema constrains no member order: "
        "**ours is right**; llguidance's order is a deliberate simplification. Documents of the corpus "
        "written in another order than the schema's are refused by llguidance at the first such key."),
    "key-escape": ("Escapes in property names",
        "We let a declared name be spelled with escapes (`\"\\u006cocation\"` is the key `location`); "
        "llguidance only takes the literal spelling. Both spell the same member name (RFC 8259 §7): "
        "**ours is right**, llguidance narrower (harmless: models rarely escape plain names)."),
    "string-del": ("Raw U+007F in strings",
        "We allow the DEL character unescaped inside strings; llguidance does not. RFC 8259 §7 only "
        "requires U+0000-U+001F, `\"` and `\\` to be escaped: **ours is right**."),
    "string-solidus": ("The `\\/` escape",
        "We allow `\\/` (an escaped solidus); llguidance's string lexer has no such escape (its "
        "`json_allowed_escapes` option even refuses `/`). RFC 8259 §7 lists `\\/`: **ours is right**."),
    "escape-constrained:format": ("Escapes inside strings with a `format`",
        "We decode escapes before the format's automaton (`\"\\u0032000-01-01\"` is the date "
        "`2000-01-01`); llguidance allows `\\u` escapes only in strings without a pattern or format "
        "(`json_allow_general_unicode_escapes`), and none inside a format. Same string value: **ours is right**."),
    "escape-constrained:pattern": ("Escapes inside strings with a `pattern`",
        "As for formats: we match the pattern against the decoded characters, so any escape spelling of "
        "an allowed character is allowed; llguidance only allows escapes for characters that must be "
        "escaped. **Ours is right** (the pattern applies to the string value, JSON Schema §6.3.3). "
        "Where llguidance alone allows a token here, it is llguidance mis-reading a class with `\\\\` "
        "(see below)."),
    "escape-constrained:enum": ("Escapes inside `enum`/`const` strings",
        "We accept any spelling of an enum/const string (`\"\\u0074ool\"` = `\"tool\"`); llguidance "
        "only the plain spelling. Equal values (JSON Schema §6.1.2 compares values): **ours is right**."),
    "format:email": ("`format: email`",
        "llguidance also accepts a domain literal (`a@[`…) and a single-label domain (`a@b`); our "
        "regex is a dot-atom local part `@` a dotted domain of DNS labels. Python's jsonschema checks only "
        "for an `@`, RFC 5321 allows both forms: **llguidance is closer to the RFC**; ours is narrower by "
        "design (Formats.swift: \"no wider than what jsonschema accepts\"), a documented restriction, "
        "not a soundness bug (every address we allow is valid)."),
    "format:date-time": ("`format: date-time` (leap second)",
        "llguidance allows a second `60` (`…T00:00:60Z`); RFC 3339 §5.6 allows `60` for leap seconds, but "
        "Python's jsonschema (rfc3339-validator) and the corpus's judges reject it, and we follow them. "
        "Narrower than RFC 3339, consistent with the reference validator: not a bug."),
    "format:time": ("`format: time` (leap second)",
        "As for date-time: llguidance allows second `60`, jsonschema and we do not."),
    "format:date": ("`format: date` (year 0000)",
        "llguidance allows the year `0000` (RFC 3339's `date-fullyear = 4DIGIT`); Python's `date` "
        "(used by jsonschema) has no year 0, and we follow it (years 0001-9999). Not a bug."),
    "number-exponent": ("Exponents of more than 3 digits",
        "We cap an exponent at 3 digits (README: \"exponent ≤ 3 digits\"); llguidance allows any. JSON allows "
        "any (`1e-2212` is valid JSON, Python reads it as 0.0): **a documented restriction of ours**."),
    "number-exponent-bounded": ("Exponent in a bounded number",
        "We write bounded numbers without an exponent (README); llguidance allows one. Documented restriction."),
    "number-digits": ("More than 40 digits",
        "We cap each part of a number at 40 digits (README); llguidance does not. Documented restriction."),
    "number-negative-zero": ("`-0` where the minimum is 0",
        "We allow `-` where the minimum is 0 or more, which can only go on as `-0` (or `-0.0…`); llguidance "
        "refuses it. −0 equals 0, which satisfies `minimum: 0` (jsonschema agrees): **ours is right**, "
        "if an odd spelling."),
    "number-fraction-zeros": ("Trailing zeros in a bounded number (llguidance bug)",
        "After a bounded number whose fraction ends in `0` (`0.50`, `0.911216520` for `0 < x < 1`), "
        "llguidance refuses to end the number (no `,`, `}`, whitespace or end); its range regex seems to "
        "exclude trailing zeros. `0.50` is a valid JSON number within the bounds: **ours is right**."),
    "number-bounds": ("Numeric bounds",
        "Tokens inside a bounded number. A validator reads a number as its correctly rounded double "
        "(Python's float) and compares that with the bound, so `0.0099999999999999999` is 0.01 and meets "
        "`minimum: 0.01`; we admit exactly the texts whose double meets the bounds, llguidance compares the "
        "decimal digits and refuses them: **ours is right** when the witness is valid and ours. Where the "
        "witness is a dead end, this is **a bug of ours** (see Suspected bugs)."),
    "number-end": ("Ending a number", "Where a number may end."),
    "number-other": ("Numbers (other)", "Number syntax."),
    "whitespace": ("Whitespace", "Whitespace runs (ours: at most 64 bytes, at most one newline; llguidance set to the same)."),
    "string-length": ("String length", "minLength/maxLength."),
    "pattern": ("Patterns", "Characters under a `pattern`."),
    "enum-const": ("enum/const", "Values of an enum or const."),
    "string-escape": ("Escapes in free strings", "Escapes in strings without constraints."),
    "string-other": ("Strings (other)", "Other string content."),
    "value-start": ("Start of a value", "Which values may start."),
    "structure": ("Structure", "Brackets, colons, commas."),
    "object-close": ("Closing an object", "`}` (required properties)."),
    "array-length": ("Array length", "`,` and `]` (minItems/maxItems/prefixItems)."),
    "literal": ("Literals", "true/false/null."),
    "after-root": ("After the root value", "Bytes after the document."),
}

LLG_BY_DESIGN = {"key-order", "key-escape"}


def category_title(cat):
    if cat in CATEGORIES:
        return CATEGORIES[cat][0]
    if cat.startswith("end:"):
        return f"End of document ({cat[4:]})"
    if cat.startswith("format:"):
        return f"`format: {cat[7:]}`"
    return cat


def fmt_count(x):
    return f"{x:,.0f}" if isinstance(x, float) else f"{x:,}"


def md_code(b, limit=90):
    return show_bytes(b, limit)


def versions():
    import importlib.metadata as md
    out = {"python": sys.version.split()[0]}
    for name in ("llguidance", "tiktoken", "jsonschema", "rfc3339-validator", "numpy"):
        try:
            out[name] = md.version(name)
        except Exception:
            out[name] = "?"
    return out


def reproduction(e, vocab_dir):
    name = e["schema"]
    return (f"schema `{name}`, document {e['doc']} (`{md_code(e['text'].encode(), 200)[1:-1]}`), step {e['step']}: "
            f"after {md_code(e['prefix'])} we allow {e['token_text']}")


def write_report(path, runs, args, argv):
    v = versions()
    lines = []
    w = lines.append
    w("# kimi-serve constraint masks vs llguidance")
    w("")
    w("Generated by `Scripts/compare_masks.py` (" + " ".join(argv) + f"), {time.strftime('%Y-%m-%d', time.gmtime())}.")
    w("")
    w("Every document below is tokenized by kimi-serve itself (`kimi-serve constrain --dump-masks --each-line`, "
      "tiktoken-exact BPE); before every token the full allowed set of kimi-serve is compared with llguidance's "
      "mask after the same token prefix (`LLMatcher.consume_token` / `compute_bitmask`) over the ordinary tokens "
      "plus the end token `<|im_end|>` (llguidance's EOS). Every token one side allows and the other does not is "
      "classified; for a sample of them a witness is built (the prefix, the token, then a completion from the "
      "schema's valid instances) and judged by jsonschema; a token only we allow must have a witness that is valid "
      "*and* that kimi-serve itself accepts to the end, else it is a suspected bug of ours.")
    w("")
    w("## Setup")
    w("")
    w(f"- llguidance {v['llguidance']} (PyPI), tiktoken {v['tiktoken']}, jsonschema {v['jsonschema']} "
      f"(+ rfc3339-validator {v['rfc3339-validator']}, formats checked), numpy {v['numpy']}, Python {v['python']}.")
    b = args.binary_info
    w(f"- kimi-serve: `{os.path.relpath(b['path'], ROOT)}` (built {b['mtime']}, sha256 `{b['sha256'][:16]}…`), "
      "run from a private copy.")
    w("- llguidance JSON options (set in the schema's `x-guidance`):")
    for k, val in LLG_OPTIONS_SHOWN.items():
        w(f"  - `{k}`: {val}")
    w("- Tokenizer for llguidance: `tiktoken.Encoding(mergeable_ranks=tiktoken.model, special_tokens=the 256 "
      "specials of tokenizer_config.json, reserved ones named)` through `llguidance.tiktoken.lltokenizer_from_encoding"
      "(eos_token=<|im_end|>)`. Specials other than `<|im_end|>` are never allowed by either side.")
    w("- Documents per schema: the first instance pairs of instances.json (compact, `json.dumps` spacing), the same "
      "rewritten in llguidance's property order (so that llguidance can follow them to the end), and the first one "
      "indented (indent=2, schema order).")
    w("")
    w("## Summary")
    w("")
    w("| vocabulary | schemas | documents | steps compared | identical masks | identical apart from property order / name spelling | not compared (after llguidance refused a token) | documents llguidance refuses | documents we refuse |")
    w("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        res = run["results"]
        steps = sum(r["steps"] for r in res)
        ident = sum(r["identical"] for r in res)
        design = sum(n for cs, n in run["stats"].get("_step_sets", {}).items() if cs and cs <= LLG_BY_DESIGN)
        docs = [d for r in res for d in r["docs"]]
        total_steps = sum(len(d["tokens"]) for d in docs)
        llg_ref = sum(1 for d in docs if d["llg_refused"] is not None)
        ours_ref = sum(1 for d in docs if d["ours_refused"])
        errors = [r for r in res if r["error"]]
        w(f"| {run['label']} | {len(res) - len(errors)}" + (f" (+{len(errors)} llguidance cannot compile)" if errors else "") +
          f" | {len(docs)} | {steps:,} | {ident:,} ({100 * ident / max(steps, 1):.1f}%) | "
          f"{ident + design:,} ({100 * (ident + design) / max(steps, 1):.1f}%) | {total_steps - steps:,} | {llg_ref} | {ours_ref} |")
    w("")
    for run in runs:
        res = run["results"]
        w(f"- {run['label']}: {run['seconds']:.0f} s; steps where we allowed a special token other than `<|im_end|>`: "
          f"{sum(r['ours_specials'] for r in res)}, where llguidance did: {sum(r['llg_specials'] for r in res)}." +
          "".join(f" llguidance cannot compile `{r['name']}`: {r['error']}." for r in res if r["error"]))
    w("")
    # Categories
    cats = {}
    for run in runs:
        for cat, st in run["stats"].items():
            if cat.startswith("_"):
                continue
            cats.setdefault(cat, []).append((run, st))
    order = sorted(cats, key=lambda c: -sum(st["steps"] for _, st in cats[c]))
    w("## Differences by category")
    w("")
    w("Steps: steps where the category occurs (a step can hold several). Tokens: token-steps allowed by one side "
      "only (sampled and scaled beyond 400 per step). Witnesses: tokens checked → verdict (`valid`: a complete document "
      "valid per jsonschema that starts with prefix+token and that kimi-serve accepts to the end when the token is ours; "
      "`dead-end`: kimi-serve allows no token at all after it; `invalid`/`none-found`: no valid completion was found).")
    w("")
    w("| category | " + " | ".join(f"{r['label']}: steps / ours-only / llguidance-only" for r in runs) + " | witnesses | right |")
    w("|---|" + "---|" * len(runs) + "---|---|")
    for cat in order:
        cells = []
        for run in runs:
            st = run["stats"].get(cat)
            cells.append(f"{st['steps']:,} / {fmt_count(st['ours'])} / {fmt_count(st['llg'])}" if st else "–")
        wit = collections.Counter()
        for _, st in cats[cat]:
            wit.update(st["witness"])
        witness = ", ".join(f"{side} {verdict} {n}" for (side, verdict), n in sorted(wit.items()))
        right = CATEGORY_VERDICT.get(cat, "see below")
        if any(e["verdict"] == "dead-end" for _, st in cats[cat] for e in st["unverified"]):
            right = "**bug of ours: dead end** (see below)"
        elif any(st["unverified"] for _, st in cats[cat]):
            right = "**check: ours unverified**"
        w(f"| {category_title(cat)} | " + " | ".join(cells) + f" | {witness} | {right} |")
    w("")
    absent = [c for c in ("whitespace", "end:end", "end:after", "number-end", "number-other", "number-digits",
                          "number-exponent-bounded", "string-length", "pattern", "enum-const", "value-start",
                          "structure", "object-close", "array-length", "literal", "after-root") if c not in cats]
    w("No difference at all in: " + ", ".join(category_title(c) for c in absent) + " (whitespace: both sides use the "
      "same 64-byte / one-newline runs, also around the root).")
    w("")
    w("### What each category is, with an example")
    w("")
    for cat in order:
        w(f"#### {category_title(cat)}")
        w("")
        if cat in CATEGORIES:
            w(CATEGORIES[cat][1])
            w("")
        schemas = sorted({n for _, st in cats[cat] for n in st["schemas"]})
        w(f"Schemas ({len(schemas)}): " + ", ".join(f"`{n}`" for n in schemas[:12]) + (" …" if len(schemas) > 12 else ""))
        w("")
        shown = 0
        for side in ("ours", "llg"):
            for run, st in cats[cat]:
                ex = [e for e in st["examples"] if e["side"] == side]
                if not ex:
                    continue
                ex.sort(key=lambda e: (e["verdict"] not in ("dead-end", "none-found", "invalid"), len(e["prefix"])))
                e = ex[0]
                who = "only kimi-serve allows" if side == "ours" else "only llguidance allows"
                w(f"- {run['label']}: `{e['schema']}`, document {e['doc']}, step {e['step']}: after {md_code(e['prefix'])} "
                  f"{who} {e['token_text']} ({e['n_ours']} ours-only / {e['n_llg']} llguidance-only tokens at this step). "
                  f"Witness ({e['verdict']}): {md_code(e['witness'] or b'', 160)}")
                shown += 1
                break
        w("")
    # Bugs
    w("## Suspected bugs on our side")
    w("")
    bugs = [(run, cat, e) for run in runs for cat, st in run["stats"].items() if not cat.startswith("_")
            for e in st["unverified"]]
    refused = [(run, r["name"], d) for run in runs for r in run["results"] for d in r["docs"] if d["ours_refused"]]
    if not bugs and not refused:
        w("None: every token only we allow that was checked has a valid witness that we accept to the end, and we "
          "accept every corpus document.")
    for run, name, d in refused:
        w(f"- **We refuse a valid document** ({run['label']}): schema `{name}`, document {d['label']} "
          f"`{md_code(d['text'].encode(), 200)[1:-1]}`: {d['ours_refused']}")
    groups = collections.OrderedDict()
    for run, cat, e in bugs:
        groups.setdefault((run["label"], cat, e["schema"], e["verdict"]), []).append(e)
    for (label, cat, schema, verdict), es in groups.items():
        e = min(es, key=lambda e: len(e["prefix"]))
        after = e.get("mask_after")
        w(f"- **{category_title(cat)}, {verdict}** ({label}; {len(es)} occurrence(s) in the documents walked): " +
          reproduction(e, None) +
          (f"; after it our mask is {'empty' if after == [] else str(len(after)) + ' tokens'}" if after is not None else "") +
          (f". The witness {md_code(e['witness'] or b'', 160)} is valid JSON for the schema but not in our language "
           f"({e.get('our_refusal')})" if e.get("our_refusal") else ""))
    w("")
    if any(e["verdict"] == "dead-end" for _, _, e in bugs):
        w(BUG_NOTES)
        w("")
    w("## llguidance's side")
    w("")
    w(LLG_NOTES)
    w("")
    llg_bad = [(run, cat, e) for run in runs for cat, st in run["stats"].items() if not cat.startswith("_")
               for e in st.get("unjustified_llg", [])]
    grouped = collections.OrderedDict()
    for run, cat, e in llg_bad:
        grouped.setdefault(cat, []).append((run, e))
    for cat, items in grouped.items():
        run, e = min(items, key=lambda re_: len(re_[1]["prefix"]))
        schemas = sorted({x["schema"] for _, x in items})
        w(f"- {category_title(cat)}: llguidance allows tokens with no valid completion found, in {len(schemas)} schema(s) "
          f"({', '.join(f'`{n}`' for n in schemas[:8])}); e.g. ({run['label']}) `{e['schema']}` {e['doc']} step {e['step']}: "
          f"after {md_code(e['prefix'])} llguidance allows {e['token_text']} ({e['verdict']}).")
    w("")
    inv = [run for run in runs if run.get("invalid")]
    if inv:
        w("## Invalid instances (whole documents)")
        w("")
        w("instances.json also holds texts that fail jsonschema (also with oneOf read as anyOf). Walked to the end "
          "on both sides:")
        w("")
        for run in inv:
            iv = run["invalid"]
            w(f"- {run['label']}: {iv['texts']} invalid texts; kimi-serve accepts {len(iv['ours'])}, "
              f"llguidance accepts {len(iv['llg'])}.")
            for name, t in iv["ours"][:10]:
                w(f"  - **we accept** `{name}`: {md_code(t, 200)}")
            for name, t in iv["llg"][:10]:
                w(f"  - llguidance accepts `{name}`: {md_code(t, 200)}")
        w("")
    w("## Documents llguidance refuses")
    w("")
    w("The corpus spells its instances with sorted keys, so most are out of the schema's order for llguidance; the "
      "\"schema order\" variants exist so that the other differences can be compared to the end of the document.")
    w("")
    refusals = collections.Counter()
    for run in runs:
        for r in run["results"]:
            for d in r["docs"]:
                if d["llg_refused"] is not None:
                    refusals[(run["label"], d.get("llg_refused_category", "?"))] += 1
    for (label, cat), n in sorted(refusals.items()):
        w(f"- {label}: {n} documents refused at a token of category {category_title(cat)}")
    w("")
    with open(path, "w") as f:
        f.write("\n".join(lines))


CATEGORY_VERDICT = {
    "key-order": "ours (JSON objects are unordered)", "key-escape": "ours (same key)", "string-del": "ours (RFC 8259)",
    "string-solidus": "ours (RFC 8259)", "escape-constrained:format": "ours (same value)",
    "escape-constrained:pattern": "ours (same value)", "escape-constrained:enum": "ours (same value)",
    "format:email": "llguidance wider (RFC 5321); ours narrower by design", "format:date-time": "ours = jsonschema; llguidance = RFC 3339",
    "format:time": "ours = jsonschema; llguidance = RFC 3339", "format:date": "ours = jsonschema; llguidance = RFC 3339",
    "number-exponent": "llguidance (ours: documented cap)", "number-digits": "llguidance (ours: documented cap)",
    "number-exponent-bounded": "llguidance (ours: documented)", "number-negative-zero": "ours (−0 = 0)",
    "number-fraction-zeros": "ours (llguidance bug)", "number-bounds": "ours (validators round to a double)",
}

BUG_NOTES = r"""Analysis of the dead end (from `Sources/KimiConstraints/JSONMatcher.swift`, read only): inside the
fraction of a bounded number, `numberFeasible` asks whether the closed interval [v, v + 10^-k] meets the bounds,
but the values reachable from the fraction so far lie in the half-open [v, v + 10^-k): with `minimum: 0.01`, after
`0.0` the digit `0` is allowed because [0, 0.01] touches the minimum, yet every `0.00…` is below 0.01 and each
next digit is refused (for `0.009`, v + unit computes to 0.009999999999999998 < 0.01), so the mask after `0.00` is
empty — in a server the request fails with "the output's grammar allows no next token"
(`Sources/KimiServing/GenerationState.swift`). The same test ignores the 40-digit cap: with `exclusiveMinimum: 0`,
`0.` and 40 zeros is allowed, then nothing is (a valid value needs a 41st digit). Reproduce (kimi-mini, any
vocabulary):

    python3 -c 'import json; c=json.load(open("Tests/Fixtures/schemas/corpus.json"))["schemas"]; print(json.dumps(next(s["schema"] for s in c if s["name"]=="numeric_bounds_edge_cases")))' > /tmp/nb.json
    printf '{"ratio":0.001,"delta":0,"big":1000000000000,"price":0.00' | .build/release/kimi-serve constrain --model Tests/Fixtures/checkpoints/kimi-mini --schema /tmp/nb.json --dump-masks | tail -1
    #  -> {"document":1,"step":55,"token":386,"allowed":[]}
    printf '{"ratio":0.0000000000000000000000000000000000000000' | .build/release/kimi-serve constrain --model Tests/Fixtures/checkpoints/kimi-mini --schema /tmp/nb.json --dump-masks | tail -1
    #  -> "allowed":[]   (40 zeros; after 39 the mask still offers 0-9)

Suggested fix: test the half-open interval (a bound equal to v + 10^-k is out of reach of this prefix) and, as
`integerFeasible` does, only count completions that fit in the digits left (`maxDigits - count`). (Bounds are
otherwise judged as Python's float of the text, as the code documents: `-0.4` under `maximum: -0.5` is allowed
because `-0.49999999999999999` reads as -0.5 in Python, so it is not a dead end.)"""

LLG_NOTES = r"""Differences where llguidance alone allows a token fall in three groups. (1) Documented limits of ours
(exponent digits, 40 digits, bounded numbers without exponent): valid JSON we refuse by design. (2) Formats where the
reference validator and the RFC disagree (leap second, year 0000, email domain literals and single-label domains):
we follow Python's jsonschema, llguidance the RFC grammar; neither side lets through a value its reference rejects.
(3) llguidance bugs, where it allows a token that no valid document continues (listed below, no witness found) or
refuses valid documents: a `pattern` class holding `\\` — for `escape_heavy_strings.path`,
`^[A-Za-z]:\\([^\\/:*?"<>|]+\\)*[^\\/:*?"<>|]*$`, llguidance accepts the JSON string `"A:\\\\"` (the value `A:\\`,
two backslashes), which the pattern (Python `re`, ECMA-262 alike) rejects, so its class `[^\\/…]` does not
exclude the backslash; and bounded numbers whose fraction ends in `0` (it refuses to end `0.50` for `0 < x < 1`)."""


def check_invalid(corpus, instances, args, vocab, tokenizer):
    """Whole-document verdicts on the corpus's invalid texts (each fails jsonschema, also with
    oneOf read as anyOf): how many each engine accepts (walks every token to the end)."""
    from concurrent.futures import ThreadPoolExecutor
    out = {"texts": 0, "ours": [], "llg": []}

    def ours(entry):
        texts = [t.encode() for t in instances[entry["name"]].get("invalid", [])]
        return entry, texts, our_acceptance(args, entry["schema"], texts)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for entry, texts, verdicts in pool.map(ours, corpus):
            ref = Reference(tokenizer, vocab, entry["schema"])
            for t in texts:
                out["texts"] += 1
                if verdicts[t][0]:
                    out["ours"].append((entry["name"], t))
                if ref.error:
                    continue
                ref.reset()
                if ref.matcher.consume_tokens(tokenizer.tokenize_bytes(t)) and ref.matcher.is_accepting():
                    out["llg"].append((entry["name"], t))
    return out


def run_vocabulary(model, corpus, instances, args):
    vocab = Vocabulary(model)
    args.model = model
    args.end = vocab.end
    tokenizer = vocab.llguidance_tokenizer()
    universe = np.zeros(vocab.size, dtype=bool)
    universe[: vocab.ordinary] = True
    universe[vocab.end] = True
    if vocab.ordinary > args.large and args.sample_large:
        k = max(1, len(corpus) // args.sample_large)
        corpus = corpus[::k][: args.sample_large]
        args.instances_now = 1
    else:
        args.instances_now = args.instances
    t0 = time.time()
    results = []
    for entry in corpus:
        r = compare_schema(entry, instances[entry["name"]]["valid"], args, vocab, tokenizer, universe)
        results.append(r)
        print(f"{os.path.basename(model)} {entry['name']}: {r['identical']}/{r['steps']} identical, "
              f"{len(r['diffs'])} differing" + (f" [{r['error']}]" if r["error"] else ""), file=sys.stderr)
    t1 = time.time()
    stats = {}
    for entry, r in zip(corpus, results):
        analyze(r, entry, instances[entry["name"]]["valid"], vocab, stats, args)
    for cat, st in sorted(((c, s) for c, s in stats.items() if not c.startswith("_")), key=lambda kv: -kv[1]["steps"]):
        print(f"  {cat:36} steps {st['steps']:6} ours-only {st['ours']:9.0f} llg-only {st['llg']:7.0f} "
              f"schemas {len(st['schemas']):4} {dict(st['witness'])}", file=sys.stderr)
    print(f"  walks {t1 - t0:.1f}s, analysis {time.time() - t1:.1f}s", file=sys.stderr)
    invalid = None
    if args.invalid and model == (args.model_list or [model])[0]:
        invalid = check_invalid(corpus, instances, args, vocab, tokenizer)
        print(f"  invalid texts: {invalid['texts']}, accepted by us {len(invalid['ours'])}, "
              f"by llguidance {len(invalid['llg'])}", file=sys.stderr)
    label = f"{os.path.relpath(model, ROOT) if os.path.abspath(model).startswith(os.path.abspath(ROOT)) else model} " \
            f"({vocab.ordinary:,} tokens)"
    return {"label": label, "model": model, "results": results, "stats": stats, "seconds": time.time() - t0,
            "invalid": invalid}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", action="append", help="vocabulary directory (repeatable; default kimi-mini)")
    ap.add_argument("--binary", default=DEFAULT_BINARY)
    ap.add_argument("--instances", type=int, default=2, help="instance pairs per schema (compact + spaced)")
    ap.add_argument("--schemas", help="comma-separated schema names")
    ap.add_argument("--sample", type=int, help="about N schemas, evenly spread over the corpus")
    ap.add_argument("--sample-large", type=int, default=24,
                    help="for a vocabulary of more than --large tokens: about N schemas, one instance pair (0: all)")
    ap.add_argument("--large", type=int, default=50_000)
    ap.add_argument("--invalid", action="store_true",
                    help="also walk the corpus's invalid texts on both sides, with the first vocabulary "
                         "(slow: one kimi-serve process per refusal)")
    ap.add_argument("--report", help="write the Markdown report here")
    ap.add_argument("--json", help="write the raw results here (pickle)")
    ap.add_argument("--render", help="only write --report again from a --json file of an earlier run")
    args = ap.parse_args()
    if args.render:
        import pickle
        with open(args.render, "rb") as f:
            saved = pickle.load(f)
        args.binary_info = saved["binary_info"]
        write_report(args.report, saved["runs"], args, saved["argv"])
        return
    models = args.model or [DEFAULT_MODEL]
    args.model_list = models
    corpus = json.load(open(os.path.join(FIXTURES, "corpus.json")))["schemas"]
    instances = {s["name"]: s for s in json.load(open(os.path.join(FIXTURES, "instances.json")))["schemas"]}
    if args.schemas:
        names = args.schemas.split(",")
        corpus = [e for e in corpus if e["name"] in names]
    elif args.sample:
        k = max(1, len(corpus) // args.sample)
        corpus = corpus[::k][: args.sample]
    # A private copy of the binary, so that a rebuild during the run cannot mix two engines.
    import hashlib
    import shutil
    snapshot_dir = tempfile.mkdtemp(prefix="compare_masks_")
    source_binary = os.path.abspath(args.binary)
    args.binary_info = {"path": source_binary, "sha256": hashlib.sha256(open(source_binary, "rb").read()).hexdigest(),
                        "mtime": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(os.path.getmtime(source_binary)))}
    args.binary = shutil.copy2(source_binary, os.path.join(snapshot_dir, "kimi-serve"))
    runs = []
    try:
        for model in models:
            runs.append(run_vocabulary(model, corpus, instances, args))
    finally:
        shutil.rmtree(snapshot_dir, ignore_errors=True)
    argv = ["python3", "Scripts/compare_masks.py"] + [os.path.relpath(a, ROOT) if a.startswith(os.path.abspath(ROOT)) else a
                                                      for a in sys.argv[1:]]
    if args.json:
        import pickle
        with open(args.json, "wb") as f:
            pickle.dump({"runs": runs, "binary_info": args.binary_info, "argv": argv}, f)
    if args.report:
        write_report(args.report, runs, args, argv)
        print(f"report: {args.report}", file=sys.stderr)


if __name__ == "__main__":
    main()
