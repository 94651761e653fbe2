"""Questions about a company's data answered by an LLM from facts computed here.

The model is given the facts as JSON and told to answer from them alone, so the numbers it can
quote are the ones lensops computed; the facts are returned with the answer for checking.
"""

from __future__ import annotations

import json
from typing import Any

SYSTEM_PROMPT = (
    "You are the analytics assistant of an optical-lens lab. Answer the user's question about the "
    "company described by the JSON facts below, using only those facts. Quote figures exactly as "
    "they appear in the facts and never estimate or invent one. If the facts do not answer the "
    "question, say so briefly and say which data would. Answer in at most five sentences.\n\n"
    "Facts:\n"
)


def chat_messages(question: str, facts: dict[str, Any]) -> list[dict[str, str]]:
    """The chat-completions messages: the facts in the system message, then the question."""
    facts_json = json.dumps(facts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return [
        {"role": "system", "content": SYSTEM_PROMPT + facts_json},
        {"role": "user", "content": question.strip()},
    ]
