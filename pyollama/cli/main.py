"""`pyollama` entry point: Ollama's command set and flags on argparse, each a REST client call."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp

from pyollama import __version__
from pyollama.cli.client import Client, ResponseError, ServerUnreachable, os_error_text
from pyollama.cli.create import CreatePlan, file_digest, parse, plan_create, read_modelfile
from pyollama.cli.format import list_table, ps_table, show_info
from pyollama.cli.rpc_server import add_parser as add_rpc_server_parser
from pyollama.cli.run import RunOptions, cancellable, load_model, parse_think, stream_generate
from pyollama.errors import PyollamaError
from pyollama.go.time import parse_duration

if TYPE_CHECKING:  # prompt_toolkit (~6 MiB resident) only for commands that draw bars, not in `serve`
    from pyollama.cli.progress import Progress

Handler = Callable[[argparse.Namespace], Coroutine[Any, Any, int]]


class _FlagsAnywhere(argparse.ArgumentParser):
    """A subcommand parser that takes flags anywhere among its positionals, as cobra does.

    Plain argparse stops a `nargs="*"` positional at the first flag, so `run MODEL --verbose hi`
    would leave `hi` unrecognized; `parse_known_intermixed_args` collects it as a prompt word.
    """

    _intermixing = False

    def parse_known_args(  # type: ignore[override]  # one signature for typeshed's overloads
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if self._intermixing:  # the intermixed parse calls back in here for each of its passes
            return super().parse_known_args(args, namespace)
        self._intermixing = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def _fmt_help(prog: str) -> argparse.HelpFormatter:
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def _serve_epilog() -> str:
    try:
        from pyollama.server.serve import serve_help_text
    except ImportError:
        try:
            from pyollama.config import help_table
        except ImportError:
            return ""
        return help_table()
    return str(serve_help_text())


def build_parser(serve_epilog: bool = True) -> argparse.ArgumentParser:
    """The argparse tree; `serve_epilog=False` skips importing the daemon for its env-var help."""
    parser = argparse.ArgumentParser(
        prog="pyollama",
        description="Large language model runner",
        formatter_class=_fmt_help,
    )
    parser.add_argument("-v", "--version", action="store_true", help="Show version information")
    sub = parser.add_subparsers(
        dest="command", metavar="COMMAND", title="Available Commands", parser_class=_FlagsAnywhere
    )

    p = sub.add_parser(
        "serve",
        aliases=["start"],
        help="Start pyollama",
        description="Start pyollama",
        epilog=_serve_epilog(),
        formatter_class=_fmt_help,
    )
    p.add_argument(
        "--rpc",
        default=None,
        metavar="HOST:PORT,...",
        help="Split models' layers across these `pyollama rpc-server`s (as OLLAMA_RPC_SERVERS; "
        "no authentication: trusted networks only)",
    )
    p.set_defaults(handler=None)

    add_rpc_server_parser(sub, _fmt_help)

    p = sub.add_parser(
        "create",
        help="Create a model",
        description="Create a model from a Modelfile",
        formatter_class=_fmt_help,
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument(
        "-f", "--file", default=None, help='Name of the Modelfile (default "Modelfile"; without one: FROM .)'
    )
    p.add_argument("-q", "--quantize", default="", help="Quantize model to this level (e.g. q4_K_M)")
    p.add_argument("--draft-quantize", default="", help="Quantize draft model to this level")
    p.set_defaults(handler=cmd_create)

    p = sub.add_parser(
        "show",
        help="Show information for a model",
        description="Show information for a model",
        formatter_class=_fmt_help,
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("--license", action="store_true", help="Show license of a model")
    p.add_argument("--modelfile", action="store_true", help="Show Modelfile of a model")
    p.add_argument("--parameters", action="store_true", help="Show parameters of a model")
    p.add_argument("--template", action="store_true", help="Show template of a model")
    p.add_argument("--system", action="store_true", help="Show system message of a model")
    p.add_argument("-v", "--verbose", action="store_true", help="Show detailed model information")
    p.set_defaults(handler=cmd_show)

    p = sub.add_parser(
        "run",
        help="Run a model",
        formatter_class=_fmt_help,
        description="Run a model: a one-shot answer for PROMPT or piped stdin, "
        "else an interactive chat (/? for help inside)",
    )
    p.add_argument("model", metavar="MODEL")
    p.add_argument("prompt", metavar="PROMPT", nargs="*")
    p.add_argument("--keepalive", default="", help="Duration to keep a model loaded (e.g. 5m)")
    p.add_argument("--verbose", action="store_true", help="Show timings for response")
    p.add_argument("--insecure", action="store_true", help="Use an insecure registry")
    p.add_argument(
        "--nowordwrap", action="store_true", help="Don't wrap words to the next line automatically"
    )
    p.add_argument("--format", default="", help="Response format (e.g. json)")
    p.add_argument(
        "--think",
        default=None,
        metavar="[=LEVEL]",
        help="Enable thinking mode: true/false or high/medium/low/max for supported models "
        "(bare --think means true)",
    )
    p.add_argument("--hidethinking", action="store_true", help="Hide thinking output (if provided)")
    p.set_defaults(handler=cmd_run)

    p = sub.add_parser(
        "stop", help="Stop a running model", description="Stop a running model", formatter_class=_fmt_help
    )
    p.add_argument("model", metavar="MODEL")
    p.set_defaults(handler=cmd_stop)

    for name, verb in (("pull", "Pull a model from a registry"), ("push", "Push a model to a registry")):
        p = sub.add_parser(name, help=verb, description=verb, formatter_class=_fmt_help)
        p.add_argument("model", metavar="MODEL")
        p.add_argument("--insecure", action="store_true", help="Use an insecure registry")
        p.set_defaults(handler=cmd_pull if name == "pull" else cmd_push)

    p = sub.add_parser(
        "list", aliases=["ls"], help="List models", description="List models", formatter_class=_fmt_help
    )
    p.add_argument("prefix", metavar="PREFIX", nargs="?", default="", help="Only names starting with this")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser(
        "ps", help="List running models", description="List running models", formatter_class=_fmt_help
    )
    p.add_argument("prefix", metavar="PREFIX", nargs="?", default="", help="Only names starting with this")
    p.set_defaults(handler=cmd_ps)

    p = sub.add_parser("cp", help="Copy a model", description="Copy a model", formatter_class=_fmt_help)
    p.add_argument("source", metavar="SOURCE")
    p.add_argument("destination", metavar="DESTINATION")
    p.set_defaults(handler=cmd_cp)

    p = sub.add_parser("rm", help="Remove a model", description="Remove a model", formatter_class=_fmt_help)
    p.add_argument("models", metavar="MODEL", nargs="+")
    p.set_defaults(handler=cmd_rm)

    p = sub.add_parser(
        "export",
        help="Write models to a tar archive",
        description="Write models (manifests and blobs, in Ollama's store layout) to a tar archive",
        formatter_class=_fmt_help,
    )
    p.add_argument("models", metavar="MODEL", nargs="+")
    p.add_argument("-o", "--output", required=True, help="Archive to write ('-' for stdout)")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser(
        "import",
        help="Install models from a tar archive",
        description="Install the models of an archive written by export (every digest is verified)",
        formatter_class=_fmt_help,
    )
    p.add_argument("archive", metavar="ARCHIVE")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("help", help="Help about any command", description="Help about any command")
    p.add_argument("topic", metavar="COMMAND", nargs="?")
    p.set_defaults(handler=None)
    return parser


def _preprocess(argv: list[str]) -> list[str]:
    """A bare `--think` means true (cobra's NoOptDefVal); argparse would eat the next word.

    Words after `--` are arguments, never flags, so they are left as typed.
    """
    end = argv.index("--") if "--" in argv else len(argv)
    return ["--think=true" if a == "--think" else a for a in argv[:end]] + argv[end:]


# --- commands --------------------------------------------------------------------------------------


async def cmd_version(args: argparse.Namespace) -> int:
    async with Client() as client:
        try:
            server = await client.version()
        except (ServerUnreachable, ResponseError):
            print("Warning: could not connect to a running pyollama instance")
            print(f"Warning: client version is {__version__}")
            return 0
    print(f"pyollama version is {server}")
    if server != __version__:
        print(f"Warning: client version is {__version__}")
    return 0


async def cmd_list(args: argparse.Namespace) -> int:
    async with Client() as client:
        sys.stdout.write(list_table(await client.list(), args.prefix))
    return 0


async def cmd_ps(args: argparse.Namespace) -> int:
    async with Client() as client:
        sys.stdout.write(ps_table(await client.ps(), args.prefix))
    return 0


async def cmd_cp(args: argparse.Namespace) -> int:
    async with Client() as client:
        await client.copy(args.source, args.destination)
    print(f"copied '{args.source}' to '{args.destination}'")
    return 0


async def _unload(client: Client, model: str) -> None:
    async for _ in client.generate({"model": model, "prompt": "", "keep_alive": 0, "stream": True}):
        pass


async def cmd_stop(args: argparse.Namespace) -> int:
    async with Client() as client:
        try:
            await _unload(client, args.model)
        except ResponseError as exc:
            if "not found" in exc.message:
                raise ResponseError(f'couldn\'t find model "{args.model}" to stop', status=404) from exc
            raise
    return 0


async def cmd_rm(args: argparse.Namespace) -> int:
    async with Client() as client:
        for model in args.models:
            try:
                await _unload(client, model)
            except ResponseError as exc:
                if "not found" not in exc.message.lower():
                    print(f"Warning: unable to stop model '{model}'", file=sys.stderr)
            await client.delete(model)
            print(f"deleted '{model}'")
    return 0


async def cmd_show(args: argparse.Namespace) -> int:
    flags = [f for f in ("license", "modelfile", "parameters", "system", "template") if getattr(args, f)]
    if len(flags) > 1:
        raise PyollamaError(
            "only one of '--license', '--modelfile', '--parameters', '--system', or '--template' "
            "can be specified",
            status=400,
        )
    async with Client() as client:
        resp = await client.show(args.model, verbose=args.verbose)
    if flags:
        value = resp.get(flags[0]) or ""
        if isinstance(value, list):
            value = "\n".join(value)
        if flags[0] in ("system", "template"):
            sys.stdout.write(str(value))
        else:
            print(value)
        return 0
    sys.stdout.write(show_info(resp, args.verbose))
    return 0


def make_progress() -> Progress:
    from pyollama.cli.progress import make_progress as make

    return make()


async def _transfer(stream: Any, verb: str) -> None:
    progress = make_progress()
    try:
        async for resp in stream:
            progress.update(resp, verb)
    finally:
        progress.close()


async def pull_model(client: Client, model: str, insecure: bool) -> None:
    await _transfer(client.pull(model, insecure=insecure), "pulling")


async def cmd_pull(args: argparse.Namespace) -> int:
    async with Client() as client:
        await pull_model(client, args.model, args.insecure)
    return 0


ERR_PUSH_UNAUTHORIZED = (
    "you are not authorized to push to this namespace, create the model under a namespace you own"
)


def push_destination(model: str) -> str:
    """Where a pushed model can be found: its page on ollama.com, else its full name."""
    from pyollama.store.names import ModelName

    name = ModelName.try_parse(model)
    if name is None:
        return model
    if name.host.lower().endswith((".ollama.ai", ".ollama.com")):
        return "https://ollama.com/" + name.display_shortest().removesuffix(":latest")
    return str(name)


async def cmd_push(args: argparse.Namespace) -> int:
    async with Client() as client:
        try:
            await _transfer(client.push(args.model, insecure=args.insecure), "pushing")
        except ResponseError as exc:
            reason = exc.message.lower()
            if "access denied" in reason or "unauthorized" in reason:
                raise ResponseError(ERR_PUSH_UNAUTHORIZED, status=exc.status) from exc
            raise
    print(f"\nYou can find your model at:\n\n\t{push_destination(args.model)}")
    return 0


async def upload_files(client: Client, files: dict[str, Path], progress: Progress) -> dict[str, str]:
    """Hash each file and upload it unless the server has it; relative name -> digest."""
    out: dict[str, str] = {}
    for rel, path in files.items():
        digest = file_digest(path)
        out[rel] = digest
        size = path.stat().st_size
        label = f"copying file {digest}"
        if await client.blob_exists(digest):
            progress.layer(digest, label, size, size)
            continue
        progress.layer(digest, label, size, 0)

        def sent(n: int, d: str = digest, lb: str = label, s: int = size) -> None:
            progress.layer(d, lb, s, n)

        await client.upload_blob(digest, path, sent)
        progress.layer(digest, label, size, size)
    return out


def check_server_supports(plan: CreatePlan, caps: dict[str, Any] | None) -> None:
    """Refuse, before hashing or uploading anything, what the server said its create cannot do
    (`caps` None: a server without the probe, which is assumed to take everything)."""
    if caps is None:
        return
    every = [*plan.files, *plan.adapters, *plan.drafts]
    if not caps.get("safetensors", True) and any(f.endswith(".safetensors") for f in every):
        raise PyollamaError(
            "this server cannot import safetensors models; convert the model to GGUF first", status=400
        )
    if plan.drafts and not caps.get("draft", True):
        raise PyollamaError("this server does not support DRAFT models", status=400)
    types = caps.get("quantize")
    for key in ("quantize", "draft_quantize"):
        asked = str(plan.request.get(key) or "")
        if asked and isinstance(types, list) and asked.upper() not in types:
            raise PyollamaError(
                f"unsupported quantization type {asked.upper()} - this server accepts {', '.join(types)}",
                status=400,
            )


async def run_create(client: Client, plan: CreatePlan, progress: Progress) -> None:
    progress.status("gathering model components")
    check_server_supports(plan, await client.create_capabilities())
    req = dict(plan.request)
    if plan.files:
        req["files"] = await upload_files(client, plan.files, progress)
    if plan.adapters:
        req["adapters"] = await upload_files(client, plan.adapters, progress)
    if plan.drafts:
        req["draft_files"] = await upload_files(client, plan.drafts, progress)
    async for resp in client.create(req):
        progress.update(resp, "creating")


async def cmd_create(args: argparse.Namespace) -> int:
    from pyollama.store.names import ModelName

    if ModelName.try_parse(args.model) is None:  # before any hashing or uploading
        raise PyollamaError(f"invalid model name: {args.model}", status=400)
    text, base = read_modelfile(Path(args.file) if args.file else None)
    plan = plan_create(args.model, parse(text), base)
    if args.quantize:
        plan.request["quantize"] = args.quantize
    if args.draft_quantize:
        if not plan.drafts:
            raise PyollamaError("--draft-quantize requires a DRAFT model", status=400)
        plan.request["draft_quantize"] = args.draft_quantize
    for warning in plan.warnings:
        print(warning)
    async with Client() as client:
        await client.heartbeat()
        progress = make_progress()
        try:
            await run_create(client, plan, progress)
        finally:
            progress.close()
    return 0


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


async def cmd_run(args: argparse.Namespace) -> int:
    opts = RunOptions(
        model=args.model,
        format=args.format,
        verbose=args.verbose,
        hide_thinking=args.hidethinking,
        insecure=args.insecure,
        wordwrap=not args.nowordwrap,
    )
    if args.keepalive:
        try:
            opts.keep_alive = parse_duration(args.keepalive)
        except ValueError as exc:
            raise PyollamaError(str(exc), status=400) from exc
    if args.think is not None:
        try:
            opts.think = parse_think(args.think)
        except ValueError as exc:
            raise PyollamaError(str(exc), status=400) from exc
    prompts = list(args.prompt)
    interactive = True
    if not _is_tty(sys.stdin):
        piped = sys.stdin.read()
        if piped:  # Ollama prepends even empty input, leaving a stray leading space
            prompts = [piped, *prompts]
        opts.wordwrap = False
        interactive = False
    opts.prompt = " ".join(prompts)
    if prompts or not _is_tty(sys.stdout):  # a redirected stdout gets the one-shot answer only
        interactive = False

    async with Client() as client:
        try:
            info = await client.show(opts.model)
        except ResponseError as exc:
            if exc.status != 404:
                raise
            await pull_model(client, opts.model, opts.insecure)
            info = await client.show(opts.model)
        opts.parent_model = str((info.get("details") or {}).get("parent_model") or "")
        if not interactive:
            interrupted, _ = await cancellable(stream_generate(client, opts))
            if interrupted:
                print()
                return 130
            return 0
        from pyollama.cli.repl import interactive as chat_loop
        from pyollama.cli.run import ResponseWriter, wrap_width

        await load_model(client, opts)
        for msg in info.get("messages") or []:
            if msg.get("role") == "user":
                print(f">>> {msg.get('content', '')}")
            elif msg.get("role") == "assistant":
                w = ResponseWriter(sys.stdout, wrap_width(opts, sys.stdout), True)
                w.add_content(str(msg.get("content", "")))
                w.finish()
                print("\n")
        await chat_loop(client, opts)
    return 0


async def cmd_export(args: argparse.Namespace) -> int:
    """The archive goes to a temp file beside the target, renamed only when complete."""
    async with Client() as client:
        if args.output == "-":
            await client.export(list(args.models), sys.stdout.buffer)
            sys.stdout.buffer.flush()
            return 0
        out = Path(args.output)
        tmp = out.with_name(f".{out.name}.partial")
        try:
            with open(tmp, "wb") as f:
                await client.export(list(args.models), f)
            os.replace(tmp, out)
        finally:
            tmp.unlink(missing_ok=True)
    return 0


async def cmd_import(args: argparse.Namespace) -> int:
    path = Path(args.archive)
    if not path.is_file():
        raise PyollamaError(f"open {path}: no such file or directory")
    async with Client() as client:
        await _transfer(client.import_archive(path), "importing")
    return 0


def _serve(rpc: str | None = None) -> int:
    try:
        from pyollama.config import Settings
        from pyollama.server.serve import run_server
    except ImportError as exc:
        raise PyollamaError(f"the pyollama daemon is not available: {exc}") from exc

    return int(run_server(serve_settings(Settings.from_env(), rpc)) or 0)


def serve_settings(settings: Any, rpc: str | None) -> Any:
    """`serve --rpc` over OLLAMA_RPC_SERVERS (the flag wins; an empty value turns RPC off)."""
    if rpc is None:
        return settings
    import dataclasses

    from pyollama.rpc import parse_servers

    try:
        servers = parse_servers(rpc)
    except ValueError as exc:
        raise PyollamaError(f"--rpc: {exc}") from exc
    return dataclasses.replace(settings, rpc_servers=servers)


def _fail(message: str) -> int:
    with contextlib.suppress(OSError):  # stdout may be what broke
        sys.stdout.flush()
    print(f"Error: {message}", file=sys.stderr)
    return 1


def main(argv: Sequence[str] | None = None) -> int:
    """Console script `pyollama`: exit 0 on success, 1 with one `Error: ...` line on failure."""
    argl = _preprocess(list(sys.argv[1:] if argv is None else argv))
    wants_serve_help = bool(argl) and argl[0] in ("serve", "start") and ("-h" in argl or "--help" in argl)
    parser = build_parser(serve_epilog=wants_serve_help)
    args = parser.parse_args(argl)
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if args.command is None:
            if args.version:
                return asyncio.run(cmd_version(args))
            parser.print_help()
            return 0
        if args.command == "help":
            if args.topic:
                parser.parse_args([args.topic, "--help"])
            parser.print_help()
            return 0
        if args.command in ("serve", "start"):
            return _serve(args.rpc)
        assert handler is not None
        return asyncio.run(handler(args))
    except PyollamaError as exc:
        return _fail(exc.message)
    except OSError as exc:  # local files and streams, timeouts: one line, not a traceback
        return _fail(os_error_text(exc))
    except aiohttp.ClientError as exc:  # any the client did not word itself
        return _fail(str(exc) or type(exc).__name__)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
