#!/usr/bin/env python3
"""Writes number texts near the bounds of bounded `number` schemas, with jsonschema's verdict.

    .venv/bin/python Scripts/make_number_fixtures.py          # -> Tests/Fixtures/schemas/numbers.json
    .venv/bin/python Scripts/make_number_fixtures.py --check  # exit 1 if the file differs

A validator reads a number's text as Python does (json.loads: a float correctly rounded, ties to
even, or an int when the text has no fraction or exponent) and compares it with the bound (a float,
or an int compared exactly). Texts are made around every bound: the shortest repr of the bound and
of its neighbouring doubles, the exact decimal midpoints between neighbours (where rounding flips)
and those midpoints cut to 17-41 significant digits and moved by one unit of their last digit, the
same for the negated values, and integers around 2^53. jsonschema (Draft202012Validator) is the
judge; the Swift tests compare the engine's verdict with it on every text in the engine's written
form (see the README on bounded numbers).

Output: {"generator", "versions", "cases": [{"schema", "texts": [[text, valid], ...]}]}.
"""
import json
import math
import sys
from decimal import Decimal, getcontext
from importlib.metadata import version
from pathlib import Path

from jsonschema import Draft202012Validator

getcontext().prec = 2000
OUT = Path(__file__).resolve().parent.parent / "Tests/Fixtures/schemas/numbers.json"

# Bounds chosen where a float's rounding decides: decimal fractions no double equals, the two
# sides of zero, neighbours one ulp apart, integers past 2^53 (compared exactly as ints).
SCHEMAS = [
    {"type": "number", "minimum": 0.01},
    {"type": "number", "maximum": -0.5},
    {"type": "number", "exclusiveMinimum": 0},
    {"type": "number", "minimum": 0},
    {"type": "number", "maximum": 0},
    {"type": "number", "exclusiveMaximum": 0},
    {"type": "number", "minimum": -0.1, "exclusiveMaximum": 0.1},
    {"type": "number", "minimum": 0.49999999999999994, "maximum": 0.5},
    {"type": "number", "exclusiveMinimum": 1.5, "exclusiveMaximum": 1.5000000000000004},
    {"type": "number", "minimum": 1e-05, "maximum": 2e-05},
    {"type": "number", "maximum": 123456789.12345679},
    {"type": "number", "minimum": 100, "exclusiveMaximum": 1000},
    {"type": "number", "minimum": -1e20, "maximum": 1e20},
    {"type": "number", "minimum": 9007199254740993},
    {"type": "number", "exclusiveMaximum": -9007199254740993},
    {"type": "number", "minimum": 0.3, "maximum": 0.30000000000000004},
]


def neighbours(x):
    return [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]


def plain(d):
    """A Decimal as a plain JSON number text (no exponent)."""
    s = format(d, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".") or "0"
    return "0" if s in ("-0", "") else s


def near(bound):
    """Decimal texts around one bound (both signs)."""
    out = set()
    b = float(bound)
    doubles = sorted({v for x in neighbours(b) for v in neighbours(x)})
    points = [Decimal(v) for v in doubles]
    points += [(Decimal(a) + Decimal(c)) / 2 for a, c in zip(doubles, doubles[1:])]
    if isinstance(bound, int):
        points.append(Decimal(bound))
    for p in points:
        for sign in (1, -1):
            q = p * sign
            out.add(plain(q))
            out.add(repr(float(q)))
            for digits in (17, 20, 25, 39, 40, 41):
                # the point cut to `digits` significant digits, and one unit of its last digit either way
                if q == 0:
                    continue
                exponent = q.adjusted() - digits + 1
                unit = Decimal(1).scaleb(exponent)
                cut = q.quantize(unit, rounding="ROUND_DOWN")
                for v in (cut - unit, cut, cut + unit):
                    out.add(plain(v))
    return out


def texts_for(schema):
    out = {"0", "-0", "0.0", "-0.0", "1", "-1", "0.5", "-0.5", "9007199254740992", "9007199254740993",
           "-9007199254740993", "9007199254740992.5", "1" + "0" * 40, "0." + "0" * 39 + "1"}
    for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        if key in schema:
            out |= near(schema[key])
    # repr of a float can carry an exponent ("1e-05"); keep those, the engine refuses them.
    return sorted(t for t in out if t not in ("-0.", "."))


def build():
    cases = []
    for schema in SCHEMAS:
        validator = Draft202012Validator(schema)
        texts = [[t, validator.is_valid(json.loads(t))] for t in texts_for(schema)]
        cases.append({"schema": schema, "texts": texts})
    return {
        "generator": "Scripts/make_number_fixtures.py",
        "versions": {"python": sys.version.split()[0], "jsonschema": version("jsonschema")},
        "cases": cases,
    }


def main():
    data = build()
    cases = ",\n".join(json.dumps(c, separators=(",", ":")) for c in data.pop("cases"))
    text = json.dumps(data, separators=(",", ":"))[:-1] + ',"cases":[\n' + cases + "\n]}\n"
    if "--check" in sys.argv:
        sys.exit(0 if OUT.read_text() == text else 1)
    OUT.write_text(text)
    print(f"wrote {OUT}: {sum(len(c['texts']) for c in json.loads(text)['cases'])} texts")


if __name__ == "__main__":
    main()
