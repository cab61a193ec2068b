#!/usr/bin/env bats
# Parallel layouts (lmp-eval(1) PARALLELISM): tensor, expert and pipeline
# parallelism sharded as vLLM shards them, the collectives' rows, their
# alpha-beta time in lmp-roofline, the fit per device, and the refusals.
# Every number is derived by hand below from the shipped configs.

load helper

LINKS="$ROOT/test/data/h100-links.json" # H100 figures with test link figures

setup_file() {
	export PATH="$ROOT/bin:$PATH"
	lmp-inspect meta-llama/Llama-3.1-70B | lmp-populate > "$BATS_FILE_TMPDIR/l70.json"
	lmp-inspect mistralai/Mixtral-8x7B-v0.1 | lmp-populate > "$BATS_FILE_TMPDIR/mixtral.json"
}

L70() { echo "$BATS_FILE_TMPDIR/l70.json"; }
# a float check: |a - b| <= 1e-9 |b|
close() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1e-9 * (b < 0 ? -b : b)) }'; }

@test "Llama-3.1-70B at TP 8: each device's weights, the all-reduces of a step, a decode step's time" {
	# Llama-3.1-70B: hidden 8192, 80 layers, 64 heads, 8 KV heads of 128,
	# intermediate 28672, vocabulary 128256, head untied.  Per device at TP 8:
	#   embedding and head 128256 x 8192 / 8 = 131334144 each
	#   q_proj, o_proj 8192 x 8192 / 8 = 8388608; k_proj, v_proj 8192 x 1024 / 8 = 1048576
	#   gate, up, down 8192 x 28672 / 8 = 29360128; two norms of 8192, replicated
	local layer=$((2 * 8388608 + 2 * 1048576 + 3 * 29360128 + 2 * 8192))
	local params=$((2 * 131334144 + 80 * layer + 8192))
	[ "$params" = 8820367360 ]
	run lmp-eval --tp 8 --batch-size 1 --seq-len 1 --cache-len 100 "$(L70)"
	assert_success
	local doc=$output
	[ "$(jq -c '.runtime | [.tp, .pp, .ep, .dp, .devices]' <<<"$doc")" = "[8,1,1,1,8]" ]
	[ "$(jq .totals.param_count <<<"$doc")" = "$params" ]
	[ "$(jq .totals.weight_bytes <<<"$doc")" = $((2 * params)) ]
	[ "$(jq .parallel.device.weight_bytes <<<"$doc")" = $((2 * params)) ]
	# every device of the layout: the norms counted on each
	[ "$(jq .parallel.all_devices.param_count <<<"$doc")" = $((8 * params)) ]
	# a decode step reads every 16-bit weight once, but of the embedding's
	# table only the row it looks up (8192 x 2 bytes), and the rotary
	# table's 64 fp32 frequencies (256 bytes)
	[ "$(jq .totals.bytes.weights <<<"$doc")" = $((2 * (params - 131334144) + 8192 * 2 + 256)) ]
	# o_proj and down_proj all-reduce tokens x 8192 x 2 bytes (1 token: 16384),
	# twice a layer, and the embedding once; the head gathers 128256 logits
	[ "$(jq -c '[.rows[] | select(.collective.kind == "all_reduce") | [.path, .count, .collective.bytes, .collective.size]]' <<<"$doc")" = \
		'[["model.embed_tokens.all_reduce",1,16384,8],["model.layers.*.self_attn.o_proj.all_reduce",80,16384,8],["model.layers.*.mlp.down_proj.all_reduce",80,16384,8]]' ]
	[ "$(jq -c '.rows[] | select(.collective.kind == "all_gather") | [.path, .collective.bytes, .collective.link_bytes]' <<<"$doc")" = \
		"[\"lm_head.all_gather\",$((128256 * 2)),$((128256 * 2 * 7 / 8))]" ]
	# a ring all-reduce puts 2(n-1)/n of its buffer on each link
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.o_proj.all_reduce") | .collective.link_bytes' <<<"$doc")" = $((16384 * 14 / 8)) ]
	[ "$(jq .totals.collective_bytes <<<"$doc")" = $((161 * 16384 + 256512)) ]
	# the collective rows follow the layer that emits them
	[ "$(jq -r '.rows | map(.path) | index("model.layers.*.self_attn.o_proj.all_reduce") - index("model.layers.*.self_attn.o_proj")' <<<"$doc")" = 1 ]

	# Time: every layer of a batch-1 decode is memory-bound (intensity ~1,
	# ridge 295), so the layers take (reads + writes) / 3.35e12; each
	# all-reduce 2 x 7/8 x 16384 / 450e9 + 14 x 2 us, the gather
	# 7/8 x 256512 / 450e9 + 7 x 2 us (NVLink: 450 GB/s one way, 2 us).
	run sh -c "lmp-eval --tp 8 --batch-size 1 --seq-len 1 --cache-len 100 '$(L70)' | lmp-roofline --hardware '$LINKS'"
	assert_success
	local r=$output rw ar ag want
	rw=$(jq '.totals.bytes.reads + .totals.bytes.writes' <<<"$r")
	ar=$(awk 'BEGIN { printf "%.17g", 2 * 7 / 8 * 16384 / 450e9 + 14 * 2e-6 }')
	ag=$(awk 'BEGIN { printf "%.17g", 7 / 8 * 256512 / 450e9 + 7 * 2e-6 }')
	want=$(awk -v rw="$rw" -v ar="$ar" -v ag="$ag" 'BEGIN { printf "%.17g", rw / 3.35e12 + 161 * ar + ag }')
	close "$(jq '.rows[] | select(.path == "model.layers.*.mlp.down_proj.all_reduce") | .time_s' <<<"$r")" "$ar"
	close "$(jq .totals.collective_time_s <<<"$r")" "$(awk -v ar="$ar" -v ag="$ag" 'BEGIN { printf "%.17g", 161 * ar + ag }')"
	close "$(jq .totals.time_s <<<"$r")" "$want"
	[ "$(jq -r '.rows[] | select(.collective) | .link' <<<"$r" | sort -u)" = scale_up ]
	[ "$(jq -c '.roofline | [.devices, .links.gpus_per_node]' <<<"$r")" = "[8,8]" ]
	# the fit is one device's: its weights and KV cache against its 80 GiB
	[ "$(jq -c '.fit | [.capacity_bytes, .weights_bytes, .kv_cache_bytes]' <<<"$r")" = "[85899345920,$((2 * params)),$((101 * 40960))]" ]
}

@test "fewer KV heads than the TP degree: each device holds one KV head, the cache counts the replicas" {
	# TP 16 over 8 KV heads: vLLM keeps one KV head on every device (two
	# devices per head).  Per token a device keeps 80 layers x 1 head x 128
	# x (K + V) x 2 bytes = 40960; the layout 16 x 40960, twice the model's
	# 80 x 8 x 128 x 2 x 2 = 327680.  64 query heads: 4 on each device.
	run lmp-eval --tp 16 --batch-size 1 --seq-len 1 --cache-len 1023 "$(L70)"
	assert_success
	local doc=$output
	[ "$(jq .totals.state_growth.per_token <<<"$doc")" = 40960 ]
	[ "$(jq .totals.state_bytes <<<"$doc")" = $((1024 * 40960)) ]
	[ "$(jq .parallel.all_devices.state_bytes <<<"$doc")" = $((16 * 1024 * 40960)) ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.k_proj") | .param_count' <<<"$doc")" = $((8192 * 128)) ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .param_count' <<<"$doc")" = $((8192 * 4 * 128)) ]
	# sixteen devices are two nodes of eight: the TP group's all-reduces
	# cross them, on the scale-out links (50 GB/s one way, 5 us)
	run sh -c "lmp-eval --tp 16 --batch-size 1 --seq-len 1 --cache-len 1023 '$(L70)' | lmp-roofline --hardware '$LINKS'"
	assert_success
	[ "$(jq -r '.rows[] | select(.collective) | .link' <<<"$output" | sort -u)" = scale_out ]
	close "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.o_proj.all_reduce") | .time_s' <<<"$output")" \
		"$(awk 'BEGIN { printf "%.17g", 2 * 15 / 16 * 16384 / 50e9 + 30 * 5e-6 }')"
	# with nodes of 16 GPUs they stay on NVLink
	run sh -c "lmp-eval --tp 16 --batch-size 1 --seq-len 1 --cache-len 1023 '$(L70)' | lmp-roofline --hardware '$LINKS' --gpus-per-node 16"
	[ "$(jq -r '.rows[] | select(.collective) | .link' <<<"$output" | sort -u)" = scale_up ]
}

@test "Mixtral-8x7B at EP 8: one expert a device, the all-to-all bytes of dispatch and combine" {
	# Mixtral: hidden 4096, 32 layers, 8 experts, top 2.  At TP 8 with EP 8
	# each device holds 8 / 8 = 1 whole expert a layer; each TP rank sends
	# its eighth of the tokens, 2 copies of the hidden state: for 512 tokens
	# 512 / 8 x 2 x 4096 x 2 bytes = 1048576 per device, 7/8 of it on the
	# link; combine the same; then the TP group gathers 512 x 4096 x 2.
	run lmp-eval --tp 8 --ep 8 --batch-size 4 --seq-len 128 "$BATS_FILE_TMPDIR/mixtral.json"
	assert_success
	local doc=$output
	[ "$(jq -c '[.rows[] | select(.path | test("block_sparse_moe\\.(dispatch|combine|all_gather)$")) | [.path, .count, .collective.kind, .collective.group, .collective.size, .collective.bytes, .collective.link_bytes]]' <<<"$doc")" = \
		'[["model.layers.*.block_sparse_moe.dispatch",32,"all_to_all","ep",8,1048576,917504],["model.layers.*.block_sparse_moe.combine",32,"all_to_all","ep",8,1048576,917504],["model.layers.*.block_sparse_moe.all_gather",32,"all_gather","tp",8,4194304,3670016]]' ]
	# one expert per layer and device, whole (no TP inside): w1 4096 x 14336
	[ "$(jq -c '.rows[] | select(.path == "model.layers.*.block_sparse_moe.experts.*.w1") | [.count, .param_count]' <<<"$doc")" = "[32,$((4096 * 14336))]" ]
	# no all-reduce after the experts: the combine and the gather replace it
	[ "$(jq '[.rows[] | select(.path | test("experts.*all_reduce|block_sparse_moe.all_reduce"))] | length' <<<"$doc")" = 0 ]
	# TP 2 with 4 replicas and EP 8 (vLLM's ep = tp x dp): each expert sees the
	# tokens of 8 / 2 = 4 replicas, 4 x 512 x 2 / 8 = 512 a step: w1 does
	# 2 x 512 x 4096 x 14336 FLOPs; each TP rank dispatches 512 / 2 tokens
	run lmp-eval --tp 2 --dp 4 --ep 8 --batch-size 4 --seq-len 128 "$BATS_FILE_TMPDIR/mixtral.json"
	assert_success
	[ "$(jq -c '.rows[] | select(.path == "model.layers.*.block_sparse_moe.experts.*.w1") | [.count, .flops]' <<<"$output")" = "[32,$((2 * 512 * 4096 * 14336))]" ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.block_sparse_moe.dispatch") | .collective.bytes' <<<"$output")" = $((256 * 2 * 4096 * 2)) ]
	[ "$(jq -c '[.runtime.devices, .parallel.devices]' <<<"$output")" = "[8,8]" ]
	# with EP 1 the experts are split by TP inside and their sum all-reduced once a layer
	run lmp-eval --tp 8 --batch-size 4 --seq-len 128 "$BATS_FILE_TMPDIR/mixtral.json"
	assert_success
	[ "$(jq -c '.rows[] | select(.path == "model.layers.*.block_sparse_moe.experts.*.w1") | [.count, .param_count]' <<<"$output")" = "[256,$((4096 * 14336 / 8))]" ]
	[ "$(jq -c '.rows[] | select(.path == "model.layers.*.block_sparse_moe.all_reduce") | [.count, .collective.bytes]' <<<"$output")" = "[32,$((512 * 4096 * 2))]" ]
}

@test "a 2-stage pipeline: each stage's layers and weights, one transfer, the idle share" {
	# Llama-2-7B: 32 layers of 4 x 4096^2 + 3 x 4096 x 11008 + 2 x 4096 =
	# 202383360 parameters; embedding and head 32000 x 4096 = 131072000.
	# Stage 0: the embedding and layers 0-15; stage 1: layers 16-31, the
	# final norm and the head.
	local layer=$((4 * 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096))
	local s0=$((131072000 + 16 * layer)) s1=$((16 * layer + 4096 + 131072000))
	run lmp-eval --pp 2 --batch-size 2 --seq-len 64 "$LLAMA2"
	assert_success
	local doc=$output
	[ "$(jq -c '[.parallel.stages[] | [.layers, .param_count, .weight_bytes]]' <<<"$doc")" = "[[[0,15],$s0,$((2 * s0))],[[16,31],$s1,$((2 * s1))]]" ]
	[ $((s0 + s1)) = 6738415616 ] # Llama-2-7B's own count
	[ "$(jq -c '.parallel.device | [.stage, .param_count]' <<<"$doc")" = "[1,$s1]" ]
	[ "$(jq .parallel.all_devices.param_count <<<"$doc")" = $((s0 + s1)) ]
	# each stage keeps the KV cache of its 16 layers: 128 tokens x 16 x 4096 x 2 x 2
	[ "$(jq -c '[.parallel.stages[].state_bytes]' <<<"$doc")" = "[$((128 * 16 * 4096 * 4)),$((128 * 16 * 4096 * 4))]" ]
	# stage 0 hands stage 1 the hidden state and the residual: 2 x 128 x 4096 x 2
	[ "$(jq -c '.rows[] | select(.collective.kind == "send_recv") | [.path, .count, .collective.bytes]' <<<"$doc")" = "[\"pipeline.send_recv\",1,$((2 * 128 * 4096 * 2))]" ]
	[ "$(jq .parallel.pipeline_idle_fraction <<<"$doc")" = 0.5 ]
	# the fit is the heavier stage's device
	run sh -c "lmp-eval --pp 2 --batch-size 2 --seq-len 64 '$LLAMA2' | lmp-roofline --hardware '$LINKS' --devices 2"
	assert_success
	[ "$(jq -c '.fit | [.weights_bytes, .kv_cache_bytes]' <<<"$output")" = "[$((2 * s1)),$((128 * 16 * 4096 * 4))]" ]
	close "$(jq '.rows[] | select(.collective) | .time_s' <<<"$output")" "$(awk 'BEGIN { printf "%.17g", 2 * 128 * 4096 * 2 / 450e9 + 2e-6 }')"
}

@test "a fused q/k/v projection and a padded vocabulary (GPT-2 at TP 4)" {
	# GPT-2: 768 wide, 12 heads of 64, MLP 3072, vocabulary 50257.  c_attn
	# (q, k and v fused) keeps 12 / 4 = 3 heads of each: (3 + 3 + 3) x 64 =
	# 576 outputs, (768 + 1 bias) x 576 parameters; c_fc (768 + 1) x 3072 / 4;
	# the vocabulary padded: ceil(50257 / 4) = 12565 rows of 768.
	run lmp-eval --tp 4 --batch-size 1 --seq-len 8 "$ROOT/models/openai-community--gpt2.populated.json"
	assert_success
	[ "$(jq -c '[.rows[] | select(.path | test("^transformer\\.(wte|h\\.\\*\\.attn\\.c_attn|h\\.\\*\\.mlp\\.c_fc)$")) | .param_count]' <<<"$output")" = \
		"[$((12565 * 768)),$((769 * 576)),$((769 * 768))]" ]
	# each device caches K and V of its 3 heads: 8 tokens x 3 x 64 x 2 x 2 bytes
	[ "$(jq '.rows[] | select(.path == "transformer.h.*.attn.sdpa") | .state_bytes' <<<"$output")" = $((8 * 3 * 64 * 2 * 2)) ]
	# Falcon-7B's 71 heads divide by no degree but 71
	run --separate-stderr lmp-eval --tp 2 --batch-size 1 --seq-len 1 "$ROOT/models/tiiuae--falcon-7b.populated.json"
	assert_clean_failure lmp-eval "transformer.h.*.self_attention.query_key_value: --tp 2 does not divide its 71 heads"
}

@test "layouts sweep like every runtime option, and a request records its layout" {
	run lmp-eval --totals --tp 1,2,4 --batch-size 1 --seq-len 16 "$LLAMA2"
	assert_success
	[ "$(jq -c '[.runtime.tp, .parallel.device.param_count]' <<<"$output" | paste -sd' ')" = \
		"[1,6738415616] [2,$(( (6738415616 - 65 * 4096) / 2 + 65 * 4096 ))] [4,$(( (6738415616 - 65 * 4096) / 4 + 65 * 4096 ))]" ]
	run lmp-eval --tp 2 --batch-size 1 --prompt-len 8 --gen-len 3 "$LLAMA2"
	assert_success
	[ "$(jq -c '[.runtime.tp, .phases.prefill.runtime.tp, (.parallel.stages | length)]' <<<"$output")" = "[2,2,1]" ]
	# without a layout option nothing changes: one device, no "parallel"
	run lmp-eval --batch-size 1 --seq-len 16 "$LLAMA2"
	[ "$(jq -c '[.runtime.tp, .parallel]' <<<"$output")" = "[null,null]" ]
}

@test "a layout that does not divide the model is refused with one line" {
	run --separate-stderr lmp-eval --tp 3 --batch-size 1 --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "model.layers.*.self_attn.q_proj: --tp 3 does not divide its 32 heads (out_features 4096)"
	run --separate-stderr lmp-eval --dp 5 --ep 5 --batch-size 1 --seq-len 1 "$BATS_FILE_TMPDIR/mixtral.json"
	assert_clean_failure lmp-eval "model.layers.*.block_sparse_moe.experts.*: --ep 5 does not divide its 8 experts"
	run --separate-stderr lmp-eval --tp 4 --ep 3 --batch-size 1 --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "--ep 3 does not divide tp x dp = 4"
	run --separate-stderr lmp-eval --tp 4 --dp 2 --ep 2 --batch-size 1 --seq-len 1 "$BATS_FILE_TMPDIR/mixtral.json"
	assert_clean_failure lmp-eval "model.layers.*.block_sparse_moe.experts.*: --ep 2 is not a multiple of --tp 4"
	run --separate-stderr lmp-eval --pp 33 --batch-size 1 --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "--pp 33 is more stages than the model's 32 layers"
	run --separate-stderr lmp-eval --tp 0 --batch-size 1 --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "--tp: '0' is not an integer"
	run --separate-stderr lmp-eval --module torch.nn.Linear --tp 2 tokens=1 in_features=2 out_features=2
	assert_clean_failure lmp-eval "--module evaluates one module on one device"
	# lmp-roofline: --devices alone, or against the layout
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$LINKS' --devices 4"
	assert_clean_failure lmp-roofline "--devices 4 disagrees with the document's layout: tp x pp x dp = 2"
	run --separate-stderr sh -c "lmp-eval --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$LINKS' --devices 8"
	assert_clean_failure lmp-roofline "--devices 8: give the layout to lmp-eval (--tp 8"
	# a device without link figures cannot time the collectives
	jq 'del(.interconnect)' "$LINKS" > "$BATS_TEST_TMPDIR/h.json"
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$BATS_TEST_TMPDIR/h.json'"
	assert_clean_failure lmp-roofline "test-h100-links: the hardware file has no interconnect.scale_up.bytes_per_s to time the collectives of a group of 2"
	# a layout's collectives are timed from a --totals document's kernels as from its rows
	run sh -c "lmp-eval --totals --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$LINKS' | jq -c '[.totals, .fit]'"
	local t=$output
	run sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$LINKS' | jq -c '[.totals, .fit]'"
	[ "$output" = "$t" ]
}

@test "a hardware file's links: each figure sourced, gpus_per_node whole" {
	local h="$BATS_TEST_TMPDIR/h.json"
	jq 'del(.interconnect.scale_up.latency_s.source)' "$LINKS" > "$h"
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$h'"
	assert_clean_failure lmp-roofline "interconnect.scale_up: $h: latency_s has no \"source\""
	jq '.interconnect.scale_up.gpus_per_node.value = 7.5' "$LINKS" > "$h"
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$h'"
	assert_clean_failure lmp-roofline "interconnect.scale_up.gpus_per_node must be a whole number"
	jq '.interconnect.scale_out.bytes_per_s.value = 0' "$LINKS" > "$h"
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$h'"
	assert_clean_failure lmp-roofline "bytes_per_s.value must be a number in (0, 1e+14]"
	# no scale-out figures: fine while every group stays in a node
	jq 'del(.interconnect.scale_out)' "$LINKS" > "$h"
	run sh -c "lmp-eval --tp 8 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$h'"
	assert_success
	run --separate-stderr sh -c "lmp-eval --tp 16 --batch-size 1 --seq-len 1 '$(L70)' | lmp-roofline --hardware '$h'"
	assert_clean_failure lmp-roofline "test-h100-links: the hardware file has no interconnect.scale_out.bytes_per_s to time the collectives of a group of 16 across nodes"
	# lmp-hardware(5)'s unknown rule: a null value whose note begins "unknown:"
	jq '.interconnect.scale_up.latency_s.value = null' "$LINKS" > "$h"
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$h'"
	assert_clean_failure lmp-roofline 'latency_s.value is null without a note beginning "unknown:"'
}

@test "lmp-roofline: an unknown latency is taken as zero and said; an unknown scale-out refuses a layout across nodes" {
	local h="$BATS_TEST_TMPDIR/h.json"
	jq '.interconnect.scale_up.latency_s = {"value": null, "source": "searched", "note": "unknown: test"}
	    | .interconnect.scale_out.bytes_per_s = {"value": null, "source": "searched", "note": "unknown: test"}' \
		"$LINKS" > "$h"
	# Llama-2-7B at TP 2, one decode token (batch 1): each of the 32 layers
	# all-reduces the hidden state twice (after o_proj and down_proj), and
	# the vocabulary-parallel embedding once: 65 all-reduces of 4096 x 2 bytes
	# = 8192 bytes each.  Ring over 2 devices: 2(n-1)/n = 1 x 8192 bytes over
	# 450e9 B/s, and no latency (unknown, taken as 0).
	run --separate-stderr sh -c "lmp-eval --tp 2 --batch-size 1 --seq-len 1 '$LLAMA2' | lmp-roofline --hardware '$h'"
	assert_success
	echo "$output" | jq -e '.roofline.links.scale_up_latency_s == null and (.roofline.links.scale_up_latency_note | test("taken as 0"))'
	echo "$output" | jq -e '[.rows[] | select(.collective.kind == "all_reduce") | .time_s] | length >= 2 and all(.[]; (. - 8192 / 450e9 | fabs) < 1e-18)'
	run --separate-stderr sh -c "lmp-eval --tp 16 --batch-size 1 --seq-len 1 '$(L70)' | lmp-roofline --hardware '$h'"
	assert_clean_failure lmp-roofline "the hardware file has an unknown interconnect.scale_out.bytes_per_s to time the collectives of a group of 16 across nodes"
}

@test "Llama 4 Scout at TP 8: the fused experts split inside each expert, one all-reduce per MoE block" {
	# Llama-4-Scout-17B-16E: hidden 5120, 48 MoE layers, 40 heads and 8 KV
	# heads of 128, 16 experts and a shared expert of intermediate 8192,
	# vocabulary 202048, head untied.  Per device at TP 8 (vLLM FusedMoE:
	# each expert's intermediate width split over the ranks):
	#   embedding and head 202048 x 5120 / 8 = 129310720 each
	#   q_proj, o_proj 5120 x 5120 / 8 = 3276800; k_proj, v_proj 5120 x 1024 / 8 = 655360
	#   shared expert 3 x 5120 x 8192 / 8 = 15728640
	#   fused experts 3 x 16 x 5120 x 8192 / 8 = 251658240
	#   router 16 x 5120 and two norms of 5120, replicated; the final norm 5120
	local layer=$((2 * 3276800 + 2 * 655360 + 15728640 + 251658240 + 16 * 5120 + 2 * 5120))
	local params=$((2 * 129310720 + 48 * layer + 5120))
	[ "$params" = 13475107840 ]
	run sh -c "lmp-inspect meta-llama/Llama-4-Scout-17B-16E | lmp-populate | lmp-eval --tp 8 --batch-size 1 --seq-len 1"
	assert_success
	[ "$(jq .parallel.device.param_count <<<"$output")" = "$params" ]
	# Llama4MoE (vLLM models/llama4.py) all-reduces routed + shared once:
	# counted at the shared expert's down_proj, none at the experts
	[ "$(jq '[.rows[] | select(.collective and (.path | test("feed_forward")))] | length' <<<"$output")" = 2 ]
	[ "$(jq '[.rows[] | select(.path | test("experts\\.all_"))] | length' <<<"$output")" = 0 ]
}

@test "Llama 4 Scout at EP 8: the fused experts spread over the EP ranks, whole experts, dispatched and combined" {
	local M="$ROOT/models/meta-llama--Llama-4-Scout-17B-16E.populated.json" out e='model.layers(chunked,moe).*.feed_forward'
	# Llama4TextExperts under --ep (module_db.json role experts_ep, vLLM
	# FusedMoE with expert parallelism): 16 experts over 8 EP ranks, 2
	# whole experts of 3 x 5120 x 8192 on each, their width not split
	#   TP 8, EP 8: as the TP test above but the experts 2 x 3 x 5120 x 8192
	#   = 251658240, the same count as 16 experts of 1/8 the width
	local layer=$((2 * 3276800 + 2 * 655360 + 15728640 + 2 * 3 * 5120 * 8192 + 16 * 5120 + 2 * 5120))
	out=$(lmp-eval --tp 8 --ep 8 --batch-size 4 --seq-len 1 --cache-len 100 "$M")
	[ "$(jq .parallel.device.param_count <<<"$out")" = $((2 * 129310720 + 48 * layer + 5120)) ]
	[ "$(jq .parallel.device.param_count <<<"$out")" = 13475107840 ]
	# each expert keeps its width: a product of 8192 (TP alone: 8192 / 8)
	[ "$(jq --arg p "$e.experts" '.rows[] | select(.path == $p) | .gemm.n' <<<"$out")" = 8192 ]
	[ "$(lmp-eval --tp 8 --batch-size 4 --seq-len 1 --cache-len 100 "$M" | jq --arg p "$e.experts" '.rows[] | select(.path == $p) | .gemm.n')" = 1024 ]
	# all-to-alls of the routed tokens: 4 tokens x top_1 x 5120 x 2 bytes
	# = 40960, each TP rank its 1/8; the hidden state gathered over TP
	[ "$(jq -c --arg p "$e.dispatch" '.rows[] | select(.path == $p) | .collective | [.kind, .group, .size, .bytes]' <<<"$out")" = '["all_to_all","ep",8,5120]' ]
	[ "$(jq -c --arg p "$e.combine" '.rows[] | select(.path == $p) | .collective | [.kind, .group, .size, .bytes]' <<<"$out")" = '["all_to_all","ep",8,5120]' ]
	[ "$(jq -c --arg p "$e.all_gather" '.rows[] | select(.path == $p) | .collective | [.kind, .group, .size, .bytes]' <<<"$out")" = '["all_gather","tp",8,40960]' ]
	# DP 8, EP 8 (TP 1): every device holds the whole model but 2 of the 16
	# experts: 2 x 202048 x 5120 + 48 x (attention 2 x 5120 x 5120 + 2 x
	# 5120 x 1024, shared expert 3 x 5120 x 8192, router 16 x 5120, 2
	# norms, 2 experts) + the final norm
	local full=$((2 * 5120 * 5120 + 2 * 5120 * 1024 + 3 * 5120 * 8192 + 16 * 5120 + 2 * 5120))
	out=$(lmp-eval --dp 8 --ep 8 --batch-size 4 --seq-len 1 --cache-len 100 "$M")
	[ "$(jq .parallel.device.param_count <<<"$out")" = $((2 * 202048 * 5120 + 48 * (full + 2 * 3 * 5120 * 8192) + 5120)) ]
	[ "$(jq .parallel.device.param_count <<<"$out")" = 23212692480 ]
	# an EP group of 8 replicas routes their 8 x 4 tokens to its experts:
	# 32 tokens over 16 experts, top 1: 2 each on average, on 2 experts,
	# 6 x 5120 x 8192 + 5 x 8192 FLOPs a token; no TP group to gather in
	[ "$(jq --arg p "$e.experts" '.rows[] | select(.path == $p) | .flops' <<<"$out")" = $((2 * 2 * (6 * 5120 * 8192 + 5 * 8192))) ]
	[ "$(jq --arg p "$e.all_gather" '[.rows[] | select(.path == $p)] | length' <<<"$out")" = 0 ]
	# EP 3 does not divide its 16 experts
	run_split lmp-eval --dp 3 --ep 3 --seq-len 1 "$M"
	assert_clean_failure lmp-eval "--ep 3 does not divide its 16 experts"
}

@test "an entry not validated that declares no parallel role: counted replicated, said once per class on stderr" {
	local db="$BATS_TEST_TMPDIR/db.json" cls=transformers.models.llama.modeling_llama.LlamaRMSNorm
	# the module agent's entries start "pending" and carry no "parallel"
	jq --arg c "$cls" '.entries[$c].validation.status = "pending"' "$ROOT/module_db.json" > "$db"
	# Llama-3.1-70B at TP 8: 8820367360 parameters per device (derived in
	# the first test, the norms replicated), whatever the entry's status
	run_split lmp-eval --db "$db" --tp 2,8 --batch-size 1 --seq-len 1 "$(L70)"
	assert_success
	[ "$stderr" = "lmp-eval: warning: $cls declares no parallel role (an entry not validated): counted replicated on every device" ]
	[ "$(jq -s '.[1].parallel.device.param_count' <<<"$output")" = 8820367360 ]
	! grep -q 'warning' <<<"$output"
	# one device: nothing replicated, nothing said
	run_split lmp-eval --db "$db" --batch-size 1 --seq-len 1 "$(L70)"
	assert_success
	[ -z "$stderr" ]
}
