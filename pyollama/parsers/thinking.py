"""Thinking split out of a model's text by an opening and a closing tag (Ollama's thinking/parser.go).

The generic parser Ollama runs for a model whose Go TEMPLATE uses thinking tags (the planner infers
the tags from the template, as `thinking.InferTags` does, and uses this only when the request asks
for thinking). The model must open with the tag: text before it means the model skipped thinking,
and everything is content from there on.

Whitespace is eaten between the opening tag and the thinking, and between the closing tag and the
content; whitespace before the closing tag stays in the thinking. A piece that may be the start of
a tag is held back until the next piece decides it.
"""

from __future__ import annotations

import enum

from pyollama.go.strings import trim_left_space
from pyollama.parsers.common import overlap


class ThinkingState(enum.Enum):
    """Go's `thinkingState` values, in the same order."""

    LOOKING_FOR_OPENING = 0
    """No non-space text yet; the opening tag may still come."""
    THINKING_STARTED_EATING_WHITESPACE = 1
    """Opening tag seen; eating the space before the thinking."""
    THINKING = 2
    """In the thinking, looking for the closing tag."""
    THINKING_DONE_EATING_WHITESPACE = 3
    """Closing tag seen; eating the space before the content."""
    THINKING_DONE = 4
    """Everything from here on is content."""


class ThinkingParser:
    """One response's thinking split (Go's `thinking.Parser`)."""

    def __init__(self, opening_tag: str, closing_tag: str) -> None:
        # Go would split on an empty tag character by character; Ollama never builds one (it only
        # uses the parser when both tags were found), so an empty tag is a caller's mistake here.
        if not opening_tag or not closing_tag:
            raise ValueError("thinking tags must not be empty")
        self.opening_tag = opening_tag
        self.closing_tag = closing_tag
        self.state = ThinkingState.LOOKING_FOR_OPENING
        self._acc = ""

    def add_content(self, content: str) -> tuple[str, str]:
        """Feed a piece; returns (thinking, content) that are now unambiguous (`AddContent`).

        Loops through as many states as the text allows, so nothing already decided waits."""
        self._acc += content
        thinking: list[str] = []
        remaining: list[str] = []
        keep_going = True
        while keep_going:
            t, r, keep_going = self._eat()
            thinking.append(t)
            remaining.append(r)
        return "".join(thinking), "".join(remaining)

    def _eat(self) -> tuple[str, str, bool]:
        """One step of Go's `eat`: (thinking, content, whether to keep eating)."""
        st = self.state
        if st is ThinkingState.LOOKING_FOR_OPENING:
            trimmed = trim_left_space(self._acc)
            if trimmed.startswith(self.opening_tag):
                # Go: strings.Join(strings.Split(trimmed, tag)[1:], tag), i.e. all after the first tag
                after = trim_left_space(trimmed[len(self.opening_tag) :])
                self._acc = after
                self.state = (
                    ThinkingState.THINKING_STARTED_EATING_WHITESPACE
                    if after == ""
                    else ThinkingState.THINKING
                )
                return "", "", True
            if self.opening_tag.startswith(trimmed):
                return "", "", False  # a partial opening tag, or only space so far: keep accumulating
            # content without an opening tag: thinking was skipped; keep the untrimmed text, as the
            # whitespace belongs to the real content
            self.state = ThinkingState.THINKING_DONE
            untrimmed, self._acc = self._acc, ""
            return "", untrimmed, False
        if st is ThinkingState.THINKING_STARTED_EATING_WHITESPACE:
            trimmed = trim_left_space(self._acc)
            self._acc = ""
            if trimmed == "":
                return "", "", False
            self.state = ThinkingState.THINKING
            self._acc = trimmed
            return "", "", True
        if st is ThinkingState.THINKING:
            acc = self._acc
            thinking, found, rest = acc.partition(self.closing_tag)
            if found:
                remaining = trim_left_space(rest)
                self._acc = ""
                self.state = (
                    ThinkingState.THINKING_DONE_EATING_WHITESPACE
                    if remaining == ""
                    else ThinkingState.THINKING_DONE
                )
                return thinking, remaining, False
            n = overlap(acc, self.closing_tag)
            if n > 0:
                self._acc = acc[-n:]  # a candidate closing tag waits to be decided
                return acc[:-n], "", False
            self._acc = ""
            return acc, "", False
        if st is ThinkingState.THINKING_DONE_EATING_WHITESPACE:
            trimmed = trim_left_space(self._acc)
            self._acc = ""
            if trimmed != "":
                self.state = ThinkingState.THINKING_DONE
            return "", trimmed, False
        acc, self._acc = self._acc, ""
        return "", acc, False
