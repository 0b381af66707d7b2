#!/usr/bin/env bash
# mode=chat on random-weight GGUFs whose chat templates take the shapes of DeepSeek-R1's
# distilled models (a namespace, thinking split off earlier replies), Mistral's (selectattr,
# the system message in the last user turn) and llama.cpp's own DeepSeek one (a macro):
# each conversation is rendered from the model's template, turn after turn, never falling
# back to the built-in markers, and the first turn's text is what the template writes.
#   chat_template_model_test.sh CONVERT_TOOL HOST_PROGRAM
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
convert="$1" program="$2"
. "$root/scripts/models.sh"
vocabulary="$(find_model tokenizer.bin)" || { echo "SKIP: tokenizer.bin not in '$(models_folder)' (set BAREFLOW_MODELS)"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cat > "$work/deepseek.jinja" <<'TEMPLATE'
{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}{% set ns = namespace(is_first=false, is_tool=false, system_prompt='') %}{%- for message in messages %}{%- if message['role'] == 'system' %}{% set ns.system_prompt = message['content'] %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}{%- for message in messages %}{%- if message['role'] == 'user' %}{{ 'User: ' + message['content'] }}{%- endif %}{%- if message['role'] == 'assistant' and message['content'] is not none %}{% set content = message['content'] %}{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}{{ 'Assistant: ' + content + eos_token }}{%- endif %}{%- endfor -%}{% if add_generation_prompt and not ns.is_tool %}{{ 'Assistant: <think>\n' }}{% endif %}
TEMPLATE
cat > "$work/mistral.jinja" <<'TEMPLATE'
{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
        {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant") }}
    {%- endif %}
    {%- set ns.index = ns.index + 1 %}
{%- endfor %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST] " + system_message + "\n\n" + message["content"] + " [/INST]" }}
        {%- else %}
            {{- "[INST] " + message["content"] + " [/INST]" }}
        {%- endif %}
    {%- elif message["role"] == "assistant" %}
        {{- message["content"] + eos_token }}
    {%- endif %}
{%- endfor %}
TEMPLATE
cat > "$work/macro.jinja" <<'TEMPLATE'
{%- set ns = namespace(turns=0) -%}
{%- macro turn(role, text) -%}
    {%- set ns.turns = ns.turns + 1 -%}
    {{- '### ' + role | title + ' (' ~ ns.turns ~ '):\n' + text | trim + '\n' -}}
{%- endmacro -%}
{{- bos_token -}}
{%- for message in messages if message.role in ['system', 'user', 'assistant'] -%}
    {{- turn(message.role, message.content) -}}
    {%- if message.role == 'assistant' -%}{{- eos_token -}}{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '### Assistant:\n' -}}{%- endif -%}
TEMPLATE

status=0
for shape in deepseek mistral macro; do
  "$convert" --random mini "$vocabulary" "$work/$shape.gguf" --type q8_0 --chat-template "$work/$shape.jinja" >/dev/null || exit 1
  printf 'Hello there\nAnd then?\nexit\n' | timeout 300 "$program" "$work/$shape.gguf" /dev/null mode=chat temp=0.8 seed=3 tune=off \
    system="Be brief." > "$work/$shape.log" 2>&1
  if grep -q "turns are rendered from the model's chat template" "$work/$shape.log" && ! grep -q "built-in" "$work/$shape.log" \
    && [ "$(grep -c '^assistant> ' "$work/$shape.log")" -ge 2 ]; then
    echo "PASS: $shape: two turns rendered from the template"
  else
    cat "$work/$shape.log"; echo "FAIL: $shape: the chat did not keep to its template for two turns"; status=1
  fi
done
exit $status
