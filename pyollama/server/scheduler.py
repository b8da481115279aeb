"""Which models are resident, who may use them, and when they go away.

One `Scheduler` per app. Requests call `async with scheduler.use(request) as lease:`; the scheduler
loads the model on first use through the injected `RunnerFactory` (one load at a time, shared by
every request that asked for it meanwhile), reloads it only when load-time options change, evicts
idle models first when the resident limit or free memory says so, hands out one of the model's
parallel slots, and after the last user starts the keep_alive timer. Every request still waiting for
a model or a slot counts against `max_queue` (unlike Ollama, also for loaded models); past it the
answer is 503. Cancelling the awaiting task (client gone) leaves the queue at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import math
import os
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from pyollama.config import DEFAULT_NUM_PARALLEL
from pyollama.errors import ModelLoadError, ServerBusy
from pyollama.go.time import rfc3339
from pyollama.runner.base import Runner, RunnerFactory
from pyollama.runner.types import LoadOptions
from pyollama.server.schemas import ModelDetails, ProcessModel

log = logging.getLogger("pyollama.server.scheduler")

QUEUE_FULL = "server busy, please try again.  maximum pending requests exceeded"
_MAX_DURATION_NS = 9_223_372_036_854_775_807  # Go's time.Duration cap: "forever" lands in 2262


def _forever(keep_alive: float) -> bool:
    """keep_alive < 0 is stored as inf; a finite one past Go's cap is forever too (no timer)."""
    return math.isinf(keep_alive) or keep_alive * 1e9 >= _MAX_DURATION_NS


MEMORY_FRACTION = 0.8  # like Ollama: a new model must fit in 80 % of free memory
LOAD_GRACE = 1.0  # seconds a just-loaded model waits for its first user when keep_alive is 0

_KV_BYTES = {
    "f16": 2.0,
    "f32": 4.0,
    "bf16": 2.0,
    "q8_0": 34 / 32,
    "q4_0": 18 / 32,
    "q4_1": 20 / 32,
    "q5_0": 22 / 32,
    "q5_1": 24 / 32,
    "iq4_nl": 18 / 32,
}


def read_available_memory(path: str = "/proc/meminfo") -> int:
    """MemAvailable in bytes (0 when unknown, which disables the memory check)."""
    try:
        with open(path, encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def kv_cache_bytes(kv: dict[str, Any], n_ctx: int, cache_type: str = "f16") -> int:
    """Ollama's KV estimate: 2 (K and V) x layers x kv_heads x head_dim x context x bytes/element."""
    arch = str(kv.get("general.architecture", ""))

    def get(name: str, default: int = 0) -> int:
        value = kv.get(f"{arch}.{name}", default)
        if isinstance(value, list):  # per-layer arrays (e.g. head_count_kv): take the largest
            value = max(value) if value else default
        try:
            return int(value)
        except (TypeError, ValueError):
            return default

    layers = get("block_count")
    heads = get("attention.head_count", 1) or 1
    kv_heads = get("attention.head_count_kv", heads) or heads
    head_dim = get("attention.key_length") or (get("embedding_length") // heads)
    return int(2 * layers * kv_heads * head_dim * n_ctx * _KV_BYTES.get(cache_type, 2.0))


@dataclass
class LoadRequest:
    """What a route asks the scheduler for (already resolved from the store)."""

    name: str  # the model's display name, shown by /api/ps
    model_path: str
    options: LoadOptions  # num_parallel == 0 means "auto" (DEFAULT_NUM_PARALLEL if it fits, else 1)
    keep_alive: float | None = None  # seconds; None keeps the model's current value; inf = forever
    digest: str = ""
    details: ModelDetails = field(default_factory=ModelDetails)
    kv: dict[str, Any] = field(default_factory=dict)  # GGUF header, for the KV cache estimate
    file_size: int = -1  # -1: stat model_path


@dataclass
class Loaded:
    key: str
    name: str
    runner: Runner
    options: LoadOptions
    digest: str
    details: ModelDetails
    size: int
    keep_alive: float
    slots: asyncio.Semaphore
    refcount: int = 0
    expires_ns: int = 0
    timer: asyncio.TimerHandle | None = None
    stale: bool = False  # a reload with other load options is waiting for it to go idle

    @property
    def context_length(self) -> int:
        return self.runner.metadata.slot_context or self.options.num_ctx


@dataclass
class Lease:
    runner: Runner
    model: Loaded
    load_duration: int  # ns spent waiting for the model (Ollama's load_duration)


def _matches(loaded: LoadOptions, wanted: LoadOptions) -> bool:
    if wanted.num_parallel == 0:
        wanted = replace_parallel(wanted, loaded.num_parallel)
    return loaded == wanted


def replace_parallel(options: LoadOptions, n: int) -> LoadOptions:
    return msgspec.structs.replace(options, num_parallel=n)


class Scheduler:
    def __init__(
        self,
        factory: RunnerFactory,
        *,
        max_loaded: int = 3,
        max_queue: int = 512,
        default_keep_alive: float = 300.0,
        load_timeout: float = 300.0,
        free_memory: Callable[[], int] = read_available_memory,
        auto_parallel: int = DEFAULT_NUM_PARALLEL,
    ) -> None:
        self.factory = factory
        self.max_loaded = max(max_loaded, 1)
        self.max_queue = max_queue
        self.default_keep_alive = default_keep_alive
        self.load_timeout = load_timeout
        self.free_memory = free_memory
        self.auto_parallel = max(auto_parallel, 1)
        self._loaded: dict[str, Loaded] = {}
        self._loading: dict[str, asyncio.Future[Loaded]] = {}
        # what is being loaded right now, as /api/ps shows it: (request, options, estimated size)
        self._in_load: dict[str, tuple[LoadRequest, LoadOptions, int]] = {}
        self._wanted: Counter[str] = Counter()
        self._load_lock = asyncio.Lock()
        self._idle = asyncio.Event()
        self._pending = 0
        self._closing: set[asyncio.Task[None]] = set()
        self._closed = False

    # --- public ------------------------------------------------------------------------------------

    @property
    def pending(self) -> int:
        return self._pending

    def loaded(self) -> list[Loaded]:
        return list(self._loaded.values())

    def get_loaded(self, model_path: str) -> Loaded | None:
        return self._loaded.get(model_path)

    @contextlib.asynccontextmanager
    async def use(self, request: LoadRequest) -> AsyncIterator[Lease]:
        """Hold one slot of the model for the duration of the block."""
        if self._closed:
            raise ServerBusy("server is shutting down")
        if self._pending >= self.max_queue:
            raise ServerBusy(QUEUE_FULL)
        self._pending += 1
        t0 = time.perf_counter_ns()
        lm: Loaded | None = None
        try:
            lm = await self._attach(request)
            await lm.slots.acquire()
        except BaseException:
            if lm is not None:
                self._detach(lm)
            raise
        finally:
            self._pending -= 1
        try:
            yield Lease(runner=lm.runner, model=lm, load_duration=time.perf_counter_ns() - t0)
        finally:
            lm.slots.release()
            self._detach(lm)

    def expire(self, model_path: str) -> bool:
        """Unload-only request: drop the model now, or as soon as its current users finish."""
        lm = self._loaded.get(model_path)
        if lm is None:
            return False
        lm.keep_alive = 0.0
        if lm.refcount == 0:
            self._retire(lm)
        return True

    async def close(self) -> None:
        """Shutdown: refuse new requests, unload everything, wait for the runners to close."""
        self._closed = True
        for lm in list(self._loaded.values()):
            self._retire(lm)
        for fut in list(self._loading.values()):
            fut.cancel()
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    def ps(self) -> list[ProcessModel]:
        """Loaded models, and those still loading (expiring at now + keep_alive, as Ollama shows
        them), latest expiry first."""
        now = time.time_ns()
        rows: list[tuple[int, str, int, str, ModelDetails, int, int]] = []
        for lm in self._loaded.values():
            if lm.timer is not None or lm.keep_alive == 0:
                expires = lm.expires_ns
            else:
                expires = self._expiry(now, lm.keep_alive)
            vram = lm.runner.metadata.size_vram  # device memory, as the engine counted it
            size = max(lm.size, vram)
            rows.append((expires, lm.name, size, lm.digest, lm.details, lm.context_length, vram))
        for key, (request, options, size) in self._in_load.items():
            if key not in self._loaded:
                keep_alive = request.keep_alive if request.keep_alive is not None else self.default_keep_alive
                expires = self._expiry(now, keep_alive)
                row = (expires, request.name, size, request.digest, request.details, options.num_ctx, 0)
                rows.append(row)
        rows.sort(key=lambda r: r[0], reverse=True)
        return [
            ProcessModel(
                name=name,
                model=name,
                size=size,
                digest=digest,
                details=details,
                expires_at=rfc3339(expires, utc=False),
                size_vram=vram,
                context_length=ctx,
            )
            for expires, name, size, digest, details, ctx, vram in rows
        ]

    # --- internals ---------------------------------------------------------------------------------

    @staticmethod
    def _expiry(now_ns: int, keep_alive: float) -> int:
        """When a model expires; forever, or any duration past Go's MaxInt64 ns, is capped there."""
        if _forever(keep_alive):
            return now_ns + _MAX_DURATION_NS
        return now_ns + int(keep_alive * 1e9)

    async def _attach(self, request: LoadRequest) -> Loaded:
        key = request.model_path
        self._wanted[key] += 1
        try:
            while True:
                lm = self._loaded.get(key)
                if lm is not None and not lm.stale and _matches(lm.options, request.options):
                    lm.refcount += 1
                    if request.keep_alive is not None:
                        # the latest request's value wins when it is scheduled, as in Ollama (so a
                        # request finishing after `ollama stop` does not undo the stop)
                        lm.keep_alive = request.keep_alive
                    if lm.timer is not None:
                        lm.timer.cancel()
                        lm.timer = None
                    lm.name = request.name or lm.name
                    return lm
                fut = self._loading.get(key)
                if fut is None:
                    if lm is not None:
                        # a reload with other options replaces this copy: from now on it is only
                        # finishing its current requests, and may be evicted as soon as it is idle
                        lm.stale = True
                    fut = asyncio.ensure_future(self._load(request))
                    self._loading[key] = fut
                    fut.add_done_callback(functools.partial(self._forget_load, key))
                    self._notify_idle()  # a load waiting for room may now evict the copy this replaces
                await asyncio.shield(fut)
        finally:
            self._wanted[key] -= 1
            if self._wanted[key] <= 0:
                del self._wanted[key]

    def _forget_load(self, key: str, fut: asyncio.Future[Loaded]) -> None:
        if self._loading.get(key) is fut:
            del self._loading[key]
        if not fut.cancelled():
            fut.exception()  # retrieved: every waiter sees it through shield

    def _resolve_parallel(self, request: LoadRequest, file_size: int) -> LoadOptions:
        opts = request.options
        if opts.num_parallel > 0:
            return opts
        n = self.auto_parallel
        free = self.free_memory()
        if free > 0:
            while n > 1:
                need = file_size + kv_cache_bytes(request.kv, opts.num_ctx * n, opts.kv_cache_type)
                if need <= free * MEMORY_FRACTION:
                    break
                n //= 2
        return replace_parallel(opts, max(n, 1))

    async def _load(self, request: LoadRequest) -> Loaded:
        key = request.model_path
        async with self._load_lock:
            if self._closed:
                raise ServerBusy("server is shutting down")
            old = self._loaded.get(key)
            if old is not None:
                if not old.stale and _matches(old.options, request.options):
                    return old  # someone loaded it while we waited for the lock
                old.stale = True
                while old.refcount > 0:
                    await self._wait_idle()
                if self._loaded.get(key) is old:
                    self._retire(old)
                await self._drain_closing()  # never two copies of one model in memory
            file_size = request.file_size
            if file_size < 0:
                try:
                    file_size = os.path.getsize(request.model_path)
                except OSError:
                    file_size = 0
            options = self._resolve_parallel(request, file_size)
            size = file_size + kv_cache_bytes(
                request.kv, options.num_ctx * options.num_parallel, options.kv_cache_type
            )
            await self._make_room(key, size)
            log.info("loading model %s (%s) %s", request.name, key, options)
            self._in_load[key] = (request, options, size)
            try:
                if math.isinf(self.load_timeout):
                    runner = await self.factory(request.model_path, options)
                else:
                    runner = await asyncio.wait_for(
                        self.factory(request.model_path, options), self.load_timeout
                    )
            except TimeoutError:
                raise ModelLoadError("timed out waiting for llama runner to start") from None
            finally:
                self._in_load.pop(key, None)
            size = max(size, runner.metadata.size + (size - file_size))
            keep_alive = request.keep_alive if request.keep_alive is not None else self.default_keep_alive
            lm = Loaded(
                key=key,
                name=request.name,
                runner=runner,
                options=options,
                digest=request.digest,
                details=request.details,
                size=size,
                keep_alive=keep_alive,
                slots=asyncio.Semaphore(max(options.num_parallel, 1)),
                expires_ns=self._expiry(time.time_ns(), keep_alive),
            )
            if self._closed:
                await runner.close()
                raise ServerBusy("server is shutting down")
            self._loaded[key] = lm
            runner.on_exit(functools.partial(self._runner_died, lm))
            # if every waiter left during the load, nobody will detach: expire it anyway (with a
            # grace second, so that waiters about to attach are not raced by keep_alive 0)
            self._arm_timer(lm, keep_alive if keep_alive > 0 else LOAD_GRACE)
            return lm

    async def _make_room(self, key: str, need: int) -> None:
        """Evict idle models (earliest expiry first) until the new one fits by count and memory."""
        while True:
            others = [lm for k, lm in self._loaded.items() if k != key]
            if not others:
                return
            too_many = len(others) >= self.max_loaded
            # the memory is asked only when the count allows another (with RPC servers asking
            # waits on each busy one's timeout)
            free = 0 if too_many else self.free_memory()
            no_memory = free > 0 and need > free * MEMORY_FRACTION
            if not too_many and not no_memory:
                return
            # idle and not wanted; or idle and being replaced by a reload with other options (its
            # waiters wait for that load, which may be the one waiting here for room)
            idle = [lm for lm in others if lm.refcount == 0 and (self._wanted[lm.key] == 0 or lm.stale)]
            if idle:
                # the one that would expire first; pinned ones (keep_alive < 0: no timer) last
                victim = min(idle, key=lambda lm: (lm.expires_ns, lm.key))
                log.info("evicting %s to make room", victim.name)
                self._retire(victim)
                await self._drain_closing()
                continue
            await self._wait_idle()

    async def _drain_closing(self) -> None:
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)

    async def _wait_idle(self) -> None:
        await self._idle.wait()

    def _notify_idle(self) -> None:
        self._idle.set()
        self._idle = asyncio.Event()

    def _detach(self, lm: Loaded) -> None:
        lm.refcount -= 1
        if lm.refcount > 0:
            return
        if self._loaded.get(lm.key) is not lm:
            return
        if lm.keep_alive == 0 or lm.stale or self._closed:
            self._retire(lm)
        else:
            self._arm_timer(lm, lm.keep_alive)
        self._notify_idle()

    def _arm_timer(self, lm: Loaded, delay: float) -> None:
        """Unload `lm` after `delay` seconds unless someone attaches first (no timer: forever)."""
        if lm.timer is not None:
            lm.timer.cancel()
            lm.timer = None
        lm.expires_ns = self._expiry(time.time_ns(), delay)
        if not _forever(delay):
            lm.timer = asyncio.get_running_loop().call_later(delay, self._on_timer, lm)

    def _on_timer(self, lm: Loaded) -> None:
        lm.timer = None
        if lm.refcount == 0 and self._loaded.get(lm.key) is lm:
            log.info("keep_alive expired for %s", lm.name)
            self._retire(lm)

    def _runner_died(self, lm: Loaded, message: str) -> None:
        """A child runner crashed: its requests already end with the crash error; forget the model
        now (it must not stay "loaded"), so that the next request loads it again."""
        log.warning("%s: %s; it is loaded again on its next request", lm.name, message)
        self._retire(lm)

    def _retire(self, lm: Loaded) -> None:
        """Take the model out of service now; its runner closes in the background."""
        if self._loaded.get(lm.key) is lm:
            del self._loaded[lm.key]
        if lm.timer is not None:
            lm.timer.cancel()
            lm.timer = None
        task = asyncio.ensure_future(self._close_runner(lm))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)
        self._notify_idle()

    @staticmethod
    async def _close_runner(lm: Loaded) -> None:
        try:
            await lm.runner.close()
        except Exception:
            log.exception("closing runner for %s failed", lm.name)
