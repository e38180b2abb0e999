#!/usr/bin/env python3
"""Writes the JSON-Schema corpus and its reference instances for constrained decoding.

    .venv/bin/python Scripts/make_schema_fixtures.py           # -> Tests/Fixtures/schemas/
    .venv/bin/python Scripts/make_schema_fixtures.py --check   # regenerate in memory, exit 1 if the files differ

Set up the venv once with
    python3 -m venv .venv && .venv/bin/pip install jsonschema==4.26.0 hypothesis==6.170.9 \\
        hypothesis-jsonschema==0.23.1 rfc3339-validator==0.1.4 pydantic==2.14.4 email-validator==2.4.0
hypothesis must stay at 6.170.9 or older: hypothesis-jsonschema 0.23.1 drives hypothesis internals
(conjecture.utils.many.more) that 6.170.10 removed.

References (none of them ours); the files record the versions they were made with:
  jsonschema (Draft202012Validator with its FORMAT_CHECKER, rfc3339-validator installed so that
  date-time and time are really checked) is the judge of validity; hypothesis-jsonschema
  (`from_schema`, driven by hypothesis with derandomize=True) makes the valid instances; pydantic v2
  `model_json_schema()` makes the pydantic-shaped schemas.  Made with Python 3.11, jsonschema 4.26.0,
  hypothesis 6.170.9, hypothesis-jsonschema 0.23.1, rfc3339-validator 0.1.4, pydantic 2.14.4
  (pydantic-core 2.50.5), email-validator 2.4.0; other versions give other (equally valid) instances.
  The script re-executes itself with PYTHONHASHSEED=0 so that its output is byte-for-byte
  reproducible.

Outputs (the Swift tests read them, never this script):
  corpus.json     {"generator", "schemas": [{"name", "kind", "source", "schema"}]} -- 141 schemas of
                  real-world shapes; kind is "tool" (function-calling parameters / MCP inputSchema)
                  or "response_format".  Every schema uses only the keyword subset the engine
                  accepts; `check_subset` below enforces it (and the regex subset for `pattern`).
  instances.json  {"generator", "versions", "notes", "schemas": [{"name", "valid", "invalid"}]} in
                  corpus order.  valid[2i] and valid[2i+1] are instance i written as
                  json.dumps(x, separators=(",", ":"), ensure_ascii=False) and as json.dumps(x)
                  (the two may be equal, e.g. for ASCII scalars); 20-30 distinct instances per
                  schema, each text at most 1500 bytes.  invalid: JSON texts that jsonschema rejects,
                  made by mutating valid instances (a key removed or added, a wrong type, a value
                  outside an enum/const/bound/length, a pattern or format broken, too many/few items).

What "valid" means here (the script asserts all of it):
  * jsonschema accepts the text (standard validator above), and also the strict variant in which a
    `pattern` must match with re.ASCII semantics (\\d \\w \\s are ASCII) and a final `$` means the very
    end of the string (no trailing newline), which is what the engine implements.  Hypothesis
    instances valid only through Python's Unicode classes or `$` quirk are dropped.
  * No NaN or Infinity (not JSON).  Where the schema puts numeric bounds on a `number` anywhere, an
    instance holding any float that Python writes with an exponent (1e-05, 1e+16) is dropped, so the
    bounded-number tests never depend on exponent arithmetic; unbounded numbers keep them.
  * Valid dates have days 01-28 (hypothesis-jsonschema's choice), so no test depends on calendar
    rules; invalid format strings are syntactic (wrong shape, month 13, hour 25, missing offset).
"invalid" texts are rejected by the standard validator and also by the engine's reading of the
schema (strict patterns, oneOf read as anyOf), so a failure never hinges on oneOf's "exactly one".

How instances are made: each schema is rewritten for hypothesis-jsonschema (which only knows drafts
4-7 and no recursion): $refs are inlined, recursion unrolled (one $ref followed at most twice on a
path) and cut with `false`, prefixItems/items become items/additionalItems, patterns get (?a) and
\\Z, an exclusive bound of 0 on a number becomes an inclusive 0.001; uuid gets a custom strategy.
The instances are then judged against the original schema only.  Of up to 60 distinct accepted
instances, 30 are kept, chosen greedily for new paths/values/lengths per byte within 10 kB of texts
per schema (fewer, but never under 20, where the instances are large).
Known gaps: patterns use no bare `.`, and strings under [^\\s] or \\S never hold non-ASCII
whitespace (jsonschema's Unicode reading and the ASCII reading disagree there, so such instances
fail one judge and are dropped); big integers (beyond 64 bits) do occur where integers are unbounded.
"""
import argparse
import copy
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import statistics
import sys
import time
import zlib

if os.environ.get("PYTHONHASHSEED") != "0":  # set iteration order inside the generators must not vary
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import jsonschema  # noqa: E402
import pydantic  # noqa: E402
from hypothesis import HealthCheck, Phase, Verbosity, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.errors import HypothesisException  # noqa: E402
from hypothesis_jsonschema import from_schema  # noqa: E402
from jsonschema import Draft202012Validator  # noqa: E402
from schema_reading import one_of_as_any_of, strict_regex  # noqa: E402
from jsonschema.exceptions import ValidationError, best_match  # noqa: E402
from hypothesis.internal.conjecture import utils as _cu  # noqa: E402

if not hasattr(_cu.many, "more"):
    raise SystemExit("hypothesis-jsonschema needs hypothesis<=6.170.9 (many.more); see the docstring")

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "schemas")
GENERATOR = "Scripts/make_schema_fixtures.py"

MAX_TEXT_BYTES = 1500     # either serialisation of a valid instance
MIN_VALID = 20            # distinct instances per schema, at least
MAX_VALID = 30            # ... and at most
POOL = 60                 # distinct valid instances drawn, from which MAX_VALID diverse ones are kept ...
DRAWS = 120               # ... unless this many hypothesis examples gave at least MAX_VALID
BUDGET = 10000            # bytes of valid texts per schema; past it only up to MIN_VALID instances
MAX_INVALID = 8
MIN_INVALID = 5
UNROLL = 2                # how often one $ref may be followed on a path when unrolling recursion
MAX_SCHEMA_BYTES = 4096
TINY = 0.001             # generation-only bound replacing an exclusive bound of 0 on a number

# ---------------------------------------------------------------------------
# The corpus.  Every entry is (name, kind, source, schema); kind is "tool" for a
# function-calling `parameters` / MCP `inputSchema` object and "response_format"
# for a structured-output schema.  Shapes follow the named sources; where the
# source used a keyword outside the engine's subset (format "uri", BFCL's
# "dict"/"float" types, ...) the entry says how it was adapted.
# ---------------------------------------------------------------------------

S2020 = "https://json-schema.org/draft/2020-12/schema"
S07 = "http://json-schema.org/draft-07/schema#"

OPENAI_FC = "https://platform.openai.com/docs/guides/function-calling"
OPENAI_SO = "https://platform.openai.com/docs/guides/structured-outputs"
OPENAI_SO_BLOG = "https://openai.com/index/introducing-structured-outputs-in-the-api/"
OPENAI_COOKBOOK_FC = "https://cookbook.openai.com/examples/how_to_call_functions_with_chat_models"
ANTHROPIC_TOOLS = "https://docs.anthropic.com/en/docs/build-with-claude/tool-use"
MCP = "github.com/modelcontextprotocol/servers "
CLAUDE_SDK = "https://docs.claude.com/en/docs/claude-code/sdk/sdk-typescript (tool input types; zod-to-json-schema output shape)"
CODEX = "github.com/openai/codex codex-rs/core/src/openai_tools.rs and codex-rs/protocol/src/plan_tool.rs"
BFCL = "github.com/ShishirPatil/gorilla berkeley-function-call-leaderboard/bfcl_eval/data/"
BFCL_NOTE = " (BFCL's type \"dict\" written as \"object\", \"float\" as \"number\")"
WRITTEN = "written for this corpus"


def _str(desc=None, **kw):
    d = {"type": "string"}
    if desc:
        d["description"] = desc
    d.update(kw)
    return d


TOOLS = [
    # ---- OpenAI function calling -------------------------------------------------
    ("openai_get_weather", OPENAI_FC + " (get_weather, strict mode)", {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City and country e.g. Bogotá, Colombia"},
        },
        "required": ["location"],
        "additionalProperties": False,
    }),
    ("openai_get_current_weather", OPENAI_COOKBOOK_FC + " (get_current_weather)", {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "format": {"type": "string", "enum": ["celsius", "fahrenheit"],
                       "description": "The temperature unit to use. Infer this from the users location."},
        },
        "required": ["location", "format"],
    }),
    ("openai_get_n_day_weather_forecast", OPENAI_COOKBOOK_FC + " (get_n_day_weather_forecast; num_days bounded for this corpus)", {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "format": {"type": "string", "enum": ["celsius", "fahrenheit"],
                       "description": "The temperature unit to use. Infer this from the users location."},
            "num_days": {"type": "integer", "description": "The number of days to forecast", "minimum": 1, "maximum": 16},
        },
        "required": ["location", "format", "num_days"],
    }),
    ("openai_get_weather_nullable_units", OPENAI_FC + " (strict mode: optional field as a type array with null)", {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
            "units": {"type": ["string", "null"], "enum": ["celsius", "fahrenheit", None],
                      "description": "The unit to return the temperature in"},
        },
        "required": ["location", "units"],
        "additionalProperties": False,
    }),
    ("openai_search_knowledge_base", OPENAI_FC + " (search_knowledge_base, strict mode)", {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "The search query string"},
            "options": {
                "type": "object",
                "properties": {
                    "num_results": {"type": "number", "description": "Number of top results to return"},
                    "domain_filter": {"type": ["string", "null"],
                                      "description": "Optional domain to narrow the search (e.g. 'finance', 'medical'). Pass null if not needed."},
                    "sort_by": {"type": ["string", "null"], "enum": ["relevance", "date", "popularity", "alphabetical", None],
                                "description": "How to sort results. Pass null if not needed."},
                },
                "required": ["num_results", "domain_filter", "sort_by"],
                "additionalProperties": False,
            },
        },
        "required": ["query", "options"],
        "additionalProperties": False,
    }),
    ("openai_send_email", OPENAI_FC + " (send_email; 'to' given format email for this corpus)", {
        "type": "object",
        "properties": {
            "to": {"type": "string", "format": "email", "description": "The recipient email address."},
            "subject": {"type": "string", "description": "Email subject line."},
            "body": {"type": "string", "description": "Body of the email message."},
        },
        "required": ["to", "subject", "body"],
        "additionalProperties": False,
    }),
    ("openai_sql_query_function", OPENAI_SO_BLOG + " (function calling example: query)", {
        "type": "object",
        "properties": {
            "table_name": {"type": "string", "enum": ["orders", "customers", "products"]},
            "columns": {"type": "array", "items": {"type": "string", "enum": [
                "id", "status", "expected_delivery_date", "delivered_at", "shipped_at", "ordered_at", "canceled_at"]}},
            "conditions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "column": {"type": "string"},
                        "operator": {"type": "string", "enum": ["=", ">", "<", ">=", "<=", "!="]},
                        "value": {"anyOf": [
                            {"type": "string"},
                            {"type": "number"},
                            {"type": "object", "properties": {"column_name": {"type": "string"}},
                             "required": ["column_name"], "additionalProperties": False},
                        ]},
                    },
                    "required": ["column", "operator", "value"],
                    "additionalProperties": False,
                },
            },
            "order_by": {"type": "string", "enum": ["asc", "desc"]},
        },
        "required": ["table_name", "columns", "conditions", "order_by"],
        "additionalProperties": False,
    }),
    ("anthropic_get_stock_price", ANTHROPIC_TOOLS + " (get_stock_price; ticker pattern added)", {
        "type": "object",
        "properties": {
            "ticker": {"type": "string", "description": "The stock ticker symbol, e.g. AAPL for Apple Inc.",
                       "pattern": "^[A-Z]{1,5}(\\.[A-Z])?$"},
        },
        "required": ["ticker"],
    }),
    # ---- MCP reference servers ---------------------------------------------------
    ("mcp_filesystem_read_text_file", MCP + "src/filesystem/index.ts (read_text_file; zod-to-json-schema output)", {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "tail": {"type": "number", "description": "If provided, returns only the last N lines of the file"},
            "head": {"type": "number", "description": "If provided, returns only the first N lines of the file"},
        },
        "required": ["path"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_filesystem_write_file", MCP + "src/filesystem/index.ts (write_file)", {
        "type": "object",
        "properties": {"path": {"type": "string"}, "content": {"type": "string"}},
        "required": ["path", "content"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_filesystem_edit_file", MCP + "src/filesystem/index.ts (edit_file)", {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "edits": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "oldText": {"type": "string", "description": "Text to search for - must match exactly"},
                    "newText": {"type": "string", "description": "Text to replace with"},
                },
                "required": ["oldText", "newText"],
                "additionalProperties": False,
            }},
            "dryRun": {"type": "boolean", "default": False, "description": "Preview changes using git-style diff format"},
        },
        "required": ["path", "edits"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_filesystem_read_multiple_files", MCP + "src/filesystem/index.ts (read_multiple_files)", {
        "type": "object",
        "properties": {
            "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                      "description": "Array of file paths to read. Each path must be a string pointing to a valid file within allowed directories."},
        },
        "required": ["paths"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_filesystem_list_directory_with_sizes", MCP + "src/filesystem/index.ts (list_directory_with_sizes)", {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "sortBy": {"type": "string", "enum": ["name", "size"], "default": "name",
                       "description": "Sort entries by name or size"},
        },
        "required": ["path"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_filesystem_search_files", MCP + "src/filesystem/index.ts (search_files)", {
        "type": "object",
        "properties": {
            "path": {"type": "string"},
            "pattern": {"type": "string"},
            "excludePatterns": {"type": "array", "items": {"type": "string"}, "default": []},
        },
        "required": ["path", "pattern"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_github_create_issue", MCP + "src/github/operations/issues.ts (CreateIssueSchema)", {
        "type": "object",
        "properties": {
            "owner": {"type": "string"},
            "repo": {"type": "string"},
            "title": {"type": "string"},
            "body": {"type": "string"},
            "assignees": {"type": "array", "items": {"type": "string"}},
            "milestone": {"type": "number"},
            "labels": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["owner", "repo", "title"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_github_list_issues", MCP + "src/github/operations/issues.ts (ListIssuesOptionsSchema; since given format date-time)", {
        "type": "object",
        "properties": {
            "owner": {"type": "string"},
            "repo": {"type": "string"},
            "direction": {"type": "string", "enum": ["asc", "desc"]},
            "labels": {"type": "array", "items": {"type": "string"}},
            "page": {"type": "number"},
            "per_page": {"type": "number"},
            "since": {"type": "string", "format": "date-time"},
            "sort": {"type": "string", "enum": ["created", "updated", "comments"]},
            "state": {"type": "string", "enum": ["open", "closed", "all"]},
        },
        "required": ["owner", "repo"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_github_search_issues", MCP + "src/github/operations/search.ts (SearchIssuesSchema)", {
        "type": "object",
        "properties": {
            "q": {"type": "string"},
            "order": {"type": "string", "enum": ["asc", "desc"]},
            "page": {"type": "number", "minimum": 1},
            "per_page": {"type": "number", "minimum": 1, "maximum": 100},
            "sort": {"type": "string", "enum": [
                "comments", "reactions", "reactions-+1", "reactions--1", "reactions-smile",
                "reactions-thinking_face", "reactions-heart", "reactions-tada", "interactions",
                "created", "updated"]},
        },
        "required": ["q"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("mcp_brave_web_search", MCP + "src/brave-search/index.ts (brave_web_search)", {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Search query (max 400 chars, 50 words)", "maxLength": 400},
            "count": {"type": "number", "description": "Number of results (1-20, default 10)", "default": 10},
            "offset": {"type": "number", "description": "Pagination offset (max 9, default 0)", "default": 0},
        },
        "required": ["query"],
    }),
    ("mcp_memory_create_entities", MCP + "src/memory/index.ts (create_entities)", {
        "type": "object",
        "properties": {
            "entities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "description": "The name of the entity"},
                        "entityType": {"type": "string", "description": "The type of the entity"},
                        "observations": {"type": "array", "items": {"type": "string"},
                                         "description": "An array of observation contents associated with the entity"},
                    },
                    "required": ["name", "entityType", "observations"],
                },
            },
        },
        "required": ["entities"],
    }),
    ("mcp_sequential_thinking", MCP + "src/sequentialthinking/index.ts (sequentialthinking)", {
        "type": "object",
        "properties": {
            "thought": {"type": "string", "description": "Your current thinking step"},
            "nextThoughtNeeded": {"type": "boolean", "description": "Whether another thought step is needed"},
            "thoughtNumber": {"type": "integer", "description": "Current thought number", "minimum": 1},
            "totalThoughts": {"type": "integer", "description": "Estimated total thoughts needed", "minimum": 1},
            "isRevision": {"type": "boolean", "description": "Whether this revises previous thinking"},
            "revisesThought": {"type": "integer", "description": "Which thought is being reconsidered", "minimum": 1},
            "branchFromThought": {"type": "integer", "description": "Branching point thought number", "minimum": 1},
            "branchId": {"type": "string", "description": "Branch identifier"},
            "needsMoreThoughts": {"type": "boolean", "description": "If more thoughts are needed"},
        },
        "required": ["thought", "nextThoughtNeeded", "thoughtNumber", "totalThoughts"],
    }),
    ("mcp_fetch", MCP + "src/fetch/src/mcp_server_fetch/server.py (Fetch pydantic model; format uri replaced by a pattern)", {
        "description": "Parameters for fetching a URL.",
        "properties": {
            "url": {"description": "URL to fetch", "minLength": 1, "pattern": "^https?://", "title": "Url", "type": "string"},
            "max_length": {"default": 5000, "description": "Maximum number of characters to return.",
                           "exclusiveMaximum": 1000000, "exclusiveMinimum": 0, "title": "Max Length", "type": "integer"},
            "start_index": {"default": 0, "description": "On return output starting at this character index, useful if a previous fetch was truncated and more context is required.",
                            "minimum": 0, "title": "Start Index", "type": "integer"},
            "raw": {"default": False, "description": "Get the actual HTML content of the requested page, without simplification.",
                    "title": "Raw", "type": "boolean"},
        },
        "required": ["url"],
        "title": "Fetch",
        "type": "object",
    }),
    ("mcp_time_convert_time", MCP + "src/time/src/mcp_server_time/server.py (convert_time)", {
        "type": "object",
        "properties": {
            "source_timezone": {"type": "string", "description": "Source IANA timezone name (e.g., 'America/New_York', 'Europe/London')."},
            "time": {"type": "string", "description": "Time to convert in 24-hour format (HH:MM)",
                     "pattern": "^([01]\\d|2[0-3]):[0-5]\\d$"},
            "target_timezone": {"type": "string", "description": "Target IANA timezone name (e.g., 'Asia/Tokyo', 'America/San_Francisco')."},
        },
        "required": ["source_timezone", "time", "target_timezone"],
    }),
    # ---- Claude Code / Codex style agent tools ----------------------------------
    ("claude_code_bash", CLAUDE_SDK + " (Bash)", {
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The command to execute"},
            "timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)", "maximum": 600000},
            "description": {"type": "string", "description": "Clear, concise description of what this command does in 5-10 words."},
            "run_in_background": {"type": "boolean", "description": "Set to true to run this command in the background."},
        },
        "required": ["command"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("claude_code_edit", CLAUDE_SDK + " (Edit)", {
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "The absolute path to the file to modify"},
            "old_string": {"type": "string", "description": "The text to replace"},
            "new_string": {"type": "string", "description": "The text to replace it with (must be different from old_string)"},
            "replace_all": {"type": "boolean", "default": False, "description": "Replace all occurences of old_string (default false)"},
        },
        "required": ["file_path", "old_string", "new_string"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("claude_code_multi_edit", CLAUDE_SDK + " (MultiEdit)", {
        "type": "object",
        "properties": {
            "file_path": {"type": "string", "description": "The absolute path to the file to modify"},
            "edits": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "old_string": {"type": "string", "description": "The text to replace"},
                        "new_string": {"type": "string", "description": "The text to replace it with"},
                        "replace_all": {"type": "boolean", "default": False},
                    },
                    "required": ["old_string", "new_string"],
                    "additionalProperties": False,
                },
                "minItems": 1,
                "description": "Array of edit operations to perform sequentially on the file",
            },
        },
        "required": ["file_path", "edits"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("claude_code_todo_write", CLAUDE_SDK + " (TodoWrite)", {
        "type": "object",
        "properties": {
            "todos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string", "minLength": 1},
                        "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                        "activeForm": {"type": "string", "minLength": 1},
                    },
                    "required": ["content", "status", "activeForm"],
                    "additionalProperties": False,
                },
                "description": "The updated todo list",
            },
        },
        "required": ["todos"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("claude_code_todo_write_v1", CLAUDE_SDK + " (earlier TodoWrite with id and priority)", {
        "type": "object",
        "properties": {
            "todos": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string", "minLength": 1},
                        "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                        "priority": {"type": "string", "enum": ["high", "medium", "low"]},
                        "id": {"type": "string"},
                    },
                    "required": ["content", "status", "priority", "id"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["todos"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("claude_code_grep", CLAUDE_SDK + " (Grep)", {
        "type": "object",
        "properties": {
            "pattern": {"type": "string", "description": "The regular expression pattern to search for in file contents"},
            "path": {"type": "string", "description": "File or directory to search in. Defaults to current working directory."},
            "glob": {"type": "string", "description": "Glob pattern to filter files (e.g. \"*.js\", \"*.{ts,tsx}\")"},
            "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"]},
            "-B": {"type": "number", "description": "Number of lines to show before each match"},
            "-A": {"type": "number", "description": "Number of lines to show after each match"},
            "-C": {"type": "number", "description": "Number of lines to show before and after each match"},
            "-n": {"type": "boolean", "description": "Show line numbers in output"},
            "-i": {"type": "boolean", "description": "Case insensitive search"},
            "type": {"type": "string", "description": "File type to search (e.g. js, py, rust)"},
            "head_limit": {"type": "number", "description": "Limit output to first N lines/entries"},
            "multiline": {"type": "boolean", "description": "Enable multiline mode"},
        },
        "required": ["pattern"],
        "additionalProperties": False,
        "$schema": S07,
    }),
    ("codex_shell", CODEX + " (shell)", {
        "type": "object",
        "properties": {
            "command": {"type": "array", "items": {"type": "string"}, "description": "The command to execute"},
            "workdir": {"type": "string", "description": "The working directory to execute the command in"},
            "timeout_ms": {"type": "number", "description": "The timeout for the command in milliseconds"},
        },
        "required": ["command"],
        "additionalProperties": False,
    }),
    ("codex_update_plan", CODEX + " (update_plan)", {
        "type": "object",
        "properties": {
            "explanation": {"type": "string"},
            "plan": {
                "type": "array",
                "description": "The list of steps",
                "items": {
                    "type": "object",
                    "properties": {
                        "step": {"type": "string"},
                        "status": {"type": "string", "description": "One of: pending, in_progress, completed",
                                   "enum": ["pending", "in_progress", "completed"]},
                    },
                    "required": ["step", "status"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["plan"],
        "additionalProperties": False,
    }),
    # ---- LangChain tools ---------------------------------------------------------
    ("langchain_multiply_tool", "https://python.langchain.com/docs/how_to/custom_tools/ (@tool multiply: args_schema.model_json_schema())", {
        "description": "Multiply two numbers.",
        "properties": {"a": {"title": "A", "type": "integer"}, "b": {"title": "B", "type": "integer"}},
        "required": ["a", "b"],
        "title": "multiply",
        "type": "object",
    }),
    ("langchain_tavily_search", "langchain-tavily TavilySearch tool input (shape of its documented arguments)", {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "Search query to look up"},
            "include_domains": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}], "default": None},
            "exclude_domains": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}], "default": None},
            "search_depth": {"anyOf": [{"type": "string", "enum": ["basic", "advanced"]}, {"type": "null"}], "default": "basic"},
            "time_range": {"anyOf": [{"type": "string", "enum": ["day", "week", "month", "year"]}, {"type": "null"}], "default": None},
            "topic": {"anyOf": [{"type": "string", "enum": ["general", "news", "finance"]}, {"type": "null"}], "default": "general"},
            "max_results": {"type": "integer", "minimum": 1, "maximum": 20, "default": 5},
        },
        "required": ["query"],
    }),
    # ---- BFCL ----------------------------------------------------------------------
    ("bfcl_calculate_triangle_area", BFCL + "BFCL_v4_simple_python.json (simple_python_0)" + BFCL_NOTE, {
        "type": "object",
        "properties": {
            "base": {"type": "integer", "description": "The base of the triangle."},
            "height": {"type": "integer", "description": "The height of the triangle."},
            "unit": {"type": "string", "description": "The unit of measure (defaults to 'units' if not specified)"},
        },
        "required": ["base", "height"],
    }),
    ("bfcl_calculate_area_under_curve", BFCL + "BFCL_v4_simple_python.json (simple_python_13)" + BFCL_NOTE, {
        "type": "object",
        "properties": {
            "function": {"type": "string", "description": "The mathematical function as a string."},
            "interval": {"type": "array", "items": {"type": "number"},
                         "description": "An array that defines the interval to calculate the area under the curve from the start to the end point."},
            "method": {"type": "string", "description": "The numerical method to approximate the area under the curve. The default value is 'trapezoidal'."},
        },
        "required": ["function", "interval"],
    }),
    ("bfcl_book_flight", BFCL + "multi_turn_func_doc/travel_booking.json (book_flight; date pattern and class enum added)" + BFCL_NOTE, {
        "type": "object",
        "properties": {
            "access_token": {"type": "string", "description": "The access token obtained from the authenticate"},
            "card_id": {"type": "string", "description": "The ID of the credit card to use for the booking"},
            "travel_date": {"type": "string", "description": "The date of the travel in the format YYYY-MM-DD",
                            "pattern": "^\\d{4}-\\d{2}-\\d{2}$"},
            "travel_from": {"type": "string", "description": "The location the travel is from", "pattern": "^[A-Z]{3}$"},
            "travel_to": {"type": "string", "description": "The location the travel is to", "pattern": "^[A-Z]{3}$"},
            "travel_class": {"type": "string", "description": "The class of the travel", "enum": ["economy", "business", "first"]},
        },
        "required": ["access_token", "card_id", "travel_date", "travel_from", "travel_to", "travel_class"],
    }),
    ("bfcl_compute_exchange_rate", BFCL + "multi_turn_func_doc/travel_booking.json (compute_exchange_rate; the [Enum] lists made enums)" + BFCL_NOTE, {
        "type": "object",
        "properties": {
            "base_currency": {"type": "string", "description": "The base currency.",
                              "enum": ["USD", "RMB", "EUR", "JPY", "GBP", "CAD", "AUD", "INR", "RUB", "BRL", "MXN"]},
            "target_currency": {"type": "string", "description": "The target currency.",
                                "enum": ["USD", "RMB", "EUR", "JPY", "GBP", "CAD", "AUD", "INR", "RUB", "BRL", "MXN"]},
            "value": {"type": "number", "description": "The value to convert"},
        },
        "required": ["base_currency", "target_currency", "value"],
    }),
    ("bfcl_lock_doors", BFCL + "multi_turn_func_doc/vehicle_control.json (lockDoors)" + BFCL_NOTE, {
        "type": "object",
        "properties": {
            "unlock": {"type": "boolean", "description": "True if the doors are to be unlocked, False otherwise."},
            "door": {"type": "array", "items": {"type": "string", "enum": ["driver", "passenger", "rear_left", "rear_right"]},
                     "description": "The list of doors to lock or unlock."},
        },
        "required": ["unlock", "door"],
    }),
    # ---- Written tools -------------------------------------------------------------
    ("calendar_create_event", WRITTEN + " (Google-Calendar-like create_event tool)", {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "minLength": 1, "maxLength": 200},
            "start": {"type": "string", "format": "date-time"},
            "end": {"type": "string", "format": "date-time"},
            "attendees": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 10},
            "location": {"type": ["string", "null"]},
            "reminders": {"type": "array", "maxItems": 5, "items": {
                "type": "object",
                "properties": {
                    "method": {"type": "string", "enum": ["email", "popup"]},
                    "minutes": {"type": "integer", "minimum": 0, "maximum": 40320},
                },
                "required": ["method", "minutes"],
                "additionalProperties": False,
            }},
        },
        "required": ["summary", "start", "end"],
        "additionalProperties": False,
    }),
    ("hotel_search", WRITTEN + " (booking-site search tool)", {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name, any language (e.g. München, 東京)"},
            "check_in": {"type": "string", "format": "date"},
            "check_out": {"type": "string", "format": "date"},
            "guests": {"type": "integer", "minimum": 1, "maximum": 10, "default": 2},
            "rooms": {"type": "integer", "minimum": 1, "maximum": 5},
            "max_price_per_night": {"type": "number", "exclusiveMinimum": 0},
            "amenities": {"type": "array", "items": {"type": "string", "enum": ["wifi", "pool", "parking", "gym", "breakfast", "pets"]}},
        },
        "required": ["city", "check_in", "check_out"],
        "additionalProperties": False,
    }),
    ("translate_text", WRITTEN + " (translation tool with BCP-47-ish language tags)", {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": 5000},
            "source_lang": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Z]{2})?$"},
            "target_lang": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Z]{2})?$"},
            "formality": {"type": "string", "enum": ["default", "more", "less"]},
        },
        "required": ["text", "target_lang"],
        "additionalProperties": False,
    }),
    ("unit_convert", WRITTEN + " (unit conversion tool)", {
        "type": "object",
        "properties": {
            "value": {"type": "number"},
            "from_unit": {"type": "string", "enum": ["m", "km", "mi", "ft", "in", "cm", "kg", "lb", "g", "oz", "°C", "°F", "K"]},
            "to_unit": {"type": "string", "enum": ["m", "km", "mi", "ft", "in", "cm", "kg", "lb", "g", "oz", "°C", "°F", "K"]},
            "precision": {"type": "integer", "minimum": 0, "maximum": 10},
        },
        "required": ["value", "from_unit", "to_unit"],
        "additionalProperties": False,
    }),
    ("jira_create_ticket", WRITTEN + " (issue-tracker create tool with allOf of object schemas)", {
        "type": "object",
        "allOf": [
            {"$ref": "#/$defs/project_ref"},
            {"type": "object", "properties": {
                "summary": {"type": "string", "minLength": 5, "maxLength": 255},
                "issue_type": {"type": "string", "enum": ["Bug", "Task", "Story", "Epic"]},
                "priority": {"type": "string", "enum": ["Highest", "High", "Medium", "Low", "Lowest"], "default": "Medium"},
                "story_points": {"type": ["integer", "null"], "minimum": 0, "maximum": 21},
            }, "required": ["summary", "issue_type"]},
        ],
        "$defs": {
            "project_ref": {"type": "object", "properties": {
                "project_key": {"type": "string", "pattern": "^[A-Z][A-Z0-9]{1,9}$"},
            }, "required": ["project_key"]},
        },
    }),
]

OPENAI_RESPONSES = [
    ("openai_math_reasoning", OPENAI_SO + " (chain of thought: math_reasoning)", {
        "type": "object",
        "properties": {
            "steps": {"type": "array", "items": {
                "type": "object",
                "properties": {"explanation": {"type": "string"}, "output": {"type": "string"}},
                "required": ["explanation", "output"],
                "additionalProperties": False,
            }},
            "final_answer": {"type": "string"},
        },
        "required": ["steps", "final_answer"],
        "additionalProperties": False,
    }),
    ("openai_math_reasoning_defs", OPENAI_SO + " (definitions are supported: $defs step)", {
        "type": "object",
        "properties": {
            "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
            "final_answer": {"type": "string"},
        },
        "$defs": {
            "step": {
                "type": "object",
                "properties": {"explanation": {"type": "string"}, "output": {"type": "string"}},
                "required": ["explanation", "output"],
                "additionalProperties": False,
            },
        },
        "required": ["steps", "final_answer"],
        "additionalProperties": False,
    }),
    ("openai_ui_generation_root_ref", OPENAI_SO + " (UI generation, recursion through $ref \"#\")", {
        "type": "object",
        "properties": {
            "type": {"type": "string", "description": "The type of the UI component",
                     "enum": ["div", "button", "header", "section", "field", "form"]},
            "label": {"type": "string", "description": "The label of the UI component, used for buttons or form fields"},
            "children": {"type": "array", "description": "Nested UI components", "items": {"$ref": "#"}},
            "attributes": {"type": "array", "description": "Arbitrary attributes for the UI component, suitable for any element",
                           "items": {"type": "object",
                                     "properties": {"name": {"type": "string", "description": "The name of the attribute, for example onClick or className"},
                                                    "value": {"type": "string", "description": "The value of the attribute"}},
                                     "required": ["name", "value"], "additionalProperties": False}},
        },
        "required": ["type", "label", "children", "attributes"],
        "additionalProperties": False,
    }),
    ("openai_ui_generation_defs", OPENAI_SO + " (recursive schemas: ui_element in $defs)", {
        "type": "object",
        "properties": {"ui": {"$ref": "#/$defs/ui_element"}},
        "$defs": {
            "ui_element": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["div", "button", "header", "section", "field", "form"]},
                    "label": {"type": "string"},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/ui_element"}},
                    "attributes": {"type": "array", "items": {"$ref": "#/$defs/attribute"}},
                },
                "required": ["type", "label", "children", "attributes"],
                "additionalProperties": False,
            },
            "attribute": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "value": {"type": "string"}},
                "required": ["name", "value"],
                "additionalProperties": False,
            },
        },
        "required": ["ui"],
        "additionalProperties": False,
    }),
    ("openai_linked_list", OPENAI_SO + " (recursive schemas: linked_list_node)", {
        "type": "object",
        "properties": {"linked_list": {"$ref": "#/$defs/linked_list_node"}},
        "$defs": {
            "linked_list_node": {
                "type": "object",
                "properties": {
                    "value": {"type": "number"},
                    "next": {"anyOf": [{"$ref": "#/$defs/linked_list_node"}, {"type": "null"}]},
                },
                "additionalProperties": False,
                "required": ["next", "value"],
            },
        },
        "additionalProperties": False,
        "required": ["linked_list"],
    }),
    ("openai_research_paper_extraction", OPENAI_SO + " (structured data extraction: research_paper_extraction)", {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "authors": {"type": "array", "items": {"type": "string"}},
            "abstract": {"type": "string"},
            "keywords": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title", "authors", "abstract", "keywords"],
        "additionalProperties": False,
    }),
    ("openai_content_moderation", OPENAI_SO + " (moderation: content_compliance)", {
        "type": "object",
        "properties": {
            "is_violating": {"type": "boolean", "description": "Indicates if the content is violating guidelines"},
            "category": {"type": ["string", "null"], "description": "Type of violation, if the content is violating guidelines. Null otherwise.",
                         "enum": ["violence", "sexual", "self_harm", None]},
            "explanation_if_violating": {"type": ["string", "null"],
                                         "description": "Explanation of why the content is violating"},
        },
        "required": ["is_violating", "category", "explanation_if_violating"],
        "additionalProperties": False,
    }),
    ("openai_calendar_event", OPENAI_SO + " (getting a structured response: CalendarEvent)", {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "date": {"type": "string"},
            "participants": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "date", "participants"],
        "additionalProperties": False,
    }),
    ("openai_weather_strict_nullable", OPENAI_SO + " (all fields required; optional emulated with a null union)", {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "The location to get the weather for"},
            "unit": {"type": ["string", "null"], "description": "The unit to return the temperature in",
                     "enum": ["F", "C", None]},
        },
        "additionalProperties": False,
        "required": ["location", "unit"],
    }),
    ("openai_entity_extraction", OPENAI_SO + " (tips: extract entities from user input)", {
        "type": "object",
        "properties": {
            "attributes": {"type": "array", "items": {"type": "string"}},
            "colors": {"type": "array", "items": {"type": "string"}},
            "animals": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["attributes", "colors", "animals"],
        "additionalProperties": False,
    }),
    ("openai_product_search_query", "https://cookbook.openai.com/examples/structured_outputs_intro (product search parameters)", {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": ["shoes", "jackets", "tops", "bottoms"]},
            "subcategory": {"type": "string"},
            "color": {"type": ["string", "null"]},
            "size": {"type": ["string", "null"], "enum": ["XS", "S", "M", "L", "XL", None]},
            "max_price": {"type": ["number", "null"], "minimum": 0},
        },
        "required": ["category", "subcategory", "color", "size", "max_price"],
        "additionalProperties": False,
    }),
]

RESPONSES = [
    # ---- nested objects ------------------------------------------------------------
    ("person_with_address", WRITTEN + " (contact extraction with nested address and coordinates)", {
        "type": "object",
        "properties": {
            "full_name": {"type": "string", "minLength": 1},
            "age": {"type": "integer", "minimum": 0, "maximum": 150},
            "address": {
                "type": "object",
                "properties": {
                    "street": {"type": "string"},
                    "city": {"type": "string"},
                    "country_code": {"type": "string", "pattern": "^[A-Z]{2}$"},
                    "geo": {
                        "type": "object",
                        "properties": {
                            "lat": {"type": "number", "minimum": -90, "maximum": 90},
                            "lon": {"type": "number", "minimum": -180, "maximum": 180},
                        },
                        "required": ["lat", "lon"],
                        "additionalProperties": False,
                    },
                },
                "required": ["city", "country_code"],
                "additionalProperties": False,
            },
        },
        "required": ["full_name", "address"],
        "additionalProperties": False,
    }),
    ("deeply_nested_config", WRITTEN + " (application config, five levels of objects)", {
        "type": "object",
        "properties": {
            "server": {"type": "object", "properties": {
                "http": {"type": "object", "properties": {
                    "tls": {"type": "object", "properties": {
                        "client_auth": {"type": "object", "properties": {
                            "mode": {"type": "string", "enum": ["none", "optional", "required"]},
                            "ca_bundle": {"type": "string"},
                        }, "required": ["mode"], "additionalProperties": False},
                        "min_version": {"type": "string", "enum": ["1.2", "1.3"]},
                    }, "required": ["min_version"], "additionalProperties": False},
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                }, "required": ["port"], "additionalProperties": False},
            }, "required": ["http"], "additionalProperties": False},
            "debug": {"type": "boolean"},
        },
        "required": ["server"],
        "additionalProperties": False,
    }),
    ("k8s_deployment_like", WRITTEN + " (shape of a Kubernetes Deployment manifest, trimmed)", {
        "type": "object",
        "properties": {
            "apiVersion": {"const": "apps/v1"},
            "kind": {"const": "Deployment"},
            "metadata": {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63},
                    "labels": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 63}},
                },
                "required": ["name"],
            },
            "spec": {
                "type": "object",
                "properties": {
                    "replicas": {"type": "integer", "minimum": 0, "maximum": 100},
                    "containers": {
                        "type": "array", "minItems": 1, "maxItems": 3,
                        "items": {
                            "type": "object",
                            "properties": {
                                "name": {"type": "string"},
                                "image": {"type": "string", "pattern": "^[a-z0-9./-]+(:[A-Za-z0-9._-]+)?$"},
                                "ports": {"type": "array", "items": {
                                    "type": "object",
                                    "properties": {
                                        "containerPort": {"type": "integer", "minimum": 1, "maximum": 65535},
                                        "protocol": {"type": "string", "enum": ["TCP", "UDP", "SCTP"], "default": "TCP"},
                                    },
                                    "required": ["containerPort"],
                                    "additionalProperties": False,
                                }},
                            },
                            "required": ["name", "image"],
                            "additionalProperties": False,
                        },
                    },
                },
                "required": ["containers"],
                "additionalProperties": False,
            },
        },
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
    }),
    ("package_manifest", WRITTEN + " (subset of package.json: name/version patterns, dependency maps)", {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 214,
                     "pattern": "^(@[a-z0-9~-][a-z0-9._~-]*/)?[a-z0-9~-][a-z0-9._~-]*$"},
            "version": {"type": "string", "pattern": "^\\d+\\.\\d+\\.\\d+(-[0-9A-Za-z.-]+)?$"},
            "private": {"type": "boolean"},
            "scripts": {"type": "object", "additionalProperties": {"type": "string"}},
            "dependencies": {"type": "object", "additionalProperties": {"type": "string"}},
            "engines": {"type": "object", "properties": {"node": {"type": "string"}}, "additionalProperties": False},
        },
        "required": ["name", "version"],
    }),
    # ---- recursion -------------------------------------------------------------------
    ("org_chart_recursive", WRITTEN + " (departments containing sub-departments)", {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/department"}},
        "required": ["root"],
        "additionalProperties": False,
        "$defs": {
            "department": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "head": {"type": ["string", "null"]},
                    "headcount": {"type": "integer", "minimum": 0},
                    "subdepartments": {"type": "array", "items": {"$ref": "#/$defs/department"}, "maxItems": 4},
                },
                "required": ["name", "headcount", "subdepartments"],
                "additionalProperties": False,
            },
        },
    }),
    ("json_value_recursive", WRITTEN + " (any JSON value, spelled out as a recursive anyOf)", {
        "type": "object",
        "properties": {"key": {"type": "string"}, "value": {"$ref": "#/$defs/json"}},
        "required": ["key", "value"],
        "additionalProperties": False,
        "$defs": {
            "json": {"anyOf": [
                {"type": "null"}, {"type": "boolean"}, {"type": "number"}, {"type": "string"},
                {"type": "array", "items": {"$ref": "#/$defs/json"}},
                {"type": "object", "additionalProperties": {"$ref": "#/$defs/json"}},
            ]},
        },
    }),
    ("binary_tree", WRITTEN + " (binary search tree node with nullable children)", {
        "$defs": {
            "node": {
                "type": "object",
                "properties": {
                    "key": {"type": "integer"},
                    "left": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                    "right": {"anyOf": [{"$ref": "#/$defs/node"}, {"type": "null"}]},
                },
                "required": ["key", "left", "right"],
                "additionalProperties": False,
            },
        },
        "$ref": "#/$defs/node",
    }),
    ("filesystem_tree_oneof", WRITTEN + " (file/directory tree; oneOf branches exclusive by const kind)", {
        "$defs": {
            "entry": {"oneOf": [
                {"type": "object", "properties": {
                    "kind": {"const": "file"},
                    "name": {"type": "string", "minLength": 1},
                    "size": {"type": "integer", "minimum": 0},
                }, "required": ["kind", "name", "size"], "additionalProperties": False},
                {"type": "object", "properties": {
                    "kind": {"const": "dir"},
                    "name": {"type": "string", "minLength": 1},
                    "children": {"type": "array", "items": {"$ref": "#/$defs/entry"}},
                }, "required": ["kind", "name", "children"], "additionalProperties": False},
            ]},
        },
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/entry"}, "scanned_at": {"type": "string", "format": "date-time"}},
        "required": ["root", "scanned_at"],
        "additionalProperties": False,
    }),
    ("comment_thread", WRITTEN + " (threaded comments, recursion through $ref #)", {
        "type": "object",
        "properties": {
            "author": {"type": "string"},
            "body": {"type": "string", "maxLength": 500},
            "posted_at": {"type": "string", "format": "date-time"},
            "score": {"type": "integer"},
            "replies": {"type": "array", "items": {"$ref": "#"}},
        },
        "required": ["author", "body", "replies"],
        "additionalProperties": False,
    }),
    ("arithmetic_expression_tree", WRITTEN + " (expression AST: number leaf or binary op; oneOf exclusive by type)", {
        "$defs": {
            "expr": {"oneOf": [
                {"type": "number"},
                {"type": "object", "properties": {
                    "op": {"type": "string", "enum": ["+", "-", "*", "/", "^"]},
                    "left": {"$ref": "#/$defs/expr"},
                    "right": {"$ref": "#/$defs/expr"},
                }, "required": ["op", "left", "right"], "additionalProperties": False},
            ]},
        },
        "type": "object",
        "properties": {"expression": {"$ref": "#/$defs/expr"}, "result": {"type": ["number", "null"]}},
        "required": ["expression", "result"],
        "additionalProperties": False,
    }),
    ("markdown_document_blocks", WRITTEN + " (document AST; block kinds exclusive by const type)", {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "blocks": {"type": "array", "items": {"oneOf": [
                {"type": "object", "properties": {"type": {"const": "heading"}, "level": {"type": "integer", "minimum": 1, "maximum": 6},
                                                  "text": {"type": "string"}}, "required": ["type", "level", "text"], "additionalProperties": False},
                {"type": "object", "properties": {"type": {"const": "paragraph"}, "text": {"type": "string"}},
                 "required": ["type", "text"], "additionalProperties": False},
                {"type": "object", "properties": {"type": {"const": "list"}, "ordered": {"type": "boolean"},
                                                  "items": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
                 "required": ["type", "ordered", "items"], "additionalProperties": False},
                {"type": "object", "properties": {"type": {"const": "code"}, "language": {"type": ["string", "null"]},
                                                  "code": {"type": "string"}}, "required": ["type", "language", "code"], "additionalProperties": False},
            ]}},
        },
        "required": ["title", "blocks"],
        "additionalProperties": False,
    }),
    # ---- document extraction ----------------------------------------------------------
    ("invoice_extraction", WRITTEN + " (invoice OCR extraction)", {
        "type": "object",
        "properties": {
            "invoice_number": {"type": "string", "pattern": "^INV-\\d{6}$"},
            "issue_date": {"type": "string", "format": "date"},
            "due_date": {"type": ["string", "null"], "format": "date"},
            "vendor": {"type": "object", "properties": {
                "name": {"type": "string"}, "vat_id": {"type": ["string", "null"], "pattern": "^[A-Z]{2}[0-9A-Z]{8,12}$"},
            }, "required": ["name", "vat_id"], "additionalProperties": False},
            "line_items": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "properties": {
                    "description": {"type": "string"},
                    "quantity": {"type": "integer", "minimum": 1},
                    "unit_price": {"type": "number", "minimum": 0},
                },
                "required": ["description", "quantity", "unit_price"],
                "additionalProperties": False,
            }},
            "total": {"type": "number", "minimum": 0},
            "currency": {"type": "string", "enum": ["USD", "EUR", "GBP", "CHF", "JPY"]},
        },
        "required": ["invoice_number", "issue_date", "due_date", "vendor", "line_items", "total", "currency"],
        "additionalProperties": False,
    }),
    ("resume_parsing", WRITTEN + " (CV/resume parser output)", {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "email": {"type": ["string", "null"], "format": "email"},
            "phone": {"type": ["string", "null"], "pattern": "^\\+?[0-9 ()-]{7,20}$"},
            "experience": {"type": "array", "maxItems": 6, "items": {
                "type": "object",
                "properties": {
                    "company": {"type": "string"},
                    "title": {"type": "string"},
                    "start": {"type": "string", "pattern": "^\\d{4}-(0[1-9]|1[0-2])$"},
                    "end": {"type": ["string", "null"], "pattern": "^\\d{4}-(0[1-9]|1[0-2])$"},
                },
                "required": ["company", "title", "start", "end"],
                "additionalProperties": False,
            }},
            "skills": {"type": "array", "items": {"type": "string", "maxLength": 40}, "maxItems": 20},
        },
        "required": ["name", "email", "phone", "experience", "skills"],
        "additionalProperties": False,
    }),
    ("named_entity_recognition", WRITTEN + " (NER spans)", {
        "type": "object",
        "properties": {
            "entities": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string", "minLength": 1},
                    "label": {"type": "string", "enum": ["PER", "ORG", "LOC", "MISC", "DATE", "MONEY"]},
                    "start": {"type": "integer", "minimum": 0},
                    "end": {"type": "integer", "minimum": 0},
                },
                "required": ["text", "label", "start", "end"],
                "additionalProperties": False,
            }},
        },
        "required": ["entities"],
        "additionalProperties": False,
    }),
    ("multilabel_classification", WRITTEN + " (ticket classifier: 1-3 labels from an enum)", {
        "type": "object",
        "properties": {
            "labels": {"type": "array", "minItems": 1, "maxItems": 3,
                       "items": {"type": "string", "enum": ["billing", "bug", "feature_request", "account", "security", "other"]}},
            "rationale": {"type": "string", "maxLength": 300},
        },
        "required": ["labels", "rationale"],
        "additionalProperties": False,
    }),
    ("github_issue_triage", WRITTEN + " (issue triage bot output)", {
        "type": "object",
        "properties": {
            "summary": {"type": "string", "maxLength": 280},
            "priority": {"type": "string", "enum": ["P0", "P1", "P2", "P3"]},
            "labels": {"type": "array", "items": {"type": "string", "enum": ["bug", "enhancement", "docs", "question", "good first issue", "needs-repro"]}},
            "duplicate_of": {"type": ["integer", "null"], "minimum": 1},
            "assignee": {"type": ["string", "null"], "pattern": "^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$"},
        },
        "required": ["summary", "priority", "labels", "duplicate_of"],
        "additionalProperties": False,
    }),
    ("code_review_comments", WRITTEN + " (code review bot: inline comments)", {
        "type": "object",
        "properties": {
            "verdict": {"type": "string", "enum": ["approve", "request_changes", "comment"]},
            "comments": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "file": {"type": "string", "pattern": "^[\\w./-]+$"},
                    "line": {"type": "integer", "minimum": 1},
                    "severity": {"type": "string", "enum": ["nit", "minor", "major", "blocker"]},
                    "message": {"type": "string", "minLength": 1},
                    "suggestion": {"type": ["string", "null"]},
                },
                "required": ["file", "line", "severity", "message", "suggestion"],
                "additionalProperties": False,
            }},
        },
        "required": ["verdict", "comments"],
        "additionalProperties": False,
    }),
    ("translation_result_unicode", WRITTEN + " (translation output; examples in many scripts)", {
        "type": "object",
        "properties": {
            "source_language": {"type": "string", "enum": ["en", "de", "ja", "zh", "ar", "ru", "hi", "ko"]},
            "target_language": {"type": "string", "enum": ["en", "de", "ja", "zh", "ar", "ru", "hi", "ko"]},
            "translation": {"type": "string", "examples": ["こんにちは世界", "Привет, мир", "مرحبا بالعالم", "नमस्ते दुनिया"]},
            "alternatives": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["source_language", "target_language", "translation"],
        "additionalProperties": False,
    }),
    ("multilingual_labels", WRITTEN + " (non-ASCII enum values, const and pattern literals)", {
        "type": "object",
        "properties": {
            "language": {"type": "string", "enum": ["日本語", "中文", "한국어", "Español", "Ελληνικά", "Русский", "עברית", "emoji 🎉"]},
            "chapter": {"type": "string", "pattern": "^第\\d{1,3}章$"},
            "currency_symbol": {"enum": ["€", "£", "¥", "₹", "₩", "$"]},
            "greeting": {"const": "¡Hola, señor! ¿Qué tal?"},
            "note": {"type": "string", "maxLength": 20},
        },
        "required": ["language", "chapter", "currency_symbol", "greeting"],
        "additionalProperties": False,
    }),
    # ---- formats and patterns ----------------------------------------------------------
    ("date_time_formats", WRITTEN + " (every supported format in one object)", {
        "type": "object",
        "properties": {
            "day": {"type": "string", "format": "date"},
            "opens_at": {"type": "string", "format": "time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "record_id": {"type": "string", "format": "uuid"},
            "owner_email": {"type": "string", "format": "email"},
        },
        "required": ["day", "opens_at", "updated_at", "record_id", "owner_email"],
        "additionalProperties": False,
    }),
    ("contact_card", WRITTEN + " (vCard-like contact)", {
        "type": "object",
        "properties": {
            "given_name": {"type": "string", "minLength": 1, "maxLength": 50},
            "family_name": {"type": "string", "maxLength": 50},
            "emails": {"type": "array", "items": {"type": "string", "format": "email"}, "maxItems": 3},
            "phone": {"type": "string", "pattern": "^\\+?[0-9 ()-]{7,20}$"},
            "birthday": {"type": "string", "format": "date"},
            "website": {"type": "string", "pattern": "^https?://[^\\s/$?#]+(/\\S*)?$"},
        },
        "required": ["given_name"],
        "additionalProperties": False,
    }),
    ("semver_release_info", WRITTEN + " (release metadata with the semver.org regular expression, without named groups)", {
        "type": "object",
        "properties": {
            "version": {"type": "string",
                        "pattern": "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$"},
            "released": {"type": "string", "format": "date"},
            "breaking": {"type": "boolean"},
            "changes": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
        },
        "required": ["version", "released", "breaking"],
        "additionalProperties": False,
    }),
    ("color_palette", WRITTEN + " (design palette: hex colour patterns, 3-8 entries)", {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "colors": {"type": "array", "minItems": 3, "maxItems": 8, "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "hex": {"type": "string", "pattern": "^#[0-9a-fA-F]{6}$"},
                    "role": {"type": "string", "enum": ["primary", "secondary", "accent", "background", "text"]},
                },
                "required": ["hex", "role"],
                "additionalProperties": False,
            }},
        },
        "required": ["name", "colors"],
        "additionalProperties": False,
    }),
    ("bibliography_entry", WRITTEN + " (citation record; DOI and ISBN patterns)", {
        "type": "object",
        "properties": {
            "entry_type": {"type": "string", "enum": ["article", "book", "inproceedings", "misc"]},
            "title": {"type": "string"},
            "authors": {"type": "array", "minItems": 1, "items": {
                "type": "object", "properties": {"given": {"type": "string"}, "family": {"type": "string"}},
                "required": ["family"], "additionalProperties": False}},
            "year": {"type": "integer", "minimum": 1450, "maximum": 2100},
            "doi": {"type": "string", "pattern": "^10\\.\\d{4,9}/\\S+$"},
            "isbn": {"type": "string", "pattern": "^(97[89])?\\d{9}[\\dX]$"},
        },
        "required": ["entry_type", "title", "authors", "year"],
        "additionalProperties": False,
    }),
    ("timeline_events", WRITTEN + " (timeline extraction; partial dates by pattern)", {
        "type": "object",
        "properties": {
            "events": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "when": {"type": "string", "pattern": "^-?\\d{1,4}(-(0[1-9]|1[0-2])(-(0[1-9]|[12]\\d|3[01]))?)?$"},
                    "what": {"type": "string"},
                    "importance": {"type": "string", "enum": ["low", "medium", "high"]},
                },
                "required": ["when", "what"],
                "additionalProperties": False,
            }},
        },
        "required": ["events"],
        "additionalProperties": False,
    }),
    ("flight_itinerary", WRITTEN + " (itinerary extraction from a booking e-mail)", {
        "type": "object",
        "properties": {
            "booking_reference": {"type": "string", "pattern": "^[A-Z0-9]{6}$"},
            "passengers": {"type": "array", "minItems": 1, "maxItems": 9, "items": {"type": "string"}},
            "segments": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "properties": {
                    "flight_number": {"type": "string", "pattern": "^[A-Z0-9]{2}\\d{1,4}$"},
                    "from": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "to": {"type": "string", "pattern": "^[A-Z]{3}$"},
                    "departs": {"type": "string", "format": "date-time"},
                    "cabin": {"type": "string", "enum": ["economy", "premium_economy", "business", "first"]},
                },
                "required": ["flight_number", "from", "to", "departs"],
                "additionalProperties": False,
            }},
        },
        "required": ["booking_reference", "passengers", "segments"],
        "additionalProperties": False,
    }),
    ("bank_transactions_categorized", WRITTEN + " (transaction categoriser)", {
        "type": "object",
        "properties": {
            "transactions": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "format": "uuid"},
                    "amount": {"type": "number"},
                    "merchant": {"type": "string"},
                    "category": {"type": "string", "enum": ["groceries", "rent", "utilities", "dining", "travel", "income", "other"]},
                    "recurring": {"type": "boolean"},
                },
                "required": ["id", "amount", "category"],
                "additionalProperties": False,
            }},
        },
        "required": ["transactions"],
        "additionalProperties": False,
    }),
    # ---- agents -----------------------------------------------------------------------
    ("agent_tool_call", WRITTEN + " (a tool call emitted as JSON: name enum plus free arguments)", {
        "type": "object",
        "properties": {
            "name": {"type": "string", "enum": ["get_weather", "search_web", "run_python", "send_email"]},
            "arguments": {"type": "object"},
        },
        "required": ["name", "arguments"],
        "additionalProperties": False,
    }),
    ("react_agent_step", WRITTEN + " (ReAct step: thought plus tool action or final answer; oneOf exclusive by const)", {
        "type": "object",
        "properties": {
            "thought": {"type": "string"},
            "action": {"oneOf": [
                {"type": "object", "properties": {
                    "type": {"const": "tool"},
                    "tool": {"type": "string", "enum": ["search", "calculator", "lookup"]},
                    "input": {"type": "string"},
                }, "required": ["type", "tool", "input"], "additionalProperties": False},
                {"type": "object", "properties": {
                    "type": {"const": "final_answer"},
                    "answer": {"type": "string"},
                }, "required": ["type", "answer"], "additionalProperties": False},
            ]},
        },
        "required": ["thought", "action"],
        "additionalProperties": False,
    }),
    ("agent_plan_dag", WRITTEN + " (planner output: steps with dependencies)", {
        "type": "object",
        "properties": {
            "goal": {"type": "string"},
            "steps": {"type": "array", "minItems": 1, "maxItems": 8, "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer", "minimum": 1, "maximum": 8},
                    "description": {"type": "string"},
                    "tool": {"type": ["string", "null"], "enum": ["browser", "shell", "editor", "search", None]},
                    "depends_on": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 8}, "maxItems": 7},
                },
                "required": ["id", "description", "tool", "depends_on"],
                "additionalProperties": False,
            }},
        },
        "required": ["goal", "steps"],
        "additionalProperties": False,
    }),
    ("router_decision", WRITTEN + " (LLM router choosing a downstream model)", {
        "type": "object",
        "properties": {
            "route": {"type": "string", "enum": ["small_model", "large_model", "code_model", "refuse"]},
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string", "maxLength": 200},
        },
        "required": ["route", "confidence", "reason"],
        "additionalProperties": False,
    }),
    ("query_rewrite_filters", WRITTEN + " (RAG query rewriting with nullable date filters)", {
        "type": "object",
        "properties": {
            "queries": {"type": "array", "minItems": 1, "maxItems": 5, "items": {"type": "string", "minLength": 1}},
            "filters": {
                "type": "object",
                "properties": {
                    "date_from": {"type": ["string", "null"], "format": "date"},
                    "date_to": {"type": ["string", "null"], "format": "date"},
                    "source_types": {"type": "array", "items": {"type": "string", "enum": ["pdf", "web", "email", "slack"]}},
                },
                "required": ["date_from", "date_to", "source_types"],
                "additionalProperties": False,
            },
        },
        "required": ["queries", "filters"],
        "additionalProperties": False,
    }),
    ("rag_answer_citations", WRITTEN + " (answer with citations to retrieved chunks)", {
        "type": "object",
        "properties": {
            "answer": {"type": "string"},
            "citations": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "source_id": {"type": "string", "pattern": "^doc-\\d+(#chunk-\\d+)?$"},
                    "quote": {"type": "string", "maxLength": 300},
                },
                "required": ["source_id", "quote"],
                "additionalProperties": False,
            }},
            "answerable": {"type": "boolean"},
        },
        "required": ["answer", "citations", "answerable"],
        "additionalProperties": False,
    }),
    ("chain_of_thought_answer", WRITTEN + " (reasoning steps and an answer that is a number or a string)", {
        "type": "object",
        "properties": {
            "reasoning": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 10},
            "answer": {"anyOf": [{"type": "number"}, {"type": "string", "maxLength": 100}]},
            "confidence": {"type": "string", "enum": ["low", "medium", "high"]},
        },
        "required": ["reasoning", "answer", "confidence"],
        "additionalProperties": False,
    }),
    ("multiple_choice_answer", WRITTEN + " (benchmark-style answer extraction)", {
        "type": "object",
        "properties": {
            "answer": {"type": "string", "enum": ["A", "B", "C", "D", "E"]},
            "confidence": {"type": "integer", "minimum": 0, "maximum": 100},
            "explanation": {"type": "string"},
        },
        "required": ["answer", "confidence", "explanation"],
        "additionalProperties": False,
    }),
    ("summarization", WRITTEN + " (article summary with 3-7 bullet points)", {
        "type": "object",
        "properties": {
            "headline": {"type": "string", "maxLength": 80},
            "bullets": {"type": "array", "minItems": 3, "maxItems": 7, "items": {"type": "string", "maxLength": 200}},
            "tl_dr": {"type": "string", "maxLength": 140},
            "reading_time_minutes": {"type": "integer", "minimum": 1, "maximum": 60},
        },
        "required": ["headline", "bullets", "tl_dr"],
        "additionalProperties": False,
    }),
    ("email_triage", WRITTEN + " (inbox assistant)", {
        "type": "object",
        "properties": {
            "category": {"type": "string", "enum": ["action_required", "fyi", "newsletter", "spam", "personal"]},
            "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
            "reply_needed": {"type": "boolean"},
            "draft_reply": {"type": ["string", "null"]},
            "mentioned_dates": {"type": "array", "items": {"type": "string", "format": "date"}},
        },
        "required": ["category", "urgency", "reply_needed", "draft_reply", "mentioned_dates"],
        "additionalProperties": False,
    }),
    ("recipe", WRITTEN + " (recipe extraction)", {
        "type": "object",
        "properties": {
            "title": {"type": "string"},
            "servings": {"type": "integer", "minimum": 1, "maximum": 20},
            "prep_minutes": {"type": "integer", "minimum": 0},
            "vegetarian": {"type": "boolean"},
            "cuisine": {"type": ["string", "null"], "enum": ["italian", "mexican", "japanese", "indian", "french", "other", None]},
            "ingredients": {"type": "array", "minItems": 1, "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"},
                    "quantity": {"type": "number", "exclusiveMinimum": 0},
                    "unit": {"type": "string", "enum": ["g", "kg", "ml", "l", "tsp", "tbsp", "cup", "piece"]},
                },
                "required": ["name", "quantity", "unit"],
                "additionalProperties": False,
            }},
            "steps": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["title", "servings", "ingredients", "steps"],
        "additionalProperties": False,
    }),
    ("api_error_response", WRITTEN + " (problem-details style error body)", {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "status": {"type": "integer", "minimum": 400, "maximum": 599},
                    "code": {"type": "string", "pattern": "^[A-Z][A-Z_]*$"},
                    "message": {"type": "string"},
                    "details": {"type": "array", "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "issue": {"type": "string"}},
                        "required": ["field", "issue"],
                        "additionalProperties": False,
                    }},
                },
                "required": ["status", "code", "message"],
                "additionalProperties": False,
            },
            "request_id": {"type": "string", "format": "uuid"},
        },
        "required": ["error", "request_id"],
        "additionalProperties": False,
    }),
    ("http_request_spec", WRITTEN + " (HTTP request an agent wants to make)", {
        "type": "object",
        "properties": {
            "method": {"type": "string", "enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
            "url": {"type": "string", "pattern": "^https?://[A-Za-z0-9.-]+(:\\d{1,5})?(/[^\\s]*)?$"},
            "headers": {"type": "object", "additionalProperties": {"type": "string"}},
            "body": {"anyOf": [{"type": "object"}, {"type": "string"}, {"type": "null"}]},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 120},
        },
        "required": ["method", "url"],
        "additionalProperties": False,
    }),
    # ---- unions, oneOf, allOf ------------------------------------------------------------
    ("payment_method_oneof", WRITTEN + " (payment method; oneOf exclusive by const type)", {
        "type": "object",
        "properties": {
            "amount_cents": {"type": "integer", "minimum": 1},
            "method": {"oneOf": [
                {"type": "object", "properties": {
                    "type": {"const": "card"},
                    "last4": {"type": "string", "pattern": "^\\d{4}$"},
                    "expiry": {"type": "string", "pattern": "^(0[1-9]|1[0-2])/\\d{2}$"},
                    "brand": {"type": "string", "enum": ["visa", "mastercard", "amex"]},
                }, "required": ["type", "last4", "expiry"], "additionalProperties": False},
                {"type": "object", "properties": {
                    "type": {"const": "sepa"},
                    "iban": {"type": "string", "pattern": "^[A-Z]{2}\\d{2}[A-Z0-9]{11,30}$"},
                }, "required": ["type", "iban"], "additionalProperties": False},
                {"type": "object", "properties": {
                    "type": {"const": "paypal"},
                    "email": {"type": "string", "format": "email"},
                }, "required": ["type", "email"], "additionalProperties": False},
            ]},
        },
        "required": ["amount_cents", "method"],
        "additionalProperties": False,
    }),
    ("audit_record_allof", WRITTEN + " (record composed with allOf of object schemas from $defs)", {
        "allOf": [
            {"$ref": "#/$defs/identified"},
            {"$ref": "#/$defs/timestamps"},
            {"type": "object", "properties": {
                "action": {"type": "string", "enum": ["create", "update", "delete", "login"]},
                "actor": {"type": "string"},
            }, "required": ["action", "actor"]},
        ],
        "$defs": {
            "identified": {"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}}, "required": ["id"]},
            "timestamps": {"type": "object", "properties": {
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": ["string", "null"], "format": "date-time"},
            }, "required": ["created_at"]},
        },
    }),
    ("geojson_point", WRITTEN + " (GeoJSON Point; coordinates as prefixItems)", {
        "type": "object",
        "properties": {
            "type": {"const": "Point"},
            "coordinates": {"type": "array",
                            "prefixItems": [{"type": "number", "minimum": -180, "maximum": 180},
                                            {"type": "number", "minimum": -90, "maximum": 90}],
                            "minItems": 2, "maxItems": 2},
        },
        "required": ["type", "coordinates"],
        "additionalProperties": False,
    }),
    ("geojson_feature_collection", WRITTEN + " (GeoJSON subset; geometry oneOf exclusive by const type)", {
        "type": "object",
        "properties": {
            "type": {"const": "FeatureCollection"},
            "features": {"type": "array", "maxItems": 4, "items": {
                "type": "object",
                "properties": {
                    "type": {"const": "Feature"},
                    "geometry": {"oneOf": [{"$ref": "#/$defs/point"}, {"$ref": "#/$defs/line_string"}]},
                    "properties": {"type": ["object", "null"]},
                },
                "required": ["type", "geometry", "properties"],
            }},
        },
        "required": ["type", "features"],
        "$defs": {
            "position": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}],
                         "items": {"type": "number"}, "minItems": 2, "maxItems": 3},
            "point": {"type": "object", "properties": {"type": {"const": "Point"}, "coordinates": {"$ref": "#/$defs/position"}},
                      "required": ["type", "coordinates"]},
            "line_string": {"type": "object", "properties": {"type": {"const": "LineString"},
                                                             "coordinates": {"type": "array", "items": {"$ref": "#/$defs/position"}, "minItems": 2, "maxItems": 4}},
                            "required": ["type", "coordinates"]},
        },
    }),
    ("knowledge_graph_triples", WRITTEN + " (subject-predicate-object triples as fixed-length tuples)", {
        "type": "object",
        "properties": {
            "triples": {"type": "array", "items": {
                "type": "array",
                "prefixItems": [{"type": "string", "minLength": 1}, {"type": "string", "pattern": "^[a-z_]+$"}, {"type": ["string", "number", "boolean"]}],
                "minItems": 3, "maxItems": 3,
            }},
        },
        "required": ["triples"],
        "additionalProperties": False,
    }),
    ("spreadsheet_row_prefix_items", WRITTEN + " (a typed CSV row: prefixItems with optional trailing notes)", {
        "type": "object",
        "properties": {
            "header": {"type": "array", "items": {"type": "string"}, "minItems": 4},
            "row": {"type": "array",
                    "prefixItems": [{"type": "string", "pattern": "^[A-Z]{2}\\d{3}$"}, {"type": "integer", "minimum": 0},
                                    {"type": "number"}, {"type": "boolean"}],
                    "items": {"type": "string"},
                    "minItems": 4, "maxItems": 6},
        },
        "required": ["header", "row"],
        "additionalProperties": False,
    }),
    ("table_cells_nested_arrays", WRITTEN + " (table extraction: rows of nullable string/number cells)", {
        "type": "object",
        "properties": {
            "columns": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 5},
            "rows": {"type": "array", "maxItems": 6, "items": {"type": "array", "maxItems": 5,
                                                               "items": {"type": ["string", "number", "null"]}}},
        },
        "required": ["columns", "rows"],
        "additionalProperties": False,
    }),
    ("matrix_of_numbers", WRITTEN + " (numeric matrix with bounded entries)", {
        "type": "object",
        "properties": {
            "rows": {"type": "integer", "minimum": 1, "maximum": 4},
            "cols": {"type": "integer", "minimum": 1, "maximum": 4},
            "data": {"type": "array", "minItems": 1, "maxItems": 4,
                     "items": {"type": "array", "minItems": 1, "maxItems": 4,
                               "items": {"type": "number", "minimum": -1000, "maximum": 1000}}},
        },
        "required": ["rows", "cols", "data"],
        "additionalProperties": False,
    }),
    # ---- maps -------------------------------------------------------------------------------
    ("word_counts_map", WRITTEN + " (map of word -> count via additionalProperties)", {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1},
    }),
    ("metadata_additional_props_schema", WRITTEN + " (fixed fields plus a metadata map of scalars)", {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "metadata": {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}},
            "tags": {"type": "object", "properties": {"env": {"type": "string", "enum": ["dev", "staging", "prod"]}},
                     "additionalProperties": {"type": "string", "maxLength": 20}},
        },
        "required": ["id", "metadata"],
        "additionalProperties": False,
    }),
    # ---- edge cases ------------------------------------------------------------------------
    ("numeric_bounds_edge_cases", WRITTEN + " (inclusive/exclusive, negative, fractional and large bounds)", {
        "type": "object",
        "properties": {
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "delta": {"type": "integer", "minimum": -5, "maximum": 5},
            "big": {"type": "integer", "minimum": 1000000000000},
            "price": {"type": "number", "minimum": 0.01, "maximum": 999999.99},
            "below_zero": {"type": "number", "maximum": -0.5},
            "odd_bounds": {"type": "integer", "exclusiveMinimum": -3, "exclusiveMaximum": 3},
            "year": {"type": "integer", "minimum": 1900, "maximum": 2099},
        },
        "required": ["ratio", "delta", "big", "price", "below_zero", "odd_bounds", "year"],
        "additionalProperties": False,
    }),
    ("string_length_edge_cases", WRITTEN + " (exact, empty-only and long bounds on length)", {
        "type": "object",
        "properties": {
            "iso_code": {"type": "string", "minLength": 3, "maxLength": 3},
            "empty": {"type": "string", "maxLength": 0},
            "nonempty": {"type": "string", "minLength": 1},
            "tweet": {"type": "string", "maxLength": 280},
            "pin": {"type": "string", "pattern": "^\\d{4,6}$", "minLength": 4, "maxLength": 6},
        },
        "required": ["iso_code", "empty", "nonempty", "pin"],
        "additionalProperties": False,
    }),
    ("const_enum_mixed_types", WRITTEN + " (const of several types; enums mixing types)", {
        "type": "object",
        "properties": {
            "schema_version": {"const": 2},
            "kind": {"const": "report"},
            "flag": {"enum": [True, False, None]},
            "mixed": {"enum": [1, "one", 1.5, None, False, [1, 2], {"a": 1}]},
            "ratio": {"const": 0.25},
            "label": {"type": "string"},
        },
        "required": ["schema_version", "kind", "mixed"],
        "additionalProperties": False,
    }),
    ("escape_heavy_strings", WRITTEN + " (enum/const/pattern values that need JSON escapes)", {
        "type": "object",
        "properties": {
            "quote": {"enum": ["say \"hi\"", "back\\slash", "tab\there", "new\nline", "slash/", "uni\u00e9"]},
            "path": {"type": "string", "pattern": "^[A-Za-z]:\\\\([^\\\\/:*?\"<>|]+\\\\)*[^\\\\/:*?\"<>|]*$"},
            "marker": {"const": "</script>"},
            "control": {"const": "\u0001\u001f"},
            "free": {"type": "string"},
        },
        "required": ["quote", "path", "marker"],
        "additionalProperties": False,
    }),
    ("unanchored_patterns", WRITTEN + " (patterns are searches: unanchored, start-only and end-only anchors)", {
        "type": "object",
        "properties": {
            "password": {"type": "string", "minLength": 8, "maxLength": 64, "pattern": "[0-9]"},
            "config_file": {"type": "string", "pattern": "\\.json$"},
            "temp_name": {"type": "string", "pattern": "^tmp_"},
            "tweet": {"type": "string", "pattern": "#\\w+", "maxLength": 280},
            "pet": {"type": "string", "pattern": "cat|dog"},
        },
        "required": ["password", "config_file", "temp_name", "tweet", "pet"],
        "additionalProperties": False,
    }),
    ("optional_only_object", WRITTEN + " (every property optional, no extras: {} is valid)", {
        "type": "object",
        "properties": {
            "nickname": {"type": "string"},
            "favorite_number": {"type": "integer"},
            "subscribed": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": False,
    }),
    ("untyped_any_fields", WRITTEN + " (fields with no type: any JSON value)", {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "payload": {"description": "Anything the caller sent"},
            "extra": {},
        },
        "required": ["id", "payload"],
    }),
    ("type_array_multi", WRITTEN + " (type arrays with per-type constraints)", {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "number", "boolean", "null"]},
            "b": {"type": ["integer", "string"], "minimum": 0, "maxLength": 5},
            "c": {"type": ["array", "null"], "items": {"type": "integer"}, "maxItems": 3},
            "d": {"type": ["object", "string"], "properties": {"x": {"type": "integer"}}, "required": ["x"], "additionalProperties": False,
                  "minLength": 2},
        },
        "required": ["a", "b", "c", "d"],
        "additionalProperties": False,
    }),
    ("definitions_keyword_legacy", WRITTEN + " (draft-07 style \"definitions\" with $ref #/definitions/...)", {
        "$schema": S07,
        "type": "object",
        "definitions": {
            "money": {"type": "object", "properties": {"amount": {"type": "integer"}, "currency": {"type": "string", "pattern": "^[A-Z]{3}$"}},
                      "required": ["amount", "currency"], "additionalProperties": False},
            "line": {"type": "object", "properties": {"sku": {"type": "string"}, "price": {"$ref": "#/definitions/money"}},
                     "required": ["sku", "price"], "additionalProperties": False},
        },
        "properties": {
            "lines": {"type": "array", "items": {"$ref": "#/definitions/line"}},
            "total": {"$ref": "#/definitions/money"},
        },
        "required": ["lines", "total"],
        "additionalProperties": False,
    }),
    ("annotations_id_comment_examples", WRITTEN + " ($id, $schema, $comment, title, examples and defaults everywhere)", {
        "$schema": S2020,
        "$id": "https://example.com/schemas/ticket.json",
        "$comment": "Annotations only; none of them constrains the instance.",
        "title": "Support ticket",
        "description": "A support ticket as filed by the assistant.",
        "type": "object",
        "properties": {
            "subject": {"type": "string", "title": "Subject", "examples": ["Cannot log in"], "maxLength": 120},
            "severity": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal", "$comment": "mapped to SLA"},
            "customer": {"$ref": "#/$defs/customer"},
        },
        "required": ["subject", "customer"],
        "additionalProperties": False,
        "$defs": {
            "customer": {"title": "Customer", "type": "object", "examples": [{"id": 1, "name": "Ada"}],
                         "properties": {"id": {"type": "integer", "minimum": 1}, "name": {"type": "string"}},
                         "required": ["id"], "additionalProperties": False},
        },
    }),
    # ---- roots that are not objects -----------------------------------------------------------
    ("root_integer_rating", WRITTEN + " (bare integer answer, 1-100)", {
        "type": "integer", "minimum": 1, "maximum": 100, "description": "Quality score",
    }),
    ("root_iso_date", WRITTEN + " (bare date answer)", {"type": "string", "format": "date"}),
    ("root_slug", WRITTEN + " (bare URL slug)", {"type": "string", "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$", "maxLength": 60}),
    ("root_us_state_enum", WRITTEN + " (bare enum answer: US state codes)", {
        "type": "string",
        "enum": ["AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY", "LA",
                 "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND", "OH", "OK",
                 "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY"],
    }),
    ("root_temperature_number", WRITTEN + " (bare number with fractional bounds)", {
        "type": "number", "minimum": -273.15, "exclusiveMaximum": 1000,
    }),
    ("root_nullable_short_string", WRITTEN + " (bare string or null)", {"type": ["string", "null"], "maxLength": 50}),
    ("root_uuid_or_null", WRITTEN + " (bare UUID or null via anyOf)", {
        "anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}],
    }),
    ("root_array_of_strings", WRITTEN + " (bare list of short strings)", {
        "type": "array", "items": {"type": "string", "maxLength": 30}, "maxItems": 10,
    }),
    ("root_rgb_tuple", WRITTEN + " (bare RGB triple as prefixItems)", {
        "type": "array",
        "prefixItems": [{"type": "integer", "minimum": 0, "maximum": 255}] * 3,
        "minItems": 3, "maxItems": 3,
    }),
    ("root_chat_messages", WRITTEN + " (bare array of chat messages with tool calls)", {
        "type": "array",
        "maxItems": 4,
        "items": {
            "type": "object",
            "properties": {
                "role": {"type": "string", "enum": ["system", "user", "assistant", "tool"]},
                "content": {"type": ["string", "null"]},
                "tool_calls": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string", "pattern": "^call_[A-Za-z0-9]{8,24}$"},
                        "type": {"const": "function"},
                        "function": {"type": "object", "properties": {"name": {"type": "string"}, "arguments": {"type": "string"}},
                                     "required": ["name", "arguments"], "additionalProperties": False},
                    },
                    "required": ["id", "type", "function"],
                    "additionalProperties": False,
                }},
            },
            "required": ["role", "content"],
            "additionalProperties": False,
        },
    }),
    ("root_qa_pairs", WRITTEN + " (bare array of question/answer pairs)", {
        "type": "array",
        "minItems": 1,
        "items": {"type": "object", "properties": {"question": {"type": "string", "minLength": 1}, "answer": {"type": "string"}},
                  "required": ["question", "answer"], "additionalProperties": False},
    }),
    ("root_boolean_or_reason", WRITTEN + " (bare boolean, or an object explaining a refusal)", {
        "anyOf": [
            {"type": "boolean"},
            {"type": "object", "properties": {"refusal": {"type": "string"}}, "required": ["refusal"], "additionalProperties": False},
        ],
    }),
]

# ---------------------------------------------------------------------------
# Pydantic v2 models: their model_json_schema() output goes into the corpus as
# pydantic emits it (titles, $defs, enums behind $ref, Optional as
# anyOf [..., {"type": "null"}], tuples as prefixItems, dicts as
# additionalProperties schemas, extra="forbid" as additionalProperties false).
# ---------------------------------------------------------------------------

def pydantic_schemas():
    import datetime
    import enum
    import uuid
    from typing import Annotated, List, Literal, Optional, Union

    from pydantic import BaseModel, ConfigDict, EmailStr, Field, RootModel

    src = f"pydantic {pydantic.VERSION} model_json_schema() of the model %s in Scripts/make_schema_fixtures.py ({WRITTEN})"

    class CalendarEvent(BaseModel):
        name: str
        date: datetime.date
        participants: List[str]

    class Role(str, enum.Enum):
        admin = "admin"
        editor = "editor"
        viewer = "viewer"

    class UserProfile(BaseModel):
        model_config = ConfigDict(extra="forbid")
        id: uuid.UUID
        email: EmailStr
        display_name: Annotated[str, Field(min_length=1, max_length=64)]
        age: Optional[Annotated[int, Field(ge=13, le=130)]] = None
        role: Role = Role.viewer
        tags: Annotated[List[str], Field(max_length=5)] = []
        created_at: datetime.datetime

    class Address(BaseModel):
        street: str
        city: str
        postal_code: Annotated[str, Field(pattern=r"^[0-9A-Z -]{3,10}$")]
        country: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]

    class OrderStatus(str, enum.Enum):
        pending = "pending"
        paid = "paid"
        shipped = "shipped"
        delivered = "delivered"
        cancelled = "cancelled"

    class OrderItem(BaseModel):
        sku: Annotated[str, Field(pattern=r"^[A-Z]{3}-\d{4}$")]
        quantity: Annotated[int, Field(ge=1, le=99)]
        unit_price: Annotated[float, Field(ge=0)]

    class Order(BaseModel):
        order_id: str
        status: OrderStatus
        items: Annotated[List[OrderItem], Field(min_length=1, max_length=10)]
        shipping_address: Optional[Address] = None
        currency: Literal["USD", "EUR", "GBP", "JPY"] = "USD"
        note: Optional[str] = Field(default=None, max_length=200)

    class TreeNode(BaseModel):
        value: int
        children: List["TreeNode"] = []

    class Invoice(BaseModel):
        invoice_number: Annotated[str, Field(pattern=r"^INV-\d{6}$")]
        issued: datetime.date
        due: datetime.date
        line: tuple[int, str, float]
        tax_rates: dict[str, float]
        paid: bool = False

    class StrictSettings(BaseModel):
        model_config = ConfigDict(extra="forbid", title="Settings")
        theme: Literal["light", "dark", "system"] = "system"
        font_size: Annotated[int, Field(ge=8, le=32)] = 14
        language: Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")] = "en"
        beta_features: List[str] = []

    class Circle(BaseModel):
        kind: Literal["circle"]
        radius: Annotated[float, Field(gt=0)]

    class Rectangle(BaseModel):
        kind: Literal["rectangle"]
        width: Annotated[float, Field(gt=0)]
        height: Annotated[float, Field(gt=0)]

    class Drawing(BaseModel):
        title: Optional[str] = None
        shapes: List[Union[Circle, Rectangle]]

    class Level(enum.IntEnum):
        debug = 10
        info = 20
        warning = 30
        error = 40

    class LogRecord(BaseModel):
        at: datetime.time
        level: Level
        logger: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)*$")]
        message: Annotated[str, Field(min_length=1, max_length=200)]
        request_id: Optional[uuid.UUID] = None

    class MovieReview(BaseModel):
        title: str = Field(examples=["Spirited Away"])
        rating: Annotated[int, Field(ge=1, le=10, description="Score out of ten")]
        sentiment: Literal["positive", "mixed", "negative"]
        pros: List[str] = []
        cons: List[str] = []
        contains_spoilers: bool = False

    class Employee(BaseModel):
        name: str
        title: str
        reports: List["Employee"] = []

    class SubQuery(BaseModel):
        query: Annotated[str, Field(min_length=3)]
        source: Literal["web", "news", "academic", "internal_docs"]
        max_results: Annotated[int, Field(ge=1, le=50)] = 10

    class SearchPlan(BaseModel):
        reasoning: str
        sub_queries: Annotated[List[SubQuery], Field(min_length=1, max_length=5)]

    class Contact(BaseModel):
        name: str
        email: Optional[EmailStr] = None
        phone: Optional[Annotated[str, Field(pattern=r"^\+[1-9]\d{6,14}$")]] = None

    class AddressBook(BaseModel):
        owner: str
        contacts: List[Contact]

    class Money(BaseModel):
        amount: Annotated[float, Field(gt=0, le=1_000_000)]
        currency: Annotated[str, Field(min_length=3, max_length=3)]

    class Dimensions(BaseModel):
        width_cm: float
        height_cm: float
        depth_cm: float

    class Product(BaseModel):
        name: str
        price: Money
        dimensions: Optional[Dimensions] = None
        in_stock: bool
        categories: List[str] = []

    class ActionItem(BaseModel):
        task: str
        assignee: Optional[str] = None
        due: Optional[datetime.date] = None

    class MeetingNotes(BaseModel):
        title: str
        date: datetime.date
        attendees: List[str]
        decisions: List[str] = []
        action_items: List[ActionItem] = []

    class SentimentItem(BaseModel):
        text: str
        label: Literal["positive", "neutral", "negative"]
        score: Annotated[float, Field(ge=0, le=1)]

    class SentimentBatch(RootModel[List[SentimentItem]]):
        pass

    class WorkShift(BaseModel):
        day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        start: datetime.time
        end: datetime.time

    class Staff(BaseModel):
        staff_id: Annotated[int, Field(gt=0)]
        shifts: List[WorkShift]
        manager_id: Optional[int] = None

    models = [
        ("pydantic_calendar_event", CalendarEvent),
        ("pydantic_user_profile", UserProfile),
        ("pydantic_order", Order),
        ("pydantic_tree_node", TreeNode),
        ("pydantic_invoice_tuple_dict", Invoice),
        ("pydantic_settings_forbid_extra", StrictSettings),
        ("pydantic_drawing_union", Drawing),
        ("pydantic_log_record", LogRecord),
        ("pydantic_movie_review", MovieReview),
        ("pydantic_employee_tree", Employee),
        ("pydantic_search_plan", SearchPlan),
        ("pydantic_address_book", AddressBook),
        ("pydantic_product", Product),
        ("pydantic_meeting_notes", MeetingNotes),
        ("pydantic_sentiment_batch_root_list", SentimentBatch),
        ("pydantic_staff_shifts", Staff),
    ]
    return [(name, "response_format", src % model.__name__, model.model_json_schema()) for name, model in models]

# ---------------------------------------------------------------------------
# The keyword subset and the regex subset
# ---------------------------------------------------------------------------

ANNOTATIONS = {"title", "description", "default", "examples", "$schema", "$id", "$comment"}
KEYWORDS = {
    "type", "properties", "required", "additionalProperties", "enum", "const", "anyOf", "oneOf", "allOf",
    "items", "prefixItems", "minItems", "maxItems", "minLength", "maxLength", "pattern", "format",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "$ref", "$defs", "definitions",
}
TYPES = {"string", "number", "integer", "boolean", "null", "object", "array"}
FORMATS = {"date-time", "date", "time", "uuid", "email"}
OBJECT_KEYWORDS = {"type", "properties", "required", "additionalProperties", "$ref"}
REF_RE = re.compile(r"^#(/(\$defs|definitions)/[^/~]+)?$")


class SubsetError(Exception):
    pass


def check_pattern(p):
    """Raises SubsetError unless p is in the engine's regex subset: literals, escapes, '.',
    \\d \\w \\s \\D \\W \\S, classes with ranges, groups (...) and (?:...), '|', quantifiers
    * + ? {n} {n,} {n,m}, '^' only at the very start and '$' only at the very end."""
    n = len(p)
    start = 1 if p.startswith("^") else 0
    end = n
    if p.endswith("$"):
        k = n - 2
        while k >= 0 and p[k] == "\\":
            k -= 1
        if (n - 2 - k) % 2 == 0:
            end = n - 1

    def fail(i, why):
        raise SubsetError(f"pattern {p!r} at {i}: {why}")

    def escape(i, in_class):
        if i + 1 >= end:
            fail(i, "dangling backslash")
        c = p[i + 1]
        if c in "dwsDWS":
            if in_class and c in "DWS":
                fail(i, "negated class escape inside a class")
            return i + 2, None
        if c in "ntrfv":
            return i + 2, {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}[c]
        if c.isascii() and not c.isalnum():
            return i + 2, c
        fail(i, f"escape \\{c} not in the subset")

    def char_class(i):
        j = i + 1
        if j < end and p[j] == "^":
            j += 1
        first = True
        prev_single = None
        while True:
            if j >= end:
                fail(i, "unterminated class")
            c = p[j]
            if c == "]" and not first:
                return j + 1
            if c == "]":
                fail(j, "empty class or leading ]")
            if c == "[":
                fail(j, "nested [ in a class")
            if c == "-":
                if first or (j + 1 < end and p[j + 1] == "]"):
                    j += 1
                    first = False
                    prev_single = None
                    continue
                if prev_single is None:
                    fail(j, "ambiguous - in a class")
                # a range prev_single-hi
                k = j + 1
                if p[k] == "\\":
                    k, hi = escape(k, True)
                    if hi is None:
                        fail(k, "class escape as range end")
                else:
                    hi = p[k]
                    k += 1
                if ord(hi) < ord(prev_single):
                    fail(j, "reversed range")
                j = k
                prev_single = None
                first = False
                continue
            if c == "\\":
                j, single = escape(j, True)
            else:
                single = c
                j += 1
            prev_single = single
            first = False

    def quantifier(i):
        if i < end and p[i] in "*+?":
            i += 1
        elif i < end and p[i] == "{":
            m = re.compile(r"\{(\d+)(,(\d*))?\}").match(p, i)
            if not m or m.end() > end:
                fail(i, "bad {..} quantifier")
            lo = int(m.group(1))
            if m.group(3):
                if int(m.group(3)) < lo:
                    fail(i, "{n,m} with m < n")
            i = m.end()
        else:
            return i
        if i < end and p[i] in "*+?{":
            fail(i, "lazy, possessive or stacked quantifier")
        return i

    def atom(i):
        c = p[i]
        if c == "(":
            if p.startswith("(?:", i):
                j = alternation(i + 3)
            elif p.startswith("(?", i):
                fail(i, "group extension (lookaround, named group, flags)")
            else:
                j = alternation(i + 1)
            if j >= end or p[j] != ")":
                fail(j, "unclosed group")
            return j + 1
        if c == "[":
            return char_class(i)
        if c == "\\":
            return escape(i, False)[0]
        if c in "^$":
            fail(i, "anchor not at the very start/end")
        if c in "*+?{}]":
            fail(i, f"bare {c!r}")
        return i + 1

    def sequence(i):
        while i < end and p[i] not in "|)":
            i = quantifier(atom(i))
        return i

    def alternation(i):
        i = sequence(i)
        while i < end and p[i] == "|":
            i = sequence(i + 1)
        return i

    i = alternation(start)
    if i != end:
        fail(i, "unbalanced )")
    re.compile(p)


def resolve_ref(root, ref):
    if ref == "#":
        return root
    _, kind, name = ref.split("/", 2)
    return root[kind][name.replace("~1", "/").replace("~0", "~")]


def subschemas(node):
    """(key, child) for every child schema of a schema node."""
    if not isinstance(node, dict):
        return
    for key in ("properties", "$defs", "definitions"):
        for name, child in node.get(key, {}).items():
            yield f"{key}/{name}", child
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield key, node[key]
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for idx, child in enumerate(node.get(key, [])):
            yield f"{key}/{idx}", child


def walk(node):
    yield node
    for _, child in subschemas(node):
        yield from walk(child)


def type_set(node, root, seen=()):
    """The JSON types a schema node can accept (approximate, for the oneOf exclusivity check)."""
    if "$ref" in node and node["$ref"] not in seen:
        return type_set(resolve_ref(root, node["$ref"]), root, seen + (node["$ref"],))
    if "const" in node:
        return {json_type(node["const"])}
    if "enum" in node:
        return {json_type(v) for v in node["enum"]}
    if "type" in node:
        t = node["type"]
        ts = set(t) if isinstance(t, list) else {t}
        return ts | ({"integer"} if "number" in ts else set())
    if "anyOf" in node or "oneOf" in node:
        out = set()
        for s in node.get("anyOf", []) + node.get("oneOf", []):
            out |= type_set(s, root, seen)
        return out
    return set(TYPES)


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "integer" if v == int(v) else "number"
    if isinstance(v, str):
        return "string"
    return "array" if isinstance(v, list) else "object"


def const_tags(node, root):
    """{property: const value} that a (resolved) object branch requires."""
    while "$ref" in node:
        node = resolve_ref(root, node["$ref"])
    out = {}
    for name, sub in node.get("properties", {}).items():
        if name in node.get("required", []) and isinstance(sub, dict) and "const" in sub:
            out[name] = sub["const"]
    return out


def branches_exclusive(a, b, root):
    ta, tb = type_set(a, root), type_set(b, root)
    if not (ta & tb):
        return True
    if ta <= {"object"} and tb <= {"object"}:
        ca, cb = const_tags(a, root), const_tags(b, root)
        return any(k in cb and ca[k] != cb[k] for k in ca)
    return False


def check_subset(schema):
    """Raises SubsetError if the schema uses anything outside the engine's subset."""
    root = schema

    def visit(node, path, at_root):
        if not isinstance(node, dict):
            raise SubsetError(f"{path}: boolean schemas only as additionalProperties")
        for key in node:
            if key not in KEYWORDS and key not in ANNOTATIONS:
                raise SubsetError(f"{path}: keyword {key!r} is outside the subset")
            if key in ("$defs", "definitions", "$schema", "$id") and not at_root:
                raise SubsetError(f"{path}: {key} only at the root")
        if "type" in node:
            t = node["type"]
            ts = t if isinstance(t, list) else [t]
            if not ts or len(set(ts)) != len(ts) or not set(ts) <= TYPES:
                raise SubsetError(f"{path}: bad type {t!r}")
        if "format" in node and node["format"] not in FORMATS:
            raise SubsetError(f"{path}: format {node['format']!r} is outside the subset")
        if "pattern" in node:
            check_pattern(node["pattern"])
        if "$ref" in node:
            if not REF_RE.match(node["$ref"]):
                raise SubsetError(f"{path}: $ref {node['$ref']!r} is outside the subset")
            resolve_ref(root, node["$ref"])
        if "enum" in node and not (isinstance(node["enum"], list) and node["enum"]):
            raise SubsetError(f"{path}: empty enum")
        for key in ("minItems", "maxItems", "minLength", "maxLength"):
            if key in node and not (isinstance(node[key], int) and not isinstance(node[key], bool) and node[key] >= 0):
                raise SubsetError(f"{path}: {key} must be a non-negative integer")
        for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
            if key in node and (isinstance(node[key], bool) or not isinstance(node[key], (int, float))):
                raise SubsetError(f"{path}: {key} must be a number")
        if "items" in node and not isinstance(node["items"], dict):
            raise SubsetError(f"{path}: items must be a schema object")
        if "additionalProperties" in node and not isinstance(node["additionalProperties"], (bool, dict)):
            raise SubsetError(f"{path}: bad additionalProperties")
        for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
            if key in node and not (isinstance(node[key], list) and node[key]):
                raise SubsetError(f"{path}: {key} must be a non-empty list")
        for idx, branch in enumerate(node.get("allOf", [])):
            b = branch
            while "$ref" in b:
                b = resolve_ref(root, b["$ref"])
            constraining = set(b) - ANNOTATIONS
            if b.get("type", "object") != "object" or not constraining <= OBJECT_KEYWORDS:
                raise SubsetError(f"{path}/allOf/{idx}: allOf branches must be object schemas")
        branches = node.get("oneOf", [])
        for i in range(len(branches)):
            for j in range(i + 1, len(branches)):
                if not branches_exclusive(branches[i], branches[j], root):
                    raise SubsetError(f"{path}: oneOf branches {i} and {j} are not mutually exclusive")
        for key, child in subschemas(node):
            if key == "additionalProperties" and isinstance(child, bool):
                continue
            visit(child, f"{path}/{key}", False)

    visit(schema, "#", True)
    size = len(json.dumps(schema, ensure_ascii=False).encode())
    if size > MAX_SCHEMA_BYTES:
        raise SubsetError(f"schema is {size} bytes")


# ---------------------------------------------------------------------------
# Validators
# ---------------------------------------------------------------------------


def _strict_pattern(validator, pattern, instance, schema):
    if validator.is_type(instance, "string") and not re.search(strict_regex(pattern), instance, re.ASCII):
        yield ValidationError(f"{instance!r} does not match {pattern!r} (ASCII classes, $ = end of string)")


StrictValidator = jsonschema.validators.extend(Draft202012Validator, {"pattern": _strict_pattern})
FORMAT_CHECKER = Draft202012Validator.FORMAT_CHECKER


class Judges:
    def __init__(self, schema):
        Draft202012Validator.check_schema(schema)
        self.standard = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
        self.strict = StrictValidator(schema, format_checker=FORMAT_CHECKER)
        self.engine = StrictValidator(one_of_as_any_of(schema), format_checker=FORMAT_CHECKER)


# ---------------------------------------------------------------------------
# Valid instances: hypothesis-jsonschema on a draft-7, recursion-free rewrite
# ---------------------------------------------------------------------------

def for_generation(schema):
    """Rewrite a 2020-12 schema of the subset into what hypothesis-jsonschema handles: refs inlined
    (recursion unrolled UNROLL levels, then cut with false), prefixItems as draft-7 tuples, patterns
    with ASCII classes and a true end anchor.  Every instance of the rewrite is an instance of the
    original, except for what the final judges reject anyway."""
    root = schema

    def gen_pattern(p):
        return "(?a)" + strict_regex(p)

    def tr(node, counts):
        if isinstance(node, bool):
            return node
        if "$ref" in node:
            ref = node["$ref"]
            n = counts.get(ref, 0)
            target = False if n >= UNROLL else tr(resolve_ref(root, ref), {**counts, ref: n + 1})
            rest = tr({k: v for k, v in node.items() if k != "$ref"}, counts)
            if target is False:
                return False
            return {"allOf": [rest, target]} if rest else target
        out = {}
        for key, val in node.items():
            if key in ANNOTATIONS or key in ("$defs", "definitions"):
                continue
            if key == "properties":
                out[key] = {k: tr(v, counts) for k, v in val.items()}
            elif key in ("items", "additionalProperties"):
                out[key] = tr(val, counts)
            elif key in ("anyOf", "oneOf", "allOf"):
                out[key] = [tr(v, counts) for v in val]
            elif key == "prefixItems":
                continue
            elif key == "pattern":
                out[key] = gen_pattern(val)
            elif key == "exclusiveMinimum" and val == 0 and node.get("type") == "number":
                out["minimum"] = TINY  # hypothesis loves 5e-324 here, which the exponent filter drops
            elif key == "exclusiveMaximum" and val == 0 and node.get("type") == "number":
                out["maximum"] = -TINY
            else:
                out[key] = val
        if "prefixItems" in node:
            out["items"] = [tr(v, counts) for v in node["prefixItems"]]
            if "items" in node:
                out["additionalItems"] = tr(node["items"], counts)
        return out

    return tr(schema, {})


CUSTOM_FORMATS = {"uuid": st.uuids().map(str)}


class _Enough(Exception):
    pass


def hypothesis_run(gen_schema, max_examples, accept):
    """Feeds hypothesis-jsonschema's examples for gen_schema to accept(x) until it returns True
    ("enough") or max_examples were drawn.  derandomize=True makes the sequence reproducible."""
    strategy = from_schema(gen_schema, custom_formats=CUSTOM_FORMATS)

    @settings(max_examples=max_examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.generate], verbosity=Verbosity.quiet,
              report_multiple_bugs=False)
    @given(strategy)
    def collect(x):
        if accept(x):
            raise _Enough

    try:
        collect()
    except _Enough:
        pass
    except HypothesisException as err:  # e.g. Unsatisfiable: keep what was generated
        print(f"    hypothesis stopped early: {type(err).__name__}", file=sys.stderr)


def compact(x):
    return json.dumps(x, separators=(",", ":"), ensure_ascii=False)


def spaced(x):
    return json.dumps(x)


def canonical(x):
    return json.dumps(x, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def floats_in(x):
    if isinstance(x, float):
        yield x
    elif isinstance(x, list):
        for v in x:
            yield from floats_in(v)
    elif isinstance(x, dict):
        for v in x.values():
            yield from floats_in(v)


def bounds_a_number(schema):
    for node in walk(schema):
        t = node.get("type")
        ts = t if isinstance(t, list) else [t]
        if "number" in ts and any(k in node for k in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")):
            return True
    return False


def valid_instances(name, schema, judges, stats):
    gen = for_generation(schema)
    bounded = bounds_a_number(schema)
    chosen, seen = [], set()

    draws = [0]

    def accept(x):
        draws[0] += 1
        if len(chosen) >= POOL or (draws[0] >= DRAWS and len(chosen) >= MAX_VALID):
            return True
        key = canonical(x)
        if key in seen:
            return False
        seen.add(key)
        if any(not math.isfinite(f) for f in floats_in(x)):
            stats["nonfinite"] += 1
        elif bounded and any("e" in repr(f) for f in floats_in(x)):
            stats["exponent"] += 1
        elif max(len(compact(x).encode()), len(spaced(x).encode())) > MAX_TEXT_BYTES:
            stats["too_long"] += 1
        elif not judges.standard.is_valid(x):
            stats["rejected_by_jsonschema"] += 1
        elif not judges.strict.is_valid(x):
            stats["strict_pattern"] += 1
        else:
            chosen.append(x)
        return len(chosen) >= POOL or (draws[0] >= DRAWS and len(chosen) >= MAX_VALID)

    hypothesis_run(gen, 2000, accept)
    if len(chosen) < MIN_VALID:
        raise SystemExit(f"{name}: only {len(chosen)} distinct valid instances")
    return diverse(chosen, MAX_VALID)


def features(x, path="$"):
    """What an instance exercises: leaf types and short values per generic path, lengths, nesting."""
    out = set()
    if isinstance(x, dict):
        out.add((path, "object", min(len(x), 4)))
        for k, v in x.items():
            out |= features(v, f"{path}.{k}" if len(path) < 120 else path)
    elif isinstance(x, list):
        out.add((path, "array", min(len(x), 4)))
        for v in x:
            out |= features(v, f"{path}[]" if len(path) < 120 else path)
    elif isinstance(x, str):
        out.add((path, "string", x if len(x) <= 12 else min(len(x) // 16, 8)))
        out.add((path, "ascii", x.isascii()))
    else:
        out.add((path, json_type(x), x if isinstance(x, bool) or x is None or abs(x) < 1e6 else "big"))
    return out


def diverse(pool, n):
    """Up to n instances of the pool, greedily the ones covering most not-yet-seen features per byte,
    while the texts fit in BUDGET bytes (and at least MIN_VALID regardless); pool order breaks ties."""
    feats = [features(x) for x in pool]
    sizes = [len(compact(x).encode()) + len(spaced(x).encode()) for x in pool]
    covered, picked, used = set(), [], 0
    left = list(range(len(pool)))
    while left and len(picked) < n:
        fits = [i for i in left if used + sizes[i] <= BUDGET]
        if not fits:
            if len(picked) >= MIN_VALID:
                break
            fits = [min(left, key=lambda i: (sizes[i], i))]
        best = max(fits, key=lambda i: (len(feats[i] - covered) / (sizes[i] + 200), -i))
        picked.append(best)
        covered |= feats[best]
        used += sizes[best]
        left.remove(best)
    return [pool[i] for i in sorted(picked)]


# ---------------------------------------------------------------------------
# Invalid instances: mutations of valid ones that jsonschema rejects
# ---------------------------------------------------------------------------

FORMAT_BREAKERS = {
    "date": ["2024/01/15", "15.01.2024", "2024-1-5", "2024-13-01", "not a date"],
    "date-time": ["2024-01-15T10:00:00", "2024-01-15", "2024-01-15T25:00:00Z", "15/01/2024 10:00"],
    "time": ["10:00", "10:00:00", "25:00:00Z", "noon"],
    "uuid": ["not-a-uuid", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
             "123e4567-e89b-12d3-a456-42661417400g"],
    "email": ["plainaddress", "no-at-sign.example.com"],
}


def constraint_values(schema):
    vals = [None, True, False, 0, -1, 1.5, -0.5, "", "x", "not_in_enum", [], {}, [1, 2, 3], 10 ** 12, -(10 ** 12)]
    for node in walk(schema):
        if "maxLength" in node and node["maxLength"] < 600:
            vals.append("a" * (node["maxLength"] + 1))
        if node.get("minLength", 0) > 0:
            vals.append("a" * (node["minLength"] - 1))
        for key, delta in (("minimum", -1), ("maximum", 1)):
            if key in node:
                vals.append(node[key] + delta)
                vals.append(node[key] + delta / 2)
        for key in ("exclusiveMinimum", "exclusiveMaximum"):
            if key in node:
                vals.append(node[key])
        if "format" in node:
            vals.extend(FORMAT_BREAKERS[node["format"]])
        if "pattern" in node:
            vals.extend(["!", " ", "abc", "ABC", "123", "a b", "-", "é"])
    out, seen = [], set()
    for v in vals:
        k = canonical(v)
        if k not in seen:
            seen.add(k)
            out.append(v)
    return out


def max_items_bound(schema):
    return max([n["maxItems"] for n in walk(schema) if "maxItems" in n] + [0])


def locations(x, path=()):
    yield path, x
    if isinstance(x, dict):
        for k, v in x.items():
            yield from locations(v, path + (k,))
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from locations(v, path + (i,))


def replaced(x, path, value):
    if not path:
        return value
    y = copy.deepcopy(x)
    node = y
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return y


def mutations(x, values, items_bound):
    """(depth, mutated instance): depth 0 means the whole instance was replaced."""
    for path, v in locations(x):
        d = len(path)
        for c in values:
            yield d, replaced(x, path, c)
        if isinstance(v, str) and v:
            for s in (v + "!", "!" + v, v[1:], v[:-1], v.upper(), v.lower(), " " + v, v + v):
                yield d, replaced(x, path, s)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            for n in (v + 1, v - 1, -v, v * 1000, v + 0.5):
                yield d, replaced(x, path, n)
        if isinstance(v, dict):
            for k in v:
                yield d + 1, replaced(x, path, {kk: vv for kk, vv in v.items() if kk != k})
            yield d + 1, replaced(x, path, {**v, "unexpected_field": "x"})
            yield d + 1, replaced(x, path, {**v, "extra": 1})
        if isinstance(v, list):
            yield d + 1, replaced(x, path, [])
            if v:
                yield d + 1, replaced(x, path, v[:-1])
                yield d + 1, replaced(x, path, v + [copy.deepcopy(v[-1])] * max(1, items_bound + 1 - len(v)))
            yield d + 1, replaced(x, path, v + [12345])
            yield d + 1, replaced(x, path, v + ["x"])


def invalid_texts(name, schema, judges, valid):
    """Up to MAX_INVALID mutations that both judges reject, spread over the failing keywords
    (jsonschema's best_match), preferring small texts; at most one replaces the whole instance."""
    rng = random.Random(zlib.crc32(name.encode()))
    values = constraint_values(schema)
    bound = max_items_bound(schema)
    by_size = sorted(valid, key=lambda v: len(compact(v)))
    bases = by_size[:3] + [by_size[i] for i in range(3, len(by_size), max(1, (len(by_size) - 3) // 3))][:3]
    groups = {}
    seen = set()
    for base in bases:
        cands = list(mutations(base, values, bound))
        rng.shuffle(cands)
        for depth, y in cands[:400]:
            key = canonical(y)
            if key in seen:
                continue
            seen.add(key)
            if any(not math.isfinite(f) for f in floats_in(y)):
                continue
            if judges.standard.is_valid(y) or judges.engine.is_valid(y):
                continue
            err = best_match(judges.standard.iter_errors(y))
            groups.setdefault(err.validator, []).append((depth, y))
    order = sorted(groups, key=lambda k: (-len(groups[k]), k))
    chosen = []
    root_used = False
    scalar_root = not all(isinstance(v, (dict, list)) for v in bases)
    while len(chosen) < MAX_INVALID and any(groups[k] for k in order):
        for k in order:
            if len(chosen) >= MAX_INVALID:
                break
            options = [c for c in groups[k] if c[0] > 0 or not root_used or scalar_root]
            if not options:
                groups[k] = []
                continue
            pool = sorted(options, key=lambda c: (c[0] == 0, len(compact(c[1]))))[:10]
            pick = pool[rng.randrange(len(pool))]
            groups[k].remove(pick)
            root_used = root_used or pick[0] == 0
            chosen.append(pick[1])
    texts = [compact(y) if i % 2 == 0 else spaced(y) for i, y in enumerate(chosen)]
    if len(texts) < MIN_INVALID:
        raise SystemExit(f"{name}: only {len(texts)} invalid texts")
    return texts, sorted(set(best_match(judges.standard.iter_errors(y)).validator for y in chosen))


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def build_corpus():
    corpus = []
    for name, source, schema in TOOLS:
        corpus.append((name, "tool", source, schema))
    for name, source, schema in OPENAI_RESPONSES + RESPONSES:
        corpus.append((name, "response_format", source, schema))
    for name, kind, source, schema in pydantic_schemas():
        corpus.append((name, kind, source, schema))
    names = [c[0] for c in corpus]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise SystemExit(f"duplicate names: {sorted(dupes)}")
    for name, kind, _, schema in corpus:
        if not re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)*", name):
            raise SystemExit(f"{name}: not snake_case")
        if kind == "tool" and schema.get("type") != "object":
            raise SystemExit(f"{name}: a tool schema's root must be an object")
        try:
            check_subset(schema)
        except SubsetError as err:
            raise SystemExit(f"{name}: {err}")
    return corpus


def versions():
    out = {"python": platform.python_version()}
    for dist in ("jsonschema", "hypothesis", "hypothesis-jsonschema", "rfc3339-validator", "pydantic",
                 "pydantic-core", "email-validator"):
        out[dist] = importlib.metadata.version(dist)
    return out


def dump(obj):
    return json.dumps(obj, ensure_ascii=False, indent=1) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--check", action="store_true", help="regenerate in memory and compare with the files")
    args = ap.parse_args()
    t0 = time.time()
    corpus = build_corpus()
    drop_stats = {k: 0 for k in ("nonfinite", "exponent", "too_long", "rejected_by_jsonschema", "strict_pattern")}
    per_schema_drops = {}
    results = []
    invalid_kinds = {}
    for name, kind, source, schema in corpus:
        t = time.time()
        judges = Judges(schema)
        stats = {k: 0 for k in drop_stats}
        valid = valid_instances(name, schema, judges, stats)
        invalid, kinds = invalid_texts(name, schema, judges, valid)
        for k, v in stats.items():
            drop_stats[k] += v
        if any(stats.values()):
            per_schema_drops[name] = {k: v for k, v in stats.items() if v}
        for k in kinds:
            invalid_kinds[k] = invalid_kinds.get(k, 0) + 1
        texts = []
        for x in valid:
            texts.extend([compact(x), spaced(x)])
        # the assertions the Swift side relies on
        for text in texts:
            x = json.loads(text)
            assert judges.standard.is_valid(x) and judges.strict.is_valid(x), (name, text)
        for text in invalid:
            y = json.loads(text)
            assert not judges.standard.is_valid(y) and not judges.engine.is_valid(y), (name, text)
        results.append({"name": name, "valid": texts, "invalid": invalid})
        print(f"  {name:42s} {len(valid):2d} valid, {len(invalid)} invalid  {time.time() - t:5.1f}s", file=sys.stderr)

    corpus_doc = {
        "generator": GENERATOR,
        "schemas": [{"name": n, "kind": k, "source": s, "schema": sc} for n, k, s, sc in corpus],
    }
    instances_doc = {
        "generator": GENERATOR,
        "versions": versions(),
        "notes": ("valid[2i] and valid[2i+1] are one instance, compact with ensure_ascii=False and json.dumps "
                  "default; every valid text passes jsonschema Draft202012Validator with formats checked and "
                  "with patterns read as ASCII regexes whose final $ is the end of the string; every invalid "
                  "text fails both that and the same with oneOf read as anyOf."),
        "schemas": results,
    }
    files = {"corpus.json": dump(corpus_doc), "instances.json": dump(instances_doc)}
    if args.check:
        differ = []
        for fname, text in files.items():
            path = os.path.join(OUT, fname)
            if not os.path.exists(path) or open(path, encoding="utf-8").read() != text:
                differ.append(fname)
        if differ:
            print(f"differs from the files: {differ}")
            sys.exit(1)
        print("up to date")
    else:
        os.makedirs(OUT, exist_ok=True)
        for fname, text in files.items():
            with open(os.path.join(OUT, fname), "w", encoding="utf-8") as f:
                f.write(text)

    n_valid = [len(r["valid"]) // 2 for r in results]
    n_invalid = [len(r["invalid"]) for r in results]
    kinds = [k for _, k, _, _ in corpus]
    print(f"schemas: {len(corpus)} ({kinds.count('tool')} tool, {kinds.count('response_format')} response_format)")
    print(f"valid instances per schema: min {min(n_valid)}, median {statistics.median(n_valid)}, "
          f"max {max(n_valid)}; {sum(n_valid)} instances, {2 * sum(n_valid)} texts")
    print(f"invalid texts per schema: min {min(n_invalid)}, median {statistics.median(n_invalid)}, "
          f"max {max(n_invalid)}; {sum(n_invalid)} texts")
    print("schemas whose invalid texts break each keyword: "
          + ", ".join(f"{k} {v}" for k, v in sorted(invalid_kinds.items(), key=lambda kv: -kv[1])))
    print("dropped hypothesis instances: " + ", ".join(f"{k} {v}" for k, v in drop_stats.items()))
    for name, st_ in per_schema_drops.items():
        print(f"  {name}: {st_}")
    for fname, text in files.items():
        print(f"{fname}: {len(text.encode()):,} bytes")
    print(f"took {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
