"""`python -m tests.registry.puller STORE MODEL`: a pull in its own process (the test kill -9s it)."""

from __future__ import annotations

import asyncio
import sys

from pyollama.registry import pull_model
from pyollama.registry.download import PrefixHasher
from pyollama.store import Store
from tests.registry.conftest import FAST


async def main(root: str, model: str) -> None:
    async for p in pull_model(Store(root), model, insecure=True, options=FAST):
        print(p.status, p.completed, p.total, flush=True)


if __name__ == "__main__":
    # checkpoint the sha256 often, so that a kill after a few MB leaves one for the resume to use
    PrefixHasher.STEP = PrefixHasher.CHECKPOINT_STEP = 1 << 20
    asyncio.run(main(sys.argv[1], sys.argv[2]))
