"""Small text helpers shared by views and commands."""

from __future__ import annotations


def sentence(message: object) -> str:
    """An exception's message as a sentence: first letter upper-cased (the rest kept, unlike
    ``str.capitalize``, so names and codes keep their case) and a final full stop."""
    text = str(message).strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def validation_text(exc) -> str:
    """A ValidationError as one line naming each field: ``capture source: say where …``."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field.replace('_', ' ')}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)
