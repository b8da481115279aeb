"""pyollama.parsers.thinking: Ollama's thinking/parser.go, step by step and in every split."""

from __future__ import annotations

import pytest

from pyollama.parsers.thinking import ThinkingParser, ThinkingState
from tests.parsers.streaming import splits

S = ThinkingState


def parser() -> ThinkingParser:
    return ThinkingParser("<think>", "</think>")


@pytest.mark.parametrize(
    ("text", "thinking", "content"),
    [
        ("<think> internal </think> world", "internal ", "world"),
        # only the first pair is thinking; a second opening tag is content
        ("<think>a</think><think>b</think>c", "a", "<think>b</think>c"),
        ("no think", "", "no think"),
        ("  \n<think>\n\nplan\n</think>\n\nanswer  ", "plan\n", "answer  "),
        # text before the tag: thinking was skipped, and the untrimmed text is all content
        ("  abc <think>def</think> ghi", "", "  abc <think>def</think> ghi"),
        ("<think></think>", "", ""),
        ("<think>only thinking", "only thinking", ""),
        # Go's unicode.IsSpace: U+3000 and NBSP are space, U+001C is not
        ("\u3000<think>\xa0t</think>\u3000c", "t", "c"),
        ("\x1c<think>t</think>c", "", "\x1c<think>t</think>c"),
    ],
)
def test_whole_output_and_every_split(text: str, thinking: str, content: str) -> None:
    for pieces in splits(text, ("<think>", "</think>")):
        p = parser()
        got = [p.add_content(piece) for piece in pieces]
        assert ("".join(t for t, _ in got), "".join(c for _, c in got)) == (thinking, content), pieces


@pytest.mark.parametrize(
    "steps",
    [
        # content without a tag; the second piece is not sent twice
        [("  abc", "", "  abc", S.THINKING_DONE), ("def", "", "def", S.THINKING_DONE)],
        # a partial opening tag waits
        [
            ("  <th", "", "", S.LOOKING_FOR_OPENING),
            ("in", "", "", S.LOOKING_FOR_OPENING),
            ("k>a", "a", "", S.THINKING),
        ],
        # a partial closing tag waits, then decides
        [("<think>abc</th", "abc", "", S.THINKING), ("ink>def", "", "def", S.THINKING_DONE)],
        # ... or turns out to be thinking
        [
            ("<think>abc</th", "abc", "", S.THINKING),
            ("ing>def", "</thing>def", "", S.THINKING),
            ("ghi</thi", "ghi", "", S.THINKING),
            ("nk>jkl", "", "jkl", S.THINKING_DONE),
        ],
        # whitespace after the closing tag is eaten across pieces
        [
            ("  <think>abc</think>", "abc", "", S.THINKING_DONE_EATING_WHITESPACE),
            ("\n\ndef", "", "def", S.THINKING_DONE),
        ],
        # but not inside the content
        [
            ("  <think>abc</think>\n\ndef ", "abc", "def ", S.THINKING_DONE),
            (" ghi", "", " ghi", S.THINKING_DONE),
        ],
        # token by token
        [
            ("<think>", "", "", S.THINKING_STARTED_EATING_WHITESPACE),
            ("\n", "", "", S.THINKING_STARTED_EATING_WHITESPACE),
            ("</think>", "", "", S.THINKING_DONE_EATING_WHITESPACE),
            ("\n\n", "", "", S.THINKING_DONE_EATING_WHITESPACE),
            ("Hi", "", "Hi", S.THINKING_DONE),
            (" there", "", " there", S.THINKING_DONE),
        ],
        # leading thinking whitespace is eaten; trailing thinking whitespace is kept
        [
            ("  <think>   \t ", "", "", S.THINKING_STARTED_EATING_WHITESPACE),
            ("  these are some ", "these are some ", "", S.THINKING),
            ("thoughts </think>  ", "thoughts ", "", S.THINKING_DONE_EATING_WHITESPACE),
            ("  more content", "", "more content", S.THINKING_DONE),
        ],
    ],
)
def test_streaming_steps_and_states(steps: list[tuple[str, str, str, ThinkingState]]) -> None:
    p = parser()
    for piece, thinking, content, state in steps:
        assert p.add_content(piece) == (thinking, content), piece
        assert p.state is state, piece


def test_other_tags() -> None:
    p = ThinkingParser("<|channel|>analysis<|message|>", "<|end|>")
    assert p.add_content("<|channel|>analysis<|message|>hmm<|en") == ("hmm", "")
    assert p.add_content("d|>ok") == ("", "ok")


def test_empty_tags_are_refused() -> None:
    with pytest.raises(ValueError):
        ThinkingParser("", "</think>")
    with pytest.raises(ValueError):
        ThinkingParser("<think>", "")
