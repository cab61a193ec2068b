#!/usr/bin/env bats
# The engine knobs of the attention: --kv-layout (MLA's latent cache and
# absorbed decode, as vLLM and SGLang run it) and --attention (eager, fused,
# FlashAttention's tiles).  Every figure is derived here from the config's
# dimensions, the formulas written beside it.

load helper

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE=/nonexistent HF_HUB_OFFLINE=1
}

row() { # row PATH < eval document: that row
	jq -c --arg p "$1" '.rows[] | select(.path == $p)'
}

dsv3() { # the populated DeepSeek-V3, made once per file
	local f="$BATS_FILE_TMPDIR/dsv3.json"
	[ -s "$f" ] || lmp-inspect deepseek-ai/DeepSeek-V3 2>/dev/null | lmp-populate > "$f"
	echo "$f"
}

cfg() { # cfg FIELD: DeepSeek-V3's config value
	jq -r ".$1" "$CFG/deepseek-ai/DeepSeek-V3/config.json"
}

# ---- --kv-layout ----

@test "--kv-layout latent: DeepSeek-V3 caches the latent, 70,272 bytes a token at 16 bits" {
	local doc L C R
	doc=$(dsv3)
	L=$(cfg num_hidden_layers) C=$(cfg kv_lora_rank) R=$(cfg qk_rope_head_dim)
	# kv_lora_rank + qk_rope_head_dim = 512 + 64 = 576 elements a token and
	# layer, 2 bytes each, 61 layers: 70,272 bytes a token
	[ $((L * (C + R) * 2)) -eq 70272 ]
	run lmp-eval --totals --kv-layout latent --seq-len 1 --cache-len 4095 "$doc"
	assert_success
	[ "$(jq .totals.state_growth.per_token <<<"$output")" = 70272 ]
	[ "$(jq .totals.state_bytes <<<"$output")" = $((4096 * 70272)) ]
	[ "$(jq -r .runtime.kv_layout <<<"$output")" = latent ]
	# the heads layout is transformers' cache: 128 heads x (192 + 128) x 2 x 61
	run lmp-eval --totals --kv-layout heads --seq-len 1 --cache-len 4095 "$doc"
	[ "$(jq .totals.state_growth.per_token <<<"$output")" = $((128 * 320 * 2 * 61)) ]
	[ "$(jq .totals.state_growth.per_token <<<"$output")" = 4997120 ]
	[ "$(jq .runtime.kv_layout <<<"$output")" = null ]
	# TensorRT-LLM's profile caches the latent too (its MLA module), with its
	# own fused attention kernels, not FlashAttention's tiles
	run lmp-eval --engine trtllm --totals --seq-len 1 --cache-len 4095 "$doc"
	assert_success
	[ "$(jq .totals.state_growth.per_token <<<"$output")" = 70272 ]
	[ "$(jq -c '.runtime | [.engine, .kv_layout, .attention]' <<<"$output")" = '["trtllm","latent",null]' ]
	# at 8 bits the latent is half
	run lmp-eval --totals --kv-layout latent --kv-bit 8 --seq-len 1 --cache-len 4095 "$doc"
	[ "$(jq .totals.state_growth.per_token <<<"$output")" = 35136 ]
}

@test "--kv-layout latent: a decode step runs absorbed; FLOPs and bytes of one layer's attention by hand" {
	local doc N P R V C out
	doc=$(dsv3)
	N=$(cfg num_attention_heads) P=$(cfg qk_nope_head_dim) R=$(cfg qk_rope_head_dim)
	V=$(cfg v_head_dim) C=$(cfg kv_lora_rank)
	out=$(lmp-eval --kv-layout latent --w-bit 16 --batch-size 2 --seq-len 1 --cache-len 4095 "$doc")
	local a='model.layers(moe).*.self_attn'
	# 2 decodes of 1 token over 4096 keys each: 2 tokens, 8192 keys (and pairs)
	local d=2 dk=8192
	# q_nope through W_UK: 2 P C a head and token; W_UV: 2 C V
	# MQA over the latent: 2 (C + R) for the scores, 2 C for the values, 6 softmax, a head and key
	local flops=$(( 2*d*N*P*C + 2*d*N*C*V + 2*N*dk*(C + R) + 2*N*dk*C + 6*N*dk ))
	[ "$(row "$a.latent_attn" <<<"$out" | jq .flops)" = "$flops" ]
	# kv_b_proj, sdpa and the k/q concatenation do nothing in a decode step
	[ "$(row "$a.kv_b_proj" <<<"$out" | jq -c '[.flops, .bytes.reads, .bytes.writes]')" = '[0,0,0]' ]
	[ "$(row "$a.sdpa" <<<"$out" | jq -c '[.flops, .bytes.reads, .bytes.writes, .state_bytes]')" = '[0,0,0,0]' ]
	[ "$(row "$a.qk_cat" <<<"$out" | jq .flops)" = 0 ]
	# bytes, 2 each: W_UK and W_UV read once (N C (P + V)); per token q_nope
	# (N P), ql_nope and q_pe into the kernel (N (C + R)), its output into
	# W_UV (N C), its new latent on the way into the cache (C + R); the
	# latent of every key once (C + R), shared by the heads
	local reads=$(( 2 * (N*C*(P + V) + d*N*(P + 2*C + R) + d*(C + R) + dk*(C + R)) ))
	# written: ql_nope (N C), the kernel's output (N C), W_UV's (N V), the
	# new latent in the cache (C + R)
	local writes=$(( 2 * (d*N*(2*C + V) + d*(C + R)) ))
	[ "$(row "$a.latent_attn" <<<"$out" | jq .bytes.reads)" = "$reads" ]
	[ "$(row "$a.latent_attn" <<<"$out" | jq .bytes.writes)" = "$writes" ]
	[ "$(row "$a.latent_attn" <<<"$out" | jq .bytes.weights)" = $(( 2*N*C*(P + V) )) ]
	[ "$(row "$a.latent_attn" <<<"$out" | jq .state_bytes)" = $(( dk * (C + R) * 2 )) ]
	# the rest of the layer is transformers' own: the same rows as under heads
	local heads
	heads=$(lmp-eval --kv-layout heads --w-bit 16 --batch-size 2 --seq-len 1 --cache-len 4095 "$doc")
	for r in q_a_proj q_a_layernorm q_b_proj kv_a_proj_with_mqa kv_a_layernorm rotary o_proj; do
		[ "$(row "$a.$r" <<<"$out")" = "$(row "$a.$r" <<<"$heads")" ] || fail "$r differs"
	done
	# absorbed, the core of attention costs more FLOPs than decompressed:
	# (2 (2C + R) + 6) against (2 (P + R + V) + 6) a head and key
	[ "$(row "$a.sdpa" <<<"$heads" | jq .flops)" = $(( 2*N*dk*(P + R + V) + 6*N*dk )) ]
}

@test "--kv-layout latent: a prefill decompresses, its cached context up-projected by kv_b_proj" {
	local doc N P R V C out
	doc=$(dsv3)
	N=$(cfg num_attention_heads) P=$(cfg qk_nope_head_dim) R=$(cfg qk_rope_head_dim)
	V=$(cfg v_head_dim) C=$(cfg kv_lora_rank)
	local a='model.layers(dense).*.self_attn'
	# a chunk of 100 tokens over 900 cached: kv_b_proj runs on all 1000 keys
	out=$(lmp-eval --kv-layout latent --w-bit 16 --seq-len 100 --cache-len 900 "$doc")
	[ "$(row "$a.kv_b_proj" <<<"$out" | jq .flops)" = $(( 2 * 1000 * C * N * (P + V) )) ]
	# multi-head attention as transformers computes it, dense: 100 x 1000 pairs
	local pairs=100000
	[ "$(row "$a.latent_attn" <<<"$out" | jq .flops)" = $(( 2*N*pairs*(P + R + V) + 6*N*pairs )) ]
	# reads (2 bytes): q (100 N (P+R)), k twice (the concatenation's inputs,
	# then the kernel: 1000 N (P+R) each), v (1000 N V), the context's latent
	# from the cache (900 (C+R)), the new latent into the cache (100 (C+R))
	[ "$(row "$a.latent_attn" <<<"$out" | jq .bytes.reads)" = \
		$(( 2 * (100*N*(P + R) + 2*1000*N*(P + R) + 1000*N*V + 900*(C + R) + 100*(C + R)) )) ]
	# writes: the output (100 N V), k (1000 N (P+R)), the gathered context
	# (900 (C+R)), the new latent (100 (C+R))
	[ "$(row "$a.latent_attn" <<<"$out" | jq .bytes.writes)" = \
		$(( 2 * (100*N*V + 1000*N*(P + R) + 900*(C + R) + 100*(C + R)) )) ]
	# under heads kv_b_proj decompresses only the 100 new tokens (the cache has K and V)
	out=$(lmp-eval --kv-layout heads --w-bit 16 --seq-len 100 --cache-len 900 "$doc")
	[ "$(row "$a.kv_b_proj" <<<"$out" | jq .flops)" = $(( 2 * 100 * C * N * (P + V) )) ]
	[ "$(row "$a.latent_attn" <<<"$out" | jq -c '[.flops, .bytes.reads, .state_bytes]')" = '[0,0,0]' ]
}

@test "--kv-layout latent: a mixed step splits by query, a prefill beside decodes" {
	local doc N P R V C out
	doc=$(dsv3)
	N=$(cfg num_attention_heads) P=$(cfg qk_nope_head_dim) R=$(cfg qk_rope_head_dim)
	V=$(cfg v_head_dim) C=$(cfg kv_lora_rank)
	local a='model.layers(moe).*.self_attn'
	out=$(lmp-eval --kv-layout latent --w-bit 16 --queries 100:50,1:4095x2 "$doc")
	# kv_b_proj: the prefill's 150 keys; the decodes' 2 tokens go through W_UK / W_UV
	[ "$(row "$a.kv_b_proj" <<<"$out" | jq .flops)" = $(( 2 * 150 * C * N * (P + V) )) ]
	local pp=$((100 * 150)) d=2 dk=8192
	[ "$(row "$a.latent_attn" <<<"$out" | jq .flops)" = \
		$(( 2*N*pp*(P + R + V) + 6*N*pp + 2*d*N*C*(P + V) + 2*N*dk*(2*C + R) + 6*N*dk )) ]
	# the cache: every sequence's latent, 150 + 2 x 4096 tokens
	[ "$(row "$a.latent_attn" <<<"$out" | jq .state_bytes)" = $(( (150 + 8192) * (C + R) * 2 )) ]
}

@test "--kv-layout: the heads layout is transformers' count; a model without MLA is the same under both" {
	local doc
	doc=$(dsv3)
	# DeepSeek-V3 under heads: the latent row counts nothing
	run lmp-eval --seq-len 7 --cache-len 100 --batch-size 3 "$doc"
	[ "$(jq -c '[.rows[] | select(.path | endswith("latent_attn")) | [.flops, .bytes.reads, .bytes.writes, .state_bytes]] | unique' <<<"$output")" = '[[0,0,0,0]]' ]
	# the sdpa row as transformers runs it: 3 x 7 x 107 pairs, 128 heads, 192 + 128
	[ "$(row 'model.layers(moe).*.self_attn.sdpa' <<<"$output" | jq .flops)" = $(( 2*128*2247*(192 + 128) + 6*128*2247 )) ]
	# Llama-2-7B has no latent: the documents differ only in runtime.kv_layout
	diff <(lmp-eval --seq-len 1 --cache-len 511 --batch-size 4 "$LLAMA2") \
		<(lmp-eval --kv-layout latent --seq-len 1 --cache-len 511 --batch-size 4 "$LLAMA2" | jq -c 'del(.runtime.kv_layout)')
}

@test "--kv-layout sweeps; a value that is not a layout is refused" {
	run lmp-eval --totals --kv-layout heads,latent --seq-len 1 --cache-len 99 "$(dsv3)"
	assert_success
	[ "$(jq -sc '[.[] | [.runtime.kv_layout, .totals.state_growth.per_token]]' <<<"$output")" = '[[null,4997120],["latent",70272]]' ]
	for bad in foo heads, ,latent 'heads,,latent' ''; do
		run_split lmp-eval --kv-layout "$bad" "$LLAMA2"
		assert_clean_failure lmp-eval "--kv-layout: '$bad' is not a list of heads|latent"
	done
	run_split lmp-eval --attention fast "$LLAMA2"
	assert_clean_failure lmp-eval "--attention: 'fast' is not a list of eager|fused|flash"
	run_split lmp-eval --attention flash --flash-arch sm75 "$LLAMA2"
	assert_clean_failure lmp-eval "--flash-arch: 'sm75' is not a list of sm80|sm8x|sm90"
}

# ---- --attention ----

@test "--attention eager is what lmp-roofline --unfused did; --unfused stays its alias" {
	local a b
	# lmp-eval counts eager and fused alike; the document says which
	run lmp-eval --attention eager --seq-len 512 "$LLAMA2"
	assert_success
	[ "$(jq -r .runtime.attention <<<"$output")" = eager ]
	diff <(jq -c 'del(.runtime.attention)' <<<"$output") <(lmp-eval --seq-len 512 "$LLAMA2")
	[ "$(lmp-eval --attention fused --seq-len 512 "$LLAMA2" | jq .runtime.attention)" = null ]
	# lmp-roofline moves the intermediates of an eager document through memory
	a=$(lmp-eval --attention eager --seq-len 512 "$LLAMA2" | lmp-roofline --hardware nvidia-a100-sxm-80gb | jq -c 'del(.runtime.attention)')
	b=$(lmp-eval --seq-len 512 "$LLAMA2" | lmp-roofline --hardware nvidia-a100-sxm-80gb --unfused | jq -c .)
	[ "$a" = "$b" ]
	[ "$(jq -r .roofline.bytes_moved <<<"$a")" = "reads + writes + 2 x intermediates" ]
	# and the fused document is timed without them
	[ "$(lmp-eval --seq-len 512 "$LLAMA2" | lmp-roofline --hardware nvidia-a100-sxm-80gb | jq -r .roofline.bytes_moved)" = "reads + writes" ]
}

@test "--attention flash: a Llama-2-7B prefill, causal tiles skipped and K/V re-read per query tile" {
	local out pairs keys H=32 D=128 L=32 a='model.layers.*.self_attn.sdpa'
	# FA3 on sm90, head_dim 128, causal: 128 x 128 (hopper/tile_size.h);
	# 2048 tokens: 16 tiles, tile i loads 128 (i + 1) keys
	read -r pairs keys < <(flash_pairs 2048 0 128 128)
	[ "$pairs" = $(( 128 * 128 * 136 )) ] && [ "$keys" = $(( 128 * 136 )) ]
	out=$(lmp-eval --attention flash --seq-len 2048 "$LLAMA2")
	[ "$(jq -r .runtime.attention <<<"$out")" = flash ]
	# 2 (128 + 128) + 6 FLOPs a score, 32 heads
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( H * pairs * (2 * (D + D) + 6) )) ]
	# Q once (2048 x 32 x 128 x 2 bytes), K and V of every loaded key, every head
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 2048*H*D*2 + keys*H*(D + D)*2 )) ]
	# fused counted every pair (2048^2) and read K and V once
	local fused
	fused=$(lmp-eval --seq-len 2048 "$LLAMA2")
	[ "$(row "$a" <<<"$fused" | jq .flops)" = $(( H * 2048 * 2048 * (2 * (D + D) + 6) )) ]
	[ "$(row "$a" <<<"$fused" | jq .bytes.reads)" = $(( 2048*H*D*2 + 2048*H*(D + D)*2 )) ]
	# the totals move by the difference, 32 layers of it
	[ "$(jq .totals.flops <<<"$out")" = $(( $(jq .totals.flops <<<"$fused") - L * H * (2048*2048 - pairs) * 518 )) ]
	[ "$(lmp-eval --totals --attention flash --seq-len 2048 "$LLAMA2" | jq .totals.flops)" = "$(jq .totals.flops <<<"$out")" ]
	# FA2 on sm80: 128 x 64; 1000 tokens end in a partial tile whose last K/V tile stops at the sequence
	read -r pairs keys < <(flash_pairs 1000 0 128 64)
	[ "$pairs" = $(( 128*128*28 + 104*1000 )) ]
	out=$(lmp-eval --attention flash --flash-arch sm80 --seq-len 1000 "$LLAMA2")
	[ "$(jq -r .runtime.flash_arch <<<"$out")" = sm80 ]
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( H * pairs * 518 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 1000*H*D*2 + keys*H*(D + D)*2 )) ]
	# FA2 on sm86/89, causal head_dim 128: 64 x 64
	read -r pairs keys < <(flash_pairs 1000 0 64 64)
	out=$(lmp-eval --attention flash --flash-arch sm8x --seq-len 1000 "$LLAMA2")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( H * pairs * 518 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 1000*H*D*2 + keys*H*(D + D)*2 )) ]
}

@test "--attention flash: a chunk over a cache, a batch, a decode; GQA heads packed, split-K where the machine is not full" {
	local out pairs keys a='model.layers.*.self_attn.sdpa'
	# 100 new tokens over 1000 cached, 3 sequences: one 128-row tile sees all 1100 keys
	read -r pairs keys < <(flash_pairs 100 1000 128 128)
	[ "$pairs" = $(( 100 * 1100 )) ] && [ "$keys" = 1100 ]
	# FA3's split heuristic (hopper/heuristics.h) on the H100's 132 SMs:
	# 3 sequences x 32 heads x 1 query tile = 96 CTAs < 0.8 x 132, and
	# 1100 keys are 9 tiles of 128 (> 4), so it splits: waves 96 s / 132,
	# efficiency waves / ceil(waves): s = 1, 2, 3: 0.727; 4: 2.909 / 3 =
	# 0.970 (the best, as is 8); the fewest splits within 85% of it
	# (0.824) is 4.  A split walks ceil(9 / 4) = 3 K/V tiles, so 3 splits
	# have keys to walk and load Q; all 4 write their partials.
	local S=4 busy=3 tok=300
	out=$(lmp-eval --attention flash --batch-size 3 --seq-len 100 --cache-len 1000 "$LLAMA2")
	# FLOPs: the scores, and the combine's 2 x 128 + 6 a head, token and split
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 3 * 32 * pairs * 518 + tok * 32 * S * 262 )) ]
	# reads: Q by each busy split, K and V once, the partials (128 + 1
	# floats of 4 bytes a head, token and split) read back by the combine
	local part=$(( tok * 32 * S * 129 * 4 ))
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( busy*300*32*128*2 + 3*keys*32*256*2 + part )) ]
	# writes: the output and the new K/V (the fused kernel's), and the partials
	[ "$(row "$a" <<<"$out" | jq .bytes.writes)" = $(( 300*32*128*2 + 300*32*256*2 + part )) ]
	# Llama-3.1-8B: 32 query heads over 8 KV heads of 128.  A decode over
	# 4096 keys.  FA2 (sm80) swaps a group's 4 heads into the query rows
	# (flash_api.cpp mha_fwd: seqlenq_ngroups_swapped, seqlen_q 1 and GQA),
	# so K and V are loaded once per KV head.  Its split heuristic: 8 CTAs
	# against 2 x 108 SMs (< 0.8 x 216); 4096 keys are 32 tiles of the
	# split kernel's 128; eligible splits (a change in tiles a split):
	# 1 2 3 4 5 6 7 8 11 16 32; efficiency 8 s / 216: 16 gives 0.593, 32
	# gives 1.185 / 2 = 0.593, 11 gives 0.407: the first within 85% is 16,
	# each walking 2 tiles: all 16 load Q.
	local M="$ROOT/models/meta-llama--Llama-3.1-8B.populated.json"
	out=$(lmp-eval --attention flash --flash-arch sm80 --seq-len 1 --cache-len 4095 "$M")
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 16*32*128*2 + 4096*8*256*2 + 16*32*129*4 )) ]
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 32 * 4096 * 518 + 16 * 32 * 262 )) ]
	# FA3 packs the 4 heads of a group into one tile (rows of token x
	# head).  A decode is not causal (mha_fwd drops the mask): head_dim 128
	# takes 176-key tiles, 4096 keys are 24 of them; 8 CTAs (one a KV
	# head) against 132 SMs: efficiency 8 s / 132, best 128 / 132 = 0.970
	# at 16, the first within 85% (0.824) is 14 (112 / 132 = 0.848; 13
	# gives 0.788).  A split walks ceil(24 / 14) = 2 tiles: 12 splits load Q.
	out=$(lmp-eval --attention flash --seq-len 1 --cache-len 4095 "$M")
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 12*32*128*2 + 4096*8*256*2 + 14*32*129*4 )) ]
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 32 * 4096 * 518 + 14 * 32 * 262 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.writes)" = $(( 32*128*2 + 8*256*2 + 14*32*129*4 )) ]
	# 16 sequences fill the machine (128 CTAs >= 0.8 x 132): no split, and
	# a KV head of 4096 x 256 x 2 bytes is far below L2's 50 MiB
	out=$(lmp-eval --attention flash --batch-size 16 --seq-len 1 --cache-len 4095 "$M")
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 16*32*128*2 + 16*4096*8*256*2 )) ]
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 16 * 32 * 4096 * 518 )) ]
	# so does one sequence on a device of 8 SMs (8 >= 6.4); the document
	# says which device count it assumed where it was given
	out=$(lmp-eval --attention flash --flash-sms 8 --seq-len 1 --cache-len 4095 "$M")
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 32*128*2 + 4096*8*256*2 )) ]
	[ "$(jq .runtime.flash_sms <<<"$out")" = 8 ]
	[ "$(lmp-eval --attention flash --seq-len 1 --cache-len 4095 "$M" | jq .runtime.flash_sms)" = null ]
	# a prefill of 2048 packed: 8192 rows of (token, head) in 64 tiles; row j is token j / 4
	local s=2048 g=4 i end need load p=0 k=0
	for ((i = 0; i * 128 < s * g; i++)); do
		end=$(( (i + 1) * 128 < s * g ? (i + 1) * 128 : s * g ))
		need=$(( (end - 1) / g + 1 ))
		load=$(( (need + 127) / 128 * 128 )); (( load > s )) && load=$s
		p=$(( p + (end - i * 128) * load )); k=$(( k + load ))
	done
	out=$(lmp-eval --attention flash --seq-len 2048 "$M")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 8 * p * 518 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 2048*32*128*2 + k*8*256*2 )) ]
	# DeepSeek-V3 under the latent layout: its sdpa row counts nothing, flash or not
	out=$(lmp-eval --attention flash --kv-layout latent --seq-len 64 "$(dsv3)")
	[ "$(row 'model.layers(moe).*.self_attn.sdpa' <<<"$out" | jq .flops)" = 0 ]
	# a sweep of kernels
	[ "$(lmp-eval --totals --attention eager,fused,flash --seq-len 64 "$LLAMA2" | jq -sc 'map(.runtime.attention)')" = '["eager",null,"flash"]' ]
}

@test "--attention paged: vLLM's varlen call over the block table; FA3's dynamic split-K, FA2's split-KV kernel" {
	local out a='model.layers.*.self_attn.sdpa' M="$ROOT/models/meta-llama--Llama-3.1-8B.populated.json"
	# Llama-3.1-8B decode over 4096 keys, FA3 (hopper/flash_api.cpp): a
	# paged call of head_dim 128 keeps its causal mask for one query, so
	# 128-key tiles (64 rows: 4 packed rows, one MMA warpgroup); 16-token
	# pages hold no whole tile, so no TMA.  4096 keys: 32 tiles.  Varlen
	# plans for one sequence: 8 KV heads x 1 query tile = 8 CTAs, best
	# efficiency 8 x 16 / 132 = 0.970, the first within 85% is 14 splits.
	# Then prepare_varlen_num_blocks: the step's 1 x 32 tiles x 1.1 x 8
	# heads / 132 SMs = 2.13, so 3 tiles a split: ceil(32 / 3) = 11 splits,
	# each walking 3 tiles (the last 2): all 11 load Q and write partials.
	out=$(lmp-eval --attention paged --seq-len 1 --cache-len 4095 "$M")
	[ "$(jq -r .runtime.attention <<<"$out")" = paged ]
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 32 * 4096 * 518 + 11 * 32 * 262 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 11*32*128*2 + 4096*8*256*2 + 11*32*129*4 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.writes)" = $(( 32*128*2 + 8*256*2 + 11*32*129*4 )) ]
	# two sequences: 64 tiles x 1.1 x 8 / 132 = 4.27, 5 tiles a split, 7 splits each
	out=$(lmp-eval --attention paged --batch-size 2 --seq-len 1 --cache-len 4095 "$M")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 2 * 32 * 4096 * 518 + 2 * 7 * 32 * 262 )) ]
	# sixteen: 512 x 1.1 x 8 / 132 = 34.1, 35 tiles a split: one split, no partials
	out=$(lmp-eval --attention paged --batch-size 16 --seq-len 1 --cache-len 4095 "$M")
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 16*32*128*2 + 16*4096*8*256*2 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.writes)" = $(( 16 * (32*128*2 + 8*256*2) )) ]
	# the kernel loads a sequence's keys through the page table, none past
	# its last: the reads are those of 4096 keys, the cache whole pages
	[ "$(row "$a" <<<"$out" | jq .state_bytes)" = $(( 16 * 4096 * 8 * 256 * 2 )) ]
	out=$(lmp-eval --attention paged --kv-block 16 --seq-len 1 --cache-len 4000 "$M")
	[ "$(row "$a" <<<"$out" | jq .state_bytes)" = $(( 4016 * 8 * 256 * 2 )) ]
	# FA2 with a block table (flash_api.cpp mha_varlen_fwd) always runs the
	# split-KV kernel, 64 x 128 for head_dim 128, split only for a swapped
	# GQA decode: a Llama-2-7B prefill of 1000 is tiles of 64 rows
	local pairs keys
	read -r pairs keys < <(flash_pairs 1000 0 64 128)
	out=$(lmp-eval --attention paged --flash-arch sm80 --seq-len 1000 "$LLAMA2")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 32 * pairs * 518 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 1000*32*128*2 + keys*32*256*2 )) ]
	# vLLM's profile runs this call
	[ "$(jq -r .knobs.attention.value "$ROOT/share/lmp/engines/vllm.json")" = paged ]
	[ "$(lmp-eval --engine vllm --totals --seq-len 1 --cache-len 99 "$LLAMA2" | jq -r .runtime.attention)" = paged ]
}

# window_walk S C BM BN G WL: the local (sliding-window) walk of one
# sequence of S new tokens over C cached keys given, in rows of G packed
# heads, window_size_left WL: tile i (rows i*BM .. end-1, tokens t0 .. t1)
# walks K/V tiles from (C + t0 - WL) / BN, the first its first row's window
# reaches, to ceil((C + t1 + 1) / BN), its last row's causal limit, none
# past C + S (hopper/block.h get_n_block_min_max).  Prints the scores and
# the keys loaded.
window_walk() {
	local s=$1 c=$2 bm=$3 bn=$4 g=$5 wl=$6 i end t0 t1 nmin nmax top load pairs=0 keys=0
	for ((i = 0; i * bm < s * g; i++)); do
		end=$(( (i + 1) * bm < s * g ? (i + 1) * bm : s * g ))
		t0=$(( i * bm / g )) t1=$(( (end - 1) / g ))
		nmax=$(( (c + t1 + 1 + bn - 1) / bn ))
		nmin=$(( c + t0 - wl > 0 ? (c + t0 - wl) / bn : 0 ))
		top=$(( nmax * bn < c + s ? nmax * bn : c + s ))
		load=$(( top - nmin * bn ))
		pairs=$(( pairs + (end - i * bm) * load ))
		keys=$(( keys + load ))
	done
	echo "$pairs $keys"
}

@test "--attention flash|paged: a sliding window's tiles wholly outside it are skipped (Mistral's 4096)" {
	local out pairs keys a='model.layers.*.self_attn.sdpa' M="$ROOT/models/mistralai--Mistral-7B-v0.1.populated.json"
	# Mistral-7B: 32 heads over 8 KV heads of 128, sliding_window 4096:
	# FlashAttention's window_size_left is 4095 (vLLM passes
	# (sliding_window - 1, 0)), a local call: neither causal nor packed
	# differently.  A prefill of 8192 on FA3: local tiles of head_dim 128
	# are 128 x 128 (tile_size_fwd_sm90); rows of (token, head), 4 heads
	[ "$(jq .config.sliding_window "$M")" = 4096 ]
	read -r pairs keys < <(window_walk 8192 0 128 128 4 4095)
	# a tile is 32 tokens: the first sees its 32 keys (one K/V tile cut at
	# the sequence's end); tile 200 (tokens 6400 .. 6431) walks from
	# (6400 - 4095) / 128 = 18 to ceil(6432 / 128) = 51: 33 tiles, 4224 keys
	[ "$(window_walk 32 0 128 128 4 4095)" = "$(( 128 * 32 )) 32" ]
	[ "$(( (51 - 18) * 128 ))" = 4224 ]
	out=$(lmp-eval --attention flash --seq-len 8192 "$M")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 8 * pairs * 518 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 8192*32*128*2 + keys*8*256*2 )) ]
	# against the fused count, dense over the 8192 keys given
	[ "$(lmp-eval --seq-len 8192 "$M" | row "$a" | jq .flops)" = $(( 32 * 8192 * 8192 * 518 )) ]
	(( 8 * pairs < 32 * 8192 * 8192 * 6 / 10 ))
	# FA2 on sm80: a local call runs the non-causal kernel, 128 x 64 for
	# head_dim 128, one head a CTA (no swap outside a plain decode); 32
	# heads x 128 query tiles fill 2 x 108 SMs: no split
	read -r pairs keys < <(window_walk 8192 0 128 64 1 4095)
	out=$(lmp-eval --attention flash --flash-arch sm80 --seq-len 8192 "$M")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 32 * pairs * 518 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 8192*32*128*2 + keys*32*256*2 )) ]
	# a decode over 10000 cached: transformers' sliding cache gives the
	# kernel 4095 + 1 keys, no more than the window, so the call is a plain
	# decode (a window of the keys' length is none: 14 splits as above)
	out=$(lmp-eval --attention flash --seq-len 1 --cache-len 10000 "$M")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 32 * 4096 * 518 + 14 * 32 * 262 )) ]
	# vLLM's paged call gets the whole sequence, 10001 keys, and skips the
	# tiles before the window: the one query tile walks from (10000 - 4095)
	# / 128 = 46 to ceil(10001 / 128) = 79, 33 tiles, 10001 - 46 x 128 =
	# 4113 keys.  Splits: for one sequence the window loads at most 4095 +
	# 1 + 64 = 4160 keys, 33 tiles; 8 CTAs; 33 splits would make 2 whole
	# waves (efficiency 1), the first within 85% is 15 (120 / 132); the
	# step's 79 tiles x 1.1 x 8 / 132 = 5.27, 6 a split: ceil(79 / 6) = 14
	# splits, of 3 tiles each: 11 walk keys
	read -r pairs keys < <(window_walk 1 10000 64 128 4 4095)
	[ "$keys" = 4113 ]
	out=$(lmp-eval --attention paged --seq-len 1 --cache-len 10000 "$M")
	[ "$(row "$a" <<<"$out" | jq .flops)" = $(( 8 * pairs * 518 + 14 * 32 * 262 )) ]
	[ "$(row "$a" <<<"$out" | jq .bytes.reads)" = $(( 11*32*128*2 + keys*8*256*2 + 14*32*129*4 )) ]
	# Gemma-2's global layers are not windowed: causal tiles, more keys
	# than its sliding layers
	out=$(lmp-eval --attention flash --seq-len 8192 "$ROOT/models/google--gemma-2-9b.populated.json")
	(( $(row 'model.layers(sliding).*.self_attn.sdpa' <<<"$out" | jq .flops) < \
	   $(row 'model.layers(global).*.self_attn.sdpa' <<<"$out" | jq .flops) ))
}
