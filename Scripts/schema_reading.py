"""How the constraint engine reads a JSON Schema where it departs from the letter of the standard, for
the scripts that judge its output (make_schema_fixtures.py, compare_masks.py)."""


def one_of_as_any_of(node):
    """The engine's reading of a schema: oneOf treated as anyOf."""
    if not isinstance(node, dict):
        return node
    out = {}
    for key, val in node.items():
        if key in ("properties", "$defs", "definitions"):
            out[key] = {k: one_of_as_any_of(v) for k, v in val.items()}
        elif key in ("items", "additionalProperties"):
            out[key] = one_of_as_any_of(val)
        elif key in ("anyOf", "allOf", "prefixItems"):
            out[key] = [one_of_as_any_of(v) for v in val]
        elif key != "oneOf":
            out[key] = val
    if "oneOf" in node:
        branches = [one_of_as_any_of(v) for v in node["oneOf"]]
        if "anyOf" in out:
            out["allOf"] = out.get("allOf", []) + [{"anyOf": branches}]
        else:
            out["anyOf"] = branches
    return out


def strict_regex(p):
    """A pattern with a final `$` read as the very end of the string (Python's `$` also matches
    before a final newline; the engine's does not)."""
    if p.endswith("$"):
        k = len(p) - 2
        while k >= 0 and p[k] == "\\":
            k -= 1
        if (len(p) - 2 - k) % 2 == 0:
            return p[:-1] + r"\Z"
    return p
