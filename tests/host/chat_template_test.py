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


def reference(source, messages, add_generation_prompt, bos, eos):
    """jinja2's text, or ('error', message) with raise_exception's message where it raised."""
    try:
        template = ENVIRONMENT.from_string(source)
        return ("ok", template.render(messages=messages, add_generation_prompt=add_generation_prompt,
                                      bos_token=bos, eos_token=eos))
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
    source, messages, add_generation_prompt, bos, eos = case
    parts = []

    def counted(text):
        data = text.encode("utf-8")
        parts.append(b"%d\n" % len(data) + data)

    data = source.encode("utf-8")
    parts.append(b"template %d\n" % len(data) + data)
    parts.append(b"tokens ")
    counted(bos)
    counted(eos)
    parts.append(b"%d messages %d\n" % (int(add_generation_prompt), len(messages)))
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
    "llama 3.2: a dated system message, strftime_now left undefined":
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
    "gemma: the system role refused, assistant renamed, trim":
        "{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"
        "{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
        "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
        "{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}{% endif %}"
        "{{ '<start_of_turn>' + role + '\\n' + message['content'] | trim + '<end_of_turn>\\n' }}{% endfor %}"
        "{% if add_generation_prompt %}{{'<start_of_turn>model\\n'}}{% endif %}",
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


def cases_for(source):
    cases = []
    for conversation in CONVERSATIONS:
        for add_generation_prompt in (True, False):
            for bos, eos in TOKENS[:2] if add_generation_prompt else TOKENS[2:]:
                cases.append((source, conversation, add_generation_prompt, bos, eos))
    return cases


def compare(program, named_cases, refusals_allowed):
    """Counts of cases alike, refused (where allowed) and differing; prints the differences."""
    answers = render_all(program, [case for _, case in named_cases])
    alike = refused = differing = 0
    refused_names = {}
    for (name, case), answer in zip(named_cases, answers):
        expected = reference(*case)
        if expected[0] == "syntax":
            sys.exit("%s: jinja2 cannot parse it: %s" % (name, expected[1]))
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
