"""The interactive chat of `pyollama run MODEL`: Ollama's `generateInteractive` on prompt_toolkit.

Texts (help, confirmations, errors) are Ollama's own, so muscle memory and scripts carry over.
Line handling is split from the terminal (`Chat.handle_line`) so tests can drive it without a pty.
"""

from __future__ import annotations

import contextlib
import enum
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from pyollama.cli.client import Client, ResponseError
from pyollama.cli.format import list_table, show_info
from pyollama.cli.run import RunOptions, cancellable, load_model, stream_chat
from pyollama.errors import BadRequest, PyollamaError
from pyollama.options import format_params

USAGE = """Available Commands:
  /set            Set session variables
  /show           Show model information
  /load <model>   Load a session or model
  /save <model>   Save your current session
  /clear          Clear session context
  /bye            Exit
  /?, /help       Help for a command
  /? shortcuts    Help for keyboard shortcuts

Use \"\"\" to begin a multi-line message.

"""

USAGE_SET = """Available Commands:
  /set parameter ...     Set a parameter
  /set system <string>   Set system message
  /set history           Enable history
  /set nohistory         Disable history
  /set wordwrap          Enable wordwrap
  /set nowordwrap        Disable wordwrap
  /set format json       Enable JSON mode
  /set noformat          Disable formatting
  /set verbose           Show LLM stats
  /set quiet             Disable LLM stats
  /set think             Enable thinking
  /set nothink           Disable thinking

"""

USAGE_SHORTCUTS = """Available keyboard shortcuts:
  Ctrl + a            Move to the beginning of the line (Home)
  Ctrl + e            Move to the end of the line (End)
   Alt + b            Move back (left) one word
   Alt + f            Move forward (right) one word
  Ctrl + k            Delete the sentence after the cursor
  Ctrl + u            Delete the sentence before the cursor
  Ctrl + w            Delete the word before the cursor

  Ctrl + l            Clear the screen
  Ctrl + g            Open default editor to compose a prompt
  Ctrl + c            Stop the model from responding
  Ctrl + d            Exit pyollama (/bye)

"""

USAGE_SHOW = """Available Commands:
  /show info         Show details for this model
  /show license      Show model license
  /show modelfile    Show Modelfile for this model
  /show parameters   Show parameters for this model
  /show system       Show system message
  /show template     Show prompt template

"""

USAGE_PARAMETERS = """Available Parameters:
  /set parameter seed <int>             Random number seed
  /set parameter num_predict <int>      Max number of tokens to predict
  /set parameter top_k <int>            Pick from top k num of tokens
  /set parameter top_p <float>          Pick token based on sum of probabilities
  /set parameter min_p <float>          Pick token based on top token probability * min_p
  /set parameter num_ctx <int>          Set the context size
  /set parameter temperature <float>    Set creativity level
  /set parameter repeat_penalty <float> How strongly to penalize repetitions
  /set parameter repeat_last_n <int>    Set how far back to look for repetitions
  /set parameter num_gpu <int>          The number of layers to send to the GPU
  /set parameter stop <string> <string> ...   Set the stop parameters

"""

PLACEHOLDER = "Send a message (/? for help)"
ALT_PLACEHOLDER = "Press Enter to send"


class Multiline(enum.Enum):
    NONE = 0
    PROMPT = 1
    SYSTEM = 2


class Action(enum.Enum):
    CONTINUE = 0
    EXIT = 1


def env_bool(value: str | None) -> bool:
    """Ollama's envconfig.Bool: unset/empty false, unparsable true."""
    if value is None:
        return False
    v = value.strip().strip("\"'")
    if not v:
        return False
    return v not in {"0", "f", "F", "false", "FALSE", "False"}


def history_disabled(env: dict[str, str] | None = None) -> bool:
    e = os.environ if env is None else env
    return env_bool(e.get("PYOLLAMA_NOHISTORY")) or env_bool(e.get("OLLAMA_NOHISTORY"))


def history_path() -> Path:
    """Chat history lives in the platform's state folder (not in ~/.ollama, which Ollama owns)."""
    import platformdirs

    return Path(platformdirs.user_state_dir("pyollama")) / "history"


DEFAULT_EDITOR = "vi"


class EditorError(PyollamaError):
    """The external editor for Ctrl+g could not be found or failed."""


def edit_in_editor(content: str, env: Mapping[str, str] | None = None) -> str:
    """Ollama's `editInExternalEditor`: edit `content` in a temp file, return it without the
    trailing newlines. The editor is `PYOLLAMA_EDITOR`/`OLLAMA_EDITOR`, `VISUAL`, `EDITOR`, vi."""
    e = os.environ if env is None else env
    editor = ""
    for key in ("PYOLLAMA_EDITOR", "OLLAMA_EDITOR", "VISUAL", "EDITOR"):
        editor = e.get(key, "").strip()
        if editor:
            break
    argv = (editor or DEFAULT_EDITOR).split()
    if shutil.which(argv[0], path=e.get("PATH")) is None:
        raise EditorError(
            f"editor {json.dumps(argv[0])} not found, set OLLAMA_EDITOR to the path of your preferred editor"
        )
    fd, name = tempfile.mkstemp(prefix="pyollama-prompt-", suffix=".txt")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(content)
        try:
            subprocess.run([*argv, name], check=True, env=dict(e))
        except (OSError, subprocess.CalledProcessError) as exc:
            raise EditorError(f"editor exited with error: {exc}") from exc
        with open(name, encoding="utf-8", errors="replace") as f:
            return f.read().rstrip("\n")
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)


def _go_value(v: Any) -> str:
    """`%v` of a Go value, for `/show parameters` user-defined lines."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + " ".join(_go_value(x) for x in v) + "]"
    if isinstance(v, float) and v == int(v):
        return str(int(v))
    return str(v)


def format_user_param(name: str, value: Any) -> str:
    return f"  {name:<30} {_go_value(value)}"


class Chat:
    """State of one chat session and the handling of each line typed into it."""

    def __init__(
        self, client: Client, opts: RunOptions, out: TextIO | None = None, err: TextIO | None = None
    ) -> None:
        self.client = client
        self.opts = opts
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.multiline = Multiline.NONE
        self.sb: list[str] = []
        self.use_alt_prompt = False
        self.history_enabled = True

    # --- output helpers ---------------------------------------------------------------------------

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def help(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()

    @property
    def prompt(self) -> str:
        return "... " if self.use_alt_prompt else ">>> "

    def interrupt(self, line: str) -> None:
        """Ctrl+C at the prompt: reset any block; a hint when the line was empty."""
        if line == "":
            self.say("\nUse Ctrl + d or /bye to exit.")
        self.use_alt_prompt = False
        self.sb = []
        self.multiline = Multiline.NONE

    # --- line handling ---------------------------------------------------------------------------

    async def handle_line(self, line: str) -> Action:
        """Handle one line exactly as Ollama's interactive loop does (prefix matching included)."""
        if self.multiline is not Multiline.NONE:
            ok = line.endswith('"""')
            before = line[:-3] if ok else line
            self.sb.append(before)
            if not ok:
                self.sb.append("\n")
                self.use_alt_prompt = True
                return Action.CONTINUE
            if self.multiline is Multiline.SYSTEM:
                self._set_system("".join(self.sb))
                self.sb = []
                self.multiline = Multiline.NONE
                self.use_alt_prompt = False
                return Action.CONTINUE
            self.multiline = Multiline.NONE
            self.use_alt_prompt = False
        elif line.startswith('"""'):
            rest = line[3:]
            ok = rest.endswith('"""')
            if ok:
                rest = rest[:-3]
            self.sb.append(rest)
            if not ok:
                self.sb.append("\n")
                self.multiline = Multiline.PROMPT
                self.use_alt_prompt = True
        elif line.startswith("/list"):
            await self._list(line.split()[1:])
            return Action.CONTINUE
        elif line.startswith("/load"):
            await self._load(line.split())
            return Action.CONTINUE
        elif line.startswith("/save"):
            await self._save(line.split())
            return Action.CONTINUE
        elif line.startswith("/clear"):
            self.opts.messages = []
            if self.opts.system:
                self.opts.messages.append({"role": "system", "content": self.opts.system})
            self.say("Cleared session context")
            return Action.CONTINUE
        elif line.startswith("/set"):
            return await self._set(line)
        elif line.startswith("/show"):
            await self._show(line.split())
            return Action.CONTINUE
        elif line.startswith("/help") or line.startswith("/?"):
            args = line.split()
            if len(args) > 1:
                if args[1] in ("set", "/set"):
                    self.help(USAGE_SET)
                elif args[1] in ("show", "/show"):
                    self.help(USAGE_SHOW)
                elif args[1] in ("shortcut", "shortcuts"):
                    self.help(USAGE_SHORTCUTS)
            else:
                self.help(USAGE)
            return Action.CONTINUE
        elif line.startswith("/exit") or line.startswith("/bye"):
            return Action.EXIT
        elif line.startswith("/"):
            self.say(f"Unknown command '{line.split()[0]}'. Type /? for help")
            return Action.CONTINUE
        else:
            self.sb.append(line)

        text = "".join(self.sb)
        if text and self.multiline is Multiline.NONE:
            self.sb = []
            await self.send(text)
        return Action.CONTINUE

    async def send(self, text: str) -> None:
        """One user turn: stream the answer; Ctrl+C stops it and keeps the chat going."""
        self.opts.messages.append({"role": "user", "content": text})
        try:
            interrupted, message = await cancellable(stream_chat(self.client, self.opts, self.out, self.err))
        except ResponseError as exc:
            if "does not support thinking" in exc.message or "invalid think value" in exc.message:
                self.say(f"error: {exc.message}")
                return
            raise
        if interrupted:
            self.say("")
            return
        if message is not None:
            self.opts.messages.append(message)

    # --- commands --------------------------------------------------------------------------------

    def _set_system(self, text: str) -> None:
        self.opts.system = text
        msg = {"role": "system", "content": text}
        if self.opts.messages and self.opts.messages[-1].get("role") == "system":
            self.opts.messages[-1] = msg
        else:
            self.opts.messages.append(msg)
        self.say("Set system message.")

    async def _set(self, line: str) -> Action:
        args = line.split()
        if len(args) <= 1:
            self.help(USAGE_SET)
            return Action.CONTINUE
        what = args[1]
        if what == "history":
            self.history_enabled = True
        elif what == "nohistory":
            self.history_enabled = False
        elif what == "wordwrap":
            self.opts.wordwrap = True
            self.say("Set 'wordwrap' mode.")
        elif what == "nowordwrap":
            self.opts.wordwrap = False
            self.say("Set 'nowordwrap' mode.")
        elif what == "verbose":
            self.opts.verbose = True
            self.say("Set 'verbose' mode.")
        elif what == "quiet":
            self.opts.verbose = False
            self.say("Set 'quiet' mode.")
        elif what == "think":
            level = args[2] if len(args) > 2 else ""
            self.opts.think = level or True
            await self._warn_without_thinking()
            if level:
                self.say(f"Set 'think' mode to '{level}'.")
            else:
                self.say("Set 'think' mode.")
        elif what == "nothink":
            self.opts.think = False
            await self._warn_without_thinking()
            self.say("Set 'nothink' mode.")
        elif what == "format":
            if len(args) < 3 or args[2] != "json":
                self.say("Invalid or missing format. For 'json' mode use '/set format json'")
            else:
                self.opts.format = args[2]
                self.say(f"Set format to '{args[2]}' mode.")
        elif what == "noformat":
            self.opts.format = ""
            self.say("Disabled format.")
        elif what == "parameter":
            if len(args) < 4:
                self.help(USAGE_PARAMETERS)
                return Action.CONTINUE
            name, values = args[2], args[3:]
            try:
                value = format_params({name: values})[name]
            except BadRequest as exc:
                self.say(f"Couldn't set parameter: {json.dumps(exc.message, ensure_ascii=False)}")
                return Action.CONTINUE
            self.say(f"Set parameter '{name}' to '{', '.join(values)}'")
            self.opts.options[name] = value
        elif what == "system":
            if len(args) < 3:
                self.help(USAGE_SET)
                return Action.CONTINUE
            text = " ".join(args[2:])
            if text.startswith('"""'):
                text = text[3:]
                if text.endswith('"""'):
                    text = text[:-3]
                else:
                    self.multiline = Multiline.SYSTEM
                    self.sb = [text, "\n"] if text else []
                    self.use_alt_prompt = True
                    return Action.CONTINUE
            self._set_system(text)
        else:
            self.say(f"Unknown command '/set {what}'. Type /? for help")
        return Action.CONTINUE

    async def _warn_without_thinking(self) -> None:
        """Ollama's `ensureThinkingSupport`: a warning, not a refusal, for a model that can't think."""
        try:
            info = await self.client.show(self.opts.model)
        except PyollamaError:
            return
        if "thinking" not in (info.get("capabilities") or []):
            name = json.dumps(self.opts.model, ensure_ascii=False)
            self.help(f"warning: model {name} does not support thinking output\n")

    async def _show(self, args: list[str]) -> None:
        if len(args) <= 1:
            self.help(USAGE_SHOW)
            return
        try:
            resp = await self.client.show(
                self.opts.model, system=self.opts.system or None, options=self.opts.options or None
            )
        except ResponseError as exc:
            self.say("error: couldn't get model")
            self.say(f"error: {exc.message}")
            return
        what = args[1]
        if what == "info":
            self.help(show_info(resp))
        elif what == "license":
            lic = resp.get("license") or ""
            if isinstance(lic, list):
                lic = "\n".join(lic)
            self.say(lic if lic else "No license was specified for this model.")
        elif what == "modelfile":
            self.say(str(resp.get("modelfile", "")))
        elif what == "parameters":
            self.say("Model defined parameters:")
            params = str(resp.get("parameters") or "")
            if not params:
                self.say("  No additional parameters were specified for this model.")
            else:
                for ln in params.split("\n"):
                    self.say(f"  {ln}")
            self.say("")
            if self.opts.options:
                self.say("User defined parameters:")
                for k, v in self.opts.options.items():
                    self.say(format_user_param(k, v))
                self.say("")
        elif what == "system":
            if self.opts.system:
                self.say(self.opts.system + "\n")
            elif resp.get("system"):
                self.say(str(resp["system"]) + "\n")
            else:
                self.say("No system message was specified for this model.")
        elif what == "template":
            if resp.get("template"):
                self.say(str(resp["template"]))
            else:
                self.say("No prompt template was specified for this model.")
        else:
            self.say(f"Unknown command '/show {what}'. Type /? for help")

    async def _list(self, args: list[str]) -> None:
        self.out.write(list_table(await self.client.list(), args[0] if args else ""))
        self.out.flush()

    async def _load(self, args: list[str]) -> None:
        if len(args) != 2:
            self.say("Usage:\n  /load <modelname>")
            return
        orig = self.opts.copy()
        self.opts.model = args[1]
        self.opts.messages = []
        self.say(f"Loading model '{self.opts.model}'")
        try:
            info = await self.client.show(self.opts.model)
            self.opts.parent_model = str((info.get("details") or {}).get("parent_model") or "")
            await load_model(self.client, self.opts)
        except ResponseError as exc:
            if "not found" in exc.message:
                self.say(f"Couldn't find model '{self.opts.model}'")
                self.opts = orig
                return
            if "does not support thinking" in exc.message:
                self.say(f"error: {exc.message}")
                return
            raise

    def create_request(self, name: str) -> dict[str, Any]:
        """Ollama's `NewCreateRequest`: the session as a new model built on the current one."""
        from pyollama.store.names import ModelName

        # the parent is a blob path for models created from a GGUF file: only a valid name counts
        parent = self.opts.parent_model if ModelName.try_parse(self.opts.parent_model) else ""
        req: dict[str, Any] = {"model": name, "from": parent or self.opts.model}
        if self.opts.system:
            req["system"] = self.opts.system
        if self.opts.options:
            req["parameters"] = dict(self.opts.options)
        if self.opts.messages:
            req["messages"] = list(self.opts.messages)
        return req

    async def _save(self, args: list[str]) -> None:
        if len(args) != 2:
            self.say("Usage:\n  /save <modelname>")
            return
        try:
            async for _ in self.client.create(self.create_request(args[1])):
                pass
        except ResponseError as exc:
            if "invalid model name" in exc.message:
                self.say(f"error: The model name '{args[1]}' is invalid")
                return
            self.say(f"error: {exc.message}")
            return
        self.say(f"Created new model '{args[1]}'")


async def interactive(client: Client, opts: RunOptions) -> None:
    """Run the prompt_toolkit loop until `/bye` or Ctrl+D."""
    from prompt_toolkit import PromptSession
    from prompt_toolkit.application import run_in_terminal
    from prompt_toolkit.document import Document
    from prompt_toolkit.formatted_text import FormattedText
    from prompt_toolkit.history import FileHistory, History, InMemoryHistory
    from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

    chat = Chat(client, opts)
    disabled = history_disabled()

    class _ToggleHistory(FileHistory):
        def store_string(self, string: str) -> None:
            if chat.history_enabled:
                super().store_string(string)

    history: History
    if disabled:
        history = InMemoryHistory()
        chat.history_enabled = False
    else:
        path = history_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            history = _ToggleHistory(str(path))
        except OSError:
            history = InMemoryHistory()

    bindings = KeyBindings()
    interrupted_text: list[str] = []

    @bindings.add("c-c")
    def _(event: KeyPressEvent) -> None:
        interrupted_text.append(event.current_buffer.text)
        event.app.exit(exception=KeyboardInterrupt())

    @bindings.add("c-g")
    def _(event: KeyPressEvent) -> None:
        buffer = event.current_buffer

        def edit() -> str | None:
            try:
                return edit_in_editor(buffer.text)
            except EditorError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return None

        async def edit_then_prefill() -> None:
            text = await run_in_terminal(edit, in_executor=True)
            if text is not None:  # the edited text waits at the prompt, as Ollama's prefill
                text = text if text.strip() else ""
                buffer.document = Document(text, len(text))

        event.app.create_background_task(edit_then_prefill())

    session: PromptSession[str] = PromptSession(history=history, key_bindings=bindings)
    while True:
        placeholder = ALT_PLACEHOLDER if chat.use_alt_prompt else PLACEHOLDER
        try:
            line = await session.prompt_async(
                chat.prompt, placeholder=FormattedText([("fg:ansibrightblack", placeholder)])
            )
        except KeyboardInterrupt:
            chat.interrupt(interrupted_text.pop() if interrupted_text else "")
            continue
        except EOFError:
            print()
            return
        if await chat.handle_line(line) is Action.EXIT:
            return
