#!/usr/bin/env python3
"""Writes Tests/Fixtures/verifier/samples.jsonl: tool-calling chat requests for Moonshot's
tool-call verifier (tool_calls_eval.py of MoonshotAI/K2-Vendor-Verifier).

    python3 Scripts/make_verifier_samples.py            # -> Tests/Fixtures/verifier/samples.jsonl
    python3 Scripts/make_verifier_samples.py --check    # exit 1 if the file differs from a fresh run

Each line is one complete /v1/chat/completions request body, the shape tool_calls_eval.py reads
and sends as it is (it only replaces "model", and "temperature" / "max_tokens" when given on its
command line): "model", "messages", "tools", usually "tool_choice", "temperature",
"max_tokens", "stream". The requests are agent conversations of several kinds -- a coding agent,
web research, office/data tools, GitHub/Slack/Jira MCP-style tools, devops, travel and weather,
shop support, and a general assistant holding most of them -- cut at the points where the model
speaks next: after a user message or after tool results. Histories carry the assistant's earlier
tool calls with Kimi's ids (functions.NAME:IDX, IDX counting the conversation's calls from 0)
and the tool results that answer them. tool_choice is "auto", absent, "required" or a named
function; the last two only where the conversation's next step really is a tool call (the
named function is the one called next).

Tool schemas use only these JSON Schema keywords (checked): type (also as a list), properties,
required, additionalProperties, enum, const, anyOf, oneOf (exclusive branches), allOf of
objects, items, prefixItems, minItems, maxItems, minLength, maxLength, pattern, format
(date-time, date, time, uuid, email), minimum, maximum, exclusiveMinimum, exclusiveMaximum,
$ref/$defs, title, description, default. Every tool's parameters is an object schema and passes
Draft 2020-12 check_schema; every tool call in a history validates against its tool's schema,
formats included (strict RFC 3339 date/date-time/time, canonical uuid, email).

Deterministic: one random.Random(SEED) drives every choice and no clock is read, so every run
writes the same bytes. Needs Python 3.9+ and jsonschema >= 4.18 (pip install jsonschema).
"""
import argparse
import collections
import datetime as dt
import json
import os
import random
import re
import sys
import uuid
from importlib.metadata import version

from jsonschema import Draft202012Validator, FormatChecker

SEED = 20250815
TARGET = 260
MODEL = "kimi-k2-demo"
TEMPERATURE = 0.6
MAX_TOKENS = 512
# The samples must fit the context of the model they run against here, the demo checkpoint:
# 4096 tokens, with a small vocabulary that spends about 2.3 bytes of the request's JSON per
# prompt token (1.8 at worst, measured with its server's usage.prompt_tokens). A request's
# messages and tools are kept under that budget, dropping tools the conversation does not use.
CONTEXT = 4096
BYTES_PER_TOKEN = 1.8
TEMPLATE_TOKENS = 200

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "verifier", "samples.jsonl")

# ---------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------

TOOLS = {}


def tool(name, description, parameters):
    TOOLS[name] = {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}


def S(**kw):
    return {"type": "string", **kw}


def I(lo=None, hi=None, **kw):
    s = {"type": "integer"}
    if lo is not None:
        s["minimum"] = lo
    if hi is not None:
        s["maximum"] = hi
    s.update(kw)
    return s


def B(**kw):
    return {"type": "boolean", **kw}


def A(items, **kw):
    return {"type": "array", "items": items, **kw}


def O(props, required=(), closed=True, **kw):
    s = {"type": "object", "properties": props}
    if required:
        s["required"] = list(required)
    if closed:
        s["additionalProperties"] = False
    s.update(kw)
    return s


EMAIL = {"type": "string", "format": "email"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
IATA = S(pattern="^[A-Z]{3}$", description="IATA airport or city code, e.g. SFO")
CURRENCY = S(pattern="^[A-Z]{3}$", description="ISO 4217 currency code")
GH_OWNER = S(pattern="^[A-Za-z0-9-]+$", description="Repository owner (user or organisation)")
GH_REPO = S(pattern="^[A-Za-z0-9_.-]+$", description="Repository name")
TZ = S(pattern="^(UTC|[A-Z][A-Za-z]+/[A-Za-z_]+(/[A-Za-z_]+)?)$", description="IANA time zone, e.g. Europe/Berlin")
PHONE = S(pattern="^\\+[1-9][0-9]{6,14}$", description="Phone number in E.164 form, e.g. +14155550123")

# --- coding agent ---
tool("bash", "Run a shell command in the project's working directory and return its combined stdout and stderr. "
     "Use for builds, tests, git and package managers; prefer read_file, glob and grep for reading and searching.",
     O({"command": S(minLength=1, description="The command to run."),
        "timeout_ms": I(1000, 600000, description="Timeout in milliseconds; 120000 when omitted."),
        "description": S(maxLength=120, description="What the command does, in 5-10 words."),
        "run_in_background": B(default=False, description="Start the command and return at once.")},
       ["command"]))
tool("read_file", "Read a text file. Lines come back numbered (cat -n style). Long files can be read in pieces with offset and limit.",
     O({"path": S(minLength=1, description="Absolute path of the file."),
        "offset": I(1, description="First line to read, 1-based."),
        "limit": {"type": "integer", "exclusiveMinimum": 0, "maximum": 2000, "description": "Number of lines to read."}},
       ["path"]))
tool("write_file", "Create a file or overwrite it entirely with the given content.",
     O({"path": S(minLength=1, description="Absolute path of the file."),
        "content": S(description="The complete new content.")}, ["path", "content"]))
tool("edit_file", "Replace an exact string in a file. old_string must occur exactly once unless replace_all is true; "
     "include enough surrounding context to make it unique and keep the indentation as in the file.",
     O({"path": S(minLength=1, description="Absolute path of the file."),
        "old_string": S(minLength=1, description="The exact text to replace."),
        "new_string": S(description="The replacement text; must differ from old_string."),
        "replace_all": B(default=False, description="Replace every occurrence.")},
       ["path", "old_string", "new_string"]))
tool("multi_edit", "Apply several exact string replacements to one file, in order, atomically.",
     O({"path": S(minLength=1),
        "edits": A(O({"old_string": S(minLength=1), "new_string": S(), "replace_all": B(default=False)},
                     ["old_string", "new_string"]), minItems=1, maxItems=50)},
       ["path", "edits"]))
tool("glob", "Find files by glob pattern (e.g. \"src/**/*.ts\"), newest first.",
     O({"pattern": S(minLength=1, description="The glob pattern."),
        "path": {"anyOf": [S(), {"type": "null"}], "default": None,
                 "description": "Directory to search in; null for the working directory."}},
       ["pattern"]))
tool("grep", "Search file contents with a regular expression (ripgrep syntax).",
     O({"pattern": S(minLength=1, description="Regular expression to search for."),
        "path": S(description="File or directory to search; the working directory when omitted."),
        "glob": S(description="Only search files matching this glob, e.g. \"*.py\"."),
        "output_mode": {"type": "string", "enum": ["content", "files_with_matches", "count"], "default": "files_with_matches"},
        "-i": B(description="Case-insensitive search."),
        "-n": B(description="Show line numbers (content mode)."),
        "-C": I(0, 50, description="Lines of context around each match (content mode)."),
        "head_limit": I(1, description="Return at most this many lines or files."),
        "multiline": B(default=False)},
       ["pattern"]))
tool("todo_write", "Create or update the session's task list. Send the whole list every time; exactly one task should be in_progress while working.",
     O({"todos": A(O({"content": S(minLength=1, maxLength=300),
                      "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                      "id": S(minLength=1, maxLength=40),
                      "priority": {"type": "string", "enum": ["high", "medium", "low"], "default": "medium"}},
                     ["content", "status", "id"]), maxItems=100)},
       ["todos"]))
tool("list_directory", "List files and directories under a path.",
     O({"path": S(minLength=1),
        "ignore": A(S(), maxItems=20, description="Glob patterns to leave out."),
        "depth": I(1, 5, default=1)},
       ["path"]))
tool("run_tests", "Run the project's tests with a known framework and return a structured summary.",
     O({"framework": {"type": "string", "enum": ["pytest", "vitest", "jest", "go", "cargo", "swift"]},
        "paths": A(S(minLength=1), maxItems=50, description="Test files or packages; all when empty."),
        "filter": {"type": ["string", "null"], "description": "Only tests whose name matches."},
        "timeout_seconds": I(1, 1800, default=600),
        "fail_fast": B(default=False)},
       ["framework"]))

# --- web ---
tool("search", "Web Search API. Each call accepts up to 3 queries in parallel; if more than 3 queries are required, make another search call.",
     {"type": "object", "properties": {"queries": {"type": "array", "items": {"type": "string", "minLength": 1},
                                                   "minItems": 1, "maxItems": 3,
                                                   "description": "Search queries to execute in parallel."}},
      "required": ["queries"]})
tool("web_search", "Search the web and return ranked results with title, URL, snippet and publication date.",
     O({"query": S(minLength=1, maxLength=400),
        "num_results": I(1, 20, default=5),
        "recency": {"type": "string", "enum": ["any", "day", "week", "month", "year"], "default": "any"},
        "site": {"anyOf": [S(pattern="^[a-z0-9.-]+\\.[a-z]{2,}$"), {"type": "null"}],
                 "description": "Restrict to one domain, e.g. docs.python.org."},
        "language": S(pattern="^[a-z]{2}(-[A-Z]{2})?$", default="en")},
       ["query"]))
tool("fetch_url", "Fetch a web page and return its main content.",
     O({"url": S(pattern="^https?://[^\\s]+$"),
        "format": {"type": "string", "enum": ["markdown", "text", "html"], "default": "markdown"},
        "max_chars": I(1000, 200000, default=20000),
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 60}},
       ["url"]))
tool("news_search", "Search recent news articles.",
     O({"query": S(minLength=1),
        "from_date": DATE, "to_date": DATE,
        "language": S(pattern="^[a-z]{2}$"),
        "sources": A(S(), maxItems=20),
        "sort_by": {"type": "string", "enum": ["relevance", "published_at"], "default": "relevance"}},
       ["query"], closed=False))

# --- office / data ---
tool("sql_query", "Run a read-only SQL query against one of the company's warehouses. Use $1, $2, ... placeholders with params.",
     O({"query": S(minLength=1, description="A single SELECT statement."),
        "database": {"type": "string", "enum": ["analytics", "billing", "crm"]},
        "params": A({"type": ["string", "number", "boolean", "null"]}, maxItems=50),
        "row_limit": I(1, 10000, default=500),
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 300}},
       ["query", "database"]))
tool("create_calendar_event", "Create an event in the user's calendar and send invitations to the attendees.",
     {"type": "object",
      "$defs": {"Attendee": O({"email": EMAIL, "name": S(), "optional": B(default=False)}, ["email"])},
      "properties": {
          "calendar_id": S(default="primary"),
          "title": S(minLength=1, maxLength=200),
          "start": {**DATETIME, "description": "RFC 3339 with offset"},
          "end": {**DATETIME, "description": "RFC 3339 with offset"},
          "timezone": TZ,
          "attendees": A({"$ref": "#/$defs/Attendee"}, maxItems=100),
          "location": {"type": ["string", "null"]},
          "description": S(maxLength=8000),
          "conference": {"type": "string", "enum": ["none", "google_meet", "zoom", "teams"], "default": "none"},
          "reminders": A(O({"method": {"type": "string", "enum": ["email", "popup"]},
                            "minutes_before": I(0, 40320)}, ["method", "minutes_before"]), maxItems=5),
          "recurrence": {"anyOf": [{"type": "null"},
                                   O({"frequency": {"type": "string", "enum": ["daily", "weekly", "monthly", "yearly"]},
                                      "interval": I(1, 99, default=1),
                                      "by_day": A({"type": "string", "enum": ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]}, maxItems=7),
                                      "until": DATE,
                                      "count": I(1, 999)}, ["frequency"])],
                         "default": None},
          "visibility": {"type": "string", "enum": ["default", "public", "private"], "default": "default"}},
      "required": ["title", "start", "end"],
      "additionalProperties": False})
tool("send_email", "Send an email from the user's account.",
     O({"to": A(EMAIL, minItems=1, maxItems=50),
        "cc": A(EMAIL, maxItems=50),
        "bcc": A(EMAIL, maxItems=50),
        "subject": S(minLength=1, maxLength=200),
        "body": S(),
        "body_format": {"type": "string", "enum": ["text", "html"], "default": "text"},
        "attachments": A(O({"file_id": {"type": "string", "format": "uuid"}, "filename": S(minLength=1)},
                           ["file_id", "filename"]), maxItems=10),
        "importance": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal"},
        "send_at": {"anyOf": [DATETIME, {"type": "null"}], "description": "Schedule for later; null sends now."}},
       ["to", "subject", "body"]))
tool("list_calendars", "List the calendars the user can see.", {"type": "object", "properties": {}, "additionalProperties": False})
tool("get_current_time", "Current date and time, optionally in a given time zone.", O({"timezone": TZ}))
tool("find_free_slots", "Find times when all attendees are free.",
     O({"attendees": A(EMAIL, minItems=1, maxItems=20),
        "window": {"type": "array", "title": "Search window", "description": "[start, end] as RFC 3339 date-times",
                   "prefixItems": [{**DATETIME, "title": "start"}, {**DATETIME, "title": "end"}],
                   "minItems": 2, "maxItems": 2},
        "duration_minutes": I(5, 480),
        "working_hours_only": B(default=True),
        "timezone": TZ},
       ["attendees", "window", "duration_minutes"]))
tool("create_reminder", "Create a reminder that notifies the user at a given time.",
     O({"text": S(minLength=1, maxLength=500),
        "due": DATETIME,
        "priority": {"type": "string", "enum": ["low", "normal", "high"], "default": "normal"},
        "repeat": {"anyOf": [{"type": "null"},
                             O({"every": I(1, 365), "unit": {"type": "string", "enum": ["hour", "day", "week", "month"]}},
                               ["every", "unit"])]},
        "list": {"type": ["string", "null"], "description": "Reminder list; null for the default list."}},
       ["text", "due"]))
tool("crm_search_contacts", "Search CRM contacts with a filter expression (conditions combined with and/or, nested freely).",
     {"type": "object",
      "$defs": {
          "Filter": {"anyOf": [{"$ref": "#/$defs/Condition"}, {"$ref": "#/$defs/And"}, {"$ref": "#/$defs/Or"}]},
          "Condition": O({"field": {"type": "string", "enum": ["name", "email", "company", "country", "lifecycle_stage", "created_at", "deal_value"]},
                          "op": {"type": "string", "enum": ["eq", "neq", "contains", "gt", "lt", "in"]},
                          "value": {"anyOf": [{"type": ["string", "number", "boolean"]},
                                              A({"type": ["string", "number"]}, minItems=1, maxItems=20)]}},
                         ["field", "op", "value"]),
          "And": O({"and": A({"$ref": "#/$defs/Filter"}, minItems=2)}, ["and"]),
          "Or": O({"or": A({"$ref": "#/$defs/Filter"}, minItems=2)}, ["or"])},
      "properties": {
          "filter": {"$ref": "#/$defs/Filter"},
          "sort": O({"field": {"type": "string", "enum": ["name", "created_at", "deal_value"]},
                     "direction": {"type": "string", "enum": ["asc", "desc"], "default": "asc"}}, ["field"]),
          "limit": I(1, 200, default=25),
          "fields": A({"type": "string", "enum": ["name", "email", "company", "country", "lifecycle_stage", "deal_value", "owner"]}, maxItems=7)},
      "required": ["filter"],
      "additionalProperties": False})

# --- GitHub / Slack / Jira (MCP-style) ---
tool("github_create_issue", "Create a new issue in a GitHub repository.",
     O({"owner": GH_OWNER, "repo": GH_REPO,
        "title": S(minLength=1, maxLength=256),
        "body": S(),
        "labels": A(S(minLength=1), maxItems=20),
        "assignees": A(S(pattern="^[A-Za-z0-9-]+$"), maxItems=10),
        "milestone": {"anyOf": [I(1), {"type": "null"}]}},
       ["owner", "repo", "title"]))
tool("github_create_pull_request", "Open a pull request in a GitHub repository.",
     O({"owner": GH_OWNER, "repo": GH_REPO,
        "title": S(minLength=1, maxLength=256),
        "head": S(minLength=1, description="Branch with the changes (owner:branch for forks)."),
        "base": S(minLength=1, description="Branch to merge into."),
        "body": S(),
        "draft": B(default=False),
        "maintainer_can_modify": B(default=True)},
       ["owner", "repo", "title", "head", "base"]))
tool("github_list_issues", "List issues in a GitHub repository.",
     O({"owner": GH_OWNER, "repo": GH_REPO,
        "state": {"type": "string", "enum": ["open", "closed", "all"], "default": "open"},
        "labels": A(S(), maxItems=20),
        "since": {**DATETIME, "description": "Only issues updated at or after this time."},
        "sort": {"type": "string", "enum": ["created", "updated", "comments"], "default": "created"},
        "direction": {"type": "string", "enum": ["asc", "desc"], "default": "desc"},
        "per_page": I(1, 100, default=30),
        "page": I(1, default=1)},
       ["owner", "repo"]))
tool("github_get_file_contents", "Get the contents of a file or directory from a GitHub repository.",
     O({"owner": GH_OWNER, "repo": GH_REPO, "path": S(), "branch": S(minLength=1)}, ["owner", "repo", "path"]))
tool("github_add_issue_comment", "Add a comment to an issue or pull request.",
     O({"owner": GH_OWNER, "repo": GH_REPO, "issue_number": I(1), "body": S(minLength=1)},
       ["owner", "repo", "issue_number", "body"]))
tool("github_search_code", "Search code across GitHub repositories (GitHub code search syntax).",
     O({"q": S(minLength=1), "per_page": I(1, 100, default=30), "page": I(1, default=1)}, ["q"]))
tool("slack_post_message", "Post a message to a Slack channel, or reply in a thread.",
     O({"channel_id": S(pattern="^[CDG][A-Z0-9]{8,12}$"),
        "text": S(minLength=1, maxLength=4000),
        "thread_ts": {"anyOf": [S(pattern="^[0-9]{10}\\.[0-9]{6}$"), {"type": "null"}], "default": None},
        "unfurl_links": B(default=True)},
       ["channel_id", "text"]))
tool("jira_create_ticket", "Create a Jira issue.",
     O({"project_key": S(pattern="^[A-Z][A-Z0-9]{1,9}$"),
        "issue_type": {"type": "string", "enum": ["Bug", "Task", "Story", "Epic"]},
        "summary": S(minLength=1, maxLength=255),
        "description": S(),
        "priority": {"type": "string", "enum": ["Highest", "High", "Medium", "Low", "Lowest"], "default": "Medium"},
        "labels": A(S(pattern="^[a-z0-9-]+$"), maxItems=10),
        "story_points": {"anyOf": [{"type": "integer", "enum": [1, 2, 3, 5, 8, 13, 21]}, {"type": "null"}]},
        "due_date": DATE,
        "components": A(S(), maxItems=5)},
       ["project_key", "issue_type", "summary"]))

# --- devops ---
K8S_NAME = S(pattern="^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", maxLength=63)
tool("k8s_scale_deployment", "Scale a Kubernetes deployment to a number of replicas.",
     {"type": "object",
      "$defs": {"Target": {"type": "object", "title": "Deployment",
                           "properties": {"cluster": {"type": "string", "enum": ["prod-eu", "prod-us", "staging"]},
                                          "namespace": K8S_NAME, "deployment": K8S_NAME},
                           "required": ["cluster", "namespace", "deployment"]}},
      "allOf": [{"$ref": "#/$defs/Target"},
                {"type": "object",
                 "properties": {"replicas": I(0, 200), "reason": S(maxLength=300), "dry_run": B(default=False)},
                 "required": ["replicas"]}]})
tool("get_service_logs", "Fetch recent log lines of a service.",
     O({"service": K8S_NAME,
        "cluster": {"type": "string", "enum": ["prod-eu", "prod-us", "staging"]},
        "since": DATETIME,
        "level": {"type": "string", "enum": ["debug", "info", "warn", "error"], "default": "info"},
        "contains": {"type": ["string", "null"]},
        "limit": I(1, 5000, default=200)},
       ["service", "cluster", "since"]))
tool("query_metrics", "Query a time series from the metrics store.",
     O({"metric": {"type": "string", "enum": ["http_requests_total", "http_request_duration_p99_ms", "cpu_usage_cores", "memory_working_set_bytes", "pod_restarts_total"]},
        "selector": O({"service": K8S_NAME, "cluster": {"type": "string", "enum": ["prod-eu", "prod-us", "staging"]},
                       "status_class": {"type": "string", "enum": ["2xx", "4xx", "5xx"]}}, ["service"]),
        "window": {"type": "array", "prefixItems": [DATETIME, DATETIME], "minItems": 2, "maxItems": 2},
        "step_seconds": I(10, 3600, default=60),
        "group_by": A({"type": "string", "enum": ["pod", "route", "status_class", "zone"]}, maxItems=3)},
       ["metric", "selector", "window"]))

# --- travel / weather / booking ---
tool("get_weather", "Get current weather information for a city.",
     {"type": "object", "required": ["city"],
      "properties": {"city": {"type": "string", "description": "City name"},
                     "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}}})
tool("get_forecast", "Daily (or hourly) weather forecast for a place name or coordinates.",
     O({"location": {"oneOf": [S(minLength=2, title="Place name"),
                               {"type": "array", "title": "Coordinates [lat, lon]",
                                "prefixItems": [{"type": "number", "minimum": -90, "maximum": 90},
                                                {"type": "number", "minimum": -180, "maximum": 180}],
                                "minItems": 2, "maxItems": 2}]},
        "days": I(1, 16, default=7),
        "hourly": B(default=False),
        "units": {"type": "string", "enum": ["metric", "imperial"], "default": "metric"},
        "include": A({"type": "string", "enum": ["precipitation", "wind", "uv_index", "humidity", "air_quality"]}, maxItems=5)},
       ["location"]))
tool("search_flights", "Search for flights.",
     O({"origin": IATA, "destination": IATA,
        "departure_date": DATE,
        "return_date": {"anyOf": [DATE, {"type": "null"}], "description": "null for one-way"},
        "passengers": O({"adults": I(1, 9), "children": I(0, 8, default=0), "infants": I(0, 4, default=0)}, ["adults"]),
        "cabin": {"type": "string", "enum": ["economy", "premium_economy", "business", "first"], "default": "economy"},
        "max_stops": I(0, 3),
        "flexible_days": I(0, 3, default=0),
        "max_price": {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "null"}]},
        "currency": CURRENCY},
       ["origin", "destination", "departure_date", "passengers"]))
tool("search_hotels", "Search hotels by city and dates.",
     O({"city": S(minLength=1),
        "near": S(description="Landmark or neighbourhood to be close to."),
        "check_in": DATE, "check_out": DATE,
        "guests": I(1, 12), "rooms": I(1, 6, default=1),
        "max_price_per_night": {"type": "number", "exclusiveMinimum": 0},
        "currency": CURRENCY,
        "amenities": A({"type": "string", "enum": ["wifi", "breakfast", "parking", "pool", "gym", "spa", "pet_friendly", "airport_shuttle"]}, maxItems=8),
        "min_rating": {"type": "number", "minimum": 0, "maximum": 5},
        "sort_by": {"type": "string", "enum": ["price", "rating", "distance"], "default": "rating"}},
       ["city", "check_in", "check_out", "guests"]))
tool("book_hotel", "Book a hotel room found with search_hotels.",
     {"type": "object",
      "$defs": {"Guest": O({"first_name": S(minLength=1), "last_name": S(minLength=1), "email": EMAIL, "phone": PHONE},
                           ["first_name", "last_name", "email"])},
      "properties": {
          "hotel_id": S(pattern="^htl_[a-z0-9]{8}$"),
          "room_type": {"type": "string", "enum": ["standard", "double", "twin", "suite", "family"]},
          "check_in": DATE, "check_out": DATE,
          "rooms": A(O({"adults": I(1, 4), "children_ages": A(I(0, 17), maxItems=4)}, ["adults"]), minItems=1, maxItems=6),
          "lead_guest": {"$ref": "#/$defs/Guest"},
          "special_requests": S(maxLength=500),
          "payment": {"oneOf": [O({"method": {"const": "card"}, "card_token": S(pattern="^tok_[A-Za-z0-9]{10,}$")}, ["method", "card_token"]),
                                O({"method": {"const": "pay_at_hotel"}}, ["method"])]}},
      "required": ["hotel_id", "room_type", "check_in", "check_out", "rooms", "lead_guest", "payment"],
      "additionalProperties": False})
tool("search_restaurants", "Find restaurants near a place.",
     O({"near": S(minLength=1),
        "cuisine": A(S(), maxItems=5),
        "price_levels": A(I(1, 4), maxItems=4, description="1 = cheap ... 4 = very expensive"),
        "open_at": DATETIME,
        "party_size": I(1, 20)},
       ["near"]))
tool("book_restaurant", "Reserve a table.",
     O({"restaurant_id": S(pattern="^rst_[0-9]{5}$"),
        "date": DATE,
        "time": {"type": "string", "format": "time", "description": "Local time with offset, e.g. 19:30:00+02:00"},
        "party_size": I(1, 20),
        "name": S(minLength=1),
        "phone": PHONE,
        "email": EMAIL,
        "seating": {"type": "string", "enum": ["indoor", "outdoor", "bar", "any"], "default": "any"},
        "notes": S(maxLength=300)},
       ["restaurant_id", "date", "time", "party_size", "name"]))
tool("convert_currency", "Convert an amount between currencies at today's (or a past day's) rate.",
     O({"amount": {"type": "number", "exclusiveMinimum": 0},
        "from": CURRENCY, "to": CURRENCY,
        "date": {"anyOf": [DATE, {"type": "null"}], "default": None}},
       ["amount", "from", "to"]))
tool("get_directions", "Route between two places.",
     O({"origin": S(minLength=1), "destination": S(minLength=1),
        "mode": {"type": "string", "enum": ["driving", "walking", "transit", "cycling"], "default": "driving"},
        "depart_at": {"anyOf": [DATETIME, {"type": "null"}]},
        "waypoints": A(S(minLength=1), maxItems=8),
        "avoid": A({"type": "string", "enum": ["tolls", "highways", "ferries"]}, maxItems=3)},
       ["origin", "destination"]))

# --- shop support ---
tool("lookup_order", "Look up an order by its id, or a customer's recent orders by email.",
     O({"lookup": {"oneOf": [O({"order_id": {"type": "string", "format": "uuid"}}, ["order_id"]),
                             O({"customer_email": EMAIL, "placed_after": DATE}, ["customer_email"])]}},
       ["lookup"]))
tool("issue_refund", "Refund all or part of an order.",
     O({"order_id": {"type": "string", "format": "uuid"},
        "amount": {"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
        "currency": CURRENCY,
        "reason": {"type": "string", "enum": ["damaged", "not_as_described", "late_delivery", "duplicate_charge", "customer_request"]},
        "line_items": A(O({"sku": S(pattern="^[A-Z]{3}-[0-9]{4}$"), "quantity": I(1)}, ["sku", "quantity"]), maxItems=25),
        "notify_customer": B(default=True),
        "note": S(maxLength=500)},
       ["order_id", "amount", "reason"]))
tool("track_package", "Track a parcel.",
     O({"tracking_number": S(pattern="^[A-Z0-9]{8,30}$"),
        "carrier": {"type": "string", "enum": ["auto", "ups", "fedex", "usps", "dhl"], "default": "auto"}},
       ["tracking_number"]))
tool("create_order", "Place an order on behalf of a customer.",
     {"type": "object",
      "$defs": {
          "Address": {"type": "object",
                      "properties": {"name": S(minLength=1), "line1": S(minLength=1), "line2": {"type": ["string", "null"]},
                                     "city": S(minLength=1), "postal_code": S(pattern="^[A-Za-z0-9 -]{3,10}$"),
                                     "country": S(pattern="^[A-Z]{2}$")},
                      "required": ["name", "line1", "city", "postal_code", "country"]},
          "LineItem": O({"sku": S(pattern="^[A-Z]{3}-[0-9]{4}$"), "quantity": I(1, 99), "gift_wrap": B(default=False)}, ["sku", "quantity"])},
      "properties": {
          "customer_email": EMAIL,
          "items": A({"$ref": "#/$defs/LineItem"}, minItems=1, maxItems=25),
          "shipping_address": {"allOf": [{"$ref": "#/$defs/Address"},
                                         {"type": "object", "properties": {"delivery_instructions": S(maxLength=200)}}]},
          "shipping_method": {"type": "string", "enum": ["standard", "express", "overnight"]},
          "payment": {"oneOf": [O({"method": {"const": "card"}, "card_token": S(pattern="^tok_[A-Za-z0-9]{10,}$")}, ["method", "card_token"]),
                                O({"method": {"const": "paypal"}, "paypal_email": EMAIL}, ["method", "paypal_email"]),
                                O({"method": {"const": "invoice"}, "po_number": S(pattern="^PO-[0-9]{6}$"),
                                   "net_days": {"type": "integer", "enum": [15, 30, 60]}}, ["method", "po_number"])]},
          "coupon_code": {"type": ["string", "null"], "pattern": "^[A-Z0-9]{4,12}$"}},
      "required": ["customer_email", "items", "shipping_address", "shipping_method", "payment"],
      "additionalProperties": False})

PROFILES = {
    "coding": ["bash", "read_file", "write_file", "edit_file", "multi_edit", "glob", "grep", "todo_write", "list_directory", "run_tests", "web_search", "fetch_url"],
    "web": ["web_search", "fetch_url", "news_search"],
    "kimi_search": ["search"],
    "office": ["sql_query", "send_email", "create_calendar_event", "find_free_slots", "list_calendars", "create_reminder", "get_current_time", "crm_search_contacts"],
    "github": ["github_create_issue", "github_create_pull_request", "github_list_issues", "github_get_file_contents", "github_add_issue_comment", "github_search_code", "slack_post_message", "jira_create_ticket"],
    "devops": ["get_service_logs", "query_metrics", "k8s_scale_deployment", "slack_post_message", "bash", "github_create_issue"],
    "travel": ["get_forecast", "get_weather", "search_flights", "search_hotels", "book_hotel", "search_restaurants", "book_restaurant", "convert_currency", "get_directions"],
    "weather": ["get_weather"],
    "shop": ["lookup_order", "issue_refund", "track_package", "create_order", "send_email"],
}
GENERAL = ["web_search", "fetch_url", "get_weather", "get_forecast", "send_email", "create_calendar_event", "create_reminder",
           "get_current_time", "convert_currency", "get_directions", "search_restaurants", "book_restaurant", "search_flights",
           "search_hotels", "track_package", "list_calendars", "news_search", "slack_post_message", "sql_query", "github_create_issue"]

# ---------------------------------------------------------------------------------------------
# Conversation pieces
# ---------------------------------------------------------------------------------------------


class U:  # user message
    def __init__(self, text, parts=False):
        self.text, self.parts = text, parts


class Say:  # assistant text
    def __init__(self, text):
        self.text = text


class Sys:  # system message inside the conversation
    def __init__(self, text):
        self.text = text


class Calls:  # one assistant message with tool calls, then their results
    def __init__(self, calls, text=""):
        self.calls, self.text = calls, text  # calls: [(name, args, result_text)]


def J(x):
    return json.dumps(x, ensure_ascii=False)


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
WEEKDAYS_ZH = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"]


def offset(tz, day):
    eu_summer = day < dt.date(2025, 10, 26)
    us_summer = day < dt.date(2025, 11, 2)
    table = {"Europe/Berlin": "+02:00" if eu_summer else "+01:00", "Europe/Paris": "+02:00" if eu_summer else "+01:00",
             "Europe/London": "+01:00" if eu_summer else "+00:00", "Europe/Lisbon": "+01:00" if eu_summer else "+00:00",
             "America/New_York": "-04:00" if us_summer else "-05:00", "America/Los_Angeles": "-07:00" if us_summer else "-08:00",
             "America/Chicago": "-05:00" if us_summer else "-06:00", "Asia/Tokyo": "+09:00", "Asia/Shanghai": "+08:00",
             "Asia/Singapore": "+08:00", "UTC": "Z"}
    return table[tz]


def ts(day, hh, mm, tz):
    return f"{day.isoformat()}T{hh:02d}:{mm:02d}:00{offset(tz, day)}"


def next_wd(day, wd):
    ahead = (wd - day.weekday()) % 7
    return day + dt.timedelta(days=ahead or 7)


def en_date(d):
    return f"{WEEKDAYS[d.weekday()]}, {d.strftime('%B')} {d.day}, {d.year}"


def zh_date(d):
    return f"{d.year}年{d.month:02d}月{d.day:02d}日 {WEEKDAYS_ZH[d.weekday()]}"


def kimi_system(today):
    return ("You are Kimi, an AI assistant provided by Moonshot AI.\nWhen you encounter problems involving digit comparison, "
            "letter counting, or other logical issues, please think step by step before answering.\n\n"
            f"Current Date: {en_date(today)}\n")


def kimi_system_zh(today):
    return ("你是 Kimi，由月之暗面科技有限公司（MoonshotAI）开发的人工智能助手。\n"
            f"遇到比大小、数数等逻辑问题请一步一步思考再回答。\n\n今天是：{zh_date(today)}\n")


def uid(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


# ---------------------------------------------------------------------------------------------
# Coding agent
# ---------------------------------------------------------------------------------------------

PROJECTS = [
    dict(
        root="/home/mei/code/invoice-service", framework="pytest", full_test="python -m pytest -q",
        one_test="python -m pytest -q tests/test_dates.py::test_parse_due_date_accepts_iso_week",
        test_name="test_parse_due_date_accepts_iso_week", test_file="tests/test_dates.py", src="src/invoices/dates.py",
        fail_out=("F\n=================================== FAILURES ===================================\n"
                  "_____________________ test_parse_due_date_accepts_iso_week _____________________\n\n"
                  "    def test_parse_due_date_accepts_iso_week():\n>       assert parse_due_date(\"2025-W14-3\") == date(2025, 4, 2)\n\n"
                  "src/invoices/dates.py:11: in parse_due_date\n    return datetime.strptime(value, \"%Y-%m-%d\").date()\n"
                  "E   ValueError: time data '2025-W14-3' does not match format '%Y-%m-%d'\n"
                  "=========================== short test summary info ============================\n"
                  "FAILED tests/test_dates.py::test_parse_due_date_accepts_iso_week - ValueError: time data '2025-W14-3' does not match format '%Y-%m-%d'\n"
                  "1 failed in 0.21s"),
        pass_out="........................................................                [100%]\n56 passed in 1.84s",
        src_text=("     1\tfrom datetime import date, datetime, timedelta\n     2\t\n     3\tNET_TERMS = {\"net15\": 15, \"net30\": 30, \"net60\": 60}\n"
                  "     4\t\n     5\t\n     6\tdef parse_due_date(value: str) -> date:\n     7\t    \"\"\"Accepts YYYY-MM-DD, an ISO week date (YYYY-Www-D) or net terms.\"\"\"\n"
                  "     8\t    value = value.strip()\n     9\t    if value.lower() in NET_TERMS:\n    10\t        return date.today() + timedelta(days=NET_TERMS[value.lower()])\n"
                  "    11\t    return datetime.strptime(value, \"%Y-%m-%d\").date()\n"),
        old="    return datetime.strptime(value, \"%Y-%m-%d\").date()", new="    return date.fromisoformat(value)",
        symbol="parse_due_date", new_symbol="parse_payment_due_date",
        symbol_files=["src/invoices/dates.py", "src/invoices/api.py", "src/invoices/reminders.py", "tests/test_dates.py", "docs/api.md"],
        explore_q="Where do we configure the retry policy for the payment gateway client? I want to bump the max attempts.",
        explore_pattern="max_attempts|backoff", explore_glob="*.py",
        explore_hits=("src/invoices/gateway.py:19:class RetryPolicy:\nsrc/invoices/gateway.py:20:    max_attempts: int = 3\n"
                      "src/invoices/gateway.py:21:    backoff_cap_seconds: float = 8.0\nsrc/invoices/gateway.py:58:        for attempt in range(self.retry.max_attempts):"),
        explore_file="src/invoices/gateway.py", explore_offset=15,
        explore_text=("    15\t\n    16\t\n    17\t@dataclass(frozen=True)\n    18\t# Applies to every call made through GatewayClient.\n"
                      "    19\tclass RetryPolicy:\n    20\t    max_attempts: int = 3\n    21\t    backoff_cap_seconds: float = 8.0\n    22\t    retry_on: tuple[int, ...] = (429, 502, 503, 504)\n"),
        explore_answer="It's the `RetryPolicy` dataclass in `src/invoices/gateway.py` (lines 19-22): `max_attempts = 3`, backoff capped at 8 s, retrying on 429/502/503/504. `GatewayClient` uses it for every call.",
        explore_follow="OK, make it 5 attempts and cap the backoff at 30 seconds.",
        explore_old="    max_attempts: int = 3\n    backoff_cap_seconds: float = 8.0", explore_new="    max_attempts: int = 5\n    backoff_cap_seconds: float = 30.0",
        feature="Add a `--dry-run` flag to the `send-reminders` CLI command that prints which customers would be emailed, without sending anything.",
        todos=["Add --dry-run option to the send-reminders command", "Skip the mailer and print recipients when --dry-run is set",
               "Add a test for the dry-run path", "Run the test suite"],
        feature_glob="src/invoices/**/*.py",
        feature_glob_out="src/invoices/cli.py\nsrc/invoices/reminders.py\nsrc/invoices/mailer.py\nsrc/invoices/gateway.py\nsrc/invoices/dates.py\nsrc/invoices/api.py",
        feature_files=[("src/invoices/cli.py", "     1\timport click\n     2\t\n     3\tfrom .reminders import due_reminders, send_reminder\n     4\t\n     5\t\n     6\t@click.group()\n     7\tdef cli():\n     8\t    pass\n     9\t\n    10\t\n    11\t@cli.command(\"send-reminders\")\n    12\t@click.option(\"--days-overdue\", type=int, default=7)\n    13\tdef send_reminders(days_overdue: int):\n    14\t    for invoice in due_reminders(days_overdue):\n    15\t        send_reminder(invoice)\n"),
                       ("src/invoices/reminders.py", "     1\tfrom .mailer import Mailer\n     2\tfrom .models import Invoice\n     3\t\n     4\t\n     5\tdef due_reminders(days_overdue: int) -> list[Invoice]:\n     6\t    return Invoice.overdue(days=days_overdue)\n     7\t\n     8\t\n     9\tdef send_reminder(invoice: Invoice) -> None:\n    10\t    Mailer.default().send(invoice.customer.email, template=\"reminder\", invoice=invoice)\n")],
        zh_cmd="mypy src",
        zh_out=("src/invoices/api.py:44: error: Argument 1 to \"parse_due_date\" has incompatible type \"str | None\"; expected \"str\"  [arg-type]\n"
                "Found 1 error in 1 file (checked 14 source files)"),
        zh_file="src/invoices/api.py", zh_offset=38,
        zh_text=("    38\t@router.post(\"/invoices\")\n    39\tdef create_invoice(payload: InvoiceIn) -> InvoiceOut:\n    40\t    customer = Customer.get(payload.customer_id)\n"
                 "    41\t    if customer is None:\n    42\t        raise HTTPException(404, \"unknown customer\")\n    43\t    lines = [Line(**l) for l in payload.lines]\n"
                 "    44\t    due = parse_due_date(payload.due)\n    45\t    return Invoice.create(customer, lines, due=due).to_out()\n"),
        zh_old="    due = parse_due_date(payload.due)", zh_new="    due = parse_due_date(payload.due) if payload.due else None",
    ),
    dict(
        root="/Users/alex/src/checkout-web", framework="vitest", full_test="npm test -- --run",
        one_test="npx vitest run src/cart/total.test.ts -t \"applies percentage coupons after tax\"",
        test_name="applies percentage coupons after tax", test_file="src/cart/total.test.ts", src="src/cart/total.ts",
        fail_out=(" FAIL  src/cart/total.test.ts > cartTotal > applies percentage coupons after tax\n"
                  "AssertionError: expected 88.2 to be 87.48 // Object.is equality\n\n- Expected\n+ Received\n\n- 87.48\n+ 88.2\n\n"
                  " ❯ src/cart/total.test.ts:31:38\n\n Test Files  1 failed (1)\n      Tests  1 failed | 11 skipped (12)\n   Duration  412ms"),
        pass_out=" ✓ src/cart/total.test.ts (12 tests) 9ms\n ✓ src/cart/shipping.test.ts (8 tests) 6ms\n ✓ src/components/CartLine.test.tsx (5 tests) 88ms\n\n Test Files  14 passed (14)\n      Tests  97 passed (97)\n   Duration  2.31s",
        src_text=("     1\timport type { Cart, Coupon } from \"./types\";\n     2\t\n     3\texport function cartTotal(cart: Cart, coupon?: Coupon): number {\n"
                  "     4\t  const subtotal = cart.items.reduce((sum, i) => sum + i.price * i.qty, 0);\n     5\t  const tax = subtotal * cart.taxRate;\n"
                  "     6\t  const discount = coupon?.kind === \"percent\" ? (subtotal * coupon.value) / 100 : coupon?.value ?? 0;\n"
                  "     7\t  return Math.round((subtotal + tax - discount) * 100) / 100;\n     8\t}\n"),
        old="  const discount = coupon?.kind === \"percent\" ? (subtotal * coupon.value) / 100 : coupon?.value ?? 0;",
        new="  const discount = coupon?.kind === \"percent\" ? ((subtotal + tax) * coupon.value) / 100 : coupon?.value ?? 0;",
        symbol="cartTotal", new_symbol="computeCartTotal",
        symbol_files=["src/cart/total.ts", "src/cart/total.test.ts", "src/components/CartSummary.tsx", "src/pages/Checkout.tsx"],
        explore_q="Where is the Stripe publishable key read from? I think we're shipping the test key in production builds.",
        explore_pattern="STRIPE_PUBLISHABLE|publishableKey", explore_glob="*.{ts,tsx}",
        explore_hits=("src/payments/stripe.ts:4:const publishableKey = import.meta.env.VITE_STRIPE_KEY ?? \"pk_test_51Hx9aDemoKey\";\n"
                      "src/payments/stripe.ts:7:  return loadStripe(publishableKey);\nsrc/pages/Checkout.tsx:12:import { stripePromise } from \"../payments/stripe\";"),
        explore_file="src/payments/stripe.ts", explore_offset=1,
        explore_text=("     1\timport { loadStripe } from \"@stripe/stripe-js\";\n     2\t\n     3\t// Falls back to the shared test key for local development.\n"
                      "     4\tconst publishableKey = import.meta.env.VITE_STRIPE_KEY ?? \"pk_test_51Hx9aDemoKey\";\n     5\t\n"
                      "     6\texport const stripePromise = (() => {\n     7\t  return loadStripe(publishableKey);\n     8\t})();\n"),
        explore_answer="`src/payments/stripe.ts` line 4 reads `VITE_STRIPE_KEY` and silently falls back to the shared test key `pk_test_51Hx9aDemoKey` when the variable is missing, so a production build without it ships the test key.",
        explore_follow="Make it read VITE_STRIPE_PUBLISHABLE_KEY instead, and throw if it's missing in a production build.",
        explore_old="const publishableKey = import.meta.env.VITE_STRIPE_KEY ?? \"pk_test_51Hx9aDemoKey\";",
        explore_new=("const publishableKey =\n  import.meta.env.VITE_STRIPE_PUBLISHABLE_KEY ??\n  (import.meta.env.PROD\n    ? (() => {\n        throw new Error(\"VITE_STRIPE_PUBLISHABLE_KEY is not set\");\n      })()\n"
                     "    : \"pk_test_51Hx9aDemoKey\");"),
        feature="Add a \"Save for later\" button to each cart line that moves the item into a saved list persisted in localStorage.",
        todos=["Add a savedItems slice to the cart store with localStorage persistence", "Add the Save for later button to CartLine",
               "Render the saved list under the cart with a Move to cart action", "Write tests for the store and the button", "Run typecheck and tests"],
        feature_glob="src/{cart,components}/**/*.{ts,tsx}",
        feature_glob_out="src/cart/store.ts\nsrc/cart/total.ts\nsrc/cart/types.ts\nsrc/components/CartLine.tsx\nsrc/components/CartSummary.tsx",
        feature_files=[("src/cart/store.ts", "     1\timport { create } from \"zustand\";\n     2\timport { persist } from \"zustand/middleware\";\n     3\timport type { CartItem } from \"./types\";\n     4\t\n     5\ttype CartState = {\n     6\t  items: CartItem[];\n     7\t  add: (item: CartItem) => void;\n     8\t  remove: (sku: string) => void;\n     9\t};\n"),
                       ("src/components/CartLine.tsx", "     1\timport { useCart } from \"../cart/store\";\n     2\timport type { CartItem } from \"../cart/types\";\n     3\t\n     4\texport function CartLine({ item }: { item: CartItem }) {\n     5\t  const remove = useCart((s) => s.remove);\n     6\t  return (\n     7\t    <li className=\"cart-line\">\n     8\t      <span>{item.name}</span>\n     9\t      <button onClick={() => remove(item.sku)}>Remove</button>\n    10\t    </li>\n    11\t  );\n    12\t}\n")],
        zh_cmd="npm run build",
        zh_out=("> checkout-web@0.9.2 build\n> tsc -b && vite build\n\nsrc/components/CartLine.tsx:9:52 - error TS2345: Argument of type 'string | undefined' is not assignable to parameter of type 'string'.\n"
                "  Type 'undefined' is not assignable to type 'string'.\n\n9       <button onClick={() => remove(item.sku)}>Remove</button>\n                                                     ~~~~~~~~\n\nFound 1 error."),
        zh_file="src/cart/types.ts", zh_offset=1,
        zh_text="     1\texport type CartItem = {\n     2\t  sku?: string;\n     3\t  name: string;\n     4\t  price: number;\n     5\t  qty: number;\n     6\t};\n",
        zh_old="  sku?: string;", zh_new="  sku: string;",
    ),
    dict(
        root="/srv/work/ratelimit-proxy", framework="go", full_test="go test ./...",
        one_test="go test ./internal/bucket -run TestRefillAfterIdle -v",
        test_name="TestRefillAfterIdle", test_file="internal/bucket/bucket_test.go", src="internal/bucket/bucket.go",
        fail_out=("=== RUN   TestRefillAfterIdle\n    bucket_test.go:58: after 2s idle: got 0.33 tokens, want 20\n--- FAIL: TestRefillAfterIdle (0.00s)\nFAIL\n"
                  "FAIL\tgithub.com/acme/ratelimit-proxy/internal/bucket\t0.004s\nFAIL"),
        pass_out=("ok  \tgithub.com/acme/ratelimit-proxy/internal/bucket\t0.005s\nok  \tgithub.com/acme/ratelimit-proxy/internal/proxy\t0.214s\n"
                  "ok  \tgithub.com/acme/ratelimit-proxy/internal/config\t0.003s"),
        src_text=("    36\t// refill adds the tokens earned since the last call, up to capacity.\n    37\tfunc (b *Bucket) refill(now time.Time) {\n"
                  "    38\t\telapsed := now.Sub(b.last)\n    39\t\tb.tokens = math.Min(b.capacity, b.tokens+elapsed.Minutes()*b.ratePerSecond)\n    40\t\tb.last = now\n    41\t}\n"),
        old="elapsed.Minutes()*b.ratePerSecond", new="elapsed.Seconds()*b.ratePerSecond",
        symbol="NewLimiter", new_symbol="NewTokenBucketLimiter",
        symbol_files=["internal/bucket/limiter.go", "internal/proxy/server.go", "cmd/proxy/main.go", "internal/bucket/limiter_test.go"],
        explore_q="How does the proxy decide the client key - by IP or by the API key header?",
        explore_pattern="clientKey|X-Api-Key", explore_glob="*.go",
        explore_hits=("internal/proxy/keys.go:11:func clientKey(r *http.Request) string {\ninternal/proxy/keys.go:12:\thost, _, _ := net.SplitHostPort(r.RemoteAddr)\n"
                      "internal/proxy/server.go:64:\tkey := clientKey(r)"),
        explore_file="internal/proxy/keys.go", explore_offset=9,
        explore_text=("     9\t// clientKey identifies the caller for rate limiting.\n    10\t// TODO: honour API keys.\n    11\tfunc clientKey(r *http.Request) string {\n"
                      "    12\t\thost, _, _ := net.SplitHostPort(r.RemoteAddr)\n    13\t\treturn host\n    14\t}\n"),
        explore_answer="Only by IP: `clientKey` in `internal/proxy/keys.go` returns the host part of `r.RemoteAddr` (there's even a TODO about API keys), so everyone behind the load balancer shares one bucket.",
        explore_follow="Prefer the X-Api-Key header, and fall back to the first X-Forwarded-For address, then RemoteAddr.",
        explore_old="\thost, _, _ := net.SplitHostPort(r.RemoteAddr)\n\treturn host",
        explore_new=("\tif k := r.Header.Get(\"X-Api-Key\"); k != \"\" {\n\t\treturn \"key:\" + k\n\t}\n\tif xff := r.Header.Get(\"X-Forwarded-For\"); xff != \"\" {\n"
                     "\t\treturn \"ip:\" + strings.TrimSpace(strings.Split(xff, \",\")[0])\n\t}\n\thost, _, _ := net.SplitHostPort(r.RemoteAddr)\n\treturn \"ip:\" + host"),
        feature="Expose Prometheus counters for allowed and throttled requests per route on /metrics.",
        todos=["Add prometheus client dependency", "Define allowed/throttled counter vectors labelled by route",
               "Increment counters in the proxy handler", "Serve /metrics with promhttp", "Add a handler test and run go test ./..."],
        feature_glob="internal/proxy/*.go",
        feature_glob_out="internal/proxy/server.go\ninternal/proxy/keys.go\ninternal/proxy/server_test.go",
        feature_files=[("internal/proxy/server.go", "    58\tfunc (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {\n    59\t\troute := s.router.Match(r)\n    60\t\tif route == nil {\n    61\t\t\thttp.NotFound(w, r)\n    62\t\t\treturn\n    63\t\t}\n    64\t\tkey := clientKey(r)\n    65\t\tif !s.limiter.Allow(route.Name, key) {\n    66\t\t\tw.WriteHeader(http.StatusTooManyRequests)\n    67\t\t\treturn\n    68\t\t}\n    69\t\troute.Proxy.ServeHTTP(w, r)\n    70\t}\n"),
                       ("go.mod", "     1\tmodule github.com/acme/ratelimit-proxy\n     2\t\n     3\tgo 1.22\n     4\t\n     5\trequire gopkg.in/yaml.v3 v3.0.1\n")],
        zh_cmd="go vet ./...",
        zh_out="# github.com/acme/ratelimit-proxy/internal/config\ninternal/config/load.go:27:2: struct field tag `yaml:\"burst\" json:burst` not compatible with reflect.StructTag.Get: bad syntax for struct tag value",
        zh_file="internal/config/load.go", zh_offset=22,
        zh_text=("    22\ttype Route struct {\n    23\t\tName   string  `yaml:\"name\" json:\"name\"`\n    24\t\tPrefix string  `yaml:\"prefix\" json:\"prefix\"`\n"
                 "    25\t\tUpstream string `yaml:\"upstream\" json:\"upstream\"`\n    26\t\tRate   float64 `yaml:\"rate\" json:\"rate\"`\n    27\t\tBurst  int     `yaml:\"burst\" json:burst`\n    28\t}\n"),
        zh_old="`yaml:\"burst\" json:burst`", zh_new="`yaml:\"burst\" json:\"burst\"`",
    ),
    dict(
        root="/home/sam/projects/logslice", framework="cargo", full_test="cargo test",
        one_test="cargo test --lib parse::tests::parses_rfc3339_with_offset",
        test_name="parses_rfc3339_with_offset", test_file="src/parse.rs", src="src/parse.rs",
        fail_out=("running 1 test\ntest parse::tests::parses_rfc3339_with_offset ... FAILED\n\nfailures:\n\n---- parse::tests::parses_rfc3339_with_offset stdout ----\n"
                  "thread 'parse::tests::parses_rfc3339_with_offset' panicked at src/parse.rs:88:60:\ncalled `Result::unwrap()` on an `Err` value: ParseError(TooLong)\n\n"
                  "test result: FAILED. 0 passed; 1 failed; 0 ignored; 0 measured; 41 filtered out; finished in 0.00s"),
        pass_out="running 42 tests\n..........................................\ntest result: ok. 42 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.03s",
        src_text=("    20\tpub fn parse_timestamp(field: &str) -> Result<NaiveDateTime, ParseError> {\n    21\t    let field = field.trim_matches('\"');\n"
                  "    22\t    let ts = NaiveDateTime::parse_from_str(field, \"%Y-%m-%dT%H:%M:%S\")?;\n    23\t    Ok(ts)\n    24\t}\n"),
        old="    let ts = NaiveDateTime::parse_from_str(field, \"%Y-%m-%dT%H:%M:%S\")?;",
        new="    let ts = DateTime::parse_from_rfc3339(field)?.naive_utc();",
        symbol="slice_window", new_symbol="select_time_window",
        symbol_files=["src/lib.rs", "src/window.rs", "src/main.rs", "tests/cli.rs", "README.md"],
        explore_q="Where do we decide whether the input is gzip-compressed?",
        explore_pattern="GzDecoder|is_gzip", explore_glob="*.rs",
        explore_hits="src/input.rs:14:fn is_gzip(head: &[u8]) -> bool {\nsrc/input.rs:31:        Box::new(GzDecoder::new(file))",
        explore_file="src/input.rs", explore_offset=12,
        explore_text=("    12\tconst GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];\n    13\t\n    14\tfn is_gzip(head: &[u8]) -> bool {\n    15\t    head.starts_with(&GZIP_MAGIC)\n    16\t}\n"
                      "    ...\n    28\t    let mut head = [0u8; 4];\n    29\t    let n = file.read(&mut head)?;\n    30\t    file.rewind()?;\n"
                      "    31\t    if is_gzip(&head[..n]) {\n        Box::new(GzDecoder::new(file))\n    } else {\n        Box::new(file)\n    }\n"),
        explore_answer="In `src/input.rs`: `open_input` reads the first 4 bytes, rewinds, and wraps the file in a `GzDecoder` when they start with the gzip magic `1f 8b` (`is_gzip`, line 14). Anything else is read as plain text.",
        explore_follow="Also detect zstd by its magic bytes (28 B5 2F FD) and decode it with the zstd crate.",
        explore_old="const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];",
        explore_new="const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];\nconst ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];\n\nfn is_zstd(head: &[u8]) -> bool {\n    head.starts_with(&ZSTD_MAGIC)\n}",
        feature="Add --since/--until flags that accept relative times like 15m or 2h as well as RFC 3339 timestamps.",
        todos=["Parse relative durations (s/m/h/d) in a new time_arg module", "Add --since/--until to the clap CLI",
               "Apply the bounds in slice_window", "Add unit and CLI tests", "cargo test and clippy"],
        feature_glob="src/**/*.rs",
        feature_glob_out="src/main.rs\nsrc/lib.rs\nsrc/parse.rs\nsrc/window.rs\nsrc/input.rs",
        feature_files=[("src/main.rs", "     1\tuse clap::Parser;\n     2\t\n     3\t#[derive(Parser)]\n     4\tstruct Args {\n     5\t    /// Log files to read; stdin when none\n     6\t    files: Vec<PathBuf>,\n     7\t    /// Only lines matching this regex\n     8\t    #[arg(long)]\n     9\t    grep: Option<String>,\n    10\t}\n"),
                       ("src/window.rs", "     1\tuse chrono::NaiveDateTime;\n     2\t\n     3\tpub struct Window {\n     4\t    pub start: Option<NaiveDateTime>,\n     5\t    pub end: Option<NaiveDateTime>,\n     6\t}\n")],
        zh_cmd="cargo clippy -- -D warnings",
        zh_out=("error: this `if let` can be collapsed into the outer `if let`\n  --> src/window.rs:41:13\n   |\n41 | /             if let Some(end) = self.end {\n"
                "42 | |                 if ts > end { return false; }\n43 | |             }\n   | |_____________^\n   = note: `-D clippy::collapsible-match` implied by `-D warnings`\n\nerror: could not compile `logslice` (lib) due to 1 previous error"),
        zh_file="src/window.rs", zh_offset=36,
        zh_text=("    36\t    pub fn contains(&self, ts: NaiveDateTime) -> bool {\n    37\t        if let Some(start) = self.start {\n    38\t            if ts < start { return false; }\n"
                 "    39\t        }\n    40\t        {\n    41\t            if let Some(end) = self.end {\n    42\t                if ts > end { return false; }\n    43\t            }\n    44\t        }\n    45\t        true\n    46\t    }\n"),
        zh_old="        {\n            if let Some(end) = self.end {\n                if ts > end { return false; }\n            }\n        }",
        zh_new="        if let Some(end) = self.end {\n            if ts > end { return false; }\n        }",
    ),
]


def coding_system(p, today):
    return (f"You are Kimi Code, an interactive coding agent running in the user's terminal.\n\n<env>\nWorking directory: {p['root']}\n"
            f"Is directory a git repo: yes\nPlatform: linux\nToday's date: {today.isoformat()}\n</env>\n\n"
            "Use the tools to search, read and edit files and to run commands. Always use absolute paths. Read a file before editing it. "
            "Prefer editing existing files to creating new ones. Track multi-step work with todo_write and keep the user informed with short updates.")


def ep_fix_test(rng, today):
    p = rng.choice(PROJECTS)
    r = p["root"]
    ask = rng.choice([
        f"`{p['test_name']}` started failing after my last change to {p['src']}. Can you find out why and fix it?",
        f"CI is red on {p['test_file']} ({p['test_name']}). Please fix it.",
        f"hey, {p['test_name']} fails locally for me, can you take a look",
        f"Run `{p['one_test']}` and fix whatever is broken.",
    ])
    t = [U(ask),
         Calls([("bash", {"command": p["one_test"], "description": "Run the failing test"}, p["fail_out"])],
               rng.choice(["", "Let me reproduce the failure first."])),
         Calls([("read_file", {"path": f"{r}/{p['src']}"}, p["src_text"])]),
         Calls([("edit_file", {"path": f"{r}/{p['src']}", "old_string": p["old"], "new_string": p["new"]},
                 f"The file {r}/{p['src']} has been updated.")], "Found it - fixing the line that mishandles this case."),
         Calls([("bash", {"command": p["full_test"], "timeout_ms": 300000, "description": "Run the full test suite"}, p["pass_out"])]),
         Say("Fixed. The failing line was the one I replaced in " + p["src"] + "; the whole suite passes now.")]
    if rng.random() < 0.4:
        t += [U(rng.choice(["Great, commit it with a sensible message.", "thanks! can you commit that?", "Commit that please."])),
              Calls([("bash", {"command": f"git add {p['src']} && git commit -m \"Fix {p['test_name']}\"", "description": "Commit the fix"},
                      "[main 4f2a9c1] Fix " + p["test_name"] + "\n 1 file changed, 1 insertion(+), 1 deletion(-)")]),
              Say("Committed.")]
    return "coding", coding_system(p, today), t


def ep_rename(rng, today):
    p = rng.choice(PROJECTS)
    r = p["root"]
    files = p["symbol_files"]
    todos = [{"content": f"Rename {p['symbol']} in {f}", "status": "in_progress" if i == 0 else "pending", "id": str(i + 1)} for i, f in enumerate(files)]
    todos.append({"content": "Run the test suite", "status": "pending", "id": str(len(files) + 1), "priority": "high"})
    ask = rng.choice([f"Rename `{p['symbol']}` to `{p['new_symbol']}` everywhere, including tests and docs.",
                      f"I'd like `{p['symbol']}` to be called `{p['new_symbol']}`. Update all call sites please.",
                      f"把 `{p['symbol']}` 全部重命名为 `{p['new_symbol']}`，测试和文档也要改。"])
    t = [U(ask),
         Calls([("grep", {"pattern": f"\\b{p['symbol']}\\b", "output_mode": "files_with_matches"}, "\n".join(files))]),
         Calls([("todo_write", {"todos": todos}, "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress.")]),
         Calls([("read_file", {"path": f"{r}/{files[0]}"}, f"     1\t// {files[0]}\n    12\t... {p['symbol']}(...) ...\n    30\t... {p['symbol']}(...) ...\n")]),
         Calls([("multi_edit", {"path": f"{r}/{files[0]}", "edits": [{"old_string": p["symbol"], "new_string": p["new_symbol"], "replace_all": True}]},
                 f"Applied 1 edit to {r}/{files[0]}")]),
         Say(f"Renamed in {files[0]}; continuing with the remaining files.")]
    return "coding", coding_system(p, today), t


def ep_explore(rng, today):
    p = rng.choice(PROJECTS)
    r = p["root"]
    grep_args = {"pattern": p["explore_pattern"], "glob": p["explore_glob"], "output_mode": "content", "-n": True}
    if rng.random() < 0.5:
        grep_args["-i"] = True
    t = [U(p["explore_q"]),
         Calls([("grep", grep_args, p["explore_hits"])]),
         Calls([("read_file", {"path": f"{r}/{p['explore_file']}", "offset": p["explore_offset"], "limit": 40}, p["explore_text"])]),
         Say(p["explore_answer"]),
         U(p["explore_follow"]),
         Calls([("edit_file", {"path": f"{r}/{p['explore_file']}", "old_string": p["explore_old"], "new_string": p["explore_new"]},
                 f"The file {r}/{p['explore_file']} has been updated.")]),
         Calls([("run_tests", {"framework": p["framework"], "paths": [], "timeout_seconds": 600}, p["pass_out"])]),
         Say("Done; tests pass.")]
    return "coding", coding_system(p, today), t


def ep_feature(rng, today):
    p = rng.choice(PROJECTS)
    r = p["root"]
    todos = [{"content": c, "status": "in_progress" if i == 0 else "pending", "id": f"t{i + 1}",
              "priority": rng.choice(["high", "medium", "low"])} for i, c in enumerate(p["todos"])]
    todos2 = [dict(x) for x in todos]
    todos2[0]["status"] = "completed"
    todos2[1]["status"] = "in_progress"
    (f1, t1), (f2, t2) = p["feature_files"]
    t = [U(p["feature"], parts=rng.random() < 0.3),
         Calls([("todo_write", {"todos": todos}, "Todos have been modified successfully.")], "I'll plan this out first."),
         Calls([("glob", {"pattern": p["feature_glob"], "path": rng.choice([None, r])}, p["feature_glob_out"])]),
         Calls([("read_file", {"path": f"{r}/{f1}"}, t1), ("read_file", {"path": f"{r}/{f2}"}, t2)]),
         Calls([("todo_write", {"todos": todos2}, "Todos have been modified successfully.")]),
         Say("First step done; moving on to the next item.")]
    return "coding", coding_system(p, today), t


def ep_zh_build(rng, today):
    p = rng.choice(PROJECTS)
    r = p["root"]
    t = [U(rng.choice([f"帮我看看为什么 `{p['zh_cmd']}` 一直报错？", f"`{p['zh_cmd']}` 过不了，帮我修一下", f"运行 {p['zh_cmd']} 的时候报错了，是什么问题？"])),
         Calls([("bash", {"command": p["zh_cmd"], "description": "Reproduce the error", "timeout_ms": 180000}, p["zh_out"])]),
         Calls([("read_file", {"path": f"{r}/{p['zh_file']}", "offset": p["zh_offset"], "limit": 20}, p["zh_text"])]),
         Calls([("edit_file", {"path": f"{r}/{p['zh_file']}", "old_string": p["zh_old"], "new_string": p["zh_new"]}, f"The file {r}/{p['zh_file']} has been updated.")],
               "找到原因了，修改这一处。"),
         Calls([("bash", {"command": p["zh_cmd"], "description": "Check the fix"}, "")]),
         Say("已修复，现在命令可以正常通过。")]
    return "coding", coding_system(p, today), t


def ep_ci_file(rng, today):
    p = rng.choice(PROJECTS)
    r = p["root"]
    setup = {"pytest": "      - uses: actions/setup-python@v5\n        with:\n          python-version: \"3.12\"\n      - run: pip install -e .[test]\n",
             "vitest": "      - uses: actions/setup-node@v4\n        with:\n          node-version: 20\n          cache: npm\n      - run: npm ci\n",
             "go": "      - uses: actions/setup-go@v5\n        with:\n          go-version: \"1.22\"\n",
             "cargo": "      - uses: dtolnay/rust-toolchain@stable\n"}[p["framework"]]
    content = ("name: CI\n\non:\n  push:\n    branches: [main]\n  pull_request:\n\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n"
               "      - uses: actions/checkout@v4\n" + setup + f"      - run: {p['full_test']}\n")
    t = [U(rng.choice(["Add a GitHub Actions workflow that runs the tests on every push to main and on pull requests.",
                       "We have no CI yet. Set up a minimal GitHub Actions workflow for the tests please."])),
         Calls([("list_directory", {"path": r, "depth": 2, "ignore": ["node_modules", "target", ".venv", ".git"]},
                 "README.md\n" + "\n".join(sorted({f.split("/")[0] + "/" for f in p["symbol_files"]})))]),
         Calls([("write_file", {"path": f"{r}/.github/workflows/ci.yml", "content": content}, f"File created successfully at: {r}/.github/workflows/ci.yml")]),
         Say("Added .github/workflows/ci.yml; it runs `" + p["full_test"] + "` on pushes to main and on pull requests.")]
    return "coding", coding_system(p, today), t


def ep_docs_lookup(rng, today):
    p = rng.choice(PROJECTS)
    q = {"pytest": ("How do I parametrize a pytest fixture so every test runs against both sqlite and postgres?", "pytest parametrize fixture params request.param", "docs.pytest.org",
                    "https://docs.pytest.org/en/stable/how-to/fixtures.html#parametrizing-fixtures"),
         "vitest": ("Does vitest support fake timers for setInterval? How?", "vitest fake timers vi.useFakeTimers setInterval", "vitest.dev",
                    "https://vitest.dev/api/vi.html#vi-usefaketimers"),
         "go": ("What's the idiomatic way to use a fake clock in Go tests now?", "go testing fake clock synctest", "go.dev",
                "https://go.dev/blog/synctest"),
         "cargo": ("How do I make cargo run one integration test file only?", "cargo test integration test single file --test", "doc.rust-lang.org",
                   "https://doc.rust-lang.org/cargo/commands/cargo-test.html")}[p["framework"]]
    t = [U(q[0]),
         Calls([("web_search", {"query": q[1], "site": q[2], "num_results": 5},
                 J([{"title": "Official documentation", "url": q[3], "snippet": "…", "published": "2025-03-02"}]))]),
         Calls([("fetch_url", {"url": q[3], "format": "markdown", "max_chars": 20000}, "# Documentation\n\n(relevant section, about 2 000 words)")]),
         Say("Here's how, per the official docs: …")]
    return "coding", coding_system(p, today), t


# ---------------------------------------------------------------------------------------------
# Web research
# ---------------------------------------------------------------------------------------------

TOPICS = [
    dict(q="What changed in PostgreSQL 17's logical replication? We're planning an upgrade from 15.",
         queries=["PostgreSQL 17 logical replication changes", "PostgreSQL 17 release notes failover slots", "pg_createsubscriber PostgreSQL 17"],
         query="PostgreSQL 17 logical replication new features", url="https://www.postgresql.org/docs/17/release-17.html",
         title="PostgreSQL 17 Release Notes", follow="Does pg_upgrade keep the replication slots now?", fquery="pg_upgrade preserve logical replication slots PostgreSQL 17", lang="en"),
    dict(q="Compare battery life of the newest iPad Air and the Galaxy Tab S10 FE in real-world tests.",
         queries=["iPad Air M3 battery test hours", "Galaxy Tab S10 FE battery life test", "iPad Air vs Galaxy Tab S10 FE battery"],
         query="iPad Air M3 vs Galaxy Tab S10 FE battery life test", url="https://www.notebookcheck.net/Samsung-Galaxy-Tab-S10-FE-review.html",
         title="Samsung Galaxy Tab S10 FE review", follow="Which one charges faster?", fquery="Galaxy Tab S10 FE charging speed vs iPad Air M3", lang="en"),
    dict(q="What is the current recommended daily vitamin D intake for adults in the EU vs the US?",
         queries=["EFSA vitamin D adequate intake adults", "NIH vitamin D RDA adults", "vitamin D recommendations Europe United States"],
         query="vitamin D recommended intake adults EFSA NIH", url="https://ods.od.nih.gov/factsheets/VitaminD-HealthProfessional/",
         title="Vitamin D - Health Professional Fact Sheet", follow="And the upper limit?", fquery="vitamin D tolerable upper intake level adults", lang="en"),
    dict(q="最近有哪些关于固态电池量产的新闻？哪些车企给出了明确时间表？",
         queries=["固态电池 量产 时间表 车企", "全固态电池 2027 量产", "solid-state battery mass production timeline automaker"],
         query="固态电池 量产 时间表", url="https://www.36kr.com/p/solid-state-battery-2025", title="固态电池量产进程梳理",
         follow="丰田的计划具体是怎样的？", fquery="丰田 全固态电池 量产 计划", lang="zh"),
    dict(q="Is it worth switching our Python monorepo from pip-tools to uv? What do people report about lockfile compatibility?",
         queries=["uv vs pip-tools monorepo experience", "uv lockfile pip compatibility", "migrate pip-tools to uv"],
         query="migrating from pip-tools to uv monorepo experience", url="https://docs.astral.sh/uv/pip/compatibility/",
         title="Compatibility with pip | uv", follow="Can uv export a requirements.txt for tools that still need it?", fquery="uv export requirements.txt", lang="en"),
    dict(q="帮我查一下 2025 年诺贝尔物理学奖颁给了谁，获奖理由是什么？",
         queries=["2025 诺贝尔物理学奖 得主", "2025 Nobel Prize in Physics", "2025年诺贝尔物理学奖 获奖理由"],
         query="2025 Nobel Prize in Physics laureates", url="https://www.nobelprize.org/prizes/physics/2025/summary/",
         title="The Nobel Prize in Physics 2025", follow="他们的研究和量子计算有什么关系？", fquery="2025 Nobel physics macroscopic quantum tunnelling superconducting circuits qubits", lang="zh"),
    dict(q="What's the visa situation for a German citizen visiting Japan for 3 weeks as a tourist?",
         queries=["Japan visa exemption German citizens 90 days", "Japan entry requirements tourists 2025", "Visit Japan Web registration"],
         query="Japan visa exemption German citizens tourist stay length", url="https://www.mofa.go.jp/j_info/visit/visa/short/novisa.html",
         title="Exemption of Visa (Short-Term Stay)", follow="Do I need to register anything online before the flight?", fquery="Visit Japan Web registration required before arrival", lang="en"),
    dict(q="How are the latest open-weight coding models doing on SWE-bench Verified? I want a rough ranking.",
         queries=["SWE-bench Verified leaderboard open weight models", "Kimi K2 SWE-bench Verified score", "open source model SWE-bench Verified 2025"],
         query="SWE-bench Verified open-weight model scores", url="https://www.swebench.com/", title="SWE-bench Leaderboards",
         follow="Which of those can I run on a single 8xH100 node?", fquery="open weight coding model inference 8xH100 memory requirements", lang="en"),
]


def ep_research(rng, today, kimi_tool):
    tp = rng.choice(TOPICS)
    zh = tp["lang"] == "zh"
    results = [{"title": tp["title"], "url": tp["url"], "snippet": "…", "date": (today - dt.timedelta(days=rng.randint(3, 200))).isoformat()},
               {"title": "Discussion thread", "url": "https://news.ycombinator.com/item?id=4" + str(rng.randint(1000000, 9999999)), "snippet": "…"}]
    if kimi_tool:
        first = Calls([("search", {"queries": tp["queries"][:rng.randint(1, 3)]}, J(results))])
        second = Calls([("search", {"queries": [tp["fquery"]]}, J(results[:1]))])
        fetch = None
    else:
        args = {"query": tp["query"], "num_results": rng.choice([5, 8, 10])}
        if rng.random() < 0.5:
            args["recency"] = rng.choice(["month", "year"])
        if zh:
            args["language"] = "zh-CN"
        first = Calls([("web_search", args, J(results))])
        fetch = Calls([("fetch_url", {"url": tp["url"], "max_chars": rng.choice([8000, 20000, 50000])}, f"# {tp['title']}\n\n(main text of the page)")])
        second = Calls([("web_search", {"query": tp["fquery"], "num_results": 5}, J(results[:1]))])
    t = [U(tp["q"]), first]
    if rng.random() < 0.5:
        t.append(Sys("- 评估已返回的搜索结果是否已完整回答用户问题；若信息不足，可继续调用工具。\n- 凡引用搜索结果中的网页内容，在对应句末添加 [^编号^] 引用。" if zh else
                     "- Check whether the results answer the question fully; call the tools again if not.\n- Cite web content with [^n^] at the end of the sentence."))
    if fetch:
        t.append(fetch)
    t += [Say("(summary of the findings with citations)"), U(tp["follow"]), second, Say("(answer)")]
    prof = "kimi_search" if kimi_tool else "web"
    return prof, (kimi_system_zh(today) if zh else kimi_system(today)), t


def ep_news(rng, today):
    subj = rng.choice([("EU AI Act enforcement", "What happened this week around EU AI Act enforcement?", "en"),
                       ("central bank interest rate decision", "Summarize the news on central bank rate decisions from the last 3 days.", "en"),
                       ("Formula 1 Grand Prix results", "Any news about the last Grand Prix? I missed it.", "en"),
                       ("台风 登陆", "这两天有台风登陆的新闻吗？", "zh")])
    days = 7 if "week" in subj[1] else 3
    args = {"query": subj[0], "from_date": (today - dt.timedelta(days=days)).isoformat(), "to_date": today.isoformat(), "sort_by": "published_at"}
    if rng.random() < 0.5:
        args["language"] = subj[2]
    t = [U(subj[1]),
         Calls([("news_search", args, J([{"title": "…", "source": "Reuters", "published_at": ts(today, 9, 12, "UTC"), "url": "https://www.reuters.com/world/…"}]))]),
         Say("(news summary)")]
    return "web", (kimi_system_zh(today) if subj[2] == "zh" else kimi_system(today)), t


# ---------------------------------------------------------------------------------------------
# Office / data
# ---------------------------------------------------------------------------------------------

PEOPLE = [("Priya Raman", "priya.raman@northwind.io"), ("Tomasz Nowak", "tomasz@nowak-consulting.pl"), ("Jordan Lee", "jlee@northwind.io"),
          ("Aiko Tanaka", "aiko.tanaka@northwind.io"), ("Sofia Martins", "sofia.martins@lumen-labs.com"), ("Chen Wei", "chen.wei@northwind.io"),
          ("Grace Okafor", "g.okafor@contoso.com"), ("Lukas Becker", "lukas.becker@northwind.io")]
ME = [("Dana Whitfield", "dana@northwind.io", "America/New_York"), ("Markus Vogel", "markus.vogel@northwind.io", "Europe/Berlin"),
      ("李娜", "li.na@northwind.io", "Asia/Shanghai")]


def office_system(me, today):
    name, email, tz = me
    return (f"You are the executive assistant of {name} <{email}> at Northwind. Their time zone is {tz}; today is {en_date(today)}. "
            "Use the tools to act on their behalf. Times you send to tools are RFC 3339 with the UTC offset of the time zone.")


def ep_sql_email(rng, today):
    me = rng.choice(ME[:2])
    month_start = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    month_end = today.replace(day=1)
    to = rng.sample(PEOPLE, rng.randint(1, 3))
    q, sql, rows = rng.choice([
        ("How many new subscriptions did we get per plan last month?",
         "SELECT plan, count(*) AS new_subs FROM subscriptions WHERE created_at >= $1 AND created_at < $2 GROUP BY plan ORDER BY new_subs DESC",
         [["team", 412], ["pro", 265], ["enterprise", 31]]),
        ("What was revenue by region last month, in USD?",
         "SELECT region, round(sum(amount_usd), 2) AS revenue FROM invoices WHERE paid_at >= $1 AND paid_at < $2 GROUP BY region ORDER BY revenue DESC",
         [["NA", 1284302.5], ["EMEA", 873211.0], ["APAC", 402877.25]]),
        ("Which 10 customers had the most support tickets last month?",
         "SELECT c.name, count(*) AS tickets FROM tickets t JOIN customers c ON c.id = t.customer_id WHERE t.opened_at >= $1 AND t.opened_at < $2 GROUP BY c.name ORDER BY tickets DESC LIMIT 10",
         [["Contoso", 48], ["Fabrikam", 31], ["Tailspin", 22]]),
    ])
    db = "billing" if "revenue" in q else "analytics"
    args = {"query": sql, "database": db, "params": [month_start.isoformat(), month_end.isoformat()]}
    if rng.random() < 0.5:
        args["row_limit"] = 100
    if rng.random() < 0.3:
        args["timeout_seconds"] = 30
    names = " and ".join(n.split()[0] for n, _ in to)
    t = [U(q + rng.choice(["", f" Then email the numbers to {names}."])),
         Calls([("sql_query", args, J({"columns": ["key", "value"], "rows": rows, "row_count": len(rows)}))]),
         Say("Here are the numbers: " + "; ".join(f"{a}: {b}" for a, b in rows) + "."),
         U(rng.choice([f"Send that to {names}, cc me.", f"Great. Email this to {names} with the subject 'Monthly numbers'.", f"Please mail it to {', '.join(e for _, e in to)}."])),
         Calls([("send_email", {"to": [e for _, e in to], "cc": [me[1]], "subject": "Monthly numbers - " + month_start.strftime("%B %Y"),
                                "body": "Hi,\n\nHere are last month's numbers:\n" + "\n".join(f"- {a}: {b}" for a, b in rows) + "\n\nBest,\n" + me[0].split()[0]},
                 J({"status": "sent", "message_id": "<" + uid(rng) + "@mail.northwind.io>"}))]),
         Say("Sent.")]
    return "office", office_system(me, today), t


def ep_meeting(rng, today):
    me = rng.choice(ME)
    tz = me[2]
    others = rng.sample(PEOPLE, rng.randint(1, 4))
    dur = rng.choice([30, 45, 60])
    title = rng.choice(["Q3 roadmap review", "Pricing page sync", "Hiring loop debrief", "Vendor evaluation: observability", "Design review: checkout v2"])
    mon = next_wd(today, 0)
    fri = mon + dt.timedelta(days=4)
    names = ", ".join(n for n, _ in others)
    zh = me[0] == "李娜"
    ask = (f"帮我下周和 {names} 约一个 {dur} 分钟的会，主题是“{title}”，要有视频会议链接。" if zh else
           rng.choice([f"Find a {dur}-minute slot next week with {names} and book it as '{title}' with a Google Meet link.",
                       f"Can you set up '{title}' next week? {dur} minutes, invite {names}.",
                       f"I need {dur} min with {names} sometime next week for the {title.lower()}. Put it on the calendar."]))
    slot_day = mon + dt.timedelta(days=rng.randint(0, 4))
    hh = rng.choice([9, 10, 11, 14, 15, 16])
    start = ts(slot_day, hh, 0, tz)
    end_min = hh * 60 + dur
    end = ts(slot_day, end_min // 60, end_min % 60, tz)
    fs_args = {"attendees": [me[1]] + [e for _, e in others], "window": [ts(mon, 8, 0, tz), ts(fri, 18, 0, tz)], "duration_minutes": dur, "timezone": tz}
    ev = {"title": title, "start": start, "end": end, "timezone": tz,
          "attendees": [{"email": e, "name": n} for n, e in others], "conference": rng.choice(["google_meet", "zoom"])}
    if rng.random() < 0.5:
        ev["reminders"] = [{"method": "popup", "minutes_before": 10}]
    if rng.random() < 0.3:
        ev["attendees"][-1]["optional"] = True
    if rng.random() < 0.4:
        ev["description"] = "Agenda:\n1. Status\n2. Open questions\n3. Next steps"
    t = [U(ask),
         Calls([("find_free_slots", fs_args, J({"slots": [[start, end], [ts(slot_day + dt.timedelta(days=1), 11, 0, tz), ts(slot_day + dt.timedelta(days=1), 11 + (dur + 59) // 60, 0, tz)]]}))]),
         Calls([("create_calendar_event", ev, J({"id": "evt_" + uid(rng)[:8], "status": "confirmed", "html_link": "https://calendar.example.com/event?eid=" + uid(rng)[:12]}))]),
         Say("Booked." if not zh else "已经约好了。")]
    if rng.random() < 0.5:
        t += [U(rng.choice(["Also remind me the day before to prepare slides.", "Set a reminder an hour before so I can prep."] if not zh else ["提前一天提醒我准备材料。"])),
              Calls([("create_reminder", {"text": "Prepare slides for " + title, "due": ts(slot_day - dt.timedelta(days=1), 16, 0, tz), "priority": "high"},
                      J({"id": "rem_" + str(rng.randint(1000, 9999)), "status": "scheduled"}))]),
              Say("Reminder set.")]
    return "office", office_system(me, today), t


def ep_recurring(rng, today):
    me = rng.choice(ME[:2])
    tz = me[2]
    n, e = rng.choice(PEOPLE)
    wd = rng.randint(0, 4)
    day = next_wd(today, wd)
    hh = rng.choice([9, 10, 13, 16])
    until = dt.date(today.year, 12, 19)
    ev = {"title": f"1:1 {me[0].split()[0]} / {n.split()[0]}", "start": ts(day, hh, 0, tz), "end": ts(day, hh, 30, tz), "timezone": tz,
          "attendees": [{"email": e, "name": n}],
          "recurrence": {"frequency": "weekly", "by_day": [["MO", "TU", "WE", "TH", "FR"][wd]], "until": until.isoformat()},
          "visibility": "private"}
    if rng.random() < 0.5:
        ev["location"] = None
    ask = rng.choice([f"Put a weekly 1:1 with {n.split()[0]} on my calendar, {WEEKDAYS[wd]}s {hh}:00-{hh}:30, starting next week until the end of the year.",
                      f"Set up a recurring half-hour 1:1 with {n} every {WEEKDAYS[wd]} at {hh}:00 through December 19. Keep it private."])
    t = [U(ask),
         Calls([("create_calendar_event", ev, J({"id": "evt_" + uid(rng)[:8], "status": "confirmed", "occurrences": 14}))]),
         Say("Done - it's on your calendar.")]
    return "office", office_system(me, today), t


def ep_reminder(rng, today):
    me = rng.choice(ME)
    tz = me[2]
    zh = me[0] == "李娜"
    what, when, rep = rng.choice([
        ("Renew passport", today + dt.timedelta(days=30), None),
        ("Pay the quarterly VAT return", dt.date(today.year, 10, 10) if today < dt.date(today.year, 10, 10) else dt.date(today.year + 1, 1, 10), None),
        ("Water the plants", today + dt.timedelta(days=1), {"every": 3, "unit": "day"}),
        ("Submit expense report", next_wd(today, 4), {"every": 1, "unit": "month"}),
    ])
    args = {"text": what, "due": ts(when, 9, 0, tz)}
    if rep is not None or rng.random() < 0.3:
        args["repeat"] = rep
    if rng.random() < 0.4:
        args["priority"] = rng.choice(["low", "normal", "high"])
    ask = (f"提醒我 {when.month}月{when.day}日 上午9点：{what}" if zh else
           rng.choice([f"Remind me to {what.lower()} on {en_date(when)} at 9am" + (f", and every {rep['every']} {rep['unit']}{'s' if rep['every'] > 1 else ''} after that." if rep else "."),
                       f"can you set a reminder: {what.lower()}, {when.isoformat()} 9:00" + (f", repeating every {rep['every']} {rep['unit']}(s)" if rep else "")]))
    first = [Calls([("get_current_time", {"timezone": tz}, J({"now": ts(today, 8, 41, tz)}))])] if rng.random() < 0.3 else []
    t = [U(ask)] + first + [Calls([("create_reminder", args, J({"id": "rem_" + str(rng.randint(1000, 9999)), "status": "scheduled"}))]), Say("Reminder set." if not zh else "好的，已设置提醒。")]
    return "office", office_system(me, today), t


def ep_crm(rng, today):
    me = rng.choice(ME[:2])
    companies = rng.sample(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries"], 2)
    country = rng.choice(["DE", "FR", "JP", "US", "BR"])
    stage = rng.choice(["opportunity", "lead", "customer"])
    filt = {"and": [{"or": [{"field": "company", "op": "eq", "value": companies[0]}, {"field": "company", "op": "eq", "value": companies[1]}]},
                    {"field": "country", "op": "eq", "value": country},
                    {"field": "lifecycle_stage", "op": "eq", "value": stage}]}
    if rng.random() < 0.4:
        filt = {"and": [{"field": "company", "op": "in", "value": companies}, {"field": "deal_value", "op": "gt", "value": rng.choice([10000, 50000, 250000])}]}
    args = {"filter": filt, "sort": {"field": "deal_value", "direction": "desc"}, "limit": rng.choice([10, 25, 50]),
            "fields": ["name", "email", "company", "deal_value", "owner"]}
    found = [{"name": n, "email": e, "company": companies[0], "deal_value": rng.randint(5, 90) * 1000} for n, e in rng.sample(PEOPLE, 2)]
    ask = rng.choice([f"Pull up everyone at {companies[0]} or {companies[1]} in {country} who's at the {stage} stage, biggest deals first.",
                      f"Which contacts from {companies[0]} and {companies[1]} do we have in {country}? Only {stage}s, sorted by deal size."])
    t = [U(ask),
         Calls([("crm_search_contacts", args, J({"contacts": found, "total": 2}))]),
         Say("Found 2 contacts: " + ", ".join(f"{c['name']} ({c['company']}, ${c['deal_value']:,})" for c in found) + "."),
         U("Email both of them a short note asking for a call next week."),
         Calls([("send_email", {"to": [found[0]["email"]], "subject": "Quick call next week?", "body": f"Hi {found[0]['name'].split()[0]},\n\nWould you have 30 minutes next week for a quick call?\n\nBest,\n{me[0]}"},
                 J({"status": "sent"})),
                ("send_email", {"to": [found[1]["email"]], "subject": "Quick call next week?", "body": f"Hi {found[1]['name'].split()[0]},\n\nWould you have 30 minutes next week for a quick call?\n\nBest,\n{me[0]}"},
                 J({"status": "sent"}))]),
         Say("Both emails are sent.")]
    return "office", office_system(me, today), t


def ep_calendars(rng, today):
    me = rng.choice(ME[:2])
    t = [U(rng.choice(["Which calendars do I have access to?", "List my calendars", "Do I still see the team's shared on-call calendar?"])),
         Calls([("list_calendars", {}, J([{"id": "primary", "name": me[0]}, {"id": "team-oncall@northwind.io", "name": "On-call"}]))]),
         Say("You can see your primary calendar and the On-call calendar.")]
    return "office", office_system(me, today), t


# ---------------------------------------------------------------------------------------------
# GitHub / Slack / Jira
# ---------------------------------------------------------------------------------------------

REPOS = [("acme-corp", "billing-api", "Go"), ("northwind", "web-console", "TypeScript"), ("openlab-io", "tensor-cache", "Python"),
         ("sam-dev", "logslice", "Rust"), ("kimi-tools", "agent-kit", "Python")]
GH_USERS = ["octocat", "mei-lin", "jdoe-dev", "rustacean42", "p-raman"]


def gh_system(today):
    return ("You are a helpful engineering assistant with access to GitHub, Slack and Jira through MCP tools. "
            f"Today is {today.isoformat()}. The #eng-alerts channel is C04QX7P2K9L and #release is C05ABCD1234.")


def ep_gh_issue(rng, today):
    owner, repo, lang = rng.choice(REPOS)
    err = rng.choice(["panic: runtime error: index out of range [0] with length 0", "TypeError: Cannot read properties of undefined (reading 'map')",
                      "KeyError: 'retries'", "thread 'main' panicked at 'called `Option::unwrap()` on a `None` value'"])
    n = rng.randint(120, 4000)
    labels = rng.choice([["bug"], ["bug", "good first issue"], ["bug", "p1"]])
    issue = {"owner": owner, "repo": repo, "title": "Crash when the config file is empty",
             "body": f"### What happens\nRunning with an empty config file crashes with:\n\n```\n{err}\n```\n\n### Steps to reproduce\n1. `touch config.yaml`\n2. Start {repo} with `--config config.yaml`\n\n### Expected\nA clear error message or defaults.",
             "labels": labels}
    if rng.random() < 0.4:
        issue["assignees"] = [rng.choice(GH_USERS)]
    if rng.random() < 0.3:
        issue["milestone"] = rng.choice([None, 3, 7])
    t = [U(rng.choice([f"{repo} crashes with `{err}` when the config file is empty. Please open an issue in {owner}/{repo} with repro steps, label it {', '.join(labels)}.",
                       f"File a bug on {owner}/{repo}: empty config file -> `{err}`. Include repro steps."])),
         Calls([("github_search_code", {"q": f"repo:{owner}/{repo} LoadConfig OR load_config", "per_page": 5},
                 J({"total_count": 1, "items": [{"path": "internal/config/load.go" if lang == "Go" else "src/config.py", "html_url": f"https://github.com/{owner}/{repo}/blob/main/…"}]}))]),
         Calls([("github_create_issue", issue, J({"number": n, "html_url": f"https://github.com/{owner}/{repo}/issues/{n}"}))]),
         Say(f"Opened {owner}/{repo}#{n}."),
         U(rng.choice(["Post the link in #eng-alerts too.", "ping #eng-alerts with it please"])),
         Calls([("slack_post_message", {"channel_id": "C04QX7P2K9L", "text": f"New bug in {repo}: crash on empty config file - https://github.com/{owner}/{repo}/issues/{n}"},
                 J({"ok": True, "ts": f"17{rng.randint(10000000, 99999999)}.{rng.randint(100000, 999999)}"}))]),
         Say("Posted.")]
    return "github", gh_system(today), t


def ep_gh_pr(rng, today):
    owner, repo, _ = rng.choice(REPOS)
    branch = rng.choice(["fix/empty-config", "feat/zstd-input", "chore/bump-deps", "perf/cache-warmup", "docs/quickstart"])
    issue = rng.randint(100, 900)
    title = {"fix/empty-config": "Handle empty config files gracefully", "feat/zstd-input": "Support zstd-compressed input",
             "chore/bump-deps": "Bump dependencies", "perf/cache-warmup": "Warm the cache in parallel at startup", "docs/quickstart": "Rewrite the quickstart"}[branch]
    args = {"owner": owner, "repo": repo, "title": title, "head": branch, "base": rng.choice(["main", "main", "develop"]),
            "body": f"Fixes #{issue}.\n\n## Changes\n- …\n\n## Testing\n- …"}
    if rng.random() < 0.6:
        args["draft"] = rng.random() < 0.5
    ask = rng.choice([f"I've pushed `{branch}` to {owner}/{repo}. Open a {'draft ' if args.get('draft') else ''}PR against {args['base']} titled \"{title}\" that fixes #{issue}.",
                      f"open a PR for {branch} -> {args['base']} in {owner}/{repo}, closes #{issue}"])
    n = issue + rng.randint(1, 50)
    t = [U(ask),
         Calls([("github_create_pull_request", args, J({"number": n, "html_url": f"https://github.com/{owner}/{repo}/pull/{n}", "state": "open"}))]),
         Say(f"Opened PR #{n}."),
         U("Let #release know."),
         Calls([("slack_post_message", {"channel_id": "C05ABCD1234", "text": f"PR ready for review: {title} https://github.com/{owner}/{repo}/pull/{n}", "unfurl_links": False},
                 J({"ok": True}))]),
         Say("Done.")]
    return "github", gh_system(today), t


def ep_gh_triage(rng, today):
    owner, repo, _ = rng.choice(REPOS)
    label = rng.choice(["bug", "p1", "needs-triage", "regression"])
    monday = today - dt.timedelta(days=today.weekday())
    args = {"owner": owner, "repo": repo, "state": "open", "labels": [label], "since": ts(monday, 0, 0, "UTC"), "sort": "updated", "per_page": rng.choice([20, 50, 100])}
    nums = sorted(rng.sample(range(50, 3000), 3))
    t = [U(rng.choice([f"What open `{label}` issues in {owner}/{repo} were updated since Monday?", f"list open {label} issues on {owner}/{repo} touched this week"])),
         Calls([("github_list_issues", args, J([{"number": k, "title": "…", "comments": rng.randint(0, 12), "user": rng.choice(GH_USERS)} for k in nums]))]),
         Say("Three: " + ", ".join(f"#{k}" for k in nums) + "."),
         U(f"Comment on #{nums[0]} asking the reporter for a minimal repro and their version."),
         Calls([("github_add_issue_comment", {"owner": owner, "repo": repo, "issue_number": nums[0],
                                              "body": "Thanks for the report! Could you share a minimal reproduction and the exact version you're running (`--version` output)?"},
                 J({"id": rng.randint(10 ** 9, 10 ** 10), "html_url": f"https://github.com/{owner}/{repo}/issues/{nums[0]}#issuecomment-1"}))]),
         Say("Commented.")]
    return "github", gh_system(today), t


def ep_jira(rng, today):
    key = rng.choice(["PAY", "WEB", "INFRA", "MOB2"])
    fri = next_wd(today, 4)
    summ = rng.choice(["Checkout button stays disabled after coupon removal", "Nightly export job times out for large tenants",
                       "Android app crashes on rotation in the order screen", "Rotate the TLS certificates for the internal load balancer"])
    args = {"project_key": key, "issue_type": "Task" if "Rotate" in summ else "Bug", "summary": summ,
            "description": "Reported by support. Steps and logs in the linked Zendesk ticket.", "priority": rng.choice(["High", "Highest", "Medium"]),
            "due_date": fri.isoformat()}
    if rng.random() < 0.6:
        args["story_points"] = rng.choice([1, 2, 3, 5, 8, None])
    if rng.random() < 0.5:
        args["labels"] = rng.sample(["customer-reported", "regression", "security", "q3"], 2)
    ask = rng.choice([f"File a Jira {args['issue_type'].lower()} in {key}: \"{summ}\". Priority {args['priority']}, due this Friday" + (f", {args['story_points']} points." if args.get("story_points") else "."),
                      f"在 Jira 的 {key} 项目里建一个单子：{summ}，优先级 {args['priority']}，本周五截止。"])
    t = [U(ask), Calls([("jira_create_ticket", args, J({"key": f"{key}-{rng.randint(100, 9999)}", "self": "https://northwind.atlassian.net/rest/api/3/issue/…"}))]), Say("Created.")]
    return "github", gh_system(today), t


def ep_gh_readme(rng, today):
    owner, repo, _ = rng.choice(REPOS)
    topic = rng.choice(["how to configure the cache size", "the minimum supported Python/Go/Rust version", "how releases are cut"])
    path = rng.choice(["README.md", "docs/CONFIGURATION.md", "CONTRIBUTING.md"])
    args = {"owner": owner, "repo": repo, "path": path}
    if rng.random() < 0.4:
        args["branch"] = rng.choice(["main", "v2", "release-1.8"])
    t = [U(f"What does {owner}/{repo}'s {path} say about {topic}?"),
         Calls([("github_get_file_contents", args, f"# {repo}\n\n(file content)")]),
         Say("(answer)")]
    return "github", gh_system(today), t


# ---------------------------------------------------------------------------------------------
# Devops
# ---------------------------------------------------------------------------------------------


def ep_incident(rng, today):
    svc = rng.choice(["checkout-api", "search-indexer", "auth-gateway", "media-resizer"])
    cluster = rng.choice(["prod-eu", "prod-us"])
    ns = rng.choice(["shop", "core", "platform"])
    now_h, now_m = rng.randint(8, 20), rng.choice([5, 17, 32, 48])
    since = ts(today, now_h - 1 if now_m < 30 else now_h, (now_m + 30) % 60, "UTC")
    window = [ts(today, now_h - 1, now_m, "UTC"), ts(today, now_h, now_m, "UTC")]
    replicas = rng.choice([8, 12, 16, 24])
    log_args = {"service": svc, "cluster": cluster, "since": since, "level": "error", "limit": rng.choice([100, 200, 500])}
    if rng.random() < 0.5:
        log_args["contains"] = rng.choice(["timeout", None, "503"])
    t = [U(rng.choice([f"{svc} latency on {cluster} is spiking. Check its error logs for the last 30 minutes and the p99, and if it's just load, scale it to {replicas} replicas.",
                       f"we're getting paged for {svc} in {cluster}. look at errors + p99 over the last hour, scale to {replicas} if it's traffic"])),
         Calls([("get_service_logs", log_args, "2025-… ERROR upstream request timeout after 5000ms (pool exhausted: 64/64)\n… ×212"),
                ("query_metrics", {"metric": "http_request_duration_p99_ms", "selector": {"service": svc, "cluster": cluster}, "window": window, "step_seconds": 60, "group_by": ["route"]},
                 J({"series": [{"route": "/v1/cart", "values": [[window[0], 180], [window[1], 2400]]}]}))],
               "Checking logs and latency in parallel."),
         Calls([("query_metrics", {"metric": "http_requests_total", "selector": {"service": svc, "cluster": cluster, "status_class": "2xx"}, "window": window},
                 J({"series": [{"values": [[window[0], 3100], [window[1], 7900]]}]}))]),
         Calls([("k8s_scale_deployment", {"cluster": cluster, "namespace": ns, "deployment": svc, "replicas": replicas,
                                          "reason": "Traffic 2.5x baseline, connection pool exhaustion"},
                 J({"previous_replicas": 6, "replicas": replicas, "status": "scaling"}))], "Traffic more than doubled; it's load. Scaling up."),
         Say(f"Scaled {svc} to {replicas} replicas."),
         U("Post a short update in #incidents (C07INC0001)."),
         Calls([("slack_post_message", {"channel_id": "C07INC0001", "text": f":rotating_light: {svc} ({cluster}) p99 up to 2.4s due to 2.5x traffic; scaled to {replicas} replicas. Watching."},
                 J({"ok": True}))]),
         Say("Posted.")]
    if rng.random() < 0.3:
        t[3] = Calls([("k8s_scale_deployment", {"cluster": cluster, "namespace": ns, "deployment": svc, "replicas": replicas, "dry_run": True},
                       J({"dry_run": True, "would_scale_from": 6}))], "Doing a dry run first.")
    sysmsg = (f"You are an SRE assistant. Clusters: prod-eu, prod-us, staging. Times are UTC. Now: {ts(today, now_h, now_m, 'UTC')}. "
              "Scale only deployments the user names.")
    return "devops", sysmsg, t


# ---------------------------------------------------------------------------------------------
# Travel / weather / booking
# ---------------------------------------------------------------------------------------------

CITIES = [("Tokyo", "NRT", "Asia/Tokyo", "Shinjuku"), ("Lisbon", "LIS", "Europe/Lisbon", "Alfama"), ("New York", "JFK", "America/New_York", "Midtown"),
          ("Berlin", "BER", "Europe/Berlin", "Mitte"), ("Singapore", "SIN", "Asia/Singapore", "Marina Bay"), ("Paris", "CDG", "Europe/Paris", "Le Marais"),
          ("San Francisco", "SFO", "America/Los_Angeles", "Union Square"), ("Shanghai", "PVG", "Asia/Shanghai", "The Bund")]
TRAVELLERS = [("Elena", "Moreau", "elena.moreau@gmail.com", "+33612345678"), ("Kenji", "Sato", "kenji.sato@outlook.jp", "+819012345678"),
              ("Maya", "Goldberg", "maya.g@fastmail.com", "+14155550123"), ("王", "磊", "wanglei88@163.com", "+8613812345678")]


def travel_system(today):
    return (f"You are a travel concierge. Today is {en_date(today)}. Use the tools to search and book; quote prices in the currency the tools return. "
            "Book only when the user has chosen.")


def ep_trip(rng, today):
    (c1, a1, tz1, _), (c2, a2, tz2, area) = rng.sample(CITIES, 2)
    dep = today + dt.timedelta(days=rng.randint(14, 60))
    ret = dep + dt.timedelta(days=rng.randint(4, 12))
    adults, kids = rng.choice([(1, 0), (2, 0), (2, 1), (2, 2)])
    kid_ages = [rng.randint(3, 12) for _ in range(kids)]
    pax = {"adults": adults}
    if kids:
        pax["children"] = kids
    fl = {"origin": a1, "destination": a2, "departure_date": dep.isoformat(), "return_date": ret.isoformat(), "passengers": pax,
          "cabin": rng.choice(["economy", "economy", "premium_economy", "business"]), "max_stops": rng.choice([0, 1])}
    if rng.random() < 0.4:
        fl["max_price"] = rng.choice([900, 1500, 2500, None])
        fl["currency"] = "USD"
    who = {(1, 0): "just me", (2, 0): "two adults", (2, 1): f"two adults and a {kid_ages[0]}-year-old" if kids else "", (2, 2): "two adults and two kids"}[(adults, kids)]
    ask = rng.choice([f"I'm flying {c1} to {c2} on {dep.strftime('%B')} {dep.day}, back on {ret.strftime('%B')} {ret.day}, {who}. {fl['cabin'].replace('_', ' ')}, "
                      + ("nonstop only." if fl["max_stops"] == 0 else "at most one stop.") + " What are the options?",
                      f"Find flights {a1}-{a2} {dep.isoformat()} returning {ret.isoformat()} for {who}, {fl['cabin'].replace('_', ' ')}" + (", nonstop" if fl["max_stops"] == 0 else ", max 1 stop")])
    price = rng.randint(180, 420)
    hotel = {"city": c2, "near": area, "check_in": dep.isoformat(), "check_out": ret.isoformat(), "guests": adults + kids, "max_price_per_night": price,
             "currency": "USD", "sort_by": rng.choice(["price", "rating"])}
    if rng.random() < 0.6:
        hotel["amenities"] = rng.sample(["wifi", "breakfast", "pool", "gym", "airport_shuttle"], 2)
    if rng.random() < 0.4:
        hotel["min_rating"] = rng.choice([4, 4.5])
    hid = "htl_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    first, last, email, phone = rng.choice(TRAVELLERS)
    room = {"adults": adults}
    if kids:
        room["children_ages"] = kid_ages
    book = {"hotel_id": hid, "room_type": "family" if kids else rng.choice(["double", "standard"]), "check_in": dep.isoformat(), "check_out": ret.isoformat(),
            "rooms": [room], "lead_guest": {"first_name": first, "last_name": last, "email": email},
            "payment": rng.choice([{"method": "pay_at_hotel"}, {"method": "card", "card_token": "tok_1Pq9XyZa2BcD3eFg"}])}
    if rng.random() < 0.5:
        book["lead_guest"]["phone"] = phone
    if rng.random() < 0.4:
        book["special_requests"] = rng.choice(["Late check-in around 11pm.", "Quiet room on a high floor, please.", "Baby cot if possible."])
    pay_txt = "I'll pay at the hotel." if book["payment"]["method"] == "pay_at_hotel" else "Use my saved card."
    t = [U(ask),
         Calls([("search_flights", fl, J({"offers": [{"id": "off_1", "price": {"total": 1284.4, "currency": "USD"}, "stops": fl["max_stops"]},
                                                     {"id": "off_2", "price": {"total": 1410.0, "currency": "USD"}, "stops": 0}]}))]),
         Say("Two options: … Which one would you like?"),
         U(rng.choice([f"Let me think about the flights. Meanwhile find a hotel near {area} for those nights, under ${price} a night.",
                       f"ok. hotels near {area}, max {price} USD/night?"])),
         Calls([("search_hotels", hotel, J({"hotels": [{"id": hid, "name": "Hotel Example " + area, "rating": 4.5, "price_per_night": price - 23, "currency": "USD"}]}))]),
         Say(f"Hotel Example {area} ({hid}) is ${price - 23}/night, rated 4.5."),
         U(f"Book it. Lead guest {first} {last}, {email}" + (f", {phone}" if "phone" in book["lead_guest"] else "") + ". " + pay_txt
           + (" " + book["special_requests"] if "special_requests" in book else "")),
         Calls([("book_hotel", book, J({"confirmation": "HX" + str(rng.randint(100000, 999999)), "status": "confirmed"}))]),
         Say("Booked - confirmation number in the result.")]
    return "travel", travel_system(today), t


def ep_weather(rng, today):
    (c1, _, _, _), (c2, _, _, _) = rng.sample(CITIES, 2)
    kind = rng.randrange(4)
    if kind == 0:
        args = {"location": c1, "days": 3, "include": ["precipitation", "wind"]}
        ask = rng.choice([f"What's the weather going to be like in {c1} this weekend? Thinking about a hike.", f"weekend forecast for {c1}?"])
        follow, fargs = f"And {c2}? In Fahrenheit please.", {"location": c2, "days": 3, "units": "imperial"}
    elif kind == 1:
        lat, lon = rng.choice([(46.5197, 6.6323), (35.6586, 139.7454), (-33.8568, 151.2153), (64.1466, -21.9426)])
        args = {"location": [lat, lon], "days": 2, "hourly": True, "include": ["precipitation"]}
        ask = f"I'm at {lat}, {lon}. Will it rain in the next two days? Hour by hour if you can."
        follow, fargs = "What about UV index tomorrow?", {"location": [lat, lon], "days": 2, "include": ["uv_index"]}
    elif kind == 2:
        args = {"location": c1, "days": 7}
        ask = f"{c1}未来一周天气怎么样？"
        follow, fargs = f"那{c2}呢？", {"location": c2, "days": 7}
    else:
        args = {"location": c1, "days": rng.randint(5, 14), "include": ["humidity", "air_quality"]}
        ask = f"Planning a trip to {c1} in the next couple of weeks - how humid is it and how's the air quality?"
        follow, fargs = f"Compare with {c2}.", {"location": c2, "days": args["days"], "include": ["humidity", "air_quality"]}
    t = [U(ask), Calls([("get_forecast", args, J({"daily": [{"date": (today + dt.timedelta(days=i)).isoformat(), "t_max": 21 + i, "t_min": 12, "precip_mm": 0.4 * i} for i in range(2)]}))]),
         Say("(forecast summary)"), U(follow), Calls([("get_forecast", fargs, J({"daily": []}))]), Say("(comparison)")]
    return "travel", travel_system(today), t


WEATHER_ASKS = ["What's the weather like in {c} today? Let's check using the tool.", "How's the weather in {c} right now?", "Is it cold in {c} at the moment?",
                "{c}今天天气怎么样？", "Should I bring an umbrella in {c} today?", "weather {c}", "What's the temperature in {c} in fahrenheit?",
                "Can you check the current weather in {c} for me?"]
WEATHER_CITIES = ["Beijing", "Hangzhou", "Reykjavik", "Nairobi", "Buenos Aires", "Oslo", "Seoul", "Toronto", "Cape Town", "Mumbai", "Doha", "Kyoto",
                  "Thessaloniki", "Lima", "Chicago", "深圳", "Edinburgh", "Auckland"]


def ep_simple_weather(rng, today):
    c, c2 = rng.sample(WEATHER_CITIES, 2)
    q = rng.choice(WEATHER_ASKS).format(c=c)
    args = {"city": c}
    if "fahrenheit" in q:
        args["unit"] = "fahrenheit"
    t = [U(q), Calls([("get_weather", args, J({"city": c, "weather": rng.choice(["Sunny", "Cloudy", "Light rain", "Snow"]), "temperature": rng.randint(-5, 33)}))]),
         Say("(weather)")]
    if rng.random() < 0.5:
        follow = rng.choice([f"And in {c2}?", f"what about {c2}", f"Compare it with {c2} and Oslo."])
        more = [("get_weather", {"city": c2}, J({"city": c2, "weather": "Cloudy", "temperature": 14}))]
        if "Oslo" in follow and c != "Oslo" and c2 != "Oslo":
            more.append(("get_weather", {"city": "Oslo"}, J({"city": "Oslo", "weather": "Rain", "temperature": 8})))
        t += [U(follow), Calls(more), Say("(weather)")]
    sysmsg = rng.choice([None, None, "You are Kimi, an AI assistant created by Moonshot AI.", kimi_system(today)])
    return "weather", sysmsg, t


def ep_two_cities(rng, today):
    c1, c2, c3 = rng.sample(WEATHER_CITIES, 3)
    calls = [("get_weather", {"city": c}, J({"city": c, "weather": "Sunny", "temperature": rng.randint(0, 30)})) for c in (c1, c2, c3)]
    t = [U(f"Compare the weather right now in {c1}, {c2} and {c3}."), Calls(calls), Say("(comparison)"),
         U("Which one is warmest? Also convert its temperature to fahrenheit by asking the tool again."),
         Calls([("get_weather", {"city": c1, "unit": "fahrenheit"}, J({"city": c1, "weather": "Sunny", "temperature": 77}))]), Say("(answer)")]
    return "weather", None, t


def ep_dinner(rng, today):
    city, _, tz, area = rng.choice(CITIES)
    fri = next_wd(today, 4)
    size = rng.randint(2, 8)
    hh, mm = rng.choice([(19, 30), (20, 0), (18, 45), (12, 30)])
    first, last, email, phone = rng.choice(TRAVELLERS)
    rid = f"rst_{rng.randint(10000, 99999)}"
    cuisine = rng.choice([["japanese"], ["portuguese", "seafood"], ["italian"], ["vegetarian"], ["sichuan"]])
    search = {"near": f"{area}, {city}", "cuisine": cuisine, "open_at": ts(fri, hh, mm, tz), "party_size": size}
    if rng.random() < 0.5:
        search["price_levels"] = [2, 3]
    book = {"restaurant_id": rid, "date": fri.isoformat(), "time": f"{hh:02d}:{mm:02d}:00{offset(tz, fri)}", "party_size": size, "name": f"{first} {last}", "phone": phone}
    if rng.random() < 0.5:
        book["seating"] = rng.choice(["outdoor", "indoor"])
    if rng.random() < 0.3:
        book["notes"] = rng.choice(["One guest is gluten-free.", "It's a birthday dinner.", "We have a stroller."])
    if rng.random() < 0.3:
        book["email"] = email
    t = [U(f"Find a {'/'.join(cuisine)} place near {area} for {size} people this Friday at {hh}:{mm:02d}."),
         Calls([("search_restaurants", search, J({"results": [{"id": rid, "name": "…", "rating": 4.6, "price_level": 2}]}))]),
         Say(f"Top pick: … ({rid})."),
         U(f"Book it under {first} {last}, {phone}." + (" Outside if possible." if book.get("seating") == "outdoor" else "") + (" " + book["notes"] if "notes" in book else "")),
         Calls([("book_restaurant", book, J({"status": "confirmed", "reservation_id": str(rng.randint(10 ** 6, 10 ** 7))}))]),
         Say("Reserved.")]
    return "travel", travel_system(today), t


def ep_money_route(rng, today):
    city, airport, tz, area = rng.choice(CITIES)
    amt = rng.choice([1250, 80, 19.99, 4300, 250.5])
    frm, to = rng.choice([("EUR", "JPY"), ("USD", "EUR"), ("GBP", "USD"), ("CNY", "EUR"), ("EUR", "CHF")])
    day = today + dt.timedelta(days=rng.randint(1, 10))
    conv = {"amount": amt, "from": frm, "to": to}
    if rng.random() < 0.3:
        conv["date"] = None
    route = {"origin": f"Hotel in {area}, {city}", "destination": f"{airport} airport", "mode": rng.choice(["transit", "driving"]), "depart_at": ts(day, 6, 0, tz)}
    if rng.random() < 0.3:
        route["avoid"] = ["tolls"]
    t = [U(f"How much is {amt} {frm} in {to} today? And how do I get from my hotel in {area} to {airport} on {day.isoformat()} if I leave at 6am, by {route['mode']}?"),
         Calls([("convert_currency", conv, J({"result": round(amt * 1.7, 2), "rate": 1.7})), ("get_directions", route, J({"duration_min": 62, "steps": ["…"]}))]),
         Say("(answer)")]
    return "travel", travel_system(today), t


# ---------------------------------------------------------------------------------------------
# Shop support
# ---------------------------------------------------------------------------------------------

SKUS = ["SCR-1042", "CAB-2210", "CHG-0065", "CSE-7781", "HDP-3300", "KBD-0420"]


def shop_system(today):
    return (f"You are the customer-support agent for Gadgetry, an online electronics shop. Today is {today.isoformat()}. "
            "Refunds up to $200 need no approval. Always look an order up before changing it.")


def ep_refund(rng, today):
    oid = uid(rng)
    sku = rng.choice(SKUS)
    amt = rng.choice([19.99, 34.5, 129.0, 8.75])
    reason = rng.choice(["damaged", "not_as_described", "late_delivery", "duplicate_charge"])
    what = {"damaged": "arrived cracked", "not_as_described": "is not the colour shown on the site", "late_delivery": "came two weeks late",
            "duplicate_charge": "was charged twice"}[reason]
    refund = {"order_id": oid, "amount": amt, "currency": "USD", "reason": reason, "line_items": [{"sku": sku, "quantity": 1}]}
    if rng.random() < 0.5:
        refund["notify_customer"] = True
        refund["note"] = "Customer contacted support via chat."
    t = [U(rng.choice([f"Order {oid}: the {sku} {what}. Refund ${amt} and let the customer know.",
                       f"customer says item {sku} from order {oid} {what}, please refund {amt} USD"])),
         Calls([("lookup_order", {"lookup": {"order_id": oid}}, J({"order_id": oid, "status": "delivered", "items": [{"sku": sku, "quantity": 1, "price": amt}]}))]),
         Calls([("issue_refund", refund, J({"refund_id": "re_" + uid(rng)[:10], "status": "succeeded"}))]),
         Say("Refunded.")]
    return "shop", shop_system(today), t


def ep_order(rng, today):
    first, last, email, phone = rng.choice(TRAVELLERS[:3])
    items = [{"sku": s, "quantity": rng.randint(1, 3)} for s in rng.sample(SKUS, rng.randint(1, 3))]
    if rng.random() < 0.3:
        items[0]["gift_wrap"] = True
    addr = rng.choice([{"name": f"{first} {last}", "line1": "12 Rue des Rosiers", "city": "Paris", "postal_code": "75004", "country": "FR"},
                       {"name": f"{first} {last}", "line1": "500 Howard St", "line2": "Suite 300", "city": "San Francisco", "postal_code": "94105", "country": "US"},
                       {"name": f"{first} {last}", "line1": "1-2-3 Shibuya", "line2": None, "city": "Tokyo", "postal_code": "150-0002", "country": "JP"}])
    addr = dict(addr)
    if rng.random() < 0.4:
        addr["delivery_instructions"] = "Leave with the concierge."
    pay = rng.choice([{"method": "invoice", "po_number": f"PO-{rng.randint(100000, 999999)}", "net_days": 30},
                      {"method": "paypal", "paypal_email": email}, {"method": "card", "card_token": "tok_9ZzYyXx8WwVv7"}])
    order = {"customer_email": email, "items": items, "shipping_address": addr, "shipping_method": rng.choice(["standard", "express", "overnight"]), "payment": pay}
    if rng.random() < 0.3:
        order["coupon_code"] = rng.choice(["WELCOME10", None, "BF2025"])
    desc = ", ".join(f"{i['quantity']}x {i['sku']}" for i in items)
    paytxt = {"invoice": f"on invoice, {pay.get('po_number')}, net 30", "paypal": "via PayPal", "card": "with the card on file"}[pay["method"]]
    t = [U(f"Place an order for {email}: {desc}, {order['shipping_method']} shipping to {addr['name']}, {addr['line1']}, {addr['postal_code']} {addr['city']}, {addr['country']}. Pay {paytxt}."
           + (" Leave it with the concierge." if "delivery_instructions" in addr else "") + (f" Use code {order['coupon_code']}." if order.get("coupon_code") else "")),
         Calls([("create_order", order, J({"order_id": uid(rng), "status": "placed", "total": {"amount": 211.3, "currency": "USD"}}))]),
         Say("Order placed."),
         U("Email them the confirmation."),
         Calls([("send_email", {"to": [email], "subject": "Your Gadgetry order", "body": f"Hi {first},\n\nYour order ({desc}) has been placed.\n\nGadgetry"}, J({"status": "sent"}))]),
         Say("Sent.")]
    return "shop", shop_system(today), t


def ep_track(rng, today):
    tn = rng.choice(["1Z999AA10123456784", "9400111899223197428490", "JD014600003828482045", "773912345678"])
    email = rng.choice(TRAVELLERS)[2]
    t = [U(rng.choice([f"Where is my package {tn}?", f"track {tn} please", f"My orders haven't arrived - my email is {email}. Can you check the latest one and track it?"]))]
    if "email" in t[0].text:
        t.append(Calls([("lookup_order", {"lookup": {"customer_email": email, "placed_after": (today - dt.timedelta(days=30)).isoformat()}},
                         J([{"order_id": uid(rng), "tracking_number": tn, "carrier": "ups"}]))]))
    args = {"tracking_number": tn}
    if rng.random() < 0.5:
        args["carrier"] = {"1Z": "ups", "94": "usps", "JD": "dhl", "77": "fedex"}[tn[:2]]
    t += [Calls([("track_package", args, J({"status": "in_transit", "eta": (today + dt.timedelta(days=2)).isoformat()}))]), Say("It's in transit.")]
    return "shop", shop_system(today), t


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------

EPISODES = [  # (generator, weight)
    (ep_fix_test, 3), (ep_rename, 2), (ep_explore, 3), (ep_feature, 2), (ep_zh_build, 2), (ep_ci_file, 1), (ep_docs_lookup, 1),
    (lambda r, d: ep_research(r, d, False), 3), (lambda r, d: ep_research(r, d, True), 2), (ep_news, 1),
    (ep_sql_email, 2), (ep_meeting, 3), (ep_recurring, 1), (ep_reminder, 2), (ep_crm, 2), (ep_calendars, 1),
    (ep_gh_issue, 2), (ep_gh_pr, 2), (ep_gh_triage, 2), (ep_jira, 2), (ep_gh_readme, 1),
    (ep_incident, 2),
    (ep_trip, 3), (ep_weather, 2), (ep_simple_weather, 3), (ep_two_cities, 1), (ep_dinner, 2), (ep_money_route, 1),
    (ep_refund, 2), (ep_order, 2), (ep_track, 1),
]


def tool_count_target(rng):
    r = rng.random()
    if r < 0.12:
        return 1
    if r < 0.22:
        return rng.randint(2, 3)
    if r < 0.55:
        return rng.randint(4, 8)
    if r < 0.82:
        return rng.randint(9, 13)
    return rng.randint(14, 20)


CODING_EXTRAS = ["github_create_issue", "github_create_pull_request", "github_search_code", "github_list_issues", "jira_create_ticket",
                 "slack_post_message", "sql_query", "news_search", "get_current_time"]


def choose_tools(rng, profile, needed):
    """The tools the conversation uses, then the profile's own, then related ones, up to a drawn count."""
    target = max(tool_count_target(rng), len(needed))
    core = PROFILES[profile]
    chosen = [t for t in core if t in needed] + [t for t in needed if t not in core]
    for t in core:
        if len(chosen) >= target:
            break
        if t not in chosen:
            chosen.append(t)
    for pool in (CODING_EXTRAS if profile == "coding" else GENERAL, list(TOOLS)):
        others = [t for t in pool if t not in chosen]
        rng.shuffle(others)
        while len(chosen) < target and others:
            chosen.append(others.pop())
    order = {t: i for i, t in enumerate(core)}
    first = sorted([t for t in chosen if t in order], key=order.get)
    return first + [t for t in chosen if t not in order]


def render(rng, system, turns, cut):
    msgs = []
    if system:
        msgs.append({"role": "system", "content": system})
    counter = 0
    used = []
    for turn in turns[:cut + 1]:
        if isinstance(turn, U):
            msgs.append({"role": "user", "content": [{"type": "text", "text": turn.text}] if turn.parts else turn.text})
        elif isinstance(turn, Say):
            msgs.append({"role": "assistant", "content": turn.text})
        elif isinstance(turn, Sys):
            msgs.append({"role": "system", "content": turn.text})
        else:
            calls, results = [], []
            for name, args, result in turn.calls:
                cid = f"functions.{name}:{counter}"
                counter += 1
                used.append(name)
                calls.append({"id": cid, "type": "function", "function": {"name": name, "arguments": J(args)}})
                results.append({"role": "tool", "tool_call_id": cid, "name": name, "content": result})
            msgs.append({"role": "assistant", "content": turn.text, "tool_calls": calls})
            msgs.extend(results)
    return msgs, used


def prompt_estimate(messages, tools):
    """An upper estimate of the prompt's tokens for the demo's tokenizer."""
    size = len(json.dumps(messages, ensure_ascii=False).encode()) + len(json.dumps(tools, ensure_ascii=False).encode())
    return size / BYTES_PER_TOKEN + TEMPLATE_TOKENS


def generate():
    rng = random.Random(SEED)
    gens = [g for g, w in EPISODES for _ in range(w)]
    samples, seen = [], set()
    base = dt.date(2025, 8, 4)
    while len(samples) < TARGET:
        gen = rng.choice(gens)
        today = base + dt.timedelta(days=rng.randint(0, 110))
        profile, system, turns = gen(rng, today)
        if profile in ("web", "kimi_search", "travel", "weather", "shop") and rng.random() < 0.2:
            system = None  # Kimi's template then supplies its default system prompt
        # Cut where the model speaks next: after a user message or after tool results (with the
        # system note that may follow them, as in Moonshot's own samples).
        cuts = [i + isinstance(turns[i + 1], Sys) for i, t in enumerate(turns)
                if isinstance(t, U) or (isinstance(t, Calls) and i + 1 < len(turns))]
        for cut in sorted(rng.sample(cuts, min(len(cuts), rng.choice([1, 1, 2, 2, 3])))):
            nxt = turns[cut + 1] if cut + 1 < len(turns) else None
            msgs, used = render(rng, system, turns, cut)
            next_tools = [c[0] for c in nxt.calls] if isinstance(nxt, Calls) else []
            if isinstance(nxt, Calls):
                kind = rng.choices(["auto", "absent", "required", "named"], [30, 12, 26, 32])[0]
            else:
                kind = rng.choices(["auto", "absent"], [70, 30])[0]
            needed = list(dict.fromkeys(used + next_tools))
            names = choose_tools(rng, profile, needed)
            while prompt_estimate(msgs, [TOOLS[n] for n in names]) > CONTEXT - MAX_TOKENS and len(names) > len(needed):
                names.remove(next(n for n in reversed(names) if n not in needed))
            if prompt_estimate(msgs, [TOOLS[n] for n in names]) > CONTEXT - MAX_TOKENS:
                continue
            req = {"model": MODEL, "messages": msgs, "tools": [TOOLS[n] for n in names]}
            if kind == "auto":
                req["tool_choice"] = "auto"
            elif kind == "required":
                req["tool_choice"] = "required"
            elif kind == "named":
                req["tool_choice"] = {"type": "function", "function": {"name": next_tools[0]}}
            req["temperature"] = TEMPERATURE
            req["max_tokens"] = MAX_TOKENS
            req["stream"] = rng.random() < 0.5
            key = J({k: v for k, v in req.items() if k != "stream"})
            if key in seen:
                continue
            seen.add(key)
            samples.append(req)
            if len(samples) >= TARGET:
                break
    return samples


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

ALLOWED = {"type", "properties", "required", "additionalProperties", "enum", "const", "anyOf", "oneOf", "allOf", "items", "prefixItems",
           "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
           "$ref", "$defs", "title", "description", "default"}
FORMATS = {"date-time", "date", "time", "uuid", "email"}


def check_keywords(schema, where):
    assert isinstance(schema, dict), f"{where}: schema must be an object"
    bad = set(schema) - ALLOWED
    assert not bad, f"{where}: keywords outside the allowed set: {sorted(bad)}"
    if "format" in schema:
        assert schema["format"] in FORMATS, f"{where}: format {schema['format']}"
    if "pattern" in schema:
        re.compile(schema["pattern"])
    for k in ("properties", "$defs"):
        for name, sub in schema.get(k, {}).items():
            check_keywords(sub, f"{where}.{k}.{name}")
    for k in ("items", "additionalProperties"):
        if isinstance(schema.get(k), dict):
            check_keywords(schema[k], f"{where}.{k}")
    for k in ("prefixItems", "anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(k, [])):
            check_keywords(sub, f"{where}.{k}[{i}]")
    for i, sub in enumerate(schema.get("allOf", [])):
        assert sub.get("type") == "object" or "$ref" in sub, f"{where}.allOf[{i}] must be an object schema"


def strict_format_checker():
    fc = FormatChecker(formats=())
    date_re = re.compile(r"^\d{4}-\d{2}-\d{2}$")
    time_re = r"\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})"

    @fc.checks("date", raises=ValueError)
    def _date(v):
        return not isinstance(v, str) or (bool(date_re.match(v)) and bool(dt.date.fromisoformat(v)))

    @fc.checks("date-time", raises=ValueError)
    def _dt(v):
        if not isinstance(v, str):
            return True
        if not re.match(r"^\d{4}-\d{2}-\d{2}T" + time_re + "$", v):
            return False
        dt.datetime.fromisoformat(v.replace("Z", "+00:00"))
        return True

    @fc.checks("time")
    def _time(v):
        return not isinstance(v, str) or bool(re.match("^" + time_re + "$", v))

    @fc.checks("uuid", raises=ValueError)
    def _uuid(v):
        return not isinstance(v, str) or (bool(re.match(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", v)) and str(uuid.UUID(v)) == v)

    @fc.checks("email")
    def _email(v):
        return not isinstance(v, str) or bool(re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", v))
    return fc


def check(samples):
    for name, t in TOOLS.items():
        params = t["function"]["parameters"]
        assert params.get("type") == "object", f"{name}: parameters must be an object schema"
        Draft202012Validator.check_schema(params)
        check_keywords(params, name)
    fc = strict_format_checker()
    validators = {n: Draft202012Validator(t["function"]["parameters"], format_checker=fc) for n, t in TOOLS.items()}
    name_re = re.compile(r"^[A-Za-z0-9_]{1,64}$")
    for i, req in enumerate(samples, 1):
        names = [t["function"]["name"] for t in req["tools"]]
        assert len(names) == len(set(names)) and all(name_re.match(n) for n in names), f"line {i}: tool names"
        tc = req.get("tool_choice")
        if isinstance(tc, dict):
            assert tc["function"]["name"] in names, f"line {i}: named tool_choice not in tools"
        msgs = req["messages"]
        assert msgs[-1]["role"] in ("user", "tool") or (msgs[-1]["role"] == "system" and msgs[-2]["role"] == "tool"), f"line {i}: must end with user or tool"
        counter, pending = 0, []
        for m in msgs:
            if m["role"] == "assistant" and m.get("tool_calls"):
                assert not pending, f"line {i}: tool results missing"
                for c in m["tool_calls"]:
                    n = c["function"]["name"]
                    assert c["id"] == f"functions.{n}:{counter}", f"line {i}: id {c['id']}"
                    assert n in names, f"line {i}: history calls {n}, which is not in tools"
                    counter += 1
                    validators[n].validate(json.loads(c["function"]["arguments"]))
                    pending.append(c["id"])
            elif m["role"] == "tool":
                assert pending and m["tool_call_id"] == pending.pop(0), f"line {i}: tool result order"
            else:
                assert not pending, f"line {i}: tool results missing"
        assert not pending, f"line {i}: tool results missing"


def summarize(samples):
    c = collections.Counter()
    for req in samples:
        tc = req.get("tool_choice")
        c["tool_choice " + ("absent" if tc is None else tc if isinstance(tc, str) else "named")] += 1
        c["stream " + str(req["stream"]).lower()] += 1
        users = sum(m["role"] == "user" for m in req["messages"])
        rounds = sum(bool(m.get("tool_calls")) for m in req["messages"])
        c[f"user messages {min(users, 3)}{'+' if users >= 3 else ''}"] += 1
        c[f"tool-call rounds in history {min(rounds, 4)}{'+' if rounds >= 4 else ''}"] += 1
        c["ends with " + req["messages"][-1]["role"]] += 1
        c["has system prompt " + str(req["messages"][0]["role"] == "system").lower()] += 1
        n = len(req["tools"])
        c["tools " + ("1" if n == 1 else "2-3" if n <= 3 else "4-8" if n <= 8 else "9-13" if n <= 13 else "14-20")] += 1
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--check", action="store_true", help="exit 1 if --out differs from a fresh run")
    args = ap.parse_args()
    samples = generate()
    check(samples)
    text = "".join(json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n" for s in samples)
    if args.check:
        with open(args.out, encoding="utf-8") as f:
            same = f.read() == text
        print(("up to date: " if same else "differs: ") + os.path.relpath(args.out))
        sys.exit(0 if same else 1)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write(text)
    print(f"wrote {len(samples)} requests to {os.path.relpath(args.out)} (schemas checked with jsonschema {version('jsonschema')}, Draft 2020-12)")
    for k, v in sorted(summarize(samples).items()):
        print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
