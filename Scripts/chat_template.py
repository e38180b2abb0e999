"""Kimi K2's chat templates rendered as Hugging Face renders them (jinja2's sandbox with trim_blocks,
lstrip_blocks and the loop-control extension, and HF's tojson), for the scripts that need the
reference prompt text."""
import json

import jinja2.ext
import jinja2.sandbox


def hf_environment():
    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    return env


def render(template, request):
    """The prompt of a chat request: its messages (developer read as system, as the server does)
    and tools, with the generation prompt."""
    messages = [dict(m, role="system") if m.get("role") == "developer" else m for m in request["messages"]]
    return template.render(messages=messages, tools=request.get("tools"), add_generation_prompt=True)
