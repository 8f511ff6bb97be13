#!/usr/bin/env python3
"""Reference renderings of the official chat templates, with Jinja2 configured as Hugging Face
transformers configures it (trim_blocks, lstrip_blocks). Writes tests/fixtures/chat_expected.json:
for each format, the template text and the rendered string of one user turn, with and without
a system prompt, with the generation prefix. Run with /usr/bin/python3 (Debian's python3-jinja2).
Templates llama2, llama3, gemma and chatml-qwen3 come from ../shared/tokenizers/*/tokenizer_config.json;
the others are the published templates of the named models, reproduced verbatim, except
alpaca, which has no Hugging Face template: it is lvs.h's own definition of the Stanford Alpaca
prompt."""
import json, os, sys
import jinja2

here = os.path.dirname(os.path.abspath(__file__))
shared = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "shared")
out = os.path.join(here, "..", "fixtures", "chat_expected.json")

def shared_template(name):
    with open(os.path.join(shared, "tokenizers", name, "tokenizer_config.json")) as f:
        return json.load(f)["chat_template"]

# Mistral-7B-Instruct-v0.3 (system folded into the last user turn, no space before [/INST])
MISTRAL = ("{%- if messages[0]['role'] == 'system' %}\n    {%- set system_message = messages[0]['content'] %}\n"
           "    {%- set loop_messages = messages[1:] %}\n{%- else %}\n    {%- set loop_messages = messages %}\n{%- endif %}\n\n"
           "{{- bos_token }}\n{%- for message in loop_messages %}\n"
           "    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}\n"
           "        {{- raise_exception('After the optional system message, conversation roles must alternate user/assistant/user/assistant/...') }}\n"
           "    {%- endif %}\n    {%- if message['role'] == 'user' %}\n"
           "        {%- if loop.last and system_message is defined %}\n"
           "            {{- '[INST] ' + system_message + '\\n\\n' + message['content'] + '[/INST]' }}\n"
           "        {%- else %}\n            {{- '[INST] ' + message['content'] + '[/INST]' }}\n        {%- endif %}\n"
           "    {%- elif message['role'] == 'assistant' %}\n        {{- ' ' + message['content']|trim + eos_token}}\n"
           "    {%- else %}\n        {{- raise_exception('Only user and assistant roles are supported, with the exception of an initial optional system message!') }}\n"
           "    {%- endif %}\n{%- endfor %}\n")
# Mistral-7B-Instruct-v0.1/v0.2 (no system role in the official template)
MISTRAL_V1 = ("{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
              "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
              "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
              "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
              "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")
# TinyLlama-1.1B-Chat-v1.0 (the Zephyr format)
ZEPHYR = ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + eos_token }}\n"
          "{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
          "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n{% endif %}\n"
          "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")
# Qwen2.5-Instruct (without tools): a default system turn when none is given
QWEN25 = ("{%- if messages[0]['role'] == 'system' %}\n    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
          "{%- else %}\n    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}\n"
          "{%- endif %}\n{%- for message in messages %}\n"
          "    {%- if (message.role == \"user\") or (message.role == \"system\" and not loop.first) or (message.role == \"assistant\" and not message.tool_calls) %}\n"
          "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n    {%- endif %}\n{%- endfor %}\n"
          "{%- if add_generation_prompt %}\n    {{- '<|im_start|>assistant\\n' }}\n{%- endif %}\n")
# lvs.h's alpaca format (Stanford Alpaca's prompt; the system text replaces its preamble)
ALPACA = ("{% if messages[0]['role'] == 'system' %}{{ messages[0]['content'] }}{% else %}Below is an instruction that describes a task. "
          "Write a response that appropriately completes the request.{% endif %}"
          "{% for message in messages %}{% if message['role'] == 'user' %}{{ '\n\n### Instruction:\n' + message['content'] + '\n\n### Response:' }}"
          "{% elif message['role'] == 'assistant' %}{{ '\n' + message['content'] + eos_token }}{% endif %}{% endfor %}"
          "{% if add_generation_prompt %}{{ '\n' }}{% endif %}")

formats = {
    "llama3": (shared_template("llama3"), "<|begin_of_text|>", "<|eot_id|>"),
    "llama2": (shared_template("llama2"), "<s>", "</s>"),
    "mistral": (MISTRAL, "<s>", "</s>"),
    "mistral-v1": (MISTRAL_V1, "<s>", "</s>"),
    "chatml": (shared_template("qwen3"), "", "<|im_end|>"),
    "chatml-qwen25": (QWEN25, "", "<|im_end|>"),
    "gemma": (shared_template("gemma3"), "<bos>", "<end_of_turn>"),
    "zephyr": (ZEPHYR, "<s>", "</s>"),
    "alpaca": (ALPACA, "<s>", "</s>"),
}
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)
def raise_exception(msg):
    raise jinja2.exceptions.TemplateError(msg)
env.globals["raise_exception"] = raise_exception

SYSTEM = "You are a careful assistant.\nAnswer briefly."
USER = "  What is the capital of France?  "
ASSISTANT = "Paris."
cases = []
for name, (tpl, bos, eos) in formats.items():
    t = env.from_string(tpl)
    for with_system in (False, True):
        if name == "mistral-v1" and with_system:
            continue  # the official template raises
        msgs = ([{"role": "system", "content": SYSTEM}] if with_system else []) + [{"role": "user", "content": USER}]
        for gen in (True, False):
            text = t.render(messages=msgs, add_generation_prompt=gen, bos_token=bos, eos_token=eos)
            cases.append({"format": name, "system": SYSTEM if with_system else None, "user": USER, "assistant": None,
                          "generation": gen, "text": text})
        msgs2 = msgs + [{"role": "assistant", "content": ASSISTANT}]
        text = t.render(messages=msgs2, add_generation_prompt=False, bos_token=bos, eos_token=eos)
        cases.append({"format": name, "system": SYSTEM if with_system else None, "user": USER, "assistant": ASSISTANT,
                      "generation": False, "text": text})
with open(out, "w") as f:
    json.dump({"cases": cases, "templates": {k: v[0] for k, v in formats.items()},
               "bos": {k: v[1] for k, v in formats.items()}, "eos": {k: v[2] for k, v in formats.items()}},
              f, ensure_ascii=False, indent=1)
print("%d cases" % len(cases))
