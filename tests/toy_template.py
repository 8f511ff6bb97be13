# Renders the chat template of a tokenizer_config.json with Jinja2 as transformers does
# (apply_chat_template): a conversation with one user turn and the answer "Sure.", then the
# user turn alone with the generation prompt. Used by tests/test_toy.c when Jinja2 is present.
import json
import sys

import jinja2

cfg = json.load(open(sys.argv[1]))
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
tpl = env.from_string(cfg["chat_template"])
user = sys.argv[2]
sys.stdout.write(tpl.render(messages=[{"role": "user", "content": user}, {"role": "assistant", "content": "Sure."}],
                            add_generation_prompt=False, bos_token=cfg.get("bos_token") or "",
                            eos_token=cfg.get("eos_token") or ""))
sys.stdout.write(tpl.render(messages=[{"role": "user", "content": user}], add_generation_prompt=True,
                            bos_token=cfg.get("bos_token") or "", eos_token=cfg.get("eos_token") or ""))
