#!/usr/bin/env bats
# Engine profiles (lmp-engine(5)): --engine, LMP_ENGINE and the default,
# and the knobs: KV paging, the memory reserve and KV capacity, chunked
# prefill, fusion.  The helper sets LMP_ENGINE=transformers for the other
# files; these tests choose their engine themselves.  Every expected number
# is derived here from Llama-2-7B's shapes (hidden 4096, intermediate 11008,
# 32 layers of 32 heads of 128, vocabulary 32000) and the H100 SXM's file.

load helper

H100="$ROOT/share/lmp/hardware/nvidia-h100-sxm.json"
QWEN="$ROOT/models/Qwen--Qwen3-30B-A3B.populated.json"
# Llama-2-7B's KV bytes of one token in every layer: K and V of 32 heads of
# 128 at 2 bytes, 32 layers.
KV_TOKEN=$(( 2 * 32 * 128 * 2 * 32 ))

setup() {
	unset LMP_ENGINE
}

@test "--engine transformers writes today's documents byte for byte (the golden inputs); LMP_ENGINE chooses alike" {
	[ "$KV_TOKEN" = 524288 ]
	run_split bash -c "lmp-eval --engine transformers --batch-size 1 --seq-len 2048 '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$output" = "$(cat "$ROOT/test/golden/llama2-7b-prefill-h100.json")" ]
	run_split bash -c "LMP_ENGINE=transformers lmp-eval --batch-size 4 --prompt-len 128 --gen-len 4 '$QWEN' | lmp-roofline --hardware nvidia-a100-sxm-80gb"
	[ "$status" -eq 0 ]
	[ "$output" = "$(cat "$ROOT/test/golden/qwen3-30b-a3b-generate-a100.json")" ]
	# it names no engine; every other engine does
	[ "$(lmp-eval --engine transformers --seq-len 1 --totals "$LLAMA2" | jq -c '.runtime | has("engine")')" = false ]
	# a knob away from its neutral value names it, with every knob
	run_split lmp-eval --engine transformers --kv-block 16 --seq-len 1 --totals "$LLAMA2"
	[ "$(printf '%s' "$output" | jq -c '.runtime | [.engine, .kv_block, .gpu_memory_utilization, .chunk, .fusion]')" = '["transformers",16,null,0,"off"]' ]
}

@test "the default engine is vllm: its profile's knobs, each overridden by its option; a profile file works like a name" {
	run_split lmp-eval --seq-len 1 --totals "$LLAMA2"
	[ "$status" -eq 0 ]
	[ "$(printf '%s' "$output" | jq -c '.runtime | [.engine, .kv_block, .gpu_memory_utilization, .memory_rule, .reserve_bytes, .chunk, .fusion]')" = \
		"$(jq -c '[.id, (.knobs | .kv_block.value, .gpu_memory_utilization.value, .memory_rule.value, .reserve_bytes.value, .chunk.value, .fusion.value)]' "$ROOT/share/lmp/engines/vllm.json")" ]
	run_split lmp-eval --kv-block 1 --fusion off --seq-len 1 --totals "$LLAMA2"
	[ "$(printf '%s' "$output" | jq -c '.runtime | [.engine, .kv_block, .fusion]')" = '["vllm",1,"off"]' ]
	# knobs sweep like every runtime option
	run_split lmp-eval --engine sglang --kv-block 1,16 --seq-len 1 --totals "$LLAMA2"
	[ "$(printf '%s' "$output" | jq -sc 'map(.runtime.kv_block)')" = '[1,16]' ]
	local f="$BATS_TEST_TMPDIR/mine.json"
	jq '.id = "mine" | .knobs = {kv_block: {value: 64, source: "a measured deployment"}}' "$ROOT/share/lmp/engines/vllm.json" > "$f"
	run_split lmp-eval --engine "$f" --seq-len 1 --totals "$LLAMA2"
	[ "$(printf '%s' "$output" | jq -c '.runtime | [.engine, .kv_block, .chunk]')" = '["mine",64,0]' ]
}

@test "--module is the entry's formulas unless an engine is asked for, and then names it" {
	local sdpa=torch.nn.functional.scaled_dot_product_attention args="tokens=1 kv_tokens=101 qk_pairs=101 cache_tokens=101 num_heads=32 num_kv_heads=32 head_dim=128 v_head_dim=128"
	run_split lmp-eval --module $sdpa --a-bit 16 $args
	[ "$status" -eq 0 ]
	# 101 tokens of K and V, 32 heads of 128, 2 bytes
	[ "$(jq -c '[has("engine"), .state_bytes]' <<<"$output")" = "[false,$(( 101 * 32 * 256 * 2 ))]" ]
	run_split lmp-eval --module $sdpa --engine vllm --a-bit 16 $args
	[ "$(jq -c '[.engine, .kv_block]' <<<"$output")" = '["vllm",16]' ]
}

@test "engines and knobs refused with one line" {
	run_split lmp-eval --engine nosuch --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "unknown engine 'nosuch' (known: lmdeploy sglang transformers trtllm vllm)"
	[ "$status" -eq 2 ]
	LMP_ENGINE=nosuch run_split lmp-eval --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "unknown engine 'nosuch'"
	local f="$BATS_TEST_TMPDIR/bad.json"
	jq '.knobs.warp_speed = {value: 9, source: "wishful thinking"}' "$ROOT/share/lmp/engines/vllm.json" > "$f"
	run_split lmp-eval --engine "$f" --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "knob 'warp_speed' is not a runtime option"
	[ "$status" -eq 1 ]
	jq '.knobs.kv_block = {value: 16}' "$ROOT/share/lmp/engines/vllm.json" > "$f"
	run_split lmp-eval --engine "$f" --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "knob kv_block needs a \"value\" and a \"source\""
	jq '.knobs.kv_block.value = 0' "$ROOT/share/lmp/engines/vllm.json" > "$f"
	run_split lmp-eval --engine "$f" --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "knob kv_block: --kv-block: '0' is not"
	run_split lmp-eval --gpu-memory-utilization 1.5 --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "--gpu-memory-utilization: '1.5' is not a list of fractions in (0, 1]"
	run_split lmp-eval --gpu-memory-utilization 0.12345 --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "at most 4 decimals"
	run_split lmp-eval --fusion maybe --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "--fusion: 'maybe' is not a list of off|on"
}

@test "KV paging: a decode at 100 cached tokens holds and reads 7 blocks of 16 per sequence" {
	# Context 101 (100 cached + 1 new) rounds up to 112 tokens: 7 blocks of 16.
	# Two sequences; the cache is 2 x 112 x KV_TOKEN, and the attention reads
	# (2 x 112 - 2 x 101) more token entries of K and V, 16,384 bytes per
	# layer each.  FLOPs stay those of 101 keys.
	local flat paged
	flat=$(lmp-eval --engine transformers --batch-size 2 --seq-len 1 --cache-len 100 "$LLAMA2")
	paged=$(lmp-eval --engine transformers --kv-block 16 --batch-size 2 --seq-len 1 --cache-len 100 "$LLAMA2")
	[ "$(jq .totals.state_bytes <<<"$flat")" = $(( 2 * 101 * KV_TOKEN )) ]
	[ "$(jq .totals.state_bytes <<<"$paged")" = $(( 2 * 112 * KV_TOKEN )) ]
	[ "$(jq .totals.state_bytes <<<"$paged")" = 117440512 ]
	[ "$(( $(jq .totals.bytes.reads <<<"$paged") - $(jq .totals.bytes.reads <<<"$flat") ))" = $(( 2 * 11 * KV_TOKEN )) ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | .state_bytes' <<<"$paged")" = $(( 2 * 112 * 16384 )) ]
	[ "$(jq .totals.flops <<<"$paged")" = "$(jq .totals.flops <<<"$flat")" ]
	# a context already a whole number of blocks is unchanged
	[ "$(lmp-eval --engine transformers --kv-block 16 --seq-len 1 --cache-len 111 --totals "$LLAMA2" | jq .totals.state_bytes)" = $(( 112 * KV_TOKEN )) ]
}

@test "KV capacity: vLLM's start-up figure from capacity, memory fraction, reserve, weights, the profile run and per-token KV" {
	# H100 SXM: 80 GiB.  vLLM takes 0.9 of it; 1 GiB reserve; the weights
	# are Llama-2-7B's 6,738,415,616 parameters at 2 bytes.  The profile run
	# is one sequence of the 8192-token budget: its largest kernel is the gate
	# multiply, reading two 8192 x 11008 activations and writing a third, at
	# 2 bytes: 6 x 8192 x 11008.  What is left holds whole blocks of 16
	# tokens of KV_TOKEN bytes each.
	local cap=$(jq .memory_capacity_bytes.value "$H100")
	[ "$cap" = $(( 80 << 30 )) ]
	local H=4096 I=11008 V=32000
	local params=$(( V*H + 32 * (4*H*H + 3*H*I + 2*H) + H + V*H ))
	[ "$params" = 6738415616 ]
	local weights=$(( params * 2 )) profile=$(( 6 * 8192 * I )) reserve=$(( 1 << 30 ))
	local avail=$(( cap * 9 / 10 - reserve - weights - profile ))
	local blocks=$(( avail / (16 * KV_TOKEN) ))
	run_split bash -c "lmp-eval --engine vllm --gpu-memory-utilization 0.9 --reserve-bytes $reserve --chunk 8192 \
		--kv-block 16 --batch-size 1 --seq-len 1 --cache-len 4095 '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$status" -eq 0 ]
	[ "$(jq -c .totals.profile_run <<<"$output")" = "{\"tokens\":8192,\"activation_bytes\":$profile}" ]
	[ "$(jq .fit.kv_cache_memory_bytes <<<"$output")" = "$avail" ]
	[ "$(jq .fit.kv_bytes_per_token <<<"$output")" = "$KV_TOKEN" ]
	[ "$(jq .fit.kv_cache_blocks <<<"$output")" = "$blocks" ]
	[ "$(jq .fit.kv_cache_tokens <<<"$output")" = $(( blocks * 16 )) ]
	[ "$(jq .fit.kv_cache_tokens <<<"$output")" = 118656 ]
	# requests of 4096 tokens held at once: whole blocks of them
	[ "$(jq .fit.max_batch_size <<<"$output")" = $(( blocks / 256 )) ]
	# the longest context at this batch is the capacity itself
	[ "$(jq .fit.memory_context_len <<<"$output")" = $(( blocks * 16 )) ]
	# the report says it too
	run_split bash -c "lmp-eval --engine vllm --gpu-memory-utilization 0.9 --reserve-bytes $reserve --chunk 8192 \
		--batch-size 1 --seq-len 1 --cache-len 4095 '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm | lmp-report --format text"
	[[ "${lines[0]}" == *", engine vllm" ]]
	[[ "$output" == *"engine KV cache  118,656 tokens (7,416 blocks)"* ]]
	# SGLang's rule (static): its fraction holds the weights and the KV pool,
	# the activations live outside it.  0.88 x 80 GiB rounded down, tokens of
	# one (page size 1).
	local avail_s=$(( cap * 88 / 100 - weights ))
	run_split bash -c "lmp-eval --engine sglang --gpu-memory-utilization 0.88 --memory-rule static --reserve-bytes 0 \
		--kv-block 1 --seq-len 1 --cache-len 4095 '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | [.kv_cache_memory_bytes, .kv_cache_tokens, .activation_bytes]' <<<"$output")" = \
		"[$avail_s,$(( avail_s / KV_TOKEN )),0]" ]
	# TensorRT-LLM's (free): 0.9 of what the weights and the profile run leave,
	# in blocks of 32.
	local avail_t=$(( (cap - weights - profile) * 9 / 10 ))
	run_split bash -c "lmp-eval --engine trtllm --gpu-memory-utilization 0.9 --memory-rule free --reserve-bytes 0 \
		--kv-block 32 --chunk 8192 --seq-len 1 --cache-len 4095 '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | [.kv_cache_memory_bytes, .kv_cache_tokens]' <<<"$output")" = \
		"[$avail_t,$(( avail_t / (32 * KV_TOKEN) * 32 ))]" ]
	# transformers reserves nothing: no capacity figures
	run_split bash -c "lmp-eval --engine transformers --seq-len 1 --cache-len 4095 '$LLAMA2' | lmp-roofline --hardware nvidia-h100-sxm"
	[ "$(jq -c '.fit | has("kv_cache_tokens")' <<<"$output")" = false ]
}

@test "chunked prefill: a 4096-token prompt in chunks of 2048 is the sum of its two steps" {
	# Unchunked, attention pairs 4096 x 4096 queries and keys; chunked,
	# 2048 x 2048 then 2048 x 4096: 4096^2 - 2048 x 6144 = 4,194,304 pairs
	# fewer, each 2 x 32 x (128 + 128) + 6 x 32 = 16,576 FLOPs a layer.
	# Each chunk ends with the logits of its last token (vLLM computes them
	# and drops those of an unfinished prompt): one more, 2 x 4096 x 32000.
	local whole chunked s1 s2
	whole=$(lmp-eval --engine transformers --prompt-len 4096 --gen-len 1 --totals "$LLAMA2")
	chunked=$(lmp-eval --engine transformers --chunk 2048 --prompt-len 4096 --gen-len 1 --totals "$LLAMA2")
	[ "$(jq .phases.prefill.steps <<<"$chunked")" = 2 ]
	[ "$(jq -c .phases.prefill.runtime <<<"$chunked")" = '{"seq_len":2048,"cache_len_first":0,"cache_len_last":2048,"last_seq_len":2048}' ]
	[ "$(jq .phases.prefill.totals.flops <<<"$chunked")" = \
		$(( $(jq .phases.prefill.totals.flops <<<"$whole") - 32 * 16576 * 4194304 + 2 * 4096 * 32000 )) ]
	s1=$(lmp-eval --engine transformers --seq-len 2048 --cache-len 0 --totals "$LLAMA2" | jq .totals.flops)
	s2=$(lmp-eval --engine transformers --seq-len 2048 --cache-len 2048 --totals "$LLAMA2" | jq .totals.flops)
	[ "$(jq .phases.prefill.totals.flops <<<"$chunked")" = $(( s1 + s2 )) ]
	# the weights are read once per chunk, but for the embedding's rows,
	# gathered per token (4096 rows of 4096 at 2 bytes either way); the cache
	# left is the whole prompt's
	[ "$(jq .phases.prefill.totals.bytes.weights <<<"$chunked")" = \
		$(( 2 * $(jq .phases.prefill.totals.bytes.weights <<<"$whole") - 4096 * 4096 * 2 )) ]
	[ "$(jq .phases.prefill.totals.state_bytes <<<"$chunked")" = $(( 4096 * KV_TOKEN )) ]
	# the batch advances together: 3 sequences share a budget of 2048, 682 each
	run_split lmp-eval --engine transformers --chunk 2048 --batch-size 3 --prompt-len 1000 --gen-len 1 --totals "$LLAMA2"
	[ "$(jq -c '[.phases.prefill.steps, .phases.prefill.runtime.seq_len, .phases.prefill.runtime.last_seq_len]' <<<"$output")" = '[2,682,318]' ]
	# a prompt within the budget is one step, as without one
	[ "$(lmp-eval --engine transformers --chunk 8192 --prompt-len 4096 --gen-len 1 --totals "$LLAMA2" |
		jq -c '.phases.prefill | [.steps, .totals, .runtime.seq_len, .runtime.cache_len]')" = \
		"$(jq -c '.phases.prefill | [.steps, .totals, .runtime.seq_len, .runtime.cache_len]' <<<"$whole")" ]
}

@test "fusion: residual add + RMSNorm and SiLU x gate write no intermediate and read their input once" {
	# 4 new tokens, H = 4096, I = 11008, 2 bytes.  Every residual add's sum
	# (4 x 4096 x 2 = 32,768 bytes) is not read back by the norm after it:
	# 32 post-attention norms, 31 next-layer input norms, the final norm.
	# The SiLU's output (4 x 11008 x 2 = 88,064 bytes) is neither written nor
	# read by the multiply: 32 layers.
	local off on
	off=$(lmp-eval --engine transformers --seq-len 4 "$LLAMA2")
	on=$(lmp-eval --engine transformers --fusion on --seq-len 4 "$LLAMA2")
	[ "$(( $(jq .totals.bytes.reads <<<"$off") - $(jq .totals.bytes.reads <<<"$on") ))" = $(( (32 + 31 + 1) * 32768 + 32 * 88064 )) ]
	[ "$(( $(jq .totals.bytes.writes <<<"$off") - $(jq .totals.bytes.writes <<<"$on") ))" = $(( 32 * 88064 )) ]
	[ "$(jq -c '[.rows[] | select(.path | test("act_fn|gate_mul|layernorm|^model.norm")) | .bytes.reads]' <<<"$on")" = \
		"[$(( 40960 - 31 * 32768 / 32 )),$(( 40960 - 32768 )),88064,$(( 176128 - 88064 )),$(( 40960 - 32768 ))]" ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.mlp.act_fn") | .bytes.writes' <<<"$on")" = 0 ]
	[ "$(jq .totals.flops <<<"$on")" = "$(jq .totals.flops <<<"$off")" ]
}

@test "fusion is the entries' declaration: without torch.add's, only SiLU x gate fuses; a malformed one is refused" {
	# As above: the SiLU's output, 4 x 11008 x 2 = 88,064 bytes, in 32 layers,
	# is all that fuses once torch.add declares no fusion.
	local db="$BATS_TEST_TMPDIR/db.json" off on
	jq 'del(.entries["torch.add"].fusion)' "$ROOT/module_db.json" > "$db"
	off=$(lmp-eval --engine transformers --seq-len 4 "$LLAMA2")
	on=$(lmp-eval --db "$db" --engine transformers --fusion on --seq-len 4 "$LLAMA2")
	[ "$(( $(jq .totals.bytes.reads <<<"$off") - $(jq .totals.bytes.reads <<<"$on") ))" = $(( 32 * 88064 )) ]
	[ "$(( $(jq .totals.bytes.writes <<<"$off") - $(jq .totals.bytes.writes <<<"$on") ))" = $(( 32 * 88064 )) ]
	jq '.entries["torch.add"].fusion.finds = "anywhere"' "$ROOT/module_db.json" > "$db"
	run_split lmp-eval --db "$db" --engine transformers --fusion on --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval 'torch.add: "fusion" needs "with" (entries), "finds" (first_after or next)'
}

@test "the lmdeploy profile (TurboMind v0.1.0a1): its knobs applied, 128-token blocks, and the corpus's engine name" {
	run_split lmp-eval --engine lmdeploy --seq-len 1 --cache-len 100 --totals "$LLAMA2"
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	[ "$(printf '%s' "$output" | jq -c '.runtime | [.engine, .kv_block, .gpu_memory_utilization, .memory_rule, .reserve_bytes, .chunk, .fusion, .attention, .flash_arch]')" = \
		'["lmdeploy",128,0.5,"static",0,16416,"on","flash","sm8x"]' ]
	# a decode step over 100 cached tokens holds 101 a sequence: one block
	# of 128 (vLLM's 16-token blocks: 7 x 16 = 112; transformers: 101)
	[ "$(printf '%s' "$output" | jq -c '.totals.state_bytes')" = $(( 128 * KV_TOKEN )) ]
	[ "$(lmp-eval --engine vllm --seq-len 1 --cache-len 100 --totals "$LLAMA2" | jq -c '.totals.state_bytes')" = $(( 112 * KV_TOKEN )) ]
	# the measurements name it as the corpus does
	[ "$(jq -c '.corpus_names' "$ROOT/share/lmp/engines/lmdeploy.json")" = '["lmdeploy-turbomind"]' ]
	[ "$(jq -r 'select(.engine == "lmdeploy-turbomind") | .id' "$ROOT"/share/lmp/measured/*.ndjson | wc -l)" -eq 240 ]
	# the chunk is 4 x (Llama 2's session_len 4096 + 8): the 2048-token
	# prompts of 16 sequences (32768 tokens) prefill in two steps
	[ "$(( 4 * (4096 + 8) ))" = 16416 ]
	# command-line options still override it
	[ "$(lmp-eval --engine lmdeploy --kv-block 64 --seq-len 1 --totals "$LLAMA2" | jq -c '.runtime.kv_block')" = 64 ]
}
