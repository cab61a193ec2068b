#!/usr/bin/env bats
# DeepSeek-V3 (multi-head latent attention, group-limited sigmoid routing,
# dense then MoE layers) and Llama-4 Scout (interleaved MoE, a shared expert,
# chunked attention on RoPE layers, NoPE layers): parameter counts against
# the official figures, derived by hand, and one check of each family's
# peculiarity.

load helper

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE=/nonexistent HF_HUB_OFFLINE=1
}

# totals ID [lmp-eval options]: the totals of a shipped model
totals() {
	local id=$1
	shift
	lmp-inspect "$id" | lmp-populate | lmp-eval --totals "$@" | jq -c .totals
}

row() { # row PATH < eval document: that row
	jq -c --arg p "$1" '.rows[] | select(.path == $p)'
}

# ---- DeepSeek-V3 ----

# One layer of DeepSeek-V3 by hand: H=7168, 128 heads; q_a_proj H*1536,
# q_a_layernorm 1536, q_b_proj 1536*128*(128+64), kv_a_proj_with_mqa
# H*(512+64), kv_a_layernorm 512, kv_b_proj 512*128*(128+128), o_proj
# 128*128*H; two norms 2*H.  Dense MLP 3*H*18432; MoE: 256 experts and one
# shared expert of 3*H*2048, the router's weight 256*H.
ds_attn() { echo $(( 7168*1536 + 1536 + 1536*128*192 + 7168*576 + 512 + 512*128*256 + 128*128*7168 + 2*7168 )); }
ds_moe() { echo $(( $1*3*7168*2048 + 3*7168*2048 + 256*7168 )); }

@test "DeepSeek-V3: transformers' count by hand, and the Hub's 684.5B explained" {
	local V=129280 H=7168 A=$(ds_attn)
	local ours=$(( 3 * (A + 3*H*18432) + 58 * (A + $(ds_moe 256)) + 2*V*H + H ))
	run totals deepseek-ai/DeepSeek-V3 --seq-len 1
	assert_success
	[ "$(jq .param_count <<<"$output")" = "$ours" ]
	[ "$ours" = 671026404352 ]
	# Official: "671B total parameters" (the model card of deepseek-ai/DeepSeek-V3,
	# whose README adds that the Hub holds 685B: 671B of the main model and 14B
	# of the multi-token-prediction module).  The Hub's safetensors total is
	# 684,531,386,000.  It adds, per the repo's README_WEIGHTS.md:
	# - the MTP module, model.layers.61, which transformers does not build
	#   (DeepseekV3Model drops model.layers.61.* on load): a 62nd MoE decoder
	#   layer, enorm and hnorm (H each), eh_proj (2H -> H), shared_head.norm
	#   (H) and its own copies of the embedding and the head (V*H each);
	local mtp=$(( A + $(ds_moe 256) + 3*H + 2*H*H + 2*V*H ))
	# - the fp8 checkpoint's float32 weight_scale_inv, one per 128 x 128 block
	#   of every quantised projection (attention and experts of 62 layers);
	blocks() { echo $(( (($1 + 127) / 128) * (($2 + 127) / 128) )); }
	local sa=$(( $(blocks 1536 $H) + $(blocks 24576 1536) + $(blocks 576 $H) + $(blocks 32768 512) + $(blocks $H 16384) ))
	local smlp_d=$(( 2*$(blocks 18432 $H) + $(blocks $H 18432) )) smlp_e=$(( 2*$(blocks 2048 $H) + $(blocks $H 2048) ))
	local scales=$(( 3 * (sa + smlp_d) + 59 * (sa + 257 * smlp_e) ))
	# - e_score_correction_bias of the 59 routers, a buffer (256 floats each).
	[ $(( ours + mtp + scales + 59*256 )) = 684531386000 ]
}

@test "DeepSeek-V3: 8 of 256 routed experts active, 37.6B parameters a token" {
	# Official: "37B activated for each token" (model card).  By hand: the
	# same as the total with 8 routed experts in each of the 58 MoE layers.
	local V=129280 H=7168 A=$(ds_attn)
	run totals deepseek-ai/DeepSeek-V3 --seq-len 1
	[ "$(jq .active_param_count <<<"$output")" = $(( 3 * (A + 3*H*18432) + 58 * (A + $(ds_moe 8)) + 2*V*H + H )) ]
	[ "$(jq .active_param_count <<<"$output")" = 37552282624 ]
}

@test "DeepSeek-V3: the KV cache holds decompressed per-head K and V, as transformers' cache does" {
	local doc
	doc=$(lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate)
	# transformers caches key_states (128 heads x (128 + 64)) and value_states
	# (128 heads x 128) after kv_b_proj: 128 x 320 x 2 bytes = 81,920 bytes a
	# token and layer, 4,997,120 bytes a token for the 61 layers
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = $(( 4096 * 61 * 128 * 320 * 2 )) ]
	# the latent an MLA-aware engine caches instead: kv_lora_rank + qk_rope_head_dim
	# = 576 elements, 61 x 576 x 2 = 70,272 bytes a token (71 times fewer)
	[ "$(jq '[.. | objects | select(.name == "self_attn") | .attrs.latent_cache_elements] | unique' -c <<<"$doc")" = '[576]' ]
	# a decode step at 4k: scores over 4096 keys with 192-wide q and k, 128-wide v
	run lmp-eval --seq-len 1 --cache-len 4095 <<<"$doc"
	[ "$(row 'model.layers(moe).*.self_attn.sdpa' <<<"$output" | jq .flops)" = $(( 2*128*4096*(192 + 128) + 6*128*4096 )) ]
	# rotary on the 64 rope dimensions of 128 query heads and the one shared key head
	[ "$(row 'model.layers(moe).*.self_attn.rotary' <<<"$output" | jq .flops)" = $(( 129 * (3*64 + 32) )) ]
}

@test "DeepSeek-V3: the router: sigmoid scores, correction bias, group scores, renormalised and scaled" {
	# one token: the [7168 x 256] product, 4 + 1 FLOPs per score (sigmoid, bias),
	# 8 group sums, the renormalisation of 8 weights (8 adds, + 1e-20, 8
	# divides) and the routed_scaling_factor (8)
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --seq-len 1"
	assert_success
	[ "$(row 'model.layers(moe).*.mlp.gate' <<<"$output" | jq .flops)" = $(( 2*7168*256 + 5*256 + 8 + 17 + 8 )) ]
	# its bias is a buffer: read, not a parameter
	[ "$(row 'model.layers(moe).*.mlp.gate' <<<"$output" | jq -c '[.param_count, .bytes.weights]')" = "[$((256*7168)),$((256*7168*2 + 256*4))]" ]
}

@test "DeepSeek-V3: routing transformers does not implement, or an unknown field, is refused" {
	local f="$BATS_TEST_TMPDIR/config.json"
	jq '.scoring_func = "softmax"' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field scoring_func = "softmax" is not supported by the deepseek_v3 template'
	jq '.moe_layer_freq = 2' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field moe_layer_freq = 2 is not supported'
	jq '.head_dim = 64' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field "head_dim" is not understood by the deepseek_v3 template'
	# without q_lora_rank (DeepSeek-V2-Lite style) q is one projection, H -> 128 x 192
	jq '.q_lora_rank = null' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run sh -c "lmp-inspect '$f' | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count"
	assert_success
	[ "$output" = $(( 671026404352 - 61 * (7168*1536 + 1536 + 1536*128*192 - 7168*128*192) )) ]
}
