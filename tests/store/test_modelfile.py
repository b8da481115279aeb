from __future__ import annotations

import pytest

from pyollama.errors import BadRequest
from pyollama.store.modelfile import Command, Modelfile, ModelfileError, parse

LLAMA3 = '''# a comment
FROM llama3.2:latest
TEMPLATE """{{- if .System }}<|start_header_id|>system<|end_header_id|>

{{ .System }}<|eot_id|>
{{- end }}
{{- range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>

{{ .Content }}<|eot_id|>
{{- end }}<|start_header_id|>assistant<|end_header_id|>

"""
SYSTEM "You are Mario from Super Mario Bros."
PARAMETER temperature 0.7
PARAMETER stop <|start_header_id|>
PARAMETER stop <|eot_id|>
PARAMETER num_ctx 8192
MESSAGE user Is Toronto in Canada?
MESSAGE assistant yes
LICENSE """
Llama 3.2 Community License "Agreement"
Line two
"""
LICENSE MIT
'''


def test_parse_llama3() -> None:
    mf = parse(LLAMA3)
    names = [c.name for c in mf.commands]
    assert names == [
        "model",
        "template",
        "system",
        "temperature",
        "stop",
        "stop",
        "num_ctx",
        "message",
        "message",
        "license",
        "license",
    ]
    assert mf.commands[1].args.startswith("{{- if .System }}<|start_header_id|>system")
    assert mf.commands[1].args.endswith("assistant<|end_header_id|>\n\n")
    assert mf.commands[2].args == "You are Mario from Super Mario Bros."
    assert mf.commands[7] == Command("message", "user: Is Toronto in Canada?")
    assert mf.commands[9].args == '\nLlama 3.2 Community License "Agreement"\nLine two\n'


def test_to_create_request() -> None:
    req, warnings = parse(LLAMA3 + "PARAMETER mirostat 2\n").to_create_request()
    assert warnings == ["warning: parameter mirostat is deprecated"]
    assert req["from"] == ["llama3.2:latest"]
    assert req["parameters"] == {
        "temperature": 0.7,
        "stop": ["<|start_header_id|>", "<|eot_id|>"],
        "num_ctx": 8192,
    }
    assert req["messages"] == [
        {"role": "user", "content": "Is Toronto in Canada?"},
        {"role": "assistant", "content": "yes"},
    ]
    assert len(req["license"]) == 2
    assert req["system"].startswith("You are Mario")


REALISTIC = [
    LLAMA3,
    'FROM ./model.gguf\nADAPTER ./lora.gguf\nSYSTEM """multi\nline "quoted" system"""\n',
    'from x\ntemplate "{{ .Prompt }}"\nparameter seed 42\nParameter top_p 0.9\n',
    "FROM x\nSYSTEM  leading and trailing  \nMESSAGE system be brief\nREQUIRES 0.14.0\n",
    '\ufeffFROM gemma3\r\nTEMPLATE """<start_of_turn>user\r\n{{ .Prompt }}<end_of_turn>\r\n"""\r\n',
    "FROM x\nRENDERER qwen3\nPARSER qwen3\nDRAFT ./draft.gguf\n",
    'FROM x\nSYSTEM """"quoted start" and end""""\n',
    'FROM x\nSYSTEM "\tlead tab"\n',
]


@pytest.mark.parametrize("text", REALISTIC)
def test_round_trip(text: str) -> None:
    mf = parse(text)
    again = parse(str(mf))
    assert again.commands == mf.commands
    assert str(again) == str(mf)


def test_serialise_like_ollama() -> None:
    mf = Modelfile(
        [
            Command("model", "/blobs/sha256-x"),
            Command("template", "{{ .Prompt }}"),
            Command("system", "two\nlines"),
            Command("system", 'has "q"\nand newline'),
            Command("stop", "<|eot|>"),
            Command("message", "user: hi there"),
            Command("license", " pad "),
        ]
    )
    assert str(mf) == (
        'FROM /blobs/sha256-x\nTEMPLATE {{ .Prompt }}\nSYSTEM "two\nlines"\n'
        'SYSTEM """has "q"\nand newline"""\nPARAMETER stop <|eot|>\nMESSAGE user hi there\n'
        'LICENSE " pad "\n'
    )


def test_case_insensitive_and_comments() -> None:
    mf = parse("# top\n  from base  \n#c\nsYsTeM hello # not a comment\n\n")
    assert mf.commands == [Command("model", "base"), Command("system", "hello # not a comment")]


@pytest.mark.parametrize(
    ("text", "msg", "line"),
    [
        (
            "FROM x\nFOO bar\n",
            '(line 2): command must be one of "from", "license", "template", "system", '
            '"adapter", "draft", "renderer", "parser", "parameter", "message", or "requires"',
            2,
        ),
        (
            "FROM x\nMESSAGE bot hi\n",
            '(line 2): message role must be one of "system", "user", or "assistant"',
            2,
        ),
        ("FROM x\n\n\nFR0M y\n", "(line 4): command must be one of", 4),
        ("SYSTEM hi\n", "no FROM line", 0),
        ("", "no FROM line", 0),
        ('FROM x\nSYSTEM """never closed\n', "unexpected EOF", 0),
        ('FROM x\nSYSTEM "open\n', "unexpected EOF", 0),
        ("FROM x\nPARAMETER temp-erature 1\n", "unexpected EOF: temp", 0),
        ("FROM x\nSYSTEM\n", "(line 3): command must be one of", 3),
    ],
)
def test_errors(text: str, msg: str, line: int) -> None:
    with pytest.raises(ModelfileError) as e:
        parse(text)
    assert str(e.value).startswith(msg)
    assert e.value.line == line
    assert e.value.status == 400


def test_parameter_errors_and_requires() -> None:
    with pytest.raises(BadRequest, match=r"^unknown parameter 'bogus'$"):
        parse("FROM x\nPARAMETER bogus 1\n").to_create_request()
    with pytest.raises(BadRequest, match=r"^invalid int value \[big\]$"):
        parse("FROM x\nPARAMETER num_ctx big\n").to_create_request()
    with pytest.raises(BadRequest, match=r"^requires must be a valid semver \(e.g. 0.14.0\)$"):
        parse("FROM x\nREQUIRES banana\n").to_create_request()
    req, _ = parse("FROM x\nREQUIRES v0.14.0\n").to_create_request()
    assert req["requires"] == "0.14.0"


def test_renderer_parser_draft_stored() -> None:
    req, _ = parse(REALISTIC[5]).to_create_request()
    assert req["renderer"] == "qwen3" and req["parser"] == "qwen3" and req["draft"] == ["./draft.gguf"]
