#!/usr/bin/env bats
# lmp-inspect --check-weights: the safetensors headers beside a config (a
# model directory or a cache snapshot) recorded as model.checkpoint.  The
# checkpoints are built here: the real format with tiny shapes.

load helper
load ckpt # mkst, ckpt, llama_layer

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub"
	unset HF_HOME HF_TOKEN HF_ENDPOINT HF_HUB_OFFLINE
	M="$BATS_TEST_TMPDIR/m"
	mkdir -p "$M"
	cp "$CFG/meta-llama/Llama-2-7b-hf/config.json" "$M/"
}

@test "one file: tensors, dtypes, elements and bytes summed" {
	# embed BF16 [3,2]: 6 elements, 12 bytes; norm F32 [2]: 2 elements, 8 bytes.
	mkst "$M/model.safetensors" '{"__metadata__":{"format":"pt"},"embed.weight":{"dtype":"BF16","shape":[3,2],"data_offsets":[0,12]},"norm.weight":{"dtype":"F32","shape":[2],"data_offsets":[12,20]}}' 20
	run lmp-inspect --check-weights "$M/config.json"
	[ "$status" -eq 0 ]
	c=$(jq -c '.model.checkpoint | [.count, .elements, .bytes, .dtypes]' <<<"$output")
	[ "$c" = '[2,8,20,{"BF16":12,"F32":8}]' ]
	[ "$(jq -r .model.checkpoint.directory <<<"$output")" = "$M" ]
}

@test "an index with two shards: layer indices folded, equal shapes merged, the indices kept" {
	# layers 0 and 1 each BF16 [4,2] = 8 elements, 16 bytes: one row, count 2,
	# indices 0 and 1.
	mkst "$M/model-00001-of-00002.safetensors" '{"model.layers.0.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}' 16
	mkst "$M/model-00002-of-00002.safetensors" '{"model.layers.1.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}' 16
	echo '{"metadata":{},"weight_map":{"model.layers.0.w":"model-00001-of-00002.safetensors","model.layers.1.w":"model-00002-of-00002.safetensors"}}' > "$M/model.safetensors.index.json"
	run lmp-inspect --check-weights "$M"
	[ "$status" -eq 0 ]
	[ "$(jq -c '.model.checkpoint.tensors' <<<"$output")" = '[{"name":"model.layers.*.w","dtype":"BF16","shape":[4,2],"count":2,"indices":["0-1"]}]' ]
	[ "$(jq -c '.model.checkpoint | [.count, .bytes]' <<<"$output")" = '[2,32]' ]
}

@test "an index: a tensor stored in two shards, or missing from the shard the map names, is refused" {
	# both shards hold model.layers.0.w; the map names the first for it
	mkst "$M/model-00001-of-00002.safetensors" '{"model.layers.0.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}' 16
	mkst "$M/model-00002-of-00002.safetensors" '{"model.layers.0.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]},"model.layers.1.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[16,32]}}' 32
	echo '{"metadata":{},"weight_map":{"model.layers.0.w":"model-00001-of-00002.safetensors","model.layers.1.w":"model-00002-of-00002.safetensors"}}' > "$M/model.safetensors.index.json"
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "model.safetensors.index.json: tensor model.layers.0.w is in two shards"
	# a name the map lists that no shard holds
	mkst "$M/model-00002-of-00002.safetensors" '{"model.layers.1.w":{"dtype":"BF16","shape":[4,2],"data_offsets":[0,16]}}' 16
	echo '{"metadata":{},"weight_map":{"model.layers.0.w":"model-00001-of-00002.safetensors","model.layers.1.w":"model-00002-of-00002.safetensors","model.layers.2.w":"model-00002-of-00002.safetensors"}}' > "$M/model.safetensors.index.json"
	run_split lmp-inspect --check-weights "$M"
	assert_clean_failure lmp-inspect "tensor model.layers.2.w is not in model-00002-of-00002.safetensors"
}

@test "a cache snapshot: the headers beside the snapshot's config" {
	commit=0123456789abcdef0123456789abcdef01234567
	snap="$HF_HUB_CACHE/models--org--tiny/snapshots/$commit"
	mkdir -p "$snap" "$HF_HUB_CACHE/models--org--tiny/refs"
	printf %s "$commit" > "$HF_HUB_CACHE/models--org--tiny/refs/main"
	cp "$M/config.json" "$snap/"
	mkst "$snap/model.safetensors" '{"lm_head.weight":{"dtype":"F16","shape":[5],"data_offsets":[0,10]}}' 10
	run lmp-inspect --check-weights org/tiny
	[ "$status" -eq 0 ]
	[ "$(jq -c '.model.checkpoint | [.count, .bytes, .tensors[0].name]' <<<"$output")" = '[1,10,"lm_head.weight"]' ]
}

@test "bad checkpoints: one clean line each" {
	mkst "$M/model.safetensors" '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}' 2 $((1 << 40))
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "over the 104857600-byte limit"
	mkst "$M/model.safetensors" '{"a":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}}' 2 4000
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "runs past the end of the file"
	mkst "$M/model.safetensors" 'not json at all' 0
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "not a JSON object"
	# a shard the index names but nothing holds
	echo '{"weight_map":{"x":"model-00009.safetensors"}}' > "$M/model.safetensors.index.json"
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "model-00009.safetensors"
	rm "$M"/model.safetensors*
	run_split lmp-inspect --check-weights "$M/config.json"
	assert_clean_failure lmp-inspect "no model.safetensors or model.safetensors.index.json"
	# a shipped config's checkpoint is on the hub (08-weights-hub.bats): offline, none
	HF_HUB_OFFLINE=1 run_split lmp-inspect --check-weights meta-llama/Llama-2-7b-hf
	assert_clean_failure lmp-inspect "no checkpoint of meta-llama/Llama-2-7b-hf@main on disk, and HF_HUB_OFFLINE forbids fetching its headers from the hub"
}

# The comparison in lmp-eval: a tiny llama (hidden 8, intermediate 12, 2
# layers, 2 heads of 4, 1 KV head, vocabulary 10).  Per layer, by hand:
# q_proj 8x8 = 64, k_proj and v_proj 4x8 = 32 (1 KV head of 4), o_proj 64,
# gate/up_proj 12x8 = 96, down_proj 8x12 = 96, two norms of 8; embed_tokens
# 10x8 = 80, the final norm 8, lm_head 10x8 = 80 (tied: stored once).
tiny_llama() {
	jq '.hidden_size=8 | .intermediate_size=12 | .num_hidden_layers=2 | .num_attention_heads=2
	    | .num_key_value_heads=1 | .vocab_size=10 | .tie_word_embeddings=$t' --argjson t "$1" \
		"$CFG/meta-llama/Llama-2-7b-hf/config.json" > "$M/config.json"
}

check() {
	lmp-inspect --check-weights "$M" | lmp-populate | lmp-eval --seq-len 1
}

@test "lmp-eval weights_check: every tensor matched, the untied head included" {
	tiny_llama false
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) \
		model.norm.weight:8 lm_head.weight:10x8
	run check
	[ "$status" -eq 0 ]
	# 12 paths: embed, 9 per layer, norm, head; 9 x 2 + 3 = 21 tensors, each
	# by name and shape (every entry here declares its tensors);
	# per layer 64+32+32+64+96+96+96+8+8 = 496, x2 = 992, + 80 + 8 + 80 = 1160.
	[ "$(jq -c .weights_check <<<"$output")" = '{"matched":{"paths":12,"tensors":21,"by_shape":21,"parameters":1160},"unchecked_quantized":{"paths":0,"tensors":0,"parameters":0},"missing":{"paths":[],"tensors":[],"parameters":0},"tied_absent":[],"extra":{"tensors":[],"elements":0}}' ]
	[ "$(jq .totals.param_count <<<"$output")" = 1160 ]
}

@test "lmp-eval weights_check: a tied head absent is expected, extra tensors listed and summed" {
	tiny_llama true
	# extras: a multi-token-prediction layer's projection 8x16 = 128 and two
	# rotary buffers inv_freq [2] (= 4 elements, count 2); no lm_head.
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) \
		model.norm.weight:8 mtp.0.proj.weight:8x16 \
		model.layers.0.self_attn.rotary_emb.inv_freq:2 model.layers.1.self_attn.rotary_emb.inv_freq:2
	run check
	[ "$status" -eq 0 ]
	w=$(jq -c .weights_check <<<"$output")
	# matched: 1160 - 80 (the head) = 1080 over 11 paths and 20 tensors
	[ "$(jq -c .matched <<<"$w")" = '{"paths":11,"tensors":20,"by_shape":20,"parameters":1080}' ]
	[ "$(jq -c .tied_absent <<<"$w")" = '[{"path":"lm_head","tied":"model.embed_tokens","parameters":80}]' ]
	[ "$(jq -c .missing <<<"$w")" = '{"paths":[],"tensors":[],"parameters":0}' ]
	[ "$(jq -c .extra <<<"$w")" = '{"tensors":[{"name":"mtp.*.proj.weight","indices":["0"],"count":1,"elements":128},{"name":"model.layers.*.self_attn.rotary_emb.inv_freq","indices":["0-1"],"count":2,"elements":4}],"elements":132}' ]
}

@test "lmp-eval weights_check: model parameters the checkpoint lacks are listed and summed" {
	tiny_llama false
	# no final norm and no (untied) head: missing 8 + 80 = 88; matched the
	# rest, 1160 - 88 = 1072 over 10 paths and 19 tensors.
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1)
	run check
	[ "$status" -eq 0 ]
	[ "$(jq -c .weights_check.missing <<<"$output")" = '{"paths":[{"path":"model.norm","parameters":8},{"path":"lm_head","parameters":80}],"tensors":[],"parameters":88}' ]
	[ "$(jq -c .weights_check.matched <<<"$output")" = '{"paths":10,"tensors":19,"by_shape":19,"parameters":1072}' ]
}

@test "lmp-eval weights_check: a tensor of the wrong shape is an error naming it and both shapes" {
	tiny_llama true
	# layer 1's q_proj stored 6x8, the model's [out 8, in 8].
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1 6x8) \
		model.norm.weight:8
	lmp-inspect --check-weights "$M" | lmp-populate > "$BATS_TEST_TMPDIR/pop.json"
	run_split lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/pop.json"
	assert_clean_failure lmp-eval "weights check: model.layers.1.self_attn.q_proj.weight: the model's shape [8, 8], the checkpoint's [6, 8]"
}

@test "lmp-eval without model.checkpoint writes no weights_check" {
	tiny_llama true
	run_split sh -c "lmp-inspect '$M' | lmp-populate | lmp-eval --seq-len 1 | jq -c 'has(\"weights_check\")'"
	[ "$output" = false ]
}

@test "lmp-eval weights_check: AWQ rows compared by their logical shape, their scales and zeros summed apart" {
	tiny_llama true
	# AWQ packs 8 outputs a word (N % 8 == 0): 2 KV heads, intermediate 16
	jq '.quantization_config = {"quant_method":"awq","bits":4,"group_size":4,"zero_point":true}
	    | .num_key_value_heads = 2 | .intermediate_size = 16' \
		"$M/config.json" > "$M/c" && mv "$M/c" "$M/config.json"
	# each linear of K inputs, N outputs as AWQ stores it: qweight I32
	# [K, N/8], qzeros I32 [K/4, N/8], scales [K/4, N].
	t=""
	for l in 0 1; do
		p=model.layers.$l
		for lin in self_attn.q_proj:8:8 self_attn.k_proj:8:8 self_attn.v_proj:8:8 self_attn.o_proj:8:8 \
			mlp.gate_proj:8:16 mlp.up_proj:8:16 mlp.down_proj:16:8; do
			IFS=: read -r name k n <<<"$lin"
			w=$(((n + 7) / 8))
			t="$t $p.$name.qweight:${k}x$w:I32 $p.$name.qzeros:$((k / 4))x$w:I32 $p.$name.scales:$((k / 4))x$n"
		done
		t="$t $p.input_layernorm.weight:8 $p.post_attention_layernorm.weight:8"
	done
	# shellcheck disable=SC2086
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $t model.norm.weight:8
	run check
	[ "$status" -eq 0 ]
	w=$(jq -c .weights_check <<<"$output")
	# Each qweight maps back (lmp-inspect's logical) to weight [N, K], so the
	# 7 linears x 2 layers = 14 weights are compared by shape.  Hidden 8, 2
	# heads of 4, 2 KV heads: q, k, v, o 8x8 = 64 each, gate and up 8 -> 16 and
	# down 16 -> 8 = 128 each: 2 x (4 x 64 + 3 x 128) = 1280 parameters.
	# With embed 80, 2 x 2 norms of 8 and the final norm 8 (120 over 4 paths,
	# 6 tensors): matched 11 paths, 20 tensors, 1400 parameters; nothing
	# left unchecked.  Their qzeros and scales, 2 x 14 = 28 tensors, are
	# auxiliary: per linear K/4 x N/8 + K/4 x N elements = 2 + 16 = 18 for
	# q, k, v, o (K 8, N 8), 4 + 32 = 36 for gate and up (K 8, N 16), 4 + 32
	# = 36 for down (K 16, N 8): 2 x (4 x 18 + 3 x 36) = 360 elements.
	[ "$(jq -c .unchecked_quantized <<<"$w")" = '{"paths":0,"tensors":0,"parameters":0}' ]
	[ "$(jq -c .matched <<<"$w")" = '{"paths":11,"tensors":20,"by_shape":20,"parameters":1400}' ]
	[ "$(jq -c .quantization_aux <<<"$w")" = '{"tensors":28,"elements":360}' ]
	[ "$(jq -c '[.extra.elements, .missing.parameters, (.tied_absent | length)]' <<<"$w")" = '[0,0,1]' ]
}

@test "lmp-eval weights_check: gpt-oss layer groups, a bare parameter and fused experts" {
	# A tiny gpt-oss in bf16 (no quantization_config): hidden 8, 2 heads of
	# 4, 1 KV head, 3 experts of intermediate 6, 2 layers (one sliding, one
	# full), vocabulary 10.  Per layer, by hand (every projection has a
	# bias): q_proj 8x8+8 = 72, k_proj and v_proj 4x8+4 = 36, o_proj 72,
	# sinks 2 (one per head), router 3x8+3 = 27, experts gate_up_proj
	# 3 x (8x12+12) = 324, down_proj 3 x (6x8+8) = 168, two norms of 8: 753.
	# Model: 2 x 753 + embed 80 + norm 8 + lm_head 80 = 1674.
	jq '.hidden_size=8 | .intermediate_size=6 | .head_dim=4 | .num_attention_heads=2 | .num_key_value_heads=1
	    | .num_local_experts=3 | .experts_per_token=2 | .num_experts_per_tok=2 | .num_hidden_layers=2
	    | .vocab_size=10 | .layer_types=["sliding_attention","full_attention"] | del(.quantization_config)' \
		"$CFG/openai/gpt-oss-20b/config.json" > "$M/config.json"
	# transformers' GptOss names: the sinks a bare parameter, the experts
	# fused per layer as [experts, in, out] with a _bias beside them.
	t=""
	for l in 0 1; do
		p=model.layers.$l
		t="$t $p.input_layernorm.weight:8 $p.post_attention_layernorm.weight:8 $p.self_attn.sinks:2"
		t="$t $p.self_attn.q_proj.weight:8x8 $p.self_attn.q_proj.bias:8 $p.self_attn.k_proj.weight:4x8"
		t="$t $p.self_attn.k_proj.bias:4 $p.self_attn.v_proj.weight:4x8 $p.self_attn.v_proj.bias:4"
		t="$t $p.self_attn.o_proj.weight:8x8 $p.self_attn.o_proj.bias:8 $p.mlp.router.weight:3x8 $p.mlp.router.bias:3"
		t="$t $p.mlp.experts.gate_up_proj:3x8x12 $p.mlp.experts.gate_up_proj_bias:3x12"
		t="$t $p.mlp.experts.down_proj:3x6x8 $p.mlp.experts.down_proj_bias:3x8"
	done
	# shellcheck disable=SC2086
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $t model.norm.weight:8 lm_head.weight:10x8
	run check
	[ "$status" -eq 0 ]
	# 13 paths (the sliding and full rows of a path are one); per layer 2 norms
	# and the sinks 3, 4 projections x 2, router 2, experts 4: 17; 17 x 2 + 3 = 37
	# tensors.  All but the fused experts (4 a layer, checked by count: the
	# model's experts are Linears, stored as one tensor) by name and shape:
	# 37 - 8 = 29.
	[ "$(jq -c .weights_check.matched <<<"$output")" = '{"paths":13,"tensors":37,"by_shape":29,"parameters":1674}' ]
	[ "$(jq -c '[.weights_check.extra.elements, .weights_check.missing.parameters]' <<<"$output")" = '[0,0]' ]
	# layer groups that do not record their indices (a template without
	# "layers") take any: the same result, summed per path
	lmp-inspect --check-weights "$M" | lmp-populate |
		jq 'walk(if type == "object" and has("repeat") then del(.layers) else . end)' > "$BATS_TEST_TMPDIR/pop.json"
	run lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/pop.json"
	[ "$status" -eq 0 ]
	[ "$(jq -c .weights_check.matched <<<"$output")" = '{"paths":13,"tensors":37,"by_shape":29,"parameters":1674}' ]
	[ "$(jq -c '[.weights_check.extra.elements, .weights_check.missing]' <<<"$output")" = '[0,{"paths":[],"tensors":[],"parameters":0}]' ]
}

@test "the inventory: tensors of one name that are not one product of indices are split" {
	# layers 0 and 2 hold experts 0-1, layer 1 experts 0-2 (each F32 [2]):
	# rows {0,2} x {0-1} (4 tensors) and {1} x {0-2} (3); a layer norm in
	# layers 0-2 and a layer 61 (one row, 4 tensors, indices "0-2,61").
	t=""
	for l in 0 1 2; do
		n=2
		[ $l = 1 ] && n=3
		for e in $(seq 0 $((n - 1))); do t="$t model.layers.$l.mlp.experts.$e.w:2"; done
	done
	for l in 0 1 2 61; do t="$t model.layers.$l.norm.weight:2"; done
	# shellcheck disable=SC2086
	ckpt "$M/model.safetensors" $t
	run lmp-inspect --check-weights "$M"
	[ "$status" -eq 0 ]
	[ "$(jq -c '[.model.checkpoint.tensors[] | [.name, .count, .indices]]' <<<"$output")" = \
		'[["model.layers.*.mlp.experts.*.w",4,["0,2","0-1"]],["model.layers.*.mlp.experts.*.w",3,["1","0-2"]],["model.layers.*.norm.weight",4,["0-2,61"]]]' ]
}

@test "lmp-eval weights_check: a transposed tensor of the same element count is caught by its shape" {
	tiny_llama false
	# layer 1's gate_proj stored [8, 12]: 96 elements, as many as the model's
	# [intermediate 12, hidden 8], so an element count would pass it.
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) \
		$(llama_layer 1 | sed 's/gate_proj.weight:12x8/gate_proj.weight:8x12/') model.norm.weight:8 lm_head.weight:10x8
	lmp-inspect --check-weights "$M" | lmp-populate > "$BATS_TEST_TMPDIR/pop.json"
	run_split lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/pop.json"
	assert_clean_failure lmp-eval "weights check: model.layers.1.mlp.gate_proj.weight: the model's shape [12, 8], the checkpoint's [8, 12]"
}

@test "lmp-eval weights_check: a stored layer past the model's (multi-token prediction) is extra, the rest matched" {
	tiny_llama false
	# The checkpoint holds layers 0, 1 and 2 of the same shapes; the model
	# builds 0 and 1 (its layers record start 0, stop 2).  Matched as when
	# only 0 and 1 are stored: 1160 parameters, 21 tensors; extra: layer 2's
	# 9 tensors, one each, indices "2": 8 + 64 + 32 + 32 + 64 + 8 + 96 + 96
	# + 96 = 496 elements.
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) $(llama_layer 2) \
		model.norm.weight:8 lm_head.weight:10x8
	run check
	[ "$status" -eq 0 ]
	w=$(jq -c .weights_check <<<"$output")
	[ "$(jq -c .matched <<<"$w")" = '{"paths":12,"tensors":21,"by_shape":21,"parameters":1160}' ]
	[ "$(jq -c '[.extra.tensors[] | [.name, .indices, .count, .elements]]' <<<"$w")" = \
		'[["model.layers.*.input_layernorm.weight",["2"],1,8],["model.layers.*.self_attn.q_proj.weight",["2"],1,64],["model.layers.*.self_attn.k_proj.weight",["2"],1,32],["model.layers.*.self_attn.v_proj.weight",["2"],1,32],["model.layers.*.self_attn.o_proj.weight",["2"],1,64],["model.layers.*.post_attention_layernorm.weight",["2"],1,8],["model.layers.*.mlp.gate_proj.weight",["2"],1,96],["model.layers.*.mlp.up_proj.weight",["2"],1,96],["model.layers.*.mlp.down_proj.weight",["2"],1,96]]' ]
	[ "$(jq .extra.elements <<<"$w")" = 496 ]
	[ "$(jq -c .missing <<<"$w")" = '{"paths":[],"tensors":[],"parameters":0}' ]
}

@test "lmp-eval weights_check: declared tensors the checkpoint lacks, by name and layer" {
	tiny_llama false
	jq '.attention_bias = true' "$M/config.json" > "$M/c" && mv "$M/c" "$M/config.json"
	# With attention_bias the model's q/k/v/o projections each declare a bias
	# (q 8, k 4, v 4, o 8).  The checkpoint stores layer 0's and not layer
	# 1's: missing, each count 1 at index 1, 8 + 4 + 4 + 8 = 24 parameters.
	# Matched: 1160 + layer 0's 24 = 1184 over 21 + 4 tensors.
	p=model.layers.0.self_attn
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) \
		$p.q_proj.bias:8 $p.k_proj.bias:4 $p.v_proj.bias:4 $p.o_proj.bias:8 model.norm.weight:8 lm_head.weight:10x8
	run check
	[ "$status" -eq 0 ]
	w=$(jq -c .weights_check <<<"$output")
	[ "$(jq -c .matched <<<"$w")" = '{"paths":12,"tensors":25,"by_shape":25,"parameters":1184}' ]
	[ "$(jq -c .missing <<<"$w")" = '{"paths":[],"tensors":[{"name":"model.layers.*.self_attn.q_proj.bias","indices":["1"],"count":1,"parameters":8},{"name":"model.layers.*.self_attn.k_proj.bias","indices":["1"],"count":1,"parameters":4},{"name":"model.layers.*.self_attn.v_proj.bias","indices":["1"],"count":1,"parameters":4},{"name":"model.layers.*.self_attn.o_proj.bias","indices":["1"],"count":1,"parameters":8}],"parameters":24}' ]
}

@test "lmp-eval weights_check: a quantized tensor mapped back to its logical name and shape is checked by shape" {
	tiny_llama true
	jq '.quantization_config = {"quant_method":"awq","bits":4,"group_size":4,"zero_point":true}' \
		"$M/config.json" > "$M/c" && mv "$M/c" "$M/config.json"
	# q_proj alone, as AWQ stores it (qweight I32 [8, 1], qzeros I32 [2, 1],
	# scales [2, 8]); the inventory's qweight entry is marked as the logical
	# q_proj.weight [8, 8], as a quantized format's mapping writes it.
	t=""
	for l in 0 1; do
		p=model.layers.$l.self_attn.q_proj
		t="$t $p.qweight:8x1:I32 $p.qzeros:2x1:I32 $p.scales:2x8"
	done
	# shellcheck disable=SC2086
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $t model.norm.weight:8
	logical() {
		lmp-inspect --check-weights "$M" | jq -c --argjson s "$1" '.model.checkpoint.tensors |= map(
			if (.name | endswith(".qweight")) then . + {logical: {name: (.name | sub("qweight$"; "weight")), shape: $s}} else . end)' |
			lmp-populate
	}
	logical '[8,8]' > "$BATS_TEST_TMPDIR/pop.json"
	run lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/pop.json"
	[ "$status" -eq 0 ]
	w=$(jq -c .weights_check <<<"$output")
	# matched by shape: embed 80, q_proj 2 x 64 = 128, the final norm 8:
	# 216 over 3 paths and 4 tensors.  q_proj's qzeros and scales are not
	# the model's tensors (aux_of its weight): no extra, summed apart,
	# 2 x 2 + 2 x 16 = 36 elements in 4 tensors.
	[ "$(jq -c .matched <<<"$w")" = '{"paths":3,"tensors":4,"by_shape":4,"parameters":216}' ]
	[ "$(jq -c '[.extra.elements, .quantization_aux]' <<<"$w")" = '[0,{"tensors":4,"elements":36}]' ]
	[ "$(jq -c .unchecked_quantized <<<"$w")" = '{"paths":0,"tensors":0,"parameters":0}' ]
	logical '[8,6]' > "$BATS_TEST_TMPDIR/pop.json"
	run_split lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/pop.json"
	assert_clean_failure lmp-eval "weights check: model.layers.0.self_attn.q_proj.weight: the model's shape [8, 8], the checkpoint's [8, 6]"
}

@test "lmp-eval weights_check: a DeepSeek-V3 checkpoint's multi-token-prediction layer is extra, the router's buffer checked" {
	# A tiny DeepSeek-V3 in bf16: hidden 8, 2 heads, q_lora_rank 6,
	# kv_lora_rank 4, qk_nope 2, qk_rope 2, v_head 2, vocabulary 10; layer 0
	# dense (intermediate 12), layer 1 MoE (2 routed experts and 1 shared of
	# moe_intermediate 4).  DeepSeek stores its multi-token-prediction module
	# as the layer past the last (model.layers.61 of 61; here model.layers.2):
	# a MoE decoder layer plus enorm, hnorm, eh_proj, shared_head.norm,
	# shared_head.head and its own embed_tokens.  Folded with the decoder
	# layers, an element count saw 3 layers' tensors where the model has 2.
	jq 'del(.quantization_config) | .hidden_size=8 | .intermediate_size=12 | .moe_intermediate_size=4
	    | .num_hidden_layers=2 | .first_k_dense_replace=1 | .n_routed_experts=2 | .num_experts_per_tok=1
	    | .n_group=1 | .topk_group=1 | .n_shared_experts=1 | .num_attention_heads=2 | .num_key_value_heads=2
	    | .q_lora_rank=6 | .kv_lora_rank=4 | .qk_nope_head_dim=2 | .qk_rope_head_dim=2 | .v_head_dim=2
	    | .vocab_size=10' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$M/config.json"
	# attention, per layer: norms 8 + 8, q_a_proj [6, 8] 48, q_a_layernorm
	# 6, q_b_proj [2 x (2 + 2), 6] 48, kv_a_proj_with_mqa [4 + 2, 8] 48,
	# kv_a_layernorm 4, kv_b_proj [2 x (2 + 2), 4] 32, o_proj [8, 2 x 2] 32:
	# 234.  Dense MLP [12, 8] x 2 + [8, 12]: 288.  MoE: gate [2, 8] 16 (and
	# the buffer e_score_correction_bias [2]), each expert and the shared
	# one [4, 8] x 2 + [8, 4]: 96, three of them 288.
	attn() {
		local p=model.layers.$1
		echo "$p.input_layernorm.weight:8 $p.post_attention_layernorm.weight:8 $p.self_attn.q_a_proj.weight:6x8" \
			"$p.self_attn.q_a_layernorm.weight:6 $p.self_attn.q_b_proj.weight:8x6" \
			"$p.self_attn.kv_a_proj_with_mqa.weight:6x8 $p.self_attn.kv_a_layernorm.weight:4" \
			"$p.self_attn.kv_b_proj.weight:8x4 $p.self_attn.o_proj.weight:8x4"
	}
	moe() {
		local p=model.layers.$1.mlp
		attn "$1"
		echo "$p.gate.weight:2x8 $p.gate.e_score_correction_bias:2"
		for e in experts.0 experts.1 shared_experts; do
			echo "$p.$e.gate_proj.weight:4x8 $p.$e.up_proj.weight:4x8 $p.$e.down_proj.weight:8x4"
		done
	}
	p=model.layers.0.mlp
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(attn 0) \
		$p.gate_proj.weight:12x8 $p.up_proj.weight:12x8 $p.down_proj.weight:8x12 $(moe 1) $(moe 2) \
		model.layers.2.enorm.weight:8 model.layers.2.hnorm.weight:8 model.layers.2.eh_proj.weight:8x16 \
		model.layers.2.shared_head.norm.weight:8 model.layers.2.shared_head.head.weight:10x8 \
		model.layers.2.embed_tokens.weight:10x8 model.norm.weight:8 lm_head.weight:10x8
	run check
	[ "$status" -eq 0 ]
	w=$(jq -c .weights_check <<<"$output")
	# The model: 80 + (234 + 288) + (234 + 16 + 288) + 8 + 80 = 1228, its
	# totals too.  Tensors: 3 + (9 + 3) + (9 + 2 + 9) = 35, all by shape;
	# paths: embed, norm, head, 9 attention, 3 dense MLP, the gate, 3 expert
	# and 3 shared-expert projections = 22.
	[ "$(jq .totals.param_count <<<"$output")" = 1228 ]
	[ "$(jq -c .matched <<<"$w")" = '{"paths":22,"tensors":35,"by_shape":35,"parameters":1228}' ]
	[ "$(jq -c .missing <<<"$w")" = '{"paths":[],"tensors":[],"parameters":0}' ]
	# Extra: layer 2's decoder tensors (20, the experts' at indices 2 x 0-1)
	# 538 + 2 elements, and the module's own 8 + 8 + 128 + 8 + 80 + 80 = 312:
	# 852, all at index 2.
	[ "$(jq .extra.elements <<<"$w")" = 852 ]
	[ "$(jq '[.extra.tensors[].count] | add' <<<"$w")" = $((20 + 6)) ]
	[ "$(jq -c '[.extra.tensors[].indices[0]] | unique' <<<"$w")" = '["2"]' ]
	[ "$(jq -c '.extra.tensors[] | select(.name == "model.layers.*.mlp.experts.*.gate_proj.weight")' <<<"$w")" = \
		'{"name":"model.layers.*.mlp.experts.*.gate_proj.weight","indices":["2","0-1"],"count":2,"elements":64}' ]
}
