"""The demo checkpoint as a new user meets it: `kimi-serve serve` with no model, the official
openai client, the model card's own tool example, and a prompt the size an agent sends."""
import json

import openai
import pytest
import requests


# The model card's tool example (MoonshotAI/Kimi-K2 README, "Tool Calling"), verbatim: the tool,
# its schema, the map and the loop. The loop gets a seed per run (so that CI sees the same runs
# every time) and a bound on its turns (so that a model that never stops calling cannot hang
# the test); nothing else changes.
def get_weather(city: str) -> dict:
    return {"weather": "Sunny"}


tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Retrieve current weather information. Call this when the user asks about the weather.",
        "parameters": {
            "type": "object",
            "required": ["city"],
            "properties": {
                "city": {
                    "type": "string",
                    "description": "Name of the city"
                }
            }
        }
    }
}]

tool_map = {
    "get_weather": get_weather
}


def tool_call_with_client(client, model_name, seed):
    messages = [
        {"role": "system", "content": "You are Kimi, an AI assistant created by Moonshot AI."},
        {"role": "user", "content": "What's the weather like in Beijing today? Use the tool to check."}
    ]
    finish_reason = None
    turns = 0
    while (finish_reason is None or finish_reason == "tool_calls") and turns < 4:
        turns += 1
        completion = client.chat.completions.create(
            model=model_name,
            messages=messages,
            temperature=0.6,
            tools=tools,          # tool list defined above
            tool_choice="auto",
            seed=seed,
        )
        choice = completion.choices[0]
        finish_reason = choice.finish_reason
        if finish_reason == "tool_calls":
            messages.append(choice.message)
            for tool_call in choice.message.tool_calls:
                tool_call_name = tool_call.function.name
                tool_call_arguments = json.loads(tool_call.function.arguments)
                tool_function = tool_map[tool_call_name]
                tool_result = tool_function(**tool_call_arguments)

                messages.append({
                    "role": "tool",
                    "tool_call_id": tool_call.id,
                    "name": tool_call_name,
                    "content": json.dumps(tool_result)
                })
    return messages, choice


@pytest.fixture(scope="module")
def card_runs(demo_server):
    """(the calls' arguments, the final choice) of 20 seeded runs of the card's example, shared
    by the tests that judge them."""
    client = openai.OpenAI(api_key="none", base_url=demo_server.base_url, max_retries=0)
    runs = []
    for seed in range(20):
        messages, final = tool_call_with_client(client, "kimi-k2-demo", seed)
        calls = [call for m in messages if not isinstance(m, dict) for call in m.tool_calls]
        runs.append(([(call.function.name, json.loads(call.function.arguments)) for call in calls], final))
    return runs


def test_the_model_cards_tool_example_runs_as_written(card_runs):
    """One call with exactly the city asked, then an answer that states the tool's result: in
    at least 18 of 20 runs at the card's temperature (0.6)."""
    runs = card_runs
    good = [calls == [("get_weather", {"city": "Beijing"})] and final.finish_reason == "stop" and "Sunny" in final.message.content
            for calls, final in runs]
    assert sum(good) >= 18, [(calls, final.message.content) for calls, final in runs]


@pytest.mark.xfail(strict=True, reason="the committed demo names Beijing in 17 of the 20 answers (it writes 'Chijing' in 3)")
def test_the_model_cards_answer_names_the_city(card_runs):
    runs = card_runs
    assert sum("Beijing" in final.message.content for _, final in runs) >= 18, [final.message.content for _, final in runs]


AGENT_TOOLS = [(name, f"{description} Use it whenever the task calls for it; it returns JSON.", params) for name, description, params in [
    ("read_file", "Read a file from the workspace.", ["path", "offset", "limit"]),
    ("write_file", "Write a file in the workspace.", ["path", "content"]),
    ("edit_file", "Replace exact text in a file.", ["path", "old_string", "new_string"]),
    ("list_directory", "List a directory.", ["path"]),
    ("glob", "Find files matching a pattern.", ["pattern", "path"]),
    ("grep", "Search file contents.", ["pattern", "path", "glob"]),
    ("run_shell", "Run a shell command.", ["command", "timeout"]),
    ("web_search", "Search the web.", ["query"]),
    ("web_fetch", "Fetch a web page.", ["url", "prompt"]),
    ("todo_write", "Update the task list.", ["todos"]),
    ("ask_user", "Ask the user a question.", ["question"]),
    ("git_status", "Show the repository status.", ["path"]),
    ("git_diff", "Show changes.", ["path", "staged"]),
    ("run_tests", "Run the project's tests.", ["filter"]),
    ("open_browser", "Open a URL in a headless browser.", ["url"]),
    ("screenshot", "Capture the browser window.", ["selector"]),
    ("send_message", "Post a message to a channel.", ["channel", "text"]),
    ("calendar_lookup", "List calendar events.", ["start", "end"]),
    ("get_weather", "Get the current weather for a city.", ["city"]),
    ("translate_text", "Translate text.", ["text", "target_language"]),
]]


def agent_tools():
    return [{"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "required": params[:1],
                       "properties": {p: {"type": "string", "description": f"The {p.replace('_', ' ')} for {name}."} for p in params}}}}
        for name, description, params in AGENT_TOOLS]


def test_an_agent_sized_prompt_is_accepted_and_answered(demo_server):
    """A long system prompt plus 20 tool schemas, 30,000 tokens in the demo's vocabulary (agent
    clients send tens of thousands before the first question): prefilled and answered."""
    rules = ["You are an interactive agent that helps users with software engineering tasks.",
             "Use the available tools to read, search and edit files before answering.",
             "Keep answers short and concrete; never invent file contents or command output.",
             "When a tool fails, report the error and try a different approach.",
             "Follow the conventions of the code you are working in, and explain risky commands first."]
    body = {"model": "kimi-k2-demo", "tools": agent_tools(), "temperature": 0, "max_tokens": 48,
            "messages": [{"role": "system", "content": ""},
                         {"role": "user", "content": "What's the weather like in Oslo today?"}]}
    section = 0
    while True:
        count = requests.post(demo_server.url("/tokenize"), json=body, timeout=60).json()["count"]
        if count >= 30_000:
            break
        section += 1
        paragraph = " ".join(rules[(section + i) % len(rules)] for i in range(len(rules)))
        body["messages"][0]["content"] += f"\n\n## Section {section}\n{paragraph}" * max(1, (30_000 - count) // 400)
    r = requests.post(demo_server.url("/v1/chat/completions"), json=body, timeout=600)
    assert r.status_code == 200, r.text[:500]
    answer = r.json()
    assert answer["usage"]["prompt_tokens"] == count >= 30_000
    message = answer["choices"][0]["message"]
    assert message.get("content") or message.get("tool_calls"), answer
