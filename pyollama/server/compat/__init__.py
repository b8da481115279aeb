"""The OpenAI, OpenAI Responses and Anthropic dialects as translations to and from Ollama's own API.

Ollama answers `/v1/chat/completions`, `/v1/completions`, `/v1/embeddings`, `/v1/responses` and
`/v1/messages` by translating each body into an `/api/chat`, `/api/generate` or `/api/embed`
request (its middleware/openai.go, middleware/anthropic.go, openai/*.go, anthropic/anthropic.go) and
each answer back. This package is that translation and nothing else: pure functions and one stream
writer class per dialect, with no aiohttp, scheduler or runner, so every dialect reaches the same
planner and the Modelfile's TEMPLATE, SYSTEM, MESSAGEs and PARAMETERs apply to all of them.

- `openai`: chat completions, legacy completions and embeddings.
- `responses`: the stateless subset of the Responses API.
- `anthropic`: Messages and count_tokens.
- `common`: error bodies, Go-compatible decoding helpers and the pieces the dialects share.

Request translators take the raw body and return the Ollama request plus what the planner needs
besides it (the `ToolChoice`, the dialect's sampling defaults to layer *under* the Modelfile, stream
settings). Answers are built from the runner's `Chunk`s: non-streamed bodies from `collect(chunks)`,
streamed ones by feeding each chunk to a writer that returns the SSE bytes to send.
"""
