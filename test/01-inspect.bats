#!/usr/bin/env bats
# lmp-inspect: configs from files, the HuggingFace cache, the shipped
# configs and hub downloads (against a local server), expanded by the
# architecture templates; and the parameter counts of the shipped models.

load helper

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub"
	unset HF_HOME HF_TOKEN HF_ENDPOINT HF_HUB_OFFLINE
}

# params ID: the parameter count of a shipped model through the whole chain
params() {
	lmp-inspect "$1" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count
}

@test "Llama-2 parameter counts equal the official counts to the parameter" {
	# Official: the Hub's safetensors totals (API field safetensors.total):
	# 6,738,417,664 / 13,015,866,880 / 68,976,653,312.  Llama-2's checkpoints
	# also store each layer's rotary inv_freq buffer, 64 floats, which
	# model.num_parameters() and lmp do not count as parameters:
	[ "$(params meta-llama/Llama-2-7b-hf)" = $((6738417664 - 64 * 32)) ]
	[ "$(params meta-llama/Llama-2-13b-hf)" = $((13015866880 - 64 * 40)) ]
	[ "$(params meta-llama/Llama-2-70b-hf)" = $((68976653312 - 64 * 80)) ]
}

@test "Qwen2.5 and Qwen3 parameter counts equal the official counts" {
	# The Hub's safetensors totals; Qwen2.5-0.5B ties its head to the embedding.
	[ "$(params Qwen/Qwen2.5-7B)" = 7615616512 ]
	[ "$(params Qwen/Qwen2.5-0.5B)" = 494032768 ]
	[ "$(params Qwen/Qwen3-8B)" = 8190735360 ]
}

@test "Qwen2.5-7B and Qwen3-8B by hand: q, k and v biases; q and k norms" {
	# Qwen2.5-7B: V=152064, H=3584, I=18944, 28 layers, 28 heads and 4 KV heads
	# of 128: q H*3584 + 3584, k and v H*512 + 512 each, o 3584*H, MLP 3*H*I,
	# norms 2*H; untied head
	local V=152064 H=3584 I=18944
	[ "$(params Qwen/Qwen2.5-7B)" = $(( 2*V*H + 28 * (H*3584 + 3584 + 2*(H*512 + 512) + 3584*H + 3*H*I + 2*H) + H )) ]
	# Qwen3-8B: no biases; q_norm and k_norm add 2 x 128 weights per layer
	V=151936 H=4096 I=12288
	[ "$(params Qwen/Qwen3-8B)" = $(( 2*V*H + 36 * (2*H*4096 + 2*H*1024 + 3*H*I + 2*H + 2*128) + H )) ]
}

@test "Qwen2 use_sliding_window: the layers from max_window_layers on attend within the window" {
	# transformers' Qwen2Config: layer i is "sliding_attention" when
	# use_sliding_window, sliding_window is not None and i >= max_window_layers.
	# Qwen2.5-7B (28 layers, 28 heads and 4 KV heads of 128) with the window
	# on, 4096 wide, from layer 20: layers 0-19 full, 20-27 sliding
	jq '.use_sliding_window = true | .max_window_layers = 20 | .sliding_window = 4096' \
		"$CFG/Qwen/Qwen2.5-7B/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.layers[0].sub_layers[] | select(.name | startswith("layers")) | [.name, .repeat, .layers]]' <<<"$output")" = \
		'[["layers",20,{"start":0,"stop":20}],["layers(sliding)",8,{"start":20,"stop":28}]]' ]
	# the window moves no weight: the official count stands
	[ "$(params "$BATS_TEST_TMPDIR/config.json")" = 7615616512 ]
	local doc
	doc=$(lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate)
	# KV per token and layer: 4 KV heads x (128 + 128) x 2 bytes = 2048.  At
	# 8192 tokens a full layer keeps 8192, a sliding one 4095 (window - 1)
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 <<<"$doc" | jq .totals.state_bytes)" = $(( (20*8192 + 8*4095) * 2048 )) ]
	# a decode step at 8k context: a full layer's query meets 8192 keys, a
	# sliding one's 4095 kept + 1 new = 4096; per key 2 x 28 heads x (128 + 128)
	# for Q K^T and P V, and 6 x 28 for scale and softmax
	run lmp-eval --seq-len 1 --cache-len 8191 <<<"$doc"
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | .flops' <<<"$output")" = $(( 8192 * (2*28*256 + 6*28) )) ]
	[ "$(jq '.rows[] | select(.path == "model.layers(sliding).*.self_attn.sdpa") | .flops' <<<"$output")" = $(( 4096 * (2*28*256 + 6*28) )) ]
	[ "$(jq '.rows[] | select(.path == "model.layers(sliding).*.self_attn.sdpa") | .bytes.reads' <<<"$output")" = \
		$(( 28*128*2 + 4096 * 4*256*2 )) ]
	# a prefill of 8192 is given all its keys (dense scores, as for a full
	# layer: 8192 x 8192 pairs) and keeps 4095 tokens of the window
	run lmp-eval --seq-len 8192 <<<"$doc"
	[ "$(jq -c '.rows[] | select(.path == "model.layers(sliding).*.self_attn.sdpa") | [.flops, .state_bytes]' <<<"$output")" = \
		"[$(( 8192*8192 * (2*28*256 + 6*28) )),$(( 4095 * 2048 ))]" ]
	# a layer_types list is Qwen2Config's own pattern or refused
	jq '.layer_types = [range(28) | if . >= 20 then "sliding_attention" else "full_attention" end]' \
		"$BATS_TEST_TMPDIR/config.json" > "$BATS_TEST_TMPDIR/types.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/types.json" | jq -c '.layers[0].sub_layers[] | select(.name == "layers(sliding)") | .layers')" = '{"start":20,"stop":28}' ]
	jq '.layer_types[3] = "sliding_attention"' "$BATS_TEST_TMPDIR/types.json" > "$BATS_TEST_TMPDIR/odd.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/odd.json"
	assert_clean_failure lmp-inspect 'config field layer_types is not supported by the qwen2 template (entry 3 is "sliding_attention"'
	# max_window_layers at the layer count, or no window size: every layer full
	jq '.use_sliding_window = true' "$CFG/Qwen/Qwen2.5-7B/config.json" > "$BATS_TEST_TMPDIR/all.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/all.json" | jq -c '[.layers[0].sub_layers[] | select(.name | startswith("layers")) | [.name, .repeat]]')" = '[["layers",28]]' ]
	jq '.use_sliding_window = true | .max_window_layers = 0 | .sliding_window = null' "$CFG/Qwen/Qwen2.5-7B/config.json" > "$BATS_TEST_TMPDIR/none.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/none.json" | jq -c '[.layers[0].sub_layers[] | select(.name | startswith("layers")) | [.name, .repeat]]')" = '[["layers",28]]' ]
}

@test "Llama-3, 3.1 and 3.2 parameter counts equal the official counts" {
	# The Hub's safetensors totals of each repo (no buffers stored).
	[ "$(params meta-llama/Meta-Llama-3-8B)" = 8030261248 ]
	[ "$(params meta-llama/Meta-Llama-3-70B)" = 70553706496 ]
	[ "$(params meta-llama/Llama-3.1-8B)" = 8030261248 ]
	[ "$(params meta-llama/Llama-3.1-70B)" = 70553706496 ]
	[ "$(params meta-llama/Llama-3.1-405B)" = 405853388800 ]
	# tied embeddings: the head shares embed_tokens and is counted once
	[ "$(params meta-llama/Llama-3.2-1B)" = 1235814400 ]
	[ "$(params meta-llama/Llama-3.2-3B)" = 3212749824 ]
}

@test "the same count derived by hand from Llama-3.2-3B's config" {
	# V=128256, H=3072, I=8192, 28 layers, 24 heads and 8 KV heads of 128, tied:
	# embed V*H; per layer q,o 2*H*24*128, k,v 2*H*8*128, MLP 3*H*I, norms 2*H; final norm H
	local V=128256 H=3072 I=8192
	[ "$(params meta-llama/Llama-3.2-3B)" = $(( V*H + 28 * (2*H*24*128 + 2*H*8*128 + 3*H*I + 2*H) + H )) ]
}

@test "a config's numbers keep their text, compact and pretty (make models writes with --pretty)" {
	# the configs write rms_norm_eps as 1e-05 (Meta-Llama-3-70B) and 1e-06
	# (Qwen2.5-0.5B); a reformatter would change them (jq 1.7: 0.00001)
	grep -q '"rms_norm_eps": 1e-05,' "$CFG/meta-llama/Meta-Llama-3-70B/config.json"
	grep -q '"rms_norm_eps": 1e-06,' "$CFG/Qwen/Qwen2.5-0.5B/config.json"
	[ "$(lmp-inspect meta-llama/Meta-Llama-3-70B 2>/dev/null | grep -o '"rms_norm_eps":[^,}]*')" = '"rms_norm_eps":1e-05' ]
	[ "$(lmp-inspect --pretty Qwen/Qwen2.5-0.5B 2>/dev/null | grep -o '"rms_norm_eps": [^,}]*')" = '"rms_norm_eps": 1e-06' ]
	grep -q '"rms_norm_eps": 1e-05,' "$ROOT/models/meta-llama--Meta-Llama-3-70B.arch.json"
}

@test "the shipped documents in models/ are up to date (make models)" {
	# on a copy of the database: every class is known, so it must not change
	cp "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
	LMP_DB="$BATS_TEST_TMPDIR/db.json" sh "$ROOT/tools/make-models.sh" "$BATS_TEST_TMPDIR/models"
	cmp -s "$BATS_TEST_TMPDIR/db.json" "$ROOT/module_db.json" || fail "make models would change module_db.json"
	for f in "$BATS_TEST_TMPDIR"/models/*.json; do
		cmp -s "$f" "$ROOT/models/$(basename "$f")" || fail "models/$(basename "$f") is stale: run make models"
	done
	[ "$(ls "$BATS_TEST_TMPDIR/models" | wc -l)" = "$(ls "$ROOT/models" | wc -l)" ]
}

@test "a config file, a directory, a shipped hub id: same architecture, and where it came from" {
	local f="$CFG/meta-llama/Llama-3.2-1B/config.json"
	run lmp-inspect "$f"
	assert_success
	[ "$(jq -r .model.source <<<"$output")" = file ]
	[ "$(jq -r .model.config_sha256 <<<"$output")" = "$(sha256sum "$f" | cut -d' ' -f1)" ]
	local a=$(jq -c .layers <<<"$output")
	run lmp-inspect "$CFG/meta-llama/Llama-3.2-1B"
	[ "$(jq -c .layers <<<"$output")" = "$a" ]
	run lmp-inspect meta-llama/Llama-3.2-1B
	[ "$(jq -c '[.model.id, .model.source, .model.config_file]' <<<"$output")" = '["meta-llama/Llama-3.2-1B","shipped","configs/meta-llama/Llama-3.2-1B/config.json"]' ]
	[ "$(jq -c .layers <<<"$output")" = "$a" ]
	# transformers' defaults are applied and recorded: head_dim is derived for Llama-2
	run lmp-inspect meta-llama/Llama-2-7b-hf
	[ "$(jq -c '[.config.head_dim, (.derived | index("head_dim") != null)]' <<<"$output")" = '[128,true]' ]
}

@test "the HuggingFace cache comes first, by ref or by commit" {
	local d="$HF_HUB_CACHE/models--acme--tiny" c=1111111111111111111111111111111111111111
	mkdir -p "$d/refs" "$d/snapshots/$c"
	jq '.num_hidden_layers = 2' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$d/snapshots/$c/config.json"
	printf '%s' "$c" > "$d/refs/main"
	run lmp-inspect acme/tiny
	assert_success
	[ "$(jq -c '[.model.source, .model.commit, .layers[0].sub_layers[2].repeat]' <<<"$output")" = "[\"hf-cache\",\"$c\",2]" ]
	run lmp-inspect "acme/tiny@$c"
	assert_success
	# HF_HOME/hub when HF_HUB_CACHE is unset
	mkdir -p "$BATS_TEST_TMPDIR/home" && mv "$HF_HUB_CACHE" "$BATS_TEST_TMPDIR/home/hub"
	unset HF_HUB_CACHE
	HF_HOME="$BATS_TEST_TMPDIR/home" run lmp-inspect acme/tiny
	assert_success
	# offline, a model that is nowhere is an error
	HF_HOME="$BATS_TEST_TMPDIR/home" HF_HUB_OFFLINE=1 run --separate-stderr lmp-inspect acme/elsewhere
	assert_clean_failure lmp-inspect "acme/elsewhere@main is neither in the HuggingFace cache nor shipped, and HF_HUB_OFFLINE forbids a download"
}

# ---- downloads, against a local server ----

start_hub() {
	"$ROOT/test/httpd" "$BATS_TEST_TMPDIR/port" "$CFG/meta-llama/Llama-3.2-1B/config.json" &
	HUB_PID=$!
	for i in $(seq 50); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	export HF_ENDPOINT="http://127.0.0.1:$(cat "$BATS_TEST_TMPDIR/port")"
}

teardown() {
	[ -z "${HUB_PID:-}" ] || kill "$HUB_PID" 2>/dev/null || true
}

# nothing partial in the cache: no files at all for a failed download
no_partial() {
	[ -z "$(find "$HF_HUB_CACHE" -path "*models--$1--model*" -type f 2>/dev/null)" ] || fail "partial files for $1"
}

@test "a download lands in the cache layout, and the next run reads the cache" {
	start_hub
	run lmp-inspect ok/model
	assert_success
	local c=0123456789abcdef0123456789abcdef01234567 d="$HF_HUB_CACHE/models--ok--model"
	[ "$(jq -c '[.model.source, .model.commit]' <<<"$output")" = "[\"download\",\"$c\"]" ]
	[ "$(cat "$d/refs/main")" = "$c" ]
	[ -L "$d/snapshots/$c/config.json" ]
	cmp -s "$d/snapshots/$c/config.json" "$CFG/meta-llama/Llama-3.2-1B/config.json"
	run lmp-inspect ok/model
	[ "$(jq -r .model.source <<<"$output")" = hf-cache ]
	# a redirect is followed
	run lmp-inspect moved/model
	assert_success
}

@test "gated without a token, 404, a truncated body, no commit, a server that never answers" {
	start_hub
	run --separate-stderr lmp-inspect gated/model
	assert_clean_failure lmp-inspect "gated/model is gated or private (HTTP 401): accept its license on the hub and set HF_TOKEN"
	no_partial gated
	HF_TOKEN=secret-token run lmp-inspect gated/model
	assert_success
	# the token file of huggingface_hub works too
	rm -rf "$HF_HUB_CACHE/models--gated--model"
	printf 'secret-token\n' > "$BATS_TEST_TMPDIR/token"
	HF_TOKEN_PATH="$BATS_TEST_TMPDIR/token" run lmp-inspect gated/model
	assert_success
	run --separate-stderr lmp-inspect missing/model
	assert_clean_failure lmp-inspect "missing/model@main: no config.json on $HF_ENDPOINT (HTTP 404)"
	no_partial missing
	run --separate-stderr lmp-inspect trunc/model
	assert_clean_failure lmp-inspect "trunc/model: the download of config.json was cut short"
	no_partial trunc
	run --separate-stderr lmp-inspect nocommit/model
	assert_clean_failure lmp-inspect "no X-Repo-Commit"
	no_partial nocommit
	# a commit header that would climb out of the cache is refused
	rm -rf /tmp/lmp-escape
	run --separate-stderr lmp-inspect badcommit/model
	assert_clean_failure lmp-inspect "an X-Repo-Commit that is not a commit id"
	[ ! -e /tmp/lmp-escape ]
	no_partial badcommit
	local t0=$SECONDS
	LMP_HTTP_TIMEOUT=2 run --separate-stderr lmp-inspect hang/model
	assert_clean_failure lmp-inspect "hang/model: no answer from $HF_ENDPOINT within 2 s"
	[ $((SECONDS - t0)) -lt 10 ]
	no_partial hang
}

# ---- what the templates refuse ----

cfg_with() {
	jq "$1" "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
}

@test "unknown model types, architectures and fields are errors, never a lookalike" {
	cfg_with '.model_type = "llama9"'
	# without --strict: an unresolved document (test/02-ensure.bats)
	[ "$status" -eq 0 ] && [ "$(jq -c .unresolved.model_type <<<"$output")" = '"llama9"' ]
	[ "$stderr" = 'lmp-inspect: note: model_type "llama9" has no template: an unresolved document (lmp-ensure resolves it)' ]
	run --separate-stderr lmp-inspect --strict "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "model_type \"llama9\" is not supported (supported: $(lmp-inspect --list | cut -f1 | paste -sd " "))"
	cfg_with '.architectures = ["LlamaForSequenceClassification"]'
	assert_clean_failure lmp-inspect 'architecture LlamaForSequenceClassification is not supported by the llama template (supported: ["LlamaForCausalLM"])'
	cfg_with '.attention_type = "linear"'
	run --separate-stderr lmp-inspect --strict "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect 'config field "attention_type" is not understood by the llama template (it may change the architecture)'
	# LlamaMLP's act_fn is ACT2FN[config.hidden_act]: any activation lmp models
	cfg_with '.hidden_act = "gelu"'
	[ "$status" -eq 0 ]
	printf '%s' "$output" | jq -e '[.. | objects | select(.name == "act_fn") | .class] == ["transformers.activations.GELUActivation"]'
	cfg_with '.hidden_act = "swiglu"'
	assert_clean_failure lmp-inspect 'config field hidden_act = "swiglu" is not an activation lmp models (supported: gelu, gelu_10,'
	cfg_with 'del(.model_type)'
	assert_clean_failure lmp-inspect "no usable model_type"
	# generic fields that change the model unless neutral
	cfg_with '.add_cross_attention = true'
	assert_clean_failure lmp-inspect 'config field "add_cross_attention" changes the architecture'
	cfg_with '.pruned_heads = {"0": [1, 2]}'
	assert_clean_failure lmp-inspect 'config field "pruned_heads" changes the architecture'
	cfg_with '.pruned_heads = {} | .is_decoder = false'
	[ "$status" -eq 0 ]
	# a tie that is not a boolean or a number is an error, not "untied"
	cfg_with '.tie_word_embeddings = "yes"'
	assert_clean_failure lmp-inspect 'config field tie_word_embeddings = "yes" is not a boolean'
	run --separate-stderr lmp-inspect ../etc/passwd
	assert_clean_failure lmp-inspect "not a hub id"
	run --separate-stderr lmp-inspect
	assert_clean_failure lmp-inspect "one MODEL"
}

@test "a multimodal config: its text model is analysed, and the document says so" {
	jq '{model_type: "llava_like", architectures: ["LlavaForConditionalGeneration"], vision_config: {hidden_size: 1280},
	     text_config: (. | del(.architectures))}' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_success
	[ "$(jq -c '[.model.model_type, .model.text_model_of]' <<<"$output")" = '["llama","llava_like"]' ]
	jq -e '.model.note | test("text model")' <<<"$output" >/dev/null
	[ "$(lmp-populate <<<"$output" | lmp-eval --totals --seq-len 1 | jq .totals.param_count)" = 1235814400 ]
}

@test "Mistral-7B: the official count, and a KV cache that stops growing at the window" {
	# The Hub's safetensors total of mistralai/Mistral-7B-v0.1
	[ "$(params mistralai/Mistral-7B-v0.1)" = 7241732096 ]
	local doc
	doc=$(lmp-inspect mistralai/Mistral-7B-v0.1 | lmp-populate)
	# per token: 32 layers x 8 KV heads x (128 + 128) x 2 bytes = 131,072; the
	# sliding window of 4096 keeps at most 4095 past tokens per sequence (each
	# new query sees them and itself)
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 99 <<<"$doc" | jq .totals.state_bytes)" = $((100 * 131072)) ]
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 --batch-size 2 <<<"$doc" | jq .totals.state_bytes)" = $((2 * 4095 * 131072)) ]
	# a prefill longer than the window is given all its keys (dense), keeps 4095
	run lmp-eval --seq-len 8192 <<<"$doc"
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | [.flops, .state_bytes]' -c <<<"$output")" = "[$((2*32*8192*8192*256 + 6*32*8192*8192)),$((4095 * 8 * 256 * 2))]" ]
	# a decode step at 8k context reads 4096 keys: attention FLOPs
	# 2*32*4096*(128+128) + 6*32*4096 per layer
	[ "$(lmp-eval --seq-len 1 --cache-len 8191 <<<"$doc" | jq '.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | .flops')" = $((2*32*4096*256 + 6*32*4096)) ]
	# a config with sliding_window: null has no window
	jq '.sliding_window = null' "$CFG/mistralai/Mistral-7B-v0.1/config.json" > "$BATS_TEST_TMPDIR/config.json"
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 8191 | jq .totals.state_bytes)" = $((8192 * 131072)) ]
}

@test "Gemma-7B: scaled embedding, GELU-tanh MLP, (1 + w) RMSNorm, tied head: the official count" {
	# The count by hand: V=256000, H=3072, I=24576, 28 layers, 16 heads of 256
	# (q, k, v, o: 4 x 3072 x 4096), MLP 3*H*I, norms 2*H, final norm H; the
	# head is tied.  Official: 8,537,680,896 (model card, Keras preset).
	local V=256000 H=3072 I=24576
	[ "$(params google/gemma-7b)" = $(( V*H + 28 * (4*H*4096 + 3*H*I + 2*H) + H )) ]
	[ "$(params google/gemma-7b)" = 8537680896 ]
	# the embedding scale reads the embeddings once: 1 x 2048 tokens x H x 2 bytes
	run sh -c "lmp-inspect google/gemma-7b | lmp-populate | lmp-eval --seq-len 2048"
	[ "$(jq '.rows[] | select(.path == "model.embed_scale") | [.flops, .bytes.reads]' -c <<<"$output")" = "[$((2048*H)),$((2048*H*2))]" ]
	# the MLP's activation is GELU with the tanh approximation, 9 FLOPs per element
	[ "$(jq '.rows[] | select(.path == "model.layers.*.mlp.act_fn") | .flops' <<<"$output")" = $((9 * 2048 * I)) ]
}

@test "GPT-2: Conv1D, LayerNorm, learned positions, tied head" {
	# Official: the Hub's safetensors total 137,022,720 counts the 12 causal
	# masks (attn.bias, 1024 x 1024 each), buffers that lmp does not count.
	[ "$(params openai-community/gpt2)" = $((137022720 - 12 * 1024 * 1024)) ]
	# by hand: wte V*H, wpe 1024*H; per block: ln_1, ln_2 2 x 2H; c_attn H*3H + 3H;
	# attn c_proj H*H + H; c_fc H*4H + 4H; mlp c_proj 4H*H + H; ln_f 2H
	local V=50257 H=768
	[ "$(params openai-community/gpt2)" = $(( V*H + 1024*H + 12 * (4*H + H*3*H + 3*H + H*H + H + H*4*H + 4*H + 4*H*H + H) + 2*H )) ]
}

@test "OPT-1.3b: learned positions with OPT's offset, biases, ReLU, tied head" {
	# by hand: V=50272, H=2048, F=8192, 24 layers; positions (2048 + 2) x H;
	# per layer: two LayerNorms 2 x 2H, q,k,v,out 4 x (H*H + H), fc1 H*F + F,
	# fc2 F*H + H; final LayerNorm 2H.  Official: 1,315,758,080.
	local V=50272 H=2048 F=8192
	[ "$(params facebook/opt-1.3b)" = $(( V*H + 2050*H + 24 * (4*H + 4*(H*H + H) + H*F + F + F*H + H) + 2*H )) ]
	[ "$(params facebook/opt-1.3b)" = 1315758080 ]
	# positions come from the attention mask over cached and new tokens:
	# 3 FLOPs per mask position and 1 per new token (the offset)
	run sh -c "lmp-inspect facebook/opt-1.3b | lmp-populate | lmp-eval --seq-len 1 --cache-len 99"
	[ "$(jq '.rows[] | select(.path == "model.decoder.embed_positions") | .flops' <<<"$output")" = $((3 * 100 + 1)) ]
}

@test "Mixtral-8x7B: all experts stored, two active per token, routed weights read as expected" {
	# Official: 46,702,792,704 parameters (the Hub's count), 12.9B active.
	# By hand: per layer attention 2*H*H + 2*H*1024, gate H*8, 8 experts of
	# 3*H*I, norms 2*H; embeddings and head V*H each; final norm H.
	local V=32000 H=4096 I=14336
	[ "$(params mistralai/Mixtral-8x7B-v0.1)" = $(( 2*V*H + 32 * (2*H*H + 2*H*1024 + H*8 + 8*3*H*I + 2*H) + H )) ]
	[ "$(params mistralai/Mixtral-8x7B-v0.1)" = 46702792704 ]
	local doc
	doc=$(lmp-inspect mistralai/Mixtral-8x7B-v0.1 | lmp-populate)
	run lmp-eval --totals --seq-len 1 <<<"$doc"
	# active: the same with 2 of the 8 experts
	[ "$(jq .totals.active_param_count <<<"$output")" = $(( 2*V*H + 32 * (2*H*H + 2*H*1024 + H*8 + 2*3*H*I + 2*H) + H )) ]
	# one token reaches 2 experts a layer: each expert's weights are read
	# with chance 1 - (1 - 2/8)^1 = 1/4, 2 experts' worth in all (bf16):
	# attention, gate, 2 experts and norms per layer, the head, the final
	# norm, one embedding row and the rotary buffer (64 float32)
	[ "$(jq .totals.bytes.weights <<<"$output")" = $(( 2 * (32 * (2*H*H + 2*H*1024 + H*8 + 2*3*H*I + 2*H) + V*H + H + H) + 256 )) ]
	# FLOPs of the experts for one token: 2 experts x (3 GEMMs 2*H*I + SiLU 4I
	# + gate multiply I + routing weight H + index add H)
	run lmp-eval --seq-len 1 <<<"$doc"
	[ "$(jq '[.rows[] | select(.path | startswith("model.layers.*.block_sparse_moe.experts.*.")) | .flops * .count / 32] | add' <<<"$output")" = $(( 2 * (3*2*H*I + 4*I + I + H + H) )) ]
}

@test "Qwen3-30B-A3B: 128 experts, 8 routed per token, q/k norms" {
	# Official: 30,532,122,624 (the Hub's safetensors total), 3.3B activated.
	# By hand: per layer q H*4096, k and v H*512 each, o 4096*H, q/k norms 2*128,
	# gate H*128, 128 experts of 3*H*768, norms 2*H; embeddings and head V*H each.
	local V=151936 H=2048
	[ "$(params Qwen/Qwen3-30B-A3B)" = $(( 2*V*H + 48 * (H*4096 + 2*H*512 + 4096*H + 256 + H*128 + 128*3*H*768 + 2*H) + H )) ]
	[ "$(params Qwen/Qwen3-30B-A3B)" = 30532122624 ]
	run sh -c "lmp-inspect Qwen/Qwen3-30B-A3B | lmp-populate | lmp-eval --totals --seq-len 1"
	[ "$(jq .totals.active_param_count <<<"$output")" = $(( 2*V*H + 48 * (H*4096 + 2*H*512 + 4096*H + 256 + H*128 + 8*3*H*768 + 2*H) + H )) ]
}

@test "Phi-3-mini: fused qkv and gate_up projections, a sliding window of 2047" {
	# Official: 3,821,079,552 (the Hub's safetensors total).  By hand: V=32064,
	# H=3072, I=8192, 32 layers of 32 heads x 96: qkv H*3H, o H*H, gate_up H*2I,
	# down I*H, norms 2H; embeddings and head V*H each; final norm H.
	local V=32064 H=3072 I=8192
	[ "$(params microsoft/Phi-3-mini-4k-instruct)" = $(( 2*V*H + 32 * (H*3*H + H*H + H*2*I + I*H + 2*H) + H )) ]
	[ "$(params microsoft/Phi-3-mini-4k-instruct)" = 3821079552 ]
	# the KV cache stops at the window: 2046 past tokens x 32 layers x 32 x (96 + 96) x 2 bytes
	run sh -c "lmp-inspect microsoft/Phi-3-mini-4k-instruct | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 4095"
	[ "$(jq .totals.state_bytes <<<"$output")" = $((2046 * 32 * 32 * 192 * 2)) ]
}

@test "Pythia-1.4b (GPT-NeoX): parallel residual, rotary on a quarter of each head" {
	# Official: 1,414,647,808 (the Pythia model card).  By hand: V=50304,
	# H=2048, I=8192, 24 layers: two LayerNorms 2 x 2H, query_key_value H*3H + 3H,
	# dense H*H + H, MLP H*I + I and I*H + H; final LayerNorm 2H; untied head.
	local V=50304 H=2048 I=8192
	[ "$(params EleutherAI/pythia-1.4b)" = $(( 2*V*H + 24 * (4*H + H*3*H + 3*H + H*H + H + H*I + I + I*H + H) + 2*H )) ]
	[ "$(params EleutherAI/pythia-1.4b)" = 1414647808 ]
	# rotary on 32 of 128 dimensions (rotary_pct 0.25): 16 heads of q and 16 of k,
	# 3 x 32 + 16 FLOPs each, per token
	run sh -c "lmp-inspect EleutherAI/pythia-1.4b | lmp-populate | lmp-eval --seq-len 1"
	[ "$(jq '.rows[] | select(.path == "gpt_neox.layers.*.attention.rotary") | .flops' <<<"$output")" = $(( 32 * (3*32 + 16) )) ]
}

@test "Gemma-2-9b: alternating sliding and global layers, four norms, soft-capping" {
	# Official: 9,241,705,984.  By hand: V=256000, H=3584, I=14336, 42 layers,
	# 16 heads and 8 KV heads of 256: q H*4096, k and v H*2048, o 4096*H,
	# MLP 3*H*I, four norms 4*H; final norm H; tied head.
	local V=256000 H=3584 I=14336
	[ "$(params google/gemma-2-9b)" = $(( V*H + 42 * (H*4096 + 2*H*2048 + 4096*H + 3*H*I + 4*H) + H )) ]
	[ "$(params google/gemma-2-9b)" = 9241705984 ]
	local doc
	doc=$(lmp-inspect google/gemma-2-9b | lmp-populate)
	# at 8192 tokens the 21 sliding layers keep 4095, the 21 global ones 8192;
	# 8 KV heads x (256 + 256) x 2 bytes = 8192 bytes a token and layer
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 <<<"$doc" | jq .totals.state_bytes)" = $(( (21 * 4095 + 21 * 8192) * 8192 )) ]
	# scores are soft-capped: 3 FLOPs each, 16 heads; the logits too, 3 per vocabulary entry
	run lmp-eval --seq-len 1 --cache-len 8191 <<<"$doc"
	[ "$(jq '.rows[] | select(.path == "model.layers(global).*.self_attn.score_softcap") | .flops' <<<"$output")" = $((3 * 16 * 8192)) ]
	[ "$(jq '.rows[] | select(.path == "model.layers(sliding).*.self_attn.score_softcap") | .flops' <<<"$output")" = $((3 * 16 * 4096)) ]
	[ "$(jq '.rows[] | select(.path == "logit_softcap") | .flops' <<<"$output")" = $((3 * V)) ]
}

@test "Qwen1.5-MoE-A2.7B: 60 experts, 4 routed, a shared expert behind a sigmoid gate" {
	# Official: 14,315,784,192 (model card: 14.3B total, 2.7B activated).
	# By hand: per layer q,k,v 3*(H*H + H), o H*H, gate H*60, 60 experts of
	# 3*H*1408, the shared expert 3*H*5632 and its gate H*1, norms 2*H;
	# embeddings and head V*H each; final norm H.
	local V=151936 H=2048
	[ "$(params Qwen/Qwen1.5-MoE-A2.7B)" = $(( 2*V*H + 24 * (3*(H*H + H) + H*H + H*60 + 60*3*H*1408 + 3*H*5632 + H + 2*H) + H )) ]
	[ "$(params Qwen/Qwen1.5-MoE-A2.7B)" = 14315784192 ]
	run sh -c "lmp-inspect Qwen/Qwen1.5-MoE-A2.7B | lmp-populate | lmp-eval --totals --seq-len 1"
	[ "$(jq .totals.active_param_count <<<"$output")" = $(( 2*V*H + 24 * (3*(H*H + H) + H*H + H*60 + 4*3*H*1408 + 3*H*5632 + H + 2*H) + H )) ]
}

# A config of 100,000 keys, the last one repeating an earlier key: the
# duplicate check sorts the keys (n log n); compared pairwise it took 25 s.
# The bound is loose so that a loaded machine does not fail it.
@test "a duplicate among 100,000 config keys is refused by name, quickly" {
	awk 'BEGIN { printf "{\"model_type\":\"llama\""; for (i = 0; i < 100000; i++) printf ",\"k%d\":%d", i, i; printf ",\"k5\":1}" }' >"$BATS_TEST_TMPDIR/big.json"
	run_split timeout 5 lmp-inspect "$BATS_TEST_TMPDIR/big.json"
	assert_clean_failure lmp-inspect "big.json: duplicate key \"k5\""
}

# cJSON ends a string at \u0000 ("a\u0000b" would silently be "a"); an
# escaped backslash before u0000 is plain text.
@test "a \\u0000 escape in a string is refused with its line and column" {
	printf '{\n  "model_type": "ll\\u0000ama"}\n' >"$BATS_TEST_TMPDIR/nul.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/nul.json"
	# line 2, column 20: two spaces, "model_type": (13), a space, "ll (3) before the backslash
	assert_clean_failure lmp-inspect 'nul.json:2:20: \u0000 (NUL) in a string is not allowed'
	printf '{"model_type": "ll\\\\u0000ama"}' >"$BATS_TEST_TMPDIR/text.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/text.json"
	assert_clean_failure lmp-inspect 'text.json: no usable model_type'
}

# Counts are exact to 2^127 - 1.  A config number of 2^127 or more would be
# a double (1e40 * 2048 came out as 2.048e+43): a field the template counts
# with is refused by name; one it does not use keeps its text.
@test "a config count past 2^31, or a number of 2^127 or more, is refused by name; an unused one passes through" {
	local c="$CFG/meta-llama/Llama-3.2-1B/config.json"
	# a count (config-checks.json) is a whole number from 1 to 2^31
	sed 's/"hidden_size": 2048/"hidden_size": 1e40/' "$c" >"$BATS_TEST_TMPDIR/big.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/big.json"
	assert_clean_failure lmp-inspect "config field hidden_size = 1e40 is not a count (a whole number from 1 to 2^31)"
	# 2^127 = 170141183460469231731687303715884105728, written out
	sed 's/"vocab_size": 128256/"vocab_size": 170141183460469231731687303715884105728/' "$c" >"$BATS_TEST_TMPDIR/big.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/big.json"
	assert_clean_failure lmp-inspect "config field vocab_size = 170141183460469231731687303715884105728 is not a count"
	# the bound itself is a count; one past it is not
	sed 's/"vocab_size": 128256/"vocab_size": 2147483648/' "$c" >"$BATS_TEST_TMPDIR/ok.json"
	run lmp-inspect "$BATS_TEST_TMPDIR/ok.json"
	assert_success
	[[ "$output" == *'"num_embeddings":2147483648'* ]]
	sed 's/"vocab_size": 128256/"vocab_size": 2147483649/' "$c" >"$BATS_TEST_TMPDIR/big.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/big.json"
	assert_clean_failure lmp-inspect "config field vocab_size = 2147483649 is not a count"
	# a number a template reads that is not a count: past 2^127 it is named
	sed 's/"max_position_embeddings": 131072/"max_position_embeddings": 1e40/' "$c" >"$BATS_TEST_TMPDIR/big.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/big.json"
	assert_clean_failure lmp-inspect "config field max_position_embeddings: 1e40 is past the exact range of counts (2^127 or more)"
	# rope_theta is carried, not counted with: its text passes through
	sed 's/"rope_theta": 500000/"rope_theta": 1e40/' "$c" >"$BATS_TEST_TMPDIR/theta.json"
	run lmp-inspect "$BATS_TEST_TMPDIR/theta.json"
	assert_success
	[[ "$output" == *'"rope_theta":1e40'* ]]
}

@test "a download that is valid JSON but not a config is refused before it is stored" {
	start_hub
	# [1,2] and an error object both parse, and both answer 200 with a commit:
	# neither may reach the cache, so a second run fails the same way
	for m in array error array; do
		run --separate-stderr lmp-inspect "$m/model"
		assert_clean_failure lmp-inspect "$m/model: the config.json from $HF_ENDPOINT is not a model config"
		[ "$status" -eq 1 ]
		no_partial "$m"
		[ ! -e "$HF_HUB_CACHE/models--$m--model" ]
	done
}

@test "LMP_HTTP_TIMEOUT that is 0, negative, past an hour or not a number is refused" {
	start_hub
	local t
	for t in 0 -5 3601 junk 2s 1e3; do
		LMP_HTTP_TIMEOUT=$t run --separate-stderr lmp-inspect ok/model
		assert_clean_failure lmp-inspect "LMP_HTTP_TIMEOUT='$t': not a number of seconds in [1, 3600]"
		[ "$status" -eq 2 ]
		no_partial ok
	done
	# the bounds themselves, and empty (as unset: the default), are accepted
	LMP_HTTP_TIMEOUT=3600 run lmp-inspect ok/model
	assert_success
	rm -rf "$HF_HUB_CACHE"
	LMP_HTTP_TIMEOUT=1 run lmp-inspect ok/model
	assert_success
	rm -rf "$HF_HUB_CACHE"
	LMP_HTTP_TIMEOUT= run lmp-inspect ok/model
	assert_success
}

# Config fields: consumed by the template, inert (share/lmp/config-inert.json)
# or unknown.  An unknown field is a warning and config_unused; --strict
# refuses it.  The examples are real configs' fields: SmolLM2's
# is_llama_config and rope_interleaved (a llama config), DeepSeek-V3's
# aux_loss_alpha and seq_aux, GPT-2's n_special, Unsloth's unsloth_version.

@test "unknown config fields: one warning line, config_unused sorted, the same model; --strict refuses them" {
	local f="$BATS_TEST_TMPDIR/smol.json" base="$BATS_TEST_TMPDIR/base.json"
	jq '. + {rope_interleaved: false, is_llama_config: true}' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	[ "$status" -eq 0 ]
	[ "$stderr" = "lmp-inspect: warning: 2 config fields not used: is_llama_config, rope_interleaved" ]
	[ "$(printf '%s' "$output" | jq -c .model.config_unused)" = '["is_llama_config","rope_interleaved"]' ]
	# taken out of the config (nothing may bind them), the tree unchanged
	[ "$(printf '%s' "$output" | jq -c '.config | has("is_llama_config"), has("rope_interleaved")' | paste -sd,)" = false,false ]
	lmp-inspect meta-llama/Llama-3.2-1B > "$base"
	[ "$(printf '%s' "$output" | jq -c .layers)" = "$(jq -c .layers "$base")" ]
	# a config without unknown fields has no config_unused at all
	[ "$(jq 'has("config_unused")' <<<"$(jq .model "$base")")" = false ]
	run --separate-stderr lmp-inspect --strict "$f"
	assert_clean_failure lmp-inspect 'config fields "is_llama_config", "rope_interleaved" are not understood by the llama template (they may change the architecture)'
	# GPT-2's n_special: one field
	jq '.n_special = 0' "$CFG/openai-community/gpt2/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	[ "$status" -eq 0 ]
	[ "$stderr" = "lmp-inspect: warning: 1 config field not used: n_special" ]
	[ "$(printf '%s' "$output" | jq -c .model.config_unused)" = '["n_special"]' ]
	run --separate-stderr lmp-inspect --strict "$f"
	assert_clean_failure lmp-inspect 'config field "n_special" is not understood by the gpt2 template (it may change the architecture)'
}

@test "inert config fields pass silently: router aux-loss coefficients, fine-tuning stamps, generation settings" {
	local f="$BATS_TEST_TMPDIR/c.json"
	# DeepSeek-V3's checkpoint config carries aux_loss_alpha 0.001 and seq_aux true (training losses)
	jq '. + {aux_loss_alpha: 0.001, seq_aux: true}' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run --separate-stderr lmp-inspect --strict "$f"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	[ "$(printf '%s' "$output" | jq '.model | has("config_unused")')" = false ]
	jq '. + {unsloth_version: "2024.9", model_name: "x", generation_config: {temperature: 0.7}, output_router_logits: false}' \
		"$CFG/meta-llama/Llama-3.2-1B/config.json" > "$f"
	run --separate-stderr lmp-inspect --strict "$f"
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
}

@test "the inert fields are the data file's: a field taken out of it becomes unknown; a malformed file is refused" {
	local f="$BATS_TEST_TMPDIR/c.json"
	cp -r "$ROOT/share/lmp" "$BATS_TEST_TMPDIR/data"
	jq '.unsloth_version = "2024.9"' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$f"
	jq '.groups[].fields -= ["unsloth_version"]' "$ROOT/share/lmp/config-inert.json" > "$BATS_TEST_TMPDIR/data/config-inert.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	[ "$status" -eq 0 ]
	[ "$stderr" = "lmp-inspect: warning: 1 config field not used: unsloth_version" ]
	# every group gives its reason
	jq '.groups[0] |= del(.reason)' "$ROOT/share/lmp/config-inert.json" > "$BATS_TEST_TMPDIR/data/config-inert.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config-inert.json: "groups" must be a list of {"reason": text, "fields": [names]}'
	rm "$BATS_TEST_TMPDIR/data/config-inert.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config-inert.json'
	# the shipped list: no field twice, every group with a reason
	[ "$(jq '[.groups[].fields[]] | length == (unique | length)' "$ROOT/share/lmp/config-inert.json")" = true ]
	[ "$(jq '[.groups[] | .reason | strings | length > 0] | all' "$ROOT/share/lmp/config-inert.json")" = true ]
}

@test "lmp-report notes the unused config fields under the model (text, md, html)" {
	local f="$BATS_TEST_TMPDIR/smol.json"
	jq '. + {rope_interleaved: false, is_llama_config: true}' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$f"
	lmp-inspect "$f" 2>/dev/null > "$BATS_TEST_TMPDIR/arch.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/arch.json"
	assert_success
	assert_line --regexp '^  note +config fields not used \(they may change the model\): is_llama_config, rope_interleaved$'
	lmp-inspect "$f" 2>/dev/null | lmp-populate | lmp-eval > "$BATS_TEST_TMPDIR/eval.json"
	run lmp-report --format md "$BATS_TEST_TMPDIR/eval.json"
	assert_line '- note: config fields not used (they may change the model): is\_llama\_config, rope\_interleaved'
	run lmp-report --format html "$BATS_TEST_TMPDIR/eval.json"
	assert_output --partial '<dt>note</dt><dd>config fields not used (they may change the model): is_llama_config, rope_interleaved</dd>'
	# none for a config without them
	run lmp-report --format text <(lmp-inspect meta-llama/Llama-3.2-1B)
	refute_output --partial 'not used'
}

@test "values that make no model are refused with one line: a count that is a boolean, a string, a fraction, zero or negative; heads not a multiple of the KV heads" {
	local want
	# cfg_with edits Llama-3.2-1B (32 heads, 8 KV heads) and runs lmp-inspect
	cfg_with '.hidden_size = true'
	assert_clean_failure lmp-inspect 'config field hidden_size = true is not a count (a whole number from 1 to 2^31)'
	cfg_with '.hidden_size = "2048"'
	assert_clean_failure lmp-inspect 'config field hidden_size = "2048" is not a count'
	cfg_with '.intermediate_size = 8192.5'
	assert_clean_failure lmp-inspect 'config field intermediate_size = 8192.5 is not a count'
	cfg_with '.num_hidden_layers = 0'
	assert_clean_failure lmp-inspect 'config field num_hidden_layers = 0 is not a count'
	cfg_with '.num_key_value_heads = 0'
	assert_clean_failure lmp-inspect 'config field num_key_value_heads = 0 is not a count'
	cfg_with '.vocab_size = -5'
	assert_clean_failure lmp-inspect 'config field vocab_size = -5 is not a count'
	cfg_with '.num_attention_heads = -32'
	assert_clean_failure lmp-inspect 'config field num_attention_heads = -32 is not a count'
	# 32 query heads cannot share 7 KV heads (transformers' repeat_kv repeats each 32/7 times)
	cfg_with '.num_key_value_heads = 7'
	assert_clean_failure lmp-inspect 'config fields num_attention_heads = 32, num_key_value_heads = 7: num_attention_heads must be a multiple of num_key_value_heads'
	# a field of the template's defaults keeps its default's kind
	cfg_with '.rms_norm_eps = "small"'
	assert_clean_failure lmp-inspect 'config field rms_norm_eps = "small" is not a number'
	cfg_with '.attention_bias = "no"'
	assert_clean_failure lmp-inspect 'config field attention_bias = "no" is not a boolean'
	cfg_with '.hidden_act = 1'
	assert_clean_failure lmp-inspect 'config field hidden_act = 1 is not a string'
	# a boolean field takes a number as Python's truth does (Llama-4-Scout's attn_temperature_tuning is 4)
	cfg_with '.attention_bias = 0'
	[ "$status" -eq 0 ]
	# null where transformers fills the default: the default (KV heads = heads)
	cfg_with '.num_key_value_heads = null'
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | jq .config.num_key_value_heads)" = 32 ]
}

@test "config-checks.json: its counts and checks are data; a malformed one is refused" {
	local f="$BATS_TEST_TMPDIR/c.json"
	cp -r "$ROOT/share/lmp" "$BATS_TEST_TMPDIR/data"
	cp "$CFG/meta-llama/Llama-3.2-1B/config.json" "$f"
	# a check of the data file, not of the code: 2048 % 3 != 0
	jq '.checks += [{"require": "${hidden_size} % 3 == 0", "error": "three"}]' "$ROOT/share/lmp/config-checks.json" \
		> "$BATS_TEST_TMPDIR/data/config-checks.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields hidden_size = 2048: three'
	# a check whose fields the config lacks does not apply
	jq '.checks += [{"require": "${no_such_field} == 1", "error": "absent"}]' "$ROOT/share/lmp/config-checks.json" \
		> "$BATS_TEST_TMPDIR/data/config-checks.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	[ "$status" -eq 0 ]
	jq '.counts = "hidden_size"' "$ROOT/share/lmp/config-checks.json" > "$BATS_TEST_TMPDIR/data/config-checks.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config-checks.json: needs "counts", a list of field names, and "checks"'
	jq '.checks = [{"require": "${hidden_size} > 0"}]' "$ROOT/share/lmp/config-checks.json" > "$BATS_TEST_TMPDIR/data/config-checks.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config-checks.json: a check needs a "require" template and an "error"'
	# every shipped config passes every check (they all load)
	for c in "$CFG"/*/*/config.json; do
		lmp-inspect --strict "$c" > /dev/null || { echo "$c"; false; }
	done
}

# --- templates: extends, the search path, layer indices (lmp-arch(5)) ---

# tmpl DIR NAME JSON: a template file NAME.json in DIR, header added
tmpl() {
	mkdir -p "$1"
	jq -n --arg mt "$2" "{lmp: \"arch_template\", version: 1, model_type: \$mt} + $3" > "$1/$2.json"
}

# A Llama-3.2-1B config of model_type "mini"
mini_config() {
	jq '.model_type = "mini" | .architectures = ["MiniForCausalLM"]' \
		"$CFG/meta-llama/Llama-3.2-1B/config.json" > "$BATS_TEST_TMPDIR/config.json"
}

MINI='{extends: "llama", rename: {Llama: "Mini", llama: "mini"}, architectures: ["MiniForCausalLM"],
	defaults: {extra_size: 64}}'

@test "a derived template: rename, merged defaults and every kind of tree edit" {
	mini_config
	tmpl "$BATS_TEST_TMPDIR/archs" mini "$MINI"' + {edits: [
		{at: "model.layers.mlp.act_fn", class: "torch.nn.modules.activation.GELU"},
		{at: ["model.layers.self_attn.o_proj", "model.layers.self_attn.q_proj"], attrs: {bias: 1}},
		{before: "model.layers.input_layernorm", insert: {name: "pre", class: "torch.add", attrs: {size: "${hidden_size}"}}},
		{after: "model.layers.self_attn.v_proj", insert: [{name: "q_norm", class: "N"}, {name: "k_norm", class: "N"}]},
		{into: "model.layers.mlp", insert: {name: "extra", class: "torch.mul", attrs: {size: "${extra_size}"}}},
		{remove: ["model.layers.mlp_residual", "model.rotary_emb"]}]}'
	LMP_ARCH_PATH="$BATS_TEST_TMPDIR/archs" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_success
	local doc=$output dec='.layers[0].sub_layers[] | select(.name == "layers")'
	# every inherited class renamed, the torch ones untouched
	[ "$(jq -r .class <<<"$doc")" = transformers.models.mini.modeling_mini.MiniForCausalLM ]
	[ "$(jq -r "$dec | .class" <<<"$doc")" = transformers.models.mini.modeling_mini.MiniDecoderLayer ]
	[ "$(jq -r '.layers[1].class' <<<"$doc")" = torch.nn.modules.linear.Linear ]
	# rotary_emb and mlp_residual removed, pre inserted before input_layernorm
	[ "$(jq -c '[.layers[0].sub_layers[].name]' <<<"$doc")" = '["embed_tokens","layers","norm"]' ]
	[ "$(jq -c "[$dec | .sub_layers[].name]" <<<"$doc")" = \
		'["pre","input_layernorm","self_attn","attn_residual","post_attention_layernorm","mlp"]' ]
	[ "$(jq -c "$dec | .sub_layers[0].attrs" <<<"$doc")" = '{"size":2048}' ]
	# two nodes after v_proj; o_proj and q_proj biased, k_proj as Llama's (attention_bias false)
	[ "$(jq -c "[$dec | .sub_layers[2].sub_layers[].name]" <<<"$doc")" = \
		'["q_proj","k_proj","v_proj","q_norm","k_norm","rotary","sdpa","o_proj"]' ]
	[ "$(jq -c "[$dec | .sub_layers[2].sub_layers[] | .attrs.bias // empty]" <<<"$doc")" = '[1,0,0,1]' ]
	# act_fn's class replaced, its attrs kept; extra appended to the MLP with the new default
	[ "$(jq -c "$dec | .sub_layers[5].sub_layers[1] | [.class, (.attrs | keys)]" <<<"$doc")" = \
		'["torch.nn.modules.activation.GELU",["elements"]]' ]
	[ "$(jq -c "$dec | .sub_layers[5].sub_layers[-1] | [.name, .attrs.size]" <<<"$doc")" = '["extra",64]' ]
	[ "$(jq -c '[.config.extra_size, (.derived | index("extra_size") != null)]' <<<"$doc")" = '[64,true]' ]
}

@test "a derived template: a null removes a default, a bad node path is refused" {
	mini_config
	# two levels: mini extends minibase extends llama, and drops its default
	tmpl "$BATS_TEST_TMPDIR/archs" minibase "$MINI"
	tmpl "$BATS_TEST_TMPDIR/archs" mini '{extends: "minibase", defaults: {extra_size: null}}'
	LMP_ARCH_PATH="$BATS_TEST_TMPDIR/archs" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_success
	[ "$(jq -c '[(.config | has("extra_size")), .derived]' <<<"$output")" = '[false,[]]' ]
	[ "$(jq -r .class <<<"$output")" = transformers.models.mini.modeling_mini.MiniForCausalLM ]
	local f="$BATS_TEST_TMPDIR/archs/mini.json"
	tmpl "$BATS_TEST_TMPDIR/archs" mini "$MINI"' + {edits: [{at: "model.layers.nope", class: "X"}]}'
	LMP_ARCH_PATH="$BATS_TEST_TMPDIR/archs" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "$f: edits[0]: no node \"model.layers.nope\" in the parent's tree"
	tmpl "$BATS_TEST_TMPDIR/archs" mini "$MINI"' + {edits: [{at: "model.norm", remove: "model.norm"}]}'
	LMP_ARCH_PATH="$BATS_TEST_TMPDIR/archs" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "$f: edits[0]: an edit has one of \"at\", \"remove\", \"before\", \"after\", \"into\""
	tmpl "$BATS_TEST_TMPDIR/archs" mini "$MINI"' + {edits: [{after: "model.norm", insert: {name: "x", class: "X", colour: 1}}]}'
	LMP_ARCH_PATH="$BATS_TEST_TMPDIR/archs" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "tree node model.x: unknown key \"colour\""
}

@test "templates that extend each other in a cycle are refused" {
	local d="$BATS_TEST_TMPDIR/archs"
	mini_config
	tmpl "$d" mini '{extends: "other"}'
	tmpl "$d" other '{extends: "mini"}'
	d=$(realpath "$d")
	LMP_ARCH_PATH="$d" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "templates extend each other in a cycle: $d/mini.json -> $d/other.json -> $d/mini.json"
	tmpl "$d" mini '{extends: "mini9"}'
	LMP_ARCH_PATH="$d" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "$d/mini.json: extends \"mini9\", which is not on the template path"
}

@test "an unknown key in a template is refused; the reserved validation and code_location are not" {
	local d="$BATS_TEST_TMPDIR/archs"
	mini_config
	tmpl "$d" mini "$MINI"' + {colour: "red"}'
	LMP_ARCH_PATH="$d" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "$d/mini.json: unknown key \"colour\" in a template"
	tmpl "$d" mini '{extends: "llama", architectures: ["MiniForCausalLM"], tree: [{name: "m", class: "X", bais: 1}]}'
	LMP_ARCH_PATH="$d" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "$d/mini.json: tree node m: unknown key \"bais\""
	tmpl "$d" mini "$MINI"' + {validation: {params: 1235814400}, code_location: {file: "modeling_mini.py"}}'
	LMP_ARCH_PATH="$d" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_success
	# a file without the header is no template
	echo '{"model_type": "mini"}' > "$d/mini.json"
	LMP_ARCH_PATH="$d" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "$d/mini.json: not an lmp template"
}

@test "user templates: LMP_ARCH_PATH, then the data home, then the shipped ones; --list says where" {
	local a="$BATS_TEST_TMPDIR/a" b="$BATS_TEST_TMPDIR/b" xdg="$BATS_TEST_TMPDIR/xdg"
	mini_config
	# unknown before: the error (--strict) lists the shipped types
	run --separate-stderr lmp-inspect --strict "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect 'model_type "mini" is not supported'
	# in the data home
	tmpl "$xdg/lmp/archs" mini "$MINI"
	XDG_DATA_HOME=$xdg run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_success
	[ "$(jq .config.extra_size <<<"$output")" = 64 ]
	# the document names a template of the user's; a shipped one it does not
	[ "$(jq -r .model.template_file <<<"$output")" = "$xdg/lmp/archs/mini.json" ]
	[ "$(lmp-inspect meta-llama/Llama-3.2-1B | jq '.model | has("template_file")')" = false ]
	# its default, ~/.local/share, when XDG_DATA_HOME is unset
	mkdir -p "$BATS_TEST_TMPDIR/home/.local/share"
	cp -R "$xdg/lmp" "$BATS_TEST_TMPDIR/home/.local/share/"
	(unset XDG_DATA_HOME; HOME="$BATS_TEST_TMPDIR/home" lmp-inspect "$BATS_TEST_TMPDIR/config.json") > /dev/null
	# LMP_ARCH_PATH before the data home, its directories in order
	tmpl "$b" mini "$MINI"' + {defaults: {extra_size: 128}}'
	XDG_DATA_HOME=$xdg LMP_ARCH_PATH="$a:$b" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	[ "$(jq .config.extra_size <<<"$output")" = 128 ]
	tmpl "$a" mini "$MINI"' + {defaults: {extra_size: 256}}'
	XDG_DATA_HOME=$xdg LMP_ARCH_PATH="$a:$b" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	[ "$(jq .config.extra_size <<<"$output")" = 256 ]
	# a user's llama.json over the shipped one extends the shipped one
	tmpl "$xdg/lmp/archs" llama '{extends: "llama", attrs: {user: 1}}'
	XDG_DATA_HOME=$xdg run --separate-stderr lmp-inspect meta-llama/Llama-3.2-1B
	assert_success
	[ "$(jq -c '[.attrs.user, .attrs.num_heads, .config.num_hidden_layers]' <<<"$output")" = '[1,32,16]' ]
	# --list: every model_type on the path and where it comes from
	XDG_DATA_HOME=$xdg LMP_ARCH_PATH="$a:$b" run --separate-stderr lmp-inspect --list
	assert_success
	assert_line "$(printf 'mini\t%s' "$a/mini.json")"
	assert_line "$(printf 'llama\t%s' "$xdg/lmp/archs/llama.json")"
	assert_line "$(printf 'qwen3\tshipped')"
	[ "$(grep -c '^mini' <<<"$output")" = 1 ]
	[ "${#lines[@]}" = "$(($(ls "$ROOT/share/lmp/archs" | wc -l) + 1))" ]
}

@test "--arch FILE uses one template file" {
	local d="$BATS_TEST_TMPDIR/elsewhere"
	mini_config
	tmpl "$d" mini "$MINI"
	run --separate-stderr lmp-inspect --arch "$d/mini.json" "$BATS_TEST_TMPDIR/config.json"
	assert_success
	[ "$(jq .config.extra_size <<<"$output")" = 64 ]
	[ "$(jq -r .model.template_file <<<"$output")" = "$d/mini.json" ]
	# it is used even where the path has another template of its type
	tmpl "$d" llama '{extends: "llama", attrs: {user: 2}}'
	run --separate-stderr lmp-inspect --arch "$d/llama.json" meta-llama/Llama-3.2-1B
	[ "$(jq .attrs.user <<<"$output")" = 2 ]
	run --separate-stderr lmp-inspect --arch "$d/mini.json" meta-llama/Llama-3.2-1B
	assert_clean_failure lmp-inspect "$d/mini.json is a template of model_type \"mini\", the config's is \"llama\""
	run --separate-stderr lmp-inspect --arch "$d/none.json" meta-llama/Llama-3.2-1B
	assert_clean_failure lmp-inspect "$d/none.json"
}

@test "layer indices: DeepSeek-V3's dense and MoE layers, Gemma-2's sliding and global layers" {
	# DeepSeek-V3 (config: num_hidden_layers 61, first_k_dense_replace 3):
	# transformers' DeepseekV3DecoderLayer is MoE from layer_idx 3 on, so
	# dense 0,1,2 = range(0, 3) and MoE 3..60 = range(3, 61)
	run --separate-stderr lmp-inspect deepseek-ai/DeepSeek-V3
	[ "$(jq -c '[.layers[0].sub_layers[] | select(.repeat) | [.name, .repeat, .layers]]' <<<"$output")" = \
		'[["layers(dense)",3,{"start":0,"stop":3}],["layers(moe)",58,{"start":3,"stop":61}]]' ]
	# Gemma-2-9B (42 layers): Gemma2DecoderLayer slides when layer_idx % 2 == 0,
	# so sliding 0,2,..,40 = range(0, 41, 2), global 1,3,..,41 = range(1, 42, 2)
	run --separate-stderr lmp-inspect google/gemma-2-9b
	[ "$(jq -c '[.layers[0].sub_layers[] | select(.repeat) | [.name, .repeat, .layers]]' <<<"$output")" = \
		'[["layers(sliding)",21,{"start":0,"stop":41,"step":2}],["layers(global)",21,{"start":1,"stop":42,"step":2}]]' ]
	# Gemma-3-1B (26 layers, sliding_window_pattern 6): global where
	# (layer_idx + 1) % 6 == 0: 5, 11, 17, 23 = range(5, 24, 6); sliding is the rest, a list
	run --separate-stderr lmp-inspect google/gemma-3-1b-pt
	[ "$(jq -c '.layers[0].sub_layers[] | select(.name == "layers(global)") | .layers' <<<"$output")" = \
		'{"start":5,"stop":24,"step":6}' ]
	[ "$(jq -c '.layers[0].sub_layers[] | select(.name == "layers(sliding)") | .layers' <<<"$output")" = \
		'[0,1,2,3,4,6,7,8,9,10,12,13,14,15,16,18,19,20,21,22,24,25]' ]
	# a pattern that disagrees with the repeat count is a template error
	mini_config
	tmpl "$BATS_TEST_TMPDIR/archs" mini "$MINI"' + {edits: [{at: "model.layers", layers: {count: "${num_hidden_layers}", where: "${index} > 0"}}]}'
	LMP_ARCH_PATH="$BATS_TEST_TMPDIR/archs" run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/config.json"
	assert_clean_failure lmp-inspect "model.layers: layers: the pattern takes 15 of 16 layers where repeat is 16"
}
