"""Go's formats and parsers as Ollama uses them: the one home for "as Go prints it".

Ollama's bytes on disk (manifests, config and params blobs), on the wire (timestamps, error
wording) and in prompts (template values) come from Go's standard library, so matching them byte
for byte means matching Go: `strconv` (quoting, float formatting, ParseBool/ParseInt/ParseFloat,
float32 rounding), `strings` (unicode.IsSpace, TrimSpace, Fields), `fmt` verbs (`%v`, `%#v`, `%T`),
`encoding/json` (marshalling, and `json.Unmarshal` into `any` with Go's numbers and its scanner's
error messages in `jsonscan`), `encoding/base64` decoding with Go's errors, `time` (RFC 3339 with
nanoseconds, durations), `net` address rules, and Ollama's own `format.HumanNumber`. Every other
package imports these from here; nothing here imports the rest of pyollama.
"""
