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

@test "DeepSeek-V3: stored in fp8 by default, its config's block quantization with one fp32 scale per 128 x 128 block" {
	# The shipped config's quantization_config: {"activation_scheme":
	# "dynamic", "fmt": "e4m3", "quant_method": "fp8", "weight_block_size":
	# [128, 128]}.  Every Linear but lm_head is fp8 (1 byte a weight) with
	# weight_scale_inv, fp32 per 128 x 128 block; the rest (embedding,
	# lm_head, norms, the routers' weights) at 16 bits.
	local V=129280 H=7168 P=671026404352
	blocks() { echo $(( (($1 + 127) / 128) * (($2 + 127) / 128) )); }
	local la=$(( H*1536 + 1536*24576 + H*576 + 512*32768 + 16384*H ))
	local q=$(( 61 * la + 3 * 3*H*18432 + 58 * 257 * 3*H*2048 ))
	local sa=$(( $(blocks 1536 $H) + $(blocks 24576 1536) + $(blocks 576 $H) + $(blocks 32768 512) + $(blocks $H 16384) ))
	local smlp_d=$(( 2*$(blocks 18432 $H) + $(blocks $H 18432) )) smlp_e=$(( 2*$(blocks 2048 $H) + $(blocks $H 2048) ))
	local scales=$(( 3 * (sa + smlp_d) + 58 * (sa + 257 * smlp_e) ))
	local want=$(( q + 4 * scales + 2 * (P - q) ))
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --seq-len 1"
	assert_success
	[ "$(jq .totals.weight_bytes <<<"$output")" = "$want" ]
	[ "$(jq .runtime.w_bit <<<"$output")" = 8 ]
	# kv_a_proj_with_mqa: 7168 -> 576, 5 x 56 blocks
	[ "$(jq '.rows[] | select(.path == "model.layers(moe).*.self_attn.kv_a_proj_with_mqa") | .weight_bytes' <<<"$output")" = $(( H*576 + 4*5*56 )) ]
	[ "$(jq -r '.rows[] | select(.path == "model.layers(moe).*.mlp.gate") | .weight_format.kept' <<<"$output")" = "not a Linear" ]
	# --w-bit 16 is the model as transformers holds it in bf16
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --totals --seq-len 1 --w-bit 16"
	[ "$(jq .totals.weight_bytes <<<"$output")" = $(( 2 * P )) ]
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
	jq '.linear_attention = true' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run --separate-stderr lmp-inspect --strict "$f"
	assert_clean_failure lmp-inspect 'config field "linear_attention" is not understood by the deepseek_v3 template'
	# without q_lora_rank (DeepSeek-V2-Lite style) q is one projection, H -> 128 x 192
	jq '.q_lora_rank = null' "$CFG/deepseek-ai/DeepSeek-V3/config.json" > "$f"
	run sh -c "lmp-inspect '$f' | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count"
	assert_success
	[ "$output" = $(( 671026404352 - 61 * (7168*1536 + 1536 + 1536*128*192 - 7168*128*192) )) ]
}

# ---- Llama-4 Scout ----

@test "Llama-4-Scout: Llama4ForCausalLM's count by hand, and the Hub's 108.6B explained" {
	# text_config: V=202048, H=5120, 48 layers, 40 heads and 8 KV heads of 128,
	# every layer MoE (interleave_moe_layer_step 1): q,o 2*H*5120, k,v 2*H*1024;
	# 16 experts of 3*H*8192 (gate_up_proj and down_proj), the shared expert
	# 3*H*8192, the router H*16; two norms 2*H; qk_norm has no weight.
	# Embedding and head V*H each, untied; final norm H.
	local V=202048 H=5120 I=8192
	local layer=$(( 2*H*5120 + 2*H*1024 + 16*3*H*I + 3*H*I + H*16 + 2*H ))
	run totals meta-llama/Llama-4-Scout-17B-16E --seq-len 1
	assert_success
	[ "$(jq .param_count <<<"$output")" = $(( 48*layer + 2*V*H + H )) ]
	[ "$(jq .param_count <<<"$output")" = 107769861120 ]
	# Official: 108,641,793,536, the Hub's safetensors total of
	# meta-llama/Llama-4-Scout-17B-16E-Instruct (model card: 109B total), for
	# Llama4ForConditionalGeneration: the text model plus the vision model
	# and the projector (vision_config; Llama4VisionModel and
	# Llama4MultiModalProjector in modeling_llama4.py).  By hand, h=1408,
	# 34 layers, MLP 5632, 336/14 = 24 x 24 patches + the class token:
	local h=1408 vi=5632
	local vision=$(( 3*14*14*h + h + (24*24 + 1)*h + 2*2*h + 34 * (4*(h*h + h) + h*vi + vi + vi*h + h + 2*2*h) + vi*4096 + 4096*4096 ))
	local projector=$(( 4096*H ))
	[ $(( 107769861120 + vision + projector )) = 108641793536 ]
}

@test "Llama-4-Scout: one of 16 routed experts and the shared expert active, 17.2B a token" {
	# Official: 17B active parameters (model card).  By hand: the total with 1
	# of the 16 routed experts.
	local V=202048 H=5120 I=8192
	run totals meta-llama/Llama-4-Scout-17B-16E --seq-len 1
	[ "$(jq .active_param_count <<<"$output")" = $(( 48 * (2*H*5120 + 2*H*1024 + 3*H*I + 3*H*I + H*16 + 2*H) + 2*V*H + H )) ]
	[ "$(jq .active_param_count <<<"$output")" = 17172894720 ]
}

@test "Llama-4-Scout: chunked RoPE layers keep one chunk of KV at a long context, NoPE layers all of it" {
	local doc
	doc=$(lmp-inspect meta-llama/Llama-4-Scout-17B-16E | lmp-populate)
	# every 4th layer is NoPE with full attention (12), the other 36 attend
	# within chunks of 8192, which transformers' cache keeps as a window: 8191
	# past tokens.  8 KV heads x (128 + 128) x 2 bytes = 4096 bytes a token
	# and layer.  At 32k tokens:
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 32767 <<<"$doc" | jq .totals.state_bytes)" = $(( (36*8191 + 12*32768) * 4096 )) ]
	# below one chunk every layer keeps everything
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 999 <<<"$doc" | jq .totals.state_bytes)" = $(( 48 * 1000 * 4096 )) ]
	run lmp-eval --seq-len 1 --cache-len 32767 <<<"$doc"
	# a decode step at 32k: a chunked layer scores 8192 keys, a NoPE layer
	# 32768 (40 heads, 2 x (128 + 128) + 6 FLOPs per score)
	[ "$(row 'model.layers(chunked,moe).*.self_attn.sdpa' <<<"$output" | jq .flops)" = $(( 40 * 8192 * (2*256 + 6) )) ]
	[ "$(row 'model.layers(global,moe).*.self_attn.sdpa' <<<"$output" | jq .flops)" = $(( 40 * 32768 * (2*256 + 6) )) ]
	# RoPE layers: complex rotary (3 FLOPs per element of q and k) and the L2
	# qk norm (3 per element, 3 per row); NoPE layers: the temperature, 6 per
	# token and 1 per query element
	[ "$(row 'model.layers(chunked,moe).*.self_attn.rotary' <<<"$output" | jq .flops)" = $(( 3 * 48 * 128 )) ]
	[ "$(row 'model.layers(chunked,moe).*.self_attn.qk_norm(q)' <<<"$output" | jq .flops)" = $(( 3*40*128 + 3*40 )) ]
	[ "$(row 'model.layers(global,moe).*.self_attn.temperature' <<<"$output" | jq .flops)" = $(( 6 + 40*128 )) ]
	jq -e '[.rows[].path] | map(select(test("global.*(rotary|qk_norm)"))) | length == 0' <<<"$output" >/dev/null
}

@test "Llama-4: the router's sigmoid scores and the routed experts of one token" {
	run sh -c "lmp-inspect meta-llama/Llama-4-Scout-17B-16E | lmp-populate | lmp-eval --seq-len 1"
	local H=5120 I=8192
	# the [5120 x 16] product and a sigmoid over all 16 scores
	[ "$(row 'model.layers(chunked,moe).*.feed_forward.router' <<<"$output" | jq .flops)" = $(( 2*H*16 + 4*16 )) ]
	# one token reaches one expert: gate_up 2*H*2I, SiLU 4I, up * act I, down 2*I*H;
	# each of the 16 experts' weights is read with chance 1/16, one expert's worth
	[ "$(row 'model.layers(chunked,moe).*.feed_forward.experts' <<<"$output" | jq -c '[.flops, .bytes.weights]')" = \
		"[$(( 4*H*I + 4*I + I + 2*I*H )),$(( 3*H*I*2 ))]" ]
}

@test "Llama-4: interleaved MoE layers, and lists that break the config's pattern are refused" {
	local f="$BATS_TEST_TMPDIR/config.json" V=202048 H=5120 I=8192
	# MoE on every other layer (as Maverick interleaves): moe_layers 1, 3, ..., 47;
	# the 24 dense layers have an MLP of intermediate_size_mlp 16384
	jq '.text_config.interleave_moe_layer_step = 2 | .text_config.moe_layers = [range(1; 48; 2)]' \
		"$CFG/meta-llama/Llama-4-Scout-17B-16E/config.json" > "$f"
	run sh -c "lmp-inspect '$f' | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count"
	assert_success
	local attn=$(( 2*H*5120 + 2*H*1024 + 2*H ))
	[ "$output" = $(( 24 * (attn + 16*3*H*I + 3*H*I + H*16) + 24 * (attn + 3*H*16384) + 2*V*H + H )) ]
	run sh -c "lmp-inspect '$f' | jq -c '[.layers[0].sub_layers[] | select(.repeat) | [.name, .repeat]]'"
	[ "$output" = '[["layers(chunked,moe)",12],["layers(global,moe)",12],["layers(chunked,dense)",24]]' ]
	# moe_layers that do not follow interleave_moe_layer_step
	jq '.text_config.moe_layers = [range(0; 47)]' "$CFG/meta-llama/Llama-4-Scout-17B-16E/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field moe_layers is not supported by the llama4_text template (47 entries where its pattern has 48)'
	jq '.text_config.no_rope_layers[5] = 0' "$CFG/meta-llama/Llama-4-Scout-17B-16E/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field no_rope_layers is not supported by the llama4_text template (entry 5 is 0 where the template'"'"'s pattern has 1)'
	jq '.text_config.no_rope_layers = "all"' "$CFG/meta-llama/Llama-4-Scout-17B-16E/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field no_rope_layers is not supported by the llama4_text template (not a list of 48 entries)'
	# absent lists are the ones transformers derives
	jq 'del(.text_config.no_rope_layers, .text_config.moe_layers)' "$CFG/meta-llama/Llama-4-Scout-17B-16E/config.json" > "$f"
	run sh -c "lmp-inspect '$f' | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count"
	[ "$output" = 107769861120 ]
	# the multimodal wrapper is analysed as its text model
	run lmp-inspect meta-llama/Llama-4-Scout-17B-16E
	[ "$(jq -c '[.model.model_type, .model.text_model_of, .class]' <<<"$output")" = '["llama4_text","llama4","transformers.models.llama4.modeling_llama4.Llama4ForCausalLM"]' ]
}

@test "Llama-4 configs saved by newer transformers: layer_types beside no_rope_layers" {
	# transformers' Llama4TextConfig: "chunked_attention" where no_rope_layers
	# is 1 (a RoPE layer), "full_attention" on every 4th (no RoPE)
	jq '.text_config.layer_types = [range(48) | if ((. + 1) % 4) != 0 then "chunked_attention" else "full_attention" end]' \
		"$ROOT/share/lmp/configs/meta-llama/Llama-4-Scout-17B-16E/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run bash -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate | lmp-eval --totals --seq-len 1"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 107769861120 ]
	jq '.text_config.layer_types[3] = "chunked_attention"' "$BATS_TEST_TMPDIR/config.json" > "$BATS_TEST_TMPDIR/odd.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/odd.json"
	assert_clean_failure lmp-inspect 'config field layer_types is not supported by the llama4_text template (entry 3 is "chunked_attention"'
}

@test "DeepSeek-V3 configs saved by newer transformers: head_dim is the rotary width, not attention's" {
	# DeepseekV3Config sets head_dim = qk_rope_head_dim (64); attention's
	# query/key width stays qk_nope_head_dim + qk_rope_head_dim = 192
	jq '.head_dim = 64' "$ROOT/share/lmp/configs/deepseek-ai/DeepSeek-V3/config.json" > "$BATS_TEST_TMPDIR/config.json"
	local want got
	want=$(lmp-inspect deepseek-ai/DeepSeek-V3 | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 100 | jq -c '[.totals.param_count, .totals.flops, .totals.state_bytes]')
	got=$(lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 100 | jq -c '[.totals.param_count, .totals.flops, .totals.state_bytes]')
	[ "$got" = "$want" ]
	[ "$(jq -c .[0] <<<"$got")" = 671026404352 ]
}

# ---- DeepSeek-V2-Lite ----

# One layer of DeepSeek-V2-Lite by hand: H=2048, 16 heads; no query
# compression (q_lora_rank null): q_proj H*16*(128+64); kv_a_proj_with_mqa
# H*(512+64), kv_a_layernorm 512, kv_b_proj 512*16*(128+128), o_proj
# 16*128*H; two norms 2*H.  Layer 0 has the dense MLP 3*H*10944; layers
# 1-26 a MoE: 64 routed experts and 2 shared ones (one MLP of 2*1408) of
# 3*H*1408 each, and the gate's weight 64*H.
dsl_attn() { echo $(( 2048*16*192 + 2048*576 + 512 + 512*16*256 + 16*128*2048 + 2*2048 )); }
dsl_moe() { echo $(( $1*3*2048*1408 + 3*2048*2*1408 + 64*2048 )); }

@test "DeepSeek-V2-Lite: DeepseekV2ForCausalLM's count by hand equals the Hub's 15,706,484,224" {
	local V=102400 H=2048 A=$(dsl_attn)
	[ "$A" = 13767168 ]
	local ours=$(( (A + 3*H*10944) + 26 * (A + $(dsl_moe 64)) + 2*V*H + H ))
	run totals deepseek-ai/DeepSeek-V2-Lite --seq-len 1
	assert_success
	[ "$(jq .param_count <<<"$output")" = "$ours" ]
	# Official: the Hub's safetensors total of deepseek-ai/DeepSeek-V2-Lite
	# (BF16), "15.7B" on the model card: the checkpoint stores no tensor
	# transformers does not build (no MTP module, no quantization scales)
	[ "$ours" = 15706484224 ]
	# 6 of 64 routed experts a token: 2,661,150,208, of which the input
	# embedding (a lookup) is V*H; without it 2.45B, the card's "2.4B activated"
	[ "$(jq .active_param_count <<<"$output")" = $(( (A + 3*H*10944) + 26 * (A + $(dsl_moe 6)) + 2*V*H + H )) ]
	[ "$(jq .active_param_count <<<"$output")" = 2661150208 ]
	# bf16, as the checkpoint is stored: 2 bytes a parameter
	[ "$(jq .weight_bytes <<<"$output")" = $(( 2 * ours )) ]
}

@test "DeepSeek-V2-Lite: the KV cache holds decompressed per-head K and V; the latent is 576 a layer" {
	local doc
	doc=$(lmp-inspect deepseek-ai/DeepSeek-V2-Lite | lmp-populate)
	# transformers caches key_states (16 heads x (128 + 64)) and value_states
	# (16 heads x 128): 16 x 320 x 2 bytes = 10,240 bytes a token and layer,
	# 276,480 bytes a token for the 27 layers; 4096 tokens
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = $(( 4096 * 27 * 16 * 320 * 2 )) ]
	[ $(( 27 * 16 * 320 * 2 )) = 276480 ]
	# an MLA-aware engine keeps kv_lora_rank + qk_rope_head_dim = 576 elements
	[ "$(jq '[.. | objects | select(.name == "self_attn") | .attrs.latent_cache_elements] | unique' -c <<<"$doc")" = '[576]' ]
	# a decode step at 4k: scores over 4096 keys, 192-wide q and k, 128-wide v
	run lmp-eval --seq-len 1 --cache-len 4095 <<<"$doc"
	[ "$(row 'model.layers(moe).*.self_attn.sdpa' <<<"$output" | jq .flops)" = $(( 2*16*4096*(192 + 128) + 6*16*4096 )) ]
}

@test "DeepSeek-V2-Lite: layer 0 dense, 1-26 MoE; one q_proj; rotary as a complex product; the float32 softmax gate" {
	local doc
	doc=$(lmp-inspect deepseek-ai/DeepSeek-V2-Lite)
	[ "$(jq -c '[.. | objects | select(.layers? | type == "object") | [.name, .layers]]' <<<"$doc")" = '[["layers(dense)",{"start":0,"stop":1}],["layers(moe)",{"start":1,"stop":27}]]' ]
	[ "$(jq '[.. | objects | select(.name == "q_a_proj" or .name == "q_b_proj")] | length' <<<"$doc")" = 0 ]
	run sh -c "lmp-inspect deepseek-ai/DeepSeek-V2-Lite | lmp-populate | lmp-eval --seq-len 1"
	assert_success
	# q_proj: 2048 -> 16 x 192, 2 FLOPs a weight for one token
	[ "$(row 'model.layers(moe).*.self_attn.q_proj' <<<"$output" | jq -c '[.param_count, .flops]')" = "[$((2048*3072)),$((2*2048*3072))]" ]
	# the table: inv_freq @ positions (64), polar's cos, sin and two products
	# for 32 frequencies (128), and the complex product by the scaling (6 for
	# each of 32: 192); it is complex64, 32 x 8 bytes a token
	[ "$(row 'model.rotary_emb' <<<"$output" | jq -c '[.flops, .bytes.writes]')" = "[$((64 + 128 + 192)),256]" ]
	# q_pe of 16 heads and the one shared k_pe: a complex product (4
	# multiplies, 2 adds) per pair of their 64 rope dimensions
	[ "$(row 'model.layers(moe).*.self_attn.rotary' <<<"$output" | jq .flops)" = $(( 17 * 32 * 6 )) ]
	# the gate: the [2048 x 64] product in float32, softmax over 64 (5 FLOPs a
	# logit), greedy top-6 without renormalising, times routed_scaling_factor
	[ "$(row 'model.layers(moe).*.mlp.gate' <<<"$output" | jq .flops)" = $(( 2*2048*64 + 5*64 + 6 )) ]
	# its float32 copies of the input and of the weight are temporaries
	[ "$(row 'model.layers(moe).*.mlp.gate' <<<"$output" | jq -c '[.param_count, .bytes.intermediates]')" = "[$((64*2048)),$((4*2048 + 4*64*2048 + 8*64 + 4*6))]" ]
}

@test "DeepSeek-V2-Lite: routing other than greedy, a missing top-k or heads that do not divide hidden_size are refused; mlp_bias" {
	local f="$BATS_TEST_TMPDIR/config.json"
	# the full DeepSeek-V2's device-limited routing is not modelled
	jq '.topk_method = "group_limited_greedy" | .n_group = 8 | .topk_group = 3' "$CFG/deepseek-ai/DeepSeek-V2-Lite/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field topk_method = "group_limited_greedy" is not supported by the deepseek_v2 template (supported: ["greedy"])'
	# DeepseekV2Moe scores with softmax whatever scoring_func says
	jq '.scoring_func = "sigmoid"' "$CFG/deepseek-ai/DeepSeek-V2-Lite/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field scoring_func = "sigmoid" is not supported by the deepseek_v2 template'
	# DeepseekV2Config's num_experts_per_tok defaults to None: no top-k to run
	jq 'del(.num_experts_per_tok)' "$CFG/deepseek-ai/DeepSeek-V2-Lite/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field num_experts_per_tok = 0 is not a count'
	# DeepseekV2Config.validate_architecture: hidden_size a multiple of the heads
	jq '.num_attention_heads = 24 | .num_key_value_heads = 24' "$CFG/deepseek-ai/DeepSeek-V2-Lite/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields hidden_size = 2048, num_attention_heads = 24: hidden_size must be a multiple of num_attention_heads'
	# mlp_bias adds biases to the dense and shared MLPs only (the routed
	# experts' 3-D tensors have none): 2*10944 + 2048 in layer 0, 2*2816 + 2048
	# in each of the 26 MoE layers
	jq '.mlp_bias = true' "$CFG/deepseek-ai/DeepSeek-V2-Lite/config.json" > "$f"
	run sh -c "lmp-inspect '$f' | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count"
	assert_success
	[ "$output" = $(( 15706484224 + 2*10944 + 2048 + 26 * (2*2816 + 2048) )) ]
}

@test "DeepSeek-V2-Lite configs saved by newer transformers: head_dim is the rotary width, rope_parameters changes nothing" {
	# DeepseekV2Config.__post_init__ sets head_dim = qk_rope_head_dim (64) and
	# newer transformers saves it, with rope_parameters for rope_scaling;
	# attention's query/key width stays 128 + 64 = 192
	jq '.head_dim = 64 | .rope_parameters = (.rope_scaling + {"rope_type": "yarn", "rope_theta": 10000}) | del(.rope_scaling, .rope_theta)' \
		"$CFG/deepseek-ai/DeepSeek-V2-Lite/config.json" > "$BATS_TEST_TMPDIR/config.json"
	local want got
	want=$(lmp-inspect deepseek-ai/DeepSeek-V2-Lite | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 100 | jq -c '[.totals.param_count, .totals.flops, .totals.state_bytes]')
	got=$(lmp-inspect --strict "$BATS_TEST_TMPDIR/config.json" | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 100 | jq -c '[.totals.param_count, .totals.flops, .totals.state_bytes]')
	[ "$got" = "$want" ]
	[ "$(jq -c '[.[0], .[2]]' <<<"$got")" = "[15706484224,$(( 101 * 27 * 16 * 320 * 2 ))]" ]
}

# ---- gpt-oss-20b ----

@test "gpt-oss-20b: 20,914,757,184 parameters (the model card's 20.9B), MXFP4 experts' bytes, KV cache of alternating windowed and full layers" {
	# H=2880, V=201088, 64 query heads and 8 KV heads of 64, 32 experts of
	# I=2880.  A layer: q H*4096 + 4096, k and v H*512 + 512 each, o 4096*H + H
	# (attention_bias), 64 sinks; two RMSNorms 2*H; router 32*H + 32; experts
	# 32 * (H*2I + 2I) gate_up and 32 * (I*H + H) down, all with biases.
	# Embedding and untied head V*H each, final norm H.
	local V=201088 H=2880 I=2880 E=32
	local attn=$(( H*4096 + 4096 + 2 * (H*512 + 512) + 4096*H + H + 64 ))
	local moe=$(( E*H + E + E * (H*2*I + 2*I) + E * (I*H + H) ))
	local want=$(( 2*V*H + H + 24 * (attn + 2*H + moe) ))
	[ "$want" = 20914757184 ]
	# the model card (arXiv 2508.10925) rounds it to 20.9B, its components
	# to MLP 24 * moe = 19.12B, attention 24 * attn = 0.64B, embed + unembed
	# 2*V*H = 1.16B; 3.6B active is the total less 28 of 32 experts' tensors
	# in each layer, less the embedding table (a lookup, not a matmul)
	[ $(( 24 * moe )) = 19119145728 ] && [ $(( 24 * attn )) = 637203456 ] && [ $(( 2*V*H )) = 1158266880 ]
	[ $(( want - 24 * 28 * (H*2*I + 2*I + I*H + H) - V*H )) = 3608307264 ]
	local t
	t=$(totals openai/gpt-oss-20b --seq-len 1 --cache-len 1000)
	[ "$(jq .param_count <<<"$t")" = "$want" ]
	# quantization_config mxfp4: the experts' weights as blocks of 4-bit
	# values (gate_up_proj_blocks [32, 2I, H/32, 16] uint8) with one 8-bit
	# scale per 32 inputs (gate_up_proj_scales [32, 2I, H/32]), biases bf16;
	# modules_to_not_convert (attention, router, embedding, lm_head) and the
	# norms and sinks stay 16-bit
	local gate_up=$(( 2*I*H/2 + 2*I*(H/32) + 2*I*2 )) down=$(( H*I/2 + H*(I/32) + H*2 ))
	[ "$gate_up" = 8824320 ] && [ "$down" = 4412160 ]
	[ "$(jq .weight_bytes <<<"$t")" = $(( 24 * E * (gate_up + down) + 2 * (want - 24 * E * (H*2*I + 2*I + I*H + H)) )) ]
	# KV cache after a decode step at 1000 cached tokens: the 12 sliding
	# layers (even indices) keep 127 tokens (window 128), the 12 full ones
	# 1001; 8 KV heads x (64 + 64) x 2 bytes = 2048 bytes a token and layer
	[ "$(jq .state_bytes <<<"$t")" = $(( (12*127 + 12*1001) * 2048 )) ]
}

@test "gpt-oss-20b: windowed and full attention, the sink's softmax share, the clamped SwiGLU and the top-k-then-softmax router" {
	local doc
	doc=$(lmp-inspect openai/gpt-oss-20b | lmp-populate | lmp-eval --seq-len 1 --cache-len 1000)
	# a decode step attends 128 keys in a sliding layer, 1001 in a full one:
	# 64 heads x (2 x 64 + 2 x 64 + 6) per key
	[ "$(row 'model.layers(sliding).*.self_attn.sdpa' <<<"$doc" | jq .flops)" = $(( 64 * 128 * (4*64 + 6) )) ]
	[ "$(row 'model.layers(full).*.self_attn.sdpa' <<<"$doc" | jq .flops)" = $(( 64 * 1001 * (4*64 + 6) )) ]
	# the sink: one more logit a row and head (max, subtract, exp, sum,
	# divide), 64 parameters a layer
	[ "$(row 'model.layers(full).*.self_attn.sinks' <<<"$doc" | jq -c '[.flops, .param_count]')" = "[$(( 5 * 64 )),64]" ]
	# the clamped SwiGLU on the 4/32 of a token each expert sees: 11 FLOPs an
	# output element (3 clamps, alpha, sigmoid 4, glu, up + 1, product)
	[ "$(row 'model.layers(full).*.mlp.experts.*.glu' <<<"$doc" | jq .flops)" = $(( 11 * 2880 / 8 )) ]
	# the router: linear with bias over 32 experts, softmax over the top 4 only
	[ "$(row 'model.layers(full).*.mlp.router' <<<"$doc" | jq .flops)" = $(( 2 * 2880 * 32 + 32 )) ]
	[ "$(row 'model.layers(full).*.mlp.route' <<<"$doc" | jq .flops)" = $(( 5 * 4 )) ]
}

@test "gpt-oss: layer_types other than sliding on even layers, or an activation other than silu, are refused" {
	local f="$BATS_TEST_TMPDIR/config.json"
	jq '.layer_types[0] = "full_attention"' "$CFG/openai/gpt-oss-20b/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field layer_types is not supported by the gpt_oss template (entry 0 is "full_attention" where the template'"'"'s pattern has 1)'
	jq '.hidden_act = "gelu"' "$CFG/openai/gpt-oss-20b/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field hidden_act = "gelu" is not supported by the gpt_oss template (supported: ["silu"])'
}
