#!/usr/bin/env python3
"""BareFlow's chat-template renderer (app/chat/chat_template*.cpp) against Python's jinja2,
set up as Hugging Face's transformers renders chat templates (trim_blocks, lstrip_blocks,
loop controls, raise_exception, tojson). Every case must come out byte for byte the same,
or fail in both (a template's raise_exception with the same message).
  - templates written here in the shapes real chat templates take (ChatML, Llama 2 and 3,
    Mistral, Gemma, DeepSeek, Phi ...: namespaces, selectattr, split, range, loop controls),
    over conversations with and without a system message, odd texts included;
  - random templates built from the subset's grammar (expressions, filters, tests, loops,
    namespaces), over the same conversations;
  - with BAREFLOW_CHAT_TEMPLATES=DIR, every DIR/*.jinja too (e.g. llama.cpp's
    models/templates): those may be refused (BareFlow then falls back to built-in
    markers, and the test lists them), never rendered differently.
    chat_template_test.py RENDER_TEMPLATES"""
import datetime
import json
import os
import random
import subprocess
import sys

try:
    import jinja2
    import jinja2.ext
    import jinja2.sandbox
except ImportError:
    print("SKIP: Python's jinja2 is missing (Debian: python3-jinja2)")
    sys.exit(77)


class Refused(Exception):
    pass


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


ENVIRONMENT = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                           extensions=[jinja2.ext.loopcontrols])
ENVIRONMENT.filters["tojson"] = tojson
ENVIRONMENT.globals["raise_exception"] = raise_exception

REFUSAL = "chat template: the template refuses this conversation: "


def reference(source, messages, add_generation_prompt, bos, eos, clock=None, thinking=None):
    """jinja2's text, or ('error', message) with raise_exception's message where it raised.
    `clock` (a datetime) is what strftime_now reads, as transformers' global does; without
    one strftime_now is undefined (BareFlow on a machine without a clock). `thinking` is
    enable_thinking (None: undefined, as transformers leaves it unless asked)."""
    try:
        template = ENVIRONMENT.from_string(source)
        extra = {"strftime_now": clock.strftime} if clock else {}
        if thinking is not None:
            extra["enable_thinking"] = thinking
        return ("ok", template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                      bos_token=bos, eos_token=eos, **extra))
    except jinja2.exceptions.TemplateSyntaxError as e:
        return ("syntax", str(e))
    except jinja2.exceptions.TemplateError as e:
        if type(e) is jinja2.exceptions.TemplateError:
            return ("error", REFUSAL + str(e))
        return ("error", "")
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, ZeroDivisionError, OverflowError,
            RecursionError) as e:
        return ("error", "")


def encode(case):
    source, messages, add_generation_prompt, bos, eos = case[:5]
    clock = case[5] if len(case) > 5 else None
    thinking = case[6] if len(case) > 6 else None
    parts = []

    def counted(text):
        data = text.encode("utf-8")
        parts.append(b"%d\n" % len(data) + data)

    data = source.encode("utf-8")
    parts.append(b"template %d\n" % len(data) + data)
    parts.append(b"tokens ")
    counted(bos)
    counted(eos)
    parts.append(b"%d clock " % int(add_generation_prompt))
    fields = (clock.year, clock.month, clock.day, clock.hour, clock.minute, clock.second) if clock else (0,) * 6
    parts.append(b" ".join(b"%d" % f for f in fields))
    parts.append(b" thinking %d" % (-1 if thinking is None else int(thinking)))
    parts.append(b" messages %d\n" % len(messages))
    for m in messages:
        counted(m["role"])
        counted(m["content"])
    return b"".join(parts)


def render_all(program, cases):
    """BareFlow's ('ok', text) or ('error', message) for every case, in one run."""
    result = subprocess.run([program], input=b"".join(encode(c) for c in cases), capture_output=True, timeout=600)
    if result.returncode != 0:
        sys.exit("render_templates failed (%d): %s" % (result.returncode, result.stderr.decode(errors="replace")))
    out, at, answers = result.stdout, 0, []
    for _ in cases:
        line_end = out.index(b"\n", at)
        kind, length = out[at:line_end].decode().split(" ")
        at = line_end + 1 + int(length)
        answers.append((kind, out[line_end + 1:at].decode("utf-8", errors="replace")))
    return answers


CONVERSATIONS = [
    [{"role": "user", "content": "Hi"}],
    [{"role": "system", "content": "You are kind."}, {"role": "user", "content": "Hi"}],
    [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi there"},
     {"role": "user", "content": "Who are you"}],
    [{"role": "system", "content": "You are a helpful assistant"}, {"role": "user", "content": "Hello"},
     {"role": "assistant", "content": "Hi there"}, {"role": "user", "content": "Who are you"},
     {"role": "assistant", "content": "   I am an assistant   "}, {"role": "user", "content": "Another question"}],
    [{"role": "user", "content": " spaces and\nnew lines\n"}, {"role": "assistant", "content": "<think>\nhm\n</think>\n\nYes."},
     {"role": "user", "content": "quotes ' \" and \\ backslash"}],
    [{"role": "system", "content": ""}, {"role": "user", "content": "Café ñ “quoted” 日本 🦙"}],
    [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}],
    [{"role": "assistant", "content": "first"}, {"role": "user", "content": "second"}],
]
TOKENS = [("<s>", "</s>"), ("", "<|endoftext|>"), ("<|begin_of_text|>", "<|eot_id|>")]
# What strftime_now reads: no clock (undefined), and dates with leap days, noon and midnight.
CLOCKS = [None, datetime.datetime(2026, 11, 30, 15, 4, 5), datetime.datetime(2024, 2, 29, 0, 0, 59),
          datetime.datetime(1999, 12, 31, 12, 30, 0), datetime.datetime(2025, 1, 5, 23, 59, 9)]
# enable_thinking: undefined, false (think=off), true.
THINKING = [None, False, True]
STRFTIME_FORMATS = ["%d %b %Y", "%Y-%m-%d", "%A, %B %-d, %Y", "%H:%M:%S %p", "%I%p %j %y %e %a", "%-m/%-d/%Y %%", "Today is %A"]

# Templates in the shapes real ones take (written here; each line's comment says which).
TEMPLATES = {
    "chatml":
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}",
    "chatml with a default system message and tools left out":
        "{%- if tools %}\n    {{- '<|im_start|>system\\n' }}{%- for tool in tools %}{{- '\\n' }}{{- tool | tojson }}{%- endfor %}\n"
        "{%- else %}\n    {%- if messages[0]['role'] == 'system' %}\n        {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
        "    {%- else %}\n        {{- '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}\n    {%- endif %}\n{%- endif %}\n"
        "{%- for message in messages %}\n    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) "
        "or (message.role == \"assistant\" and not message.tool_calls) %}\n"
        "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
        "    {%- elif message.role == \"assistant\" %}\n        {{- '<|im_start|>' + message.role }}\n    {%- endif %}\n{%- endfor %}\n"
        "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n",
    "llama 2: alternation checked, system folded into the first message":
        "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
        "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
        "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if loop.index0 == 0 and system_message != false %}"
        "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
        "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
        "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
        "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}",
    "llama 3: trim filter inside a sum":
        "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = '<|start_header_id|>' + message['role'] + "
        "'<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}"
        "{% endif %}{{ content }}{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}",
    "llama 3.2: a dated system message, from strftime_now where there is a clock":
        "{{- bos_token }}\n{%- if not date_string is defined %}\n    {%- if strftime_now is defined %}\n"
        "        {%- set date_string = strftime_now(\"%d %b %Y\") %}\n    {%- else %}\n        {%- set date_string = \"26 Jul 2024\" %}\n"
        "    {%- endif %}\n{%- endif %}\n{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content']|trim %}\n"
        "    {%- set messages = messages[1:] %}\n{%- else %}\n    {%- set system_message = \"\" %}\n{%- endif %}\n"
        "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}\n{{- \"Today Date: \" + date_string + \"\\n\\n\" }}\n"
        "{{- system_message }}\n{{- \"<|eot_id|>\" }}\n{%- for message in messages %}\n"
        "    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}\n"
        "{%- endfor %}\n{%- if add_generation_prompt %}\n    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}\n{%- endif %}\n",
    "mistral: selectattr, a namespace counting turns, message equality":
        "{%- if messages[0][\"role\"] == \"system\" %}\n    {%- set system_message = messages[0][\"content\"] %}\n"
        "    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n"
        "{%- if not tools is defined %}\n    {%- set tools = none %}\n{%- endif %}\n"
        "{%- set user_messages = loop_messages | selectattr(\"role\", \"equalto\", \"user\") | list %}\n"
        "{%- set ns = namespace() %}\n{%- set ns.index = 0 %}\n{%- for message in loop_messages %}\n"
        "    {%- if not (message.role == \"tool\" or (message.tool_calls is defined and message.tool_calls is not none)) %}\n"
        "        {%- if (message[\"role\"] == \"user\") != (ns.index % 2 == 0) %}\n"
        "            {{- raise_exception(\"After the optional system message, conversation roles must alternate user/assistant\") }}\n"
        "        {%- endif %}\n        {%- set ns.index = ns.index + 1 %}\n    {%- endif %}\n{%- endfor %}\n{{- bos_token }}\n"
        "{%- for message in loop_messages %}\n    {%- if message[\"role\"] == \"user\" %}\n"
        "        {%- if tools is not none and (message == user_messages[-1]) %}\n            {{- \"[AVAILABLE_TOOLS]\" + tools|tojson }}\n"
        "        {%- endif %}\n        {%- if loop.last and system_message is defined %}\n"
        "            {{- \"[INST]\" + system_message + \"\\n\\n\" + message[\"content\"] + \"[/INST]\" }}\n        {%- else %}\n"
        "            {{- \"[INST]\" + message[\"content\"] + \"[/INST]\" }}\n        {%- endif %}\n"
        "    {%- elif message[\"role\"] == \"assistant\" %}\n        {{- message[\"content\"] + eos_token}}\n    {%- else %}\n"
        "        {{- raise_exception(\"Only user and assistant roles are supported\") }}\n    {%- endif %}\n{%- endfor %}\n",
    "deepseek r1: a namespace of flags, thinking split off earlier replies":
        "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
        "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='') %}"
        "{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}"
        "{%- endfor %}{{bos_token}}{{ns.system_prompt}}{%- for message in messages %}{%- if message['role'] == 'user' %}"
        "{%- set ns.is_tool = false -%}{{'<｜User｜>' + message['content']}}{%- endif %}"
        "{%- if message['role'] == 'assistant' and message['content'] is not none %}{%- if ns.is_tool %}"
        "{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}{%- set ns.is_tool = false -%}{%- else %}"
        "{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
        "{{'<｜Assistant｜>' + content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}{%- endfor -%}"
        "{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{% endif %}{% if add_generation_prompt and not ns.is_tool %}"
        "{{'<｜Assistant｜><think>\\n'}}{% endif %}",
    # (also the chat template of the hosted qwen3 test's model)
    "qwen 3: the last query found from the end, thinking split from earlier replies, enable_thinking":
        open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "qwen3_shape.jinja"), encoding="utf-8").read(),
    # (also the chat template of the hosted gemma3 test's model)
    "gemma 3: the system message opens the first turn, content as a string or a list of parts":
        open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gemma3_shape.jinja"), encoding="utf-8").read(),
    # (also the chat template of the hosted granite test's model)
    "granite 3: role markers, a default system message":
        open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "granite_shape.jinja"), encoding="utf-8").read(),
    # (also the chat template of the hosted phi3 test's model)
    "phi 3: <|end|> closes every turn, an empty system message left out":
        open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "phi3_shape.jinja"), encoding="utf-8").read(),
    # (also the chat template of the hosted gemma2 test's model)
    "gemma: the system role refused, assistant renamed, trim":
        open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "gemma2_shape.jinja"), encoding="utf-8").read(),
    "range over indices":
        "{%- for idx in range(0, messages|length) -%}\n{%- if messages[idx]['role'] == 'user' -%}\n{%- if idx > 1 -%}\n"
        "{{- bos_token + '[INST] ' + messages[idx]['content'] + ' [/INST]' -}}\n{%- else -%}\n{{- messages[idx]['content'] + ' [/INST]' -}}\n"
        "{%- endif -%}\n{% elif messages[idx]['role'] == 'system' %}\n{{- '[INST] <<SYS>>\\n' + messages[idx]['content'] + '\\n<</SYS>>\\n\\n' -}}\n"
        "{%- elif messages[idx]['role'] == 'assistant' -%}\n{{- ' '  + messages[idx]['content'] + ' ' + eos_token -}}\n{% endif %}\n{% endfor %}",
    "title case roles":
        "{{ bos_token }}{% for message in messages %}{{ 'GPT4 Correct ' + message['role'].title() + ': ' + message['content'] + '<|end_of_turn|>'}}"
        "{% endfor %}{% if add_generation_prompt %}{{ 'GPT4 Correct Assistant:' }}{% endif %}",
    "loop controls and filtered loops":
        "{% for m in messages if m.role != 'system' %}{% if loop.index > 3 %}{% break %}{% endif %}"
        "{% if m.content == '' %}{% continue %}{% endif %}[{{ loop.index }}/{{ loop.length }} {{ m.role | upper }}] {{ m.content }}"
        "{% endfor %}{{ messages | map(attribute='role') | join(',') }}",
    "lists and strings":
        "{% set roles = [] %}{% for m in messages %}{% set roles = roles + [m.role] %}{% endfor %}{{ roles | join('|') }}"
        "{{ roles | length }}{{ roles | first }}{{ roles | last }}{{ 'user' in roles }}{{ ('x' ~ 3) * 2 }}"
        "{{ messages[-1].content.replace('a', 'A') }}{{ messages[0].content.split() | join('_') }}"
        "{{ 'a-b-c'.split('-')[1] }}{{ messages[0].role[:2] }}{{ '%s' | length }}{{ 7 // 2 }}{{ -7 // 2 }}{{ 'b' < 'ab' }}",
    "tests":
        "{% for m in messages %}{{ m is mapping }}{{ m.content is string }}{{ m.content is number }}{{ loop.index is odd }}"
        "{{ loop.index0 is even }}{{ loop.length is divisibleby 2 }}{{ m.name is defined }}{{ m.name is none }}"
        "{{ m.role is equalto 'user' }}{{ (m.role == 'user') is boolean }}{{ none is none }}{{ m is iterable }}{% endfor %}",
}


class RandomTemplate:
    """A random template of the subset BareFlow renders: text and whitespace control,
    expressions over strings, numbers, booleans, lists and the messages, filters, methods and
    tests, if/elif/else, for (filtered, with break and continue), set (shadowed in loops),
    a namespace and a macro. Mistakes in types are made on purpose now and then: those must
    fail in both renderers."""

    LITERALS = ["'a'", "''", "' x '", "'<|im_start|>'", "'User'", "\"line\\n\"", "'a-b-c'", "'user'", "'é'", "'A b'"]
    SEPARATORS = ["'-'", "' '", "','", "'</think>'", "'b'"]

    def __init__(self, rng):
        self.rng = rng
        self.strings = []   # string variables set so far (top level)
        self.numbers = []
        self.loop = None    # the innermost loop's message variable
        self.loop_depth = 0
        self.macro = False

    def pick(self, *choices):
        return self.rng.choice(choices)

    def chance(self, p):
        return self.rng.random() < p

    # --- expressions, by type; `depth` keeps them small ---

    def ascii_string(self, depth):
        options = [lambda: self.rng.choice(self.LITERALS[:8]), lambda: "bos_token", lambda: "eos_token"]
        if self.loop:
            options.append(lambda: self.loop + self.pick(".role", "['role']"))
        if depth > 0:
            options += [lambda: "(%s ~ %s)" % (self.ascii_string(depth - 1), self.number(depth - 1)),
                        lambda: "%s | %s" % (self.ascii_string(depth - 1), self.pick("upper", "lower", "title", "capitalize", "trim")),
                        lambda: "%s.%s()" % (self.ascii_string(depth - 1), self.pick("upper", "lower", "title", "capitalize", "strip"))]
        return "(%s)" % self.rng.choice(options)()

    def string(self, depth):
        options = [lambda: self.rng.choice(self.LITERALS), lambda: self.ascii_string(depth),
                   lambda: "(strftime_now(%r) if strftime_now is defined else 'no clock')" % self.rng.choice(STRFTIME_FORMATS),
                   lambda: "messages[%d].content" % self.rng.randint(-2, 1), lambda: "messages[0]['role']"]
        if self.loop:
            options += [lambda: self.loop + self.pick(".content", "['content']")] * 2
        if self.strings:
            options.append(lambda: self.rng.choice(self.strings))
        options.append(lambda: "ns.text")
        if depth > 0:
            d = depth - 1
            options += [
                lambda: "(%s + %s)" % (self.string(d), self.string(d)),
                lambda: "(%s ~ %s)" % (self.string(d), self.any_value(d)),
                lambda: "%s | trim" % self.string(d),
                lambda: "%s.%s()" % (self.string(d), self.pick("strip", "lstrip", "rstrip")),
                lambda: "%s[%s:%s]" % (self.string(d), self.small(), self.small()),
                lambda: "%s[::%s]" % (self.string(d), self.pick("1", "-1", "2")),
                lambda: "%s.replace(%s, %s)" % (self.string(d), self.rng.choice(self.SEPARATORS + ["''"]), self.rng.choice(self.LITERALS)),
                lambda: "%s.split(%s)[%s]" % (self.string(d), self.rng.choice(self.SEPARATORS), self.small()),
                lambda: "%s | join(%s)" % (self.joinable(d), self.rng.choice(self.SEPARATORS + ["''"])),
                lambda: "(%s if %s else %s)" % (self.string(d), self.boolean(d), self.string(d)),
                lambda: "(%s * %s)" % (self.string(d), self.small()),
                lambda: "%s | default(%s)" % (self.pick("nothing", "ns.text", "messages[9]"), self.string(d)),
                lambda: "%s | string" % self.any_value(d),
                lambda: "%s | tojson" % self.pick(self.string(d), self.number(d), "messages", "messages[0]", "[1, 'a', none, true]"),
                lambda: "%s | first" % self.string(d),
            ]
            if self.macro:
                options.append(lambda: "wrap(%s)" % self.string(d) if self.chance(0.5) else "wrap(%s, close=%s)" % (self.string(d), self.string(d)))
        return "(%s)" % self.rng.choice(options)()

    def small(self):
        return str(self.rng.randint(-3, 3))

    def number(self, depth):
        options = [lambda: str(self.rng.randint(0, 9)), lambda: "ns.count", lambda: "messages | length"]
        if self.loop:
            options += [lambda: "loop.%s" % self.pick("index", "index0", "length", "revindex", "revindex0")]
        if self.numbers:
            options.append(lambda: self.rng.choice(self.numbers))
        if depth > 0:
            d = depth - 1
            options += [
                lambda: "(%s %s %s)" % (self.number(d), self.pick("+", "-", "*"), self.number(d)),
                lambda: "(%s %s %s)" % (self.number(d), self.pick("//", "%"), self.pick("2", "3", "-2", self.number(d))),
                lambda: "-%s" % self.number(d),
                lambda: "%s | length" % self.pick(self.string(d), self.listed(d)),
                lambda: "%s.split(%s) | length" % (self.string(d), self.rng.choice(self.SEPARATORS)),
                lambda: "%s | abs" % self.number(d),
            ]
        return "(%s)" % self.rng.choice(options)()

    def boolean(self, depth):
        options = [lambda: self.pick("true", "false", "True", "none is none", "add_generation_prompt"),
                   lambda: "%s is %s" % (self.pick("nothing", "ns.text", "messages[7]", "messages[0].name", "ns.flag", "enable_thinking"),
                                         self.pick("defined", "undefined", "none", "not none", "string", "false", "true")),
                   lambda: "(enable_thinking is defined and %senable_thinking)" % self.pick("", "not ")]
        if self.loop:
            options += [lambda: "loop.%s" % self.pick("first", "last"),
                        lambda: "%s.role == %s" % (self.loop, self.pick("'user'", "'assistant'", "'system'"))]
        if depth > 0:
            d = depth - 1
            options += [
                lambda: "(%s %s %s)" % (self.string(d), self.pick("==", "!=", "<", ">="), self.string(d)),
                lambda: "(%s %s %s)" % (self.number(d), self.pick("==", "!=", "<", ">", "<=", ">="), self.number(d)),
                lambda: "(%s %s %s)" % (self.string(d), self.pick("in", "not in"), self.pick(self.string(d), self.listed(d))),
                lambda: "(%s %s %s)" % (self.boolean(d), self.pick("and", "or"), self.boolean(d)),
                lambda: "not %s" % self.boolean(d),
                lambda: "%s is %s" % (self.number(d), self.pick("odd", "even", "divisibleby 3", "divisibleby(2)", "number")),
                lambda: "%s is %s" % (self.any_value(d), self.pick("string", "number", "boolean", "mapping", "iterable", "sequence", "defined")),
                lambda: "%s.%s(%s)" % (self.string(d), self.pick("startswith", "endswith"), self.rng.choice(self.LITERALS)),
                lambda: "%s is equalto %s" % (self.string(d), self.string(d)),
                lambda: "(%s == %s)" % (self.listed(d), self.listed(d)),
                lambda: "(messages[%d] == messages[%d])" % (self.rng.randint(0, 2), self.rng.randint(-1, 1)),
                lambda: "%s | length > 0" % self.listed(d),
            ]
        return "(%s)" % self.rng.choice(options)()

    def listed(self, depth):
        """A list with a length (no generators)."""
        options = [lambda: "messages", lambda: "messages[%s:%s]" % (self.small(), self.small()), lambda: "messages[::-1]",
                   lambda: "[%s]" % ", ".join(self.string(0) for _ in range(self.rng.randint(0, 3))),
                   lambda: "%s.split(%s)" % (self.string(0), self.rng.choice(self.SEPARATORS)),
                   lambda: "%s.split()" % self.string(0),
                   lambda: "messages | %s('role', %s) | list" % (self.pick("selectattr", "rejectattr"), self.pick("'equalto', 'user'", "'ne', 'system'", "'string'", "'defined'")),
                   lambda: "messages | map(attribute='%s') | list" % self.pick("role", "content", "name"),
                   lambda: "range(%s) | list" % self.rng.randint(0, 4),
                   lambda: "%s | list" % self.string(0)]
        if depth > 0:
            options.append(lambda: "(%s + %s)" % (self.listed(depth - 1), self.listed(depth - 1)))
        return "(%s)" % self.rng.choice(options)()

    def joinable(self, depth):
        return self.pick(self.listed(depth), "messages | map(attribute='role')", "range(%d)" % self.rng.randint(0, 4),
                         "messages | selectattr('role', 'equalto', 'user') | map(attribute='content')", "[1, true, none, 'x']",
                         "(%s | reverse)" % self.listed(0))

    def any_value(self, depth):
        return self.rng.choice([self.string, self.number, self.boolean])(depth)

    # --- statements ---

    def text(self):
        return self.rng.choice(["", "x", " y ", "\n", "  \n  ", "z\n", "\t", " <|end|>\n"])

    def tag(self, inner, kind="%"):
        left = self.pick("", "-", "")
        right = self.pick("", "-", "")
        return "{%s%s %s %s%s}" % (kind, left, inner, right, kind if kind == "%" else "}")

    def expression_tag(self, inner):
        return "{{%s %s %s}}" % (self.pick("", "-"), inner, self.pick("", "-"))

    def block(self, depth, items):
        return "".join(self.statement(depth) for _ in range(items))

    def statement(self, depth):
        kinds = ["text", "print", "print", "set"]
        if depth > 0:
            kinds += ["if", "for", "nsset"]
        if self.loop_depth:
            kinds += ["control"]
        kind = self.rng.choice(kinds)
        if kind == "text":
            return self.text()
        if kind == "print":
            return self.text() + self.expression_tag(self.rng.choice([self.string, self.number, self.boolean])(2))
        if kind == "set":
            if self.chance(0.6):
                name = "s%d" % self.rng.randint(0, 2)
                out = self.tag("set %s = %s" % (name, self.string(2)))
                if not self.loop_depth and name not in self.strings:
                    self.strings.append(name)
                return out
            name = "n%d" % self.rng.randint(0, 1)
            out = self.tag("set %s = %s" % (name, self.number(2)))
            if not self.loop_depth and name not in self.numbers:
                self.numbers.append(name)
            return out
        if kind == "nsset":
            return self.tag(self.pick("set ns.count = ns.count + %s" % self.number(1), "set ns.text = %s" % self.string(1),
                                      "set ns.flag = %s" % self.boolean(1)))
        if kind == "control":
            return self.tag("if %s" % self.boolean(1)) + self.tag(self.pick("break", "continue")) + self.tag("endif")
        if kind == "if":
            out = self.tag("if %s" % self.boolean(2)) + self.block(depth - 1, self.rng.randint(0, 3))
            for _ in range(self.rng.randint(0, 2)):
                out += self.tag("elif %s" % self.boolean(2)) + self.block(depth - 1, self.rng.randint(0, 2))
            if self.chance(0.5):
                out += self.tag("else") + self.block(depth - 1, self.rng.randint(0, 2))
            return out + self.tag("endif")
        # for
        saved = (self.loop, list(self.strings), list(self.numbers))
        variable = "m%d" % self.loop_depth
        source = self.pick("messages", "messages[1:]", "messages | selectattr('role', 'equalto', 'user')", "messages[::-1]",
                           "loop_list")
        head = "for %s in %s" % (variable, "messages" if source == "loop_list" else source)
        outer_loop = self.loop
        self.loop = variable
        if self.chance(0.3):  # (Jinja reads the filter as the loop goes: nothing the body changes is used)
            head += " if %s" % self.pick("%s.role != 'system'" % variable, "%s.content | length > 2" % variable,
                                          "%s.role in ['user', 'assistant']" % variable, "not %s.content.startswith('a')" % variable,
                                          "(%s.content ~ %s.role) is string" % (variable, variable))
        self.loop_depth += 1
        body = self.block(depth - 1, self.rng.randint(1, 4))
        self.loop_depth -= 1
        self.loop, self.strings, self.numbers = outer_loop, saved[1], saved[2]
        return self.tag(head) + body + self.tag("endfor")

    def template(self):
        out = "{% set ns = namespace(count=0, text='', flag=false) %}"
        if self.chance(0.4):
            self.macro = True
            out += ("{%- macro wrap(inner, close='!') -%}[{{ inner }}{% set local = 1 %}{{ close }}]{%- endmacro %}")
        out += self.block(3, self.rng.randint(2, 7))
        return out + self.pick("", "{{ ns.count }}{{ ns.text }}{{ ns.flag }}", "{{ local is defined }}")


def random_cases(count, seed):
    rng = random.Random(seed)
    cases = []
    for i in range(count):
        source = RandomTemplate(rng).template()
        for _ in range(2):
            conversation = rng.choice(CONVERSATIONS)
            bos, eos = rng.choice(TOKENS)
            cases.append(("random template %d:\n%s" % (i, source), (source, conversation, rng.random() < 0.5, bos, eos, rng.choice(CLOCKS),
                                                                          rng.choice(THINKING))))
    return cases


def cases_for(source):
    cases = []
    for conversation in CONVERSATIONS:
        for add_generation_prompt in (True, False):
            for bos, eos in TOKENS[:2] if add_generation_prompt else TOKENS[2:]:
                cases.append((source, conversation, add_generation_prompt, bos, eos, CLOCKS[len(cases) % len(CLOCKS)],
                              THINKING[len(cases) % len(THINKING)]))
    return cases


def compare(program, named_cases, refusals_allowed):
    """Counts of cases alike, refused (where allowed) and differing; prints the differences.
    A template jinja2 itself cannot parse is a fault of the test's own templates, but only
    skipped among outside ones (refusals_allowed), which may use extensions of other engines."""
    answers = render_all(program, [case for _, case in named_cases])
    alike = refused = differing = 0
    refused_names = {}
    unparsed = {}
    for (name, case), answer in zip(named_cases, answers):
        expected = reference(*case)
        if expected[0] == "syntax":
            if not refusals_allowed:
                sys.exit("%s: jinja2 cannot parse it: %s" % (name, expected[1]))
            unparsed.setdefault(name, expected[1])
            continue
        same = answer[0] == expected[0] and (answer[1] == expected[1] or (expected[0] == "error" and expected[1] == ""))
        if same:
            alike += 1
            continue
        if refusals_allowed and answer[0] == "error" and not answer[1].startswith(REFUSAL):
            refused += 1
            refused_names.setdefault(name, answer[1])
            continue
        differing += 1
        if differing <= 12:
            print("DIFFERENT: %s\n  messages %s, add_generation_prompt %s\n  jinja2:   %r\n  BareFlow: %r"
                  % (name, json.dumps(case[1], ensure_ascii=False), case[2], expected, answer))
    for name, why in sorted(refused_names.items()):
        print("refused: %s (%s)" % (name, why))
    for name, why in sorted(unparsed.items()):
        print("skipped: %s (jinja2 cannot parse it: %s)" % (name, why.splitlines()[0]))
    return alike, refused, differing


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    program = sys.argv[1]
    failed = 0

    named = [(name, case) for name, source in TEMPLATES.items() for case in cases_for(source)]
    alike, _, differing = compare(program, named, refusals_allowed=False)
    print("templates written here: %d cases alike, %d different" % (alike, differing))
    failed += differing

    count = int(os.environ.get("BAREFLOW_RANDOM_TEMPLATES", "1500"))
    alike, _, differing = compare(program, random_cases(count, seed=20261130), refusals_allowed=False)
    print("random templates: %d cases alike, %d different" % (alike, differing))
    failed += differing

    folder = os.environ.get("BAREFLOW_CHAT_TEMPLATES")
    if folder:
        named = []
        for file in sorted(os.listdir(folder)):
            if file.endswith(".jinja"):
                with open(os.path.join(folder, file), encoding="utf-8") as f:
                    source = f.read()
                named += [(file, case) for case in cases_for(source)]
        alike, refused, differing = compare(program, named, refusals_allowed=True)
        print("%s: %d cases alike, %d refused, %d different" % (folder, alike, refused, differing))
        failed += differing

    if failed:
        print("FAIL: %d case(s) rendered differently from jinja2" % failed)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
