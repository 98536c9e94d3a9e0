"""Small text helpers shared by views and commands."""

from __future__ import annotations


def sentence(message: object) -> str:
    """An exception's message as a sentence: first letter upper-cased (the rest kept, unlike
    ``str.capitalize``, so names and codes keep their case) and a final full stop."""
    text = str(message).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
