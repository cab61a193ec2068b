#!/usr/bin/env bats
# Dense families added after the first ones: Gemma-3 (text), GPT-J, Falcon
# and BLOOM.  Each shipped model's parameter count against its official
# count and a derivation by hand from its config, then one cost that is
# particular to the family, worked out by hand.

load helper

CFG="$ROOT/share/lmp/configs"

setup() {
	export HF_HUB_CACHE="$BATS_TEST_TMPDIR/hub" HF_HUB_OFFLINE=1
	unset HF_HOME HF_TOKEN HF_ENDPOINT
}

# params ID-or-FILE: the parameter count through the whole chain
params() {
	lmp-inspect "$1" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count
}

# row DOC PATH FIELD: one row's field of an eval document
row() {
	jq -r --arg p "$2" ".rows[] | select(.path == \$p) | $3" <<<"$1"
}

# cfg_with MODEL JQ: that model's shipped config changed by JQ, inspected
cfg_with() {
	jq "$2" "$CFG/$1/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/config.json"
}

@test "Gemma-3-1b: scaled embedding, q/k norms, 22 sliding and 4 global layers, tied head" {
	# Official: 999,885,952 (the Hub's safetensors total of google/gemma-3-1b-pt).
	# By hand: V=262144, H=1152, I=6912, 26 layers of 4 query heads and 1 KV
	# head of 256: q H*1024, k and v H*256 each, o 1024*H, q_norm and k_norm
	# 256 each, MLP 3*H*I, four norms 4*H; final norm H; the head is tied
	# (Gemma3TextConfig's default, the config does not set it).  embed_scale
	# is a buffer, not a parameter.
	local V=262144 H=1152 I=6912
	[ "$(params google/gemma-3-1b-pt)" = $(( V*H + 26 * (H*1024 + 2*H*256 + 1024*H + 2*256 + 3*H*I + 4*H) + H )) ]
	[ "$(params google/gemma-3-1b-pt)" = 999885952 ]
	# layer i is global when (i + 1) % sliding_window_pattern == 0: 5, 11, 17, 23
	run lmp-inspect google/gemma-3-1b-pt
	[ "$(jq -c '[.layers[0].sub_layers[] | select(.name | startswith("layers")) | [.name, .repeat]]' <<<"$output")" = '[["layers(sliding)",22],["layers(global)",4]]' ]
	local doc
	doc=$(lmp-inspect google/gemma-3-1b-pt | lmp-populate)
	# KV cache at 2048 tokens: the 22 sliding layers keep 511 (window 512), the
	# 4 global ones 2048; 1 KV head x (256 + 256) x 2 bytes = 1024 bytes a token
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 2047 <<<"$doc" | jq .totals.state_bytes)" = $(( (22 * 511 + 4 * 2048) * 1024 )) ]
	run lmp-eval --seq-len 1 --cache-len 2047 <<<"$doc"
	# a decode step attends 512 keys in a sliding layer, 2048 in a global one:
	# 4 heads x (2 x 256 + 2 x 256 + 6) per key
	[ "$(row "$output" 'model.layers(sliding).*.self_attn.sdpa' .flops)" = $(( 4 * 512 * (4*256 + 6) )) ]
	[ "$(row "$output" 'model.layers(global).*.self_attn.sdpa' .flops)" = $(( 4 * 2048 * (4*256 + 6) )) ]
	# the scale inside the embedding: one multiply per element, the gathered
	# rows a temporary; q_norm over 4 heads of 256: 4 x (4 x 256 + 3) + 256
	[ "$(row "$output" model.embed_tokens '[.flops, .bytes.intermediates] | @csv')" = "$H,$((H * 2))" ]
	[ "$(row "$output" 'model.layers(global).*.self_attn.q_norm' .flops)" = $(( 4 * (4*256 + 3) + 256 )) ]
	# two rotary tables a step, global and local; no soft-capping here
	[ "$(jq '[.rows[] | select(.path | startswith("model.rotary_emb"))] | length' <<<"$output")" = 2 ]
	[ "$(jq '[.rows[] | select(.path | test("softcap"))] | length' <<<"$output")" = 0 ]
}

@test "Gemma-3: soft-capping, bidirectional attention and layer_types" {
	# final_logit_softcapping caps the logits (3 FLOPs a vocabulary entry)
	cfg_with google/gemma-3-1b-pt '.final_logit_softcapping = 30.0'
	[ "$(lmp-populate <<<"$output" | lmp-eval --seq-len 1 | jq '.rows[] | select(.path == "logit_softcap") | .flops')" = $((3 * 262144)) ]
	# Gemma3Attention never passes attn_logit_softcapping on: accepted, no cost
	cfg_with google/gemma-3-1b-pt '.attn_logit_softcapping = 50.0'
	[ "$status" -eq 0 ]
	[ "$(jq '[.. | objects | select(.name? == "score_softcap")] | length' <<<"$output")" = 0 ]
	cfg_with google/gemma-3-1b-pt '.use_bidirectional_attention = true'
	assert_clean_failure lmp-inspect 'config field use_bidirectional_attention = true is not supported by the gemma3_text template'
	# a per-layer list must follow the pattern, entry for entry (below)
	cfg_with google/gemma-3-1b-pt '.layer_types = ["sliding_attention"]'
	assert_clean_failure lmp-inspect 'config field layer_types is not supported by the gemma3_text template (1 entries where its pattern has 26)'
	cfg_with google/gemma-3-1b-pt '.hidden_activation = "gelu"'
	assert_clean_failure lmp-inspect 'config field hidden_activation = "gelu" is not supported by the gemma3_text template'
}

@test "GPT-J-6B: parallel attention and MLP off one LayerNorm, rotary on 64 of 256, untied head with a bias" {
	# By hand: V=50400, H=4096, I=16384, 28 layers: ln_1 2H, q, k, v, out 4*H*H
	# (no biases), fc_in H*I + I, fc_out I*H + H; ln_f 2H; wte V*H; lm_head
	# V*H + V (untied, with a bias).
	local V=50400 H=4096 I=16384
	[ "$(params EleutherAI/gpt-j-6b)" = $(( V*H + 28 * (2*H + 4*H*H + H*I + I + I*H + H) + 2*H + V*H + V )) ]
	# That is what model.num_parameters() gives: 6,050,882,784.  PEFT's
	# print_trainable_parameters on GPT-J shows "all params: 6054552800" with
	# 3,670,016 LoRA parameters added (huggingface/peft pull request 140).
	[ "$(params EleutherAI/gpt-j-6b)" = $((6054552800 - 3670016)) ]
	# The model card's n_parameters, 6,053,381,344, is 2,498,560 more: it is
	# the count of the Mesh Transformer JAX checkpoint it was trained as
	# (kingoflolz/mesh-transformer-jax, configs/6B_roto_256.json: 8 shards,
	# cores_per_replica), whose tree_size counts every shard's parameters.
	# In mesh_transformer/layers.py (TransformerLayerShard, EmbeddingShard,
	# ProjectionShard) each LayerNorm's scale and offset and each layer's
	# dense_proj_o (fc_out) bias are replicated on all 8 shards, and the
	# input embedding is a Linear with a bias of H on every shard, which the
	# conversion to transformers drops.  So: 7 extra copies of 28 x (2H + H)
	# + 2H (ln_f), and 8 copies of the embedding bias.
	[ $((6053381344 - 6050882784)) = $(( 7 * (28 * (2*H + H) + 2*H) + 8 * H )) ]
	# rotate_every_two on the first 64 of each head's 256 dimensions, for 16
	# query and 16 key heads: 3 x 64 + 32 FLOPs a head and token
	run sh -c "lmp-inspect EleutherAI/gpt-j-6b | lmp-populate | lmp-eval --seq-len 1"
	[ "$(row "$output" transformer.h.*.attn.rotary .flops)" = $(( 32 * (3*64 + 32) )) ]
	# one residual step adds attention, MLP and input: 2 x H
	[ "$(row "$output" transformer.h.*.parallel_residual .flops)" = $((2 * H)) ]
	# the float32 sin/cos table (2048 x 64) is repeated once per sequence in every layer
	[ "$(row "$output" transformer.h.*.attn.rotary .bytes.weights)" = $((2048 * 64 * 4)) ]
	# the head's bias add runs on the last position only
	[ "$(row "$output" lm_head .flops)" = $(( 2*H*V + V )) ]
	cfg_with EleutherAI/gpt-j-6b '.tie_word_embeddings = true'
	assert_clean_failure lmp-inspect 'config field tie_word_embeddings = true is not supported by the gptj template'
}

@test "Falcon-7B: multi-query attention, one LayerNorm per layer, tied head" {
	# By hand: V=65024, H=4544, 71 heads of 64, 32 layers: input_layernorm 2H,
	# query_key_value H*(H + 2*64) (71 query heads, one K and one V head),
	# dense H*H, MLP 2*H*4H, no biases; ln_f 2H; word_embeddings V*H.
	local V=65024 H=4544
	[ "$(params tiiuae/falcon-7b)" = $(( V*H + 32 * (2*H + H*(H + 128) + H*H + 8*H*H) + 2*H )) ]
	# The config does not set tie_word_embeddings and FalconConfig does not
	# either, so PretrainedConfig's default, true, ties lm_head to the
	# embeddings (FalconForCausalLM lists lm_head.weight in
	# _tied_weights_keys): model.num_parameters() counts the shared matrix
	# once, and so does lmp.  The widely quoted 7,217,189,760 (the Hub's
	# safetensors total) counts lm_head.weight, which the checkpoint stores
	# separately, a second time:
	[ "$(params tiiuae/falcon-7b)" = $((7217189760 - V*H)) ]
	[ "$(params tiiuae/falcon-7b)" = 6921720704 ]
	# KV cache: one K and one V head of 64 per layer, 32 layers x 2 x 64 x 2
	# bytes = 8192 bytes a token (71 heads would take 71 times as much)
	local doc
	doc=$(lmp-inspect tiiuae/falcon-7b | lmp-populate)
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 --batch-size 2 <<<"$doc" | jq .totals.state_bytes)" = $((2 * 4096 * 8192)) ]
	# a decode step reads the 4096 cached and new keys of its one KV head once,
	# and the 71 query heads score each of them (4096 is past Falcon's 2048
	# rotary positions: a warning on stderr)
	run_split lmp-eval --seq-len 1 --cache-len 4095 <<<"$doc"
	[ "$(row "$output" transformer.h.*.self_attention.sdpa .bytes.reads)" = $(( 71*64*2 + 4096 * 128 * 2 )) ]
	[ "$(row "$output" transformer.h.*.self_attention.sdpa .flops)" = $(( 71 * 4096 * (4*64 + 6) )) ]
	[ "$(row "$output" transformer.h.*.self_attention.rotary .flops)" = $(( 72 * (3*64 + 32) )) ]
}

@test "Falcon: multi_query false, bias true, and the variants lmp does not support" {
	# Without multi_query every head has its own K and V: query_key_value 3H
	local V=65024 H=4544
	jq '.multi_query = false' "$CFG/tiiuae/falcon-7b/config.json" > "$BATS_TEST_TMPDIR/config.json"
	[ "$(params "$BATS_TEST_TMPDIR/config.json")" = $(( V*H + 32 * (2*H + 3*H*H + H*H + 8*H*H) + 2*H )) ]
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 99 | jq .totals.state_bytes)" = $(( 100 * 32 * 71 * 128 * 2 )) ]
	# bias true adds the projections' biases; the LayerNorms keep theirs
	# either way: the template scopes "bias" to the projections, so the
	# config field does not bind the LayerNorm entry's parameter of that name
	jq '.bias = true' "$CFG/tiiuae/falcon-7b/config.json" > "$BATS_TEST_TMPDIR/config.json"
	[ "$(params "$BATS_TEST_TMPDIR/config.json")" = $(( V*H + 32 * (2*H + (H + 1)*(H + 128) + (H + 1)*H + (H + 1)*4*H + (4*H + 1)*H) + 2*H )) ]
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate --explain"
	[ "$(awk -F'\t' '$1 == "transformer.h.*.input_layernorm" && $2 == "bias" { print $3, $4 }' <<<"$output")" = "1 attrs" ]
	[ "$(lmp-inspect "$BATS_TEST_TMPDIR/config.json" | jq -c .scoped)" = '["bias","num_kv_heads"]' ]
	# FalconLinear adds its bias in a second kernel: the matmul's output is a temporary
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate | lmp-eval --seq-len 1"
	[ "$(row "$output" transformer.h.*.self_attention.dense .bytes.intermediates)" = $((H * 2)) ]
	cfg_with tiiuae/falcon-7b '.new_decoder_architecture = true'
	assert_clean_failure lmp-inspect 'config field new_decoder_architecture = true is not supported by the falcon template'
	cfg_with tiiuae/falcon-7b '.alibi = true'
	assert_clean_failure lmp-inspect 'config field alibi = true is not supported by the falcon template'
	cfg_with tiiuae/falcon-7b '.parallel_attn = false'
	assert_clean_failure lmp-inspect 'config field parallel_attn = false is not supported by the falcon template'
	cfg_with tiiuae/falcon-7b '.num_ln_in_parallel_attn = 2'
	assert_clean_failure lmp-inspect 'config field num_ln_in_parallel_attn = 2 is not supported by the falcon template'
}

@test "a template's scoped must be a list of field names" {
	cp -r "$ROOT/share/lmp" "$BATS_TEST_TMPDIR/data"
	jq '.scoped = "bias"' "$ROOT/share/lmp/archs/falcon.json" > "$BATS_TEST_TMPDIR/data/archs/falcon.json"
	LMP_DATADIR="$BATS_TEST_TMPDIR/data" run_split lmp-inspect tiiuae/falcon-7b
	assert_clean_failure lmp-inspect 'the falcon template'"'"'s "scoped" must be an array of field names'
}

@test "BLOOM-560m: ALiBi, embedding LayerNorm, fused qkv with biases, tied head" {
	# Official: 559,214,592 (the model card's technical specifications).
	# By hand: V=250880, H=1024, 24 layers: word_embeddings V*H and their
	# LayerNorm 2H; per layer two LayerNorms 4H, query_key_value H*3H + 3H,
	# dense H*H + H, dense_h_to_4h H*4H + 4H, dense_4h_to_h 4H*H + H; ln_f 2H;
	# the head is tied (PretrainedConfig's default; BloomConfig does not set it).
	local V=250880 H=1024
	[ "$(params bigscience/bloom-560m)" = $(( V*H + 2*H + 24 * (4*H + H*3*H + 3*H + H*H + H + H*4*H + 4*H + 4*H*H + H) + 2*H )) ]
	[ "$(params bigscience/bloom-560m)" = 559214592 ]
	run sh -c "lmp-inspect bigscience/bloom-560m | lmp-populate | lmp-eval --seq-len 1 --cache-len 99 --batch-size 2"
	# the ALiBi term: one add per score, 16 heads x 2 sequences x 100 keys,
	# reading one bias per head and key (2 bytes)
	[ "$(row "$output" transformer.h.*.self_attention.alibi_bias '[.flops, .bytes.reads] | @csv')" = "$((16 * 200)),$((16 * 200 * 2))" ]
	# the bias tensor, once per step: positions (cumsum, - 1, * mask: 3 a
	# mask position), one slope per head, a product per head and position
	[ "$(row "$output" transformer.alibi .flops)" = $(( 3*200 + 16 + 16*200 )) ]
	[ "$(row "$output" transformer.alibi .count)" = 1 ]
	# no rotary anywhere
	[ "$(jq '[.rows[] | select(.path | test("rotary"))] | length' <<<"$output")" = 0 ]
	# BloomGelu: nine eager operations per element, eight temporaries
	[ "$(row "$output" transformer.h.*.mlp.gelu_impl '[.flops, .bytes.intermediates] | @csv')" = "$((9 * 2 * 4*H)),$((8 * 2 * 4*H * 2))" ]
	# both residual adds live inside the attention and MLP modules (dropout_add)
	[ "$(jq '[.rows[] | select(.path | endswith(".residual")) | .flops] | add' <<<"$output")" = $((2 * 2 * H)) ]
	cfg_with bigscience/bloom-560m '.slow_but_exact = true'
	assert_clean_failure lmp-inspect 'config field slow_but_exact = true is not supported by the bloom template'
	# BloomConfig's own spelling reads the same (see the spellings test below)
	cfg_with bigscience/bloom-560m '.hidden_size = .n_embed | del(.n_embed)'
	assert_success
	[ "$(jq .config.n_embed <<<"$output")" = 1024 ]
}

@test "the four families run end to end, offline, and their documents are shipped" {
	cp "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
	for m in google/gemma-3-1b-pt EleutherAI/gpt-j-6b tiiuae/falcon-7b bigscience/bloom-560m; do
		run_split sh -c "lmp-inspect $m | lmp-ensure --quiet --agent false --db '$BATS_TEST_TMPDIR/db.json' | lmp-populate | lmp-eval --totals --seq-len 1"
		[ "$status" -eq 0 ] || fail "$m: $stderr"
		[ -f "$ROOT/models/$(printf '%s' "$m" | sed 's|/|--|').populated.json" ]
	done
}

@test "Gemma-3 configs saved by newer transformers: layer_types instead of sliding_window_pattern" {
	# transformers' Gemma3TextConfig: layer i is "sliding_attention" when
	# (i + 1) % sliding_window_pattern != 0 (default 6), else "full_attention"
	jq '. + {layer_types: [range(26) | if ((. + 1) % 6) != 0 then "sliding_attention" else "full_attention" end]}
		| del(.sliding_window_pattern)' "$ROOT/share/lmp/configs/google/gemma-3-1b-pt/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run bash -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate | lmp-eval --totals --seq-len 1"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 999885952 ]
	# a pattern the template cannot build is refused, never approximated
	jq '.layer_types[5] = "sliding_attention"' "$BATS_TEST_TMPDIR/config.json" > "$BATS_TEST_TMPDIR/odd.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/odd.json"
	assert_clean_failure lmp-inspect 'config field layer_types is not supported by the gemma3_text template (entry 5 is "sliding_attention"'
	jq '.layer_types[0] = "chunky"' "$BATS_TEST_TMPDIR/config.json" > "$BATS_TEST_TMPDIR/odd.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/odd.json"
	assert_clean_failure lmp-inspect '(entry 0 is "chunky"'
}

@test "BLOOM and Falcon configs in the spellings transformers saves: the same model" {
	# BloomConfig takes hidden_size (n_embed for backward compatibility) and
	# maps num_attention_heads to n_head; a re-saved config has hidden_size and n_head
	jq '. + {hidden_size: .n_embed, n_head: .num_attention_heads} | del(.n_embed, .num_attention_heads)' \
		"$ROOT/share/lmp/configs/bigscience/bloom-560m/config.json" > "$BATS_TEST_TMPDIR/bloom.json"
	run bash -c "lmp-inspect '$BATS_TEST_TMPDIR/bloom.json' | lmp-populate | lmp-eval --totals --seq-len 1"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 559214592 ]
	# FalconConfig's attribute_map: n_layer, n_head (the RW configs' names)
	jq '. + {n_layer: .num_hidden_layers, n_head: .num_attention_heads} | del(.num_hidden_layers, .num_attention_heads)' \
		"$ROOT/share/lmp/configs/tiiuae/falcon-7b/config.json" > "$BATS_TEST_TMPDIR/falcon.json"
	run bash -c "lmp-inspect '$BATS_TEST_TMPDIR/falcon.json' | lmp-populate | lmp-eval --totals --seq-len 1"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 6921720704 ]
	# two spellings that disagree
	jq '.hidden_size = 2048' "$ROOT/share/lmp/configs/bigscience/bloom-560m/config.json" > "$BATS_TEST_TMPDIR/two.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/two.json"
	assert_clean_failure lmp-inspect "config fields hidden_size and n_embed name the same setting with different values"
}

@test "phi-2: parallel attention and MLP off one LayerNorm, rotary on 32 of 80, biases everywhere, untied head with a bias" {
	# Official: 2,779,683,840, the Hub's safetensors total of microsoft/phi-2
	# (F16; model.safetensors.index.json's total_size 5,559,367,680 bytes is
	# 2 bytes each).  By hand: V=51200, H=2560, I=10240, 32 layers of 32 heads
	# of 80 (H / 32): input_layernorm 2H; q, k, v and dense H*H + H each
	# (bias=True); fc1 H*I + I, fc2 I*H + H; final_layernorm 2H; embed_tokens
	# V*H; lm_head V*H + V (untied, bias=True).
	local V=51200 H=2560 I=10240
	[ "$(params microsoft/phi-2)" = $(( V*H + 32 * (2*H + 4*(H*H + H) + H*I + I + I*H + H) + 2*H + V*H + V )) ]
	[ "$(params microsoft/phi-2)" = 2779683840 ]
	local doc
	doc=$(lmp-inspect microsoft/phi-2 | lmp-populate)
	# the stored weights at 16 bits are the index's total_size
	[ "$(lmp-eval --totals --seq-len 1 <<<"$doc" | jq .totals.weight_bytes)" = 5559367680 ]
	# KV cache: 32 layers x 32 KV heads x (80 + 80) x 2 bytes = 327,680 bytes
	# a token; 2048 tokens hold 671,088,640
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 2047 <<<"$doc" | jq .totals.state_bytes)" = $(( 2048 * 32 * 32 * 160 * 2 )) ]
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 2047 <<<"$doc" | jq .totals.state_bytes)" = 671088640 ]
	run lmp-eval --seq-len 1 <<<"$doc"
	# rotate_half on the first int(80 x 0.4) = 32 dimensions of 32 query and
	# 32 key heads: 3 x 32 + 16 FLOPs a head and token
	[ "$(row "$output" 'model.layers.*.self_attn.rotary' .flops)" = $(( 64 * (3*32 + 16) )) ]
	# the rotary table is built for 32 dimensions: 5 FLOPs each
	[ "$(row "$output" model.rotary_emb .flops)" = $(( 5 * 32 )) ]
	# one residual step adds attention, MLP and input: 2 x H
	[ "$(row "$output" 'model.layers.*.parallel_residual' .flops)" = $((2 * H)) ]
	# the head's bias add runs on the last position only
	[ "$(row "$output" lm_head .flops)" = $(( 2*H*V + V )) ]
	cfg_with microsoft/phi-2 '.qk_layernorm = true'
	assert_clean_failure lmp-inspect 'config field qk_layernorm = true is not supported by the phi template'
	cfg_with microsoft/phi-2 '.hidden_act = "gelu"'
	assert_clean_failure lmp-inspect 'config field hidden_act = "gelu" is not supported by the phi template'
}

@test "OLMo-2-7B: norms after attention and MLP, q/k RMSNorm over the whole projection, untied head" {
	# Official: 7,298,617,344, the Hub's safetensors total of
	# allenai/OLMo-2-1124-7B (F32).  By hand: V=100352, H=4096, I=11008, 32
	# layers of 32 heads and 32 KV heads of 128: q, k, v, o 4*H*H (no bias);
	# q_norm and k_norm over the whole projection, H each; MLP 3*H*I;
	# post_attention_layernorm and post_feedforward_layernorm H each (no
	# input norm); final norm H; embed_tokens and the untied lm_head V*H each.
	local V=100352 H=4096 I=11008
	[ "$(params allenai/OLMo-2-1124-7B)" = $(( 2*V*H + 32 * (4*H*H + 2*H + 3*H*I + 2*H) + H )) ]
	[ "$(params allenai/OLMo-2-1124-7B)" = 7298617344 ]
	local doc
	doc=$(lmp-inspect allenai/OLMo-2-1124-7B | lmp-populate)
	# KV cache: 32 layers x 32 KV heads x (128 + 128) x 2 bytes = 524,288
	# bytes a token; 4096 tokens hold 2 GiB
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = $(( 4096 * 32 * 32 * 256 * 2 )) ]
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = 2147483648 ]
	run lmp-eval --seq-len 1 <<<"$doc"
	# q_norm is one RMSNorm row of 32 x 128 = 4096: 4 FLOPs an element, 3 a row
	[ "$(row "$output" 'model.layers.*.self_attn.q_norm' .flops)" = $(( 4*4096 + 3 )) ]
	# no input norm: the layer's norms are the two after attention and MLP
	[ "$(jq '[.rows[] | select(.path | test("^model\\.layers\\.\\*\\.[a-z_]*layernorm$"))] | length' <<<"$output")" = 2 ]
	# the rotary table stays float32: cos and sin of 128, 4 bytes each
	[ "$(row "$output" model.rotary_emb .bytes.writes)" = $(( 2 * 128 * 4 )) ]
	cfg_with allenai/OLMo-2-1124-7B '.tie_word_embeddings = true'
	[ "$(lmp-populate <<<"$output" | lmp-eval --totals --seq-len 1 | jq .totals.param_count)" = $(( 7298617344 - V*H )) ]
}

@test "phi and olmo2 run end to end, offline, and their documents are shipped" {
	cp "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
	for m in microsoft/phi-2 allenai/OLMo-2-1124-7B; do
		run_split sh -c "lmp-inspect $m | lmp-ensure --quiet --agent false --db '$BATS_TEST_TMPDIR/db.json' | lmp-populate | lmp-eval --totals --seq-len 1"
		[ "$status" -eq 0 ] || fail "$m: $stderr"
		[ -f "$ROOT/models/$(printf '%s' "$m" | sed 's|/|--|').populated.json" ]
	done
	# every class was already in the database: nothing was added
	cmp -s "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
}

@test "families whose attention splits hidden_size into heads refuse a size that does not divide (transformers raises)" {
	local f="$BATS_TEST_TMPDIR/config.json"
	# GPT-2: n_embd 768 over 7 heads; GPT-J: 4096 over 7; OPT-1.3b, Falcon-7b, Pythia: hidden_size over 7
	jq '.n_head = 7' "$CFG/openai-community/gpt2/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields n_embd = 768, n_head = 7: n_embd must be a multiple of n_head'
	jq '.n_head = 7' "$CFG/EleutherAI/gpt-j-6b/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields n_embd = 4096, n_head = 7: n_embd must be a multiple of n_head'
	jq '.num_attention_heads = 7' "$CFG/facebook/opt-1.3b/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields hidden_size = 2048, num_attention_heads = 7: hidden_size must be a multiple of num_attention_heads'
	jq '.num_attention_heads = 7' "$CFG/EleutherAI/pythia-1.4b/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields hidden_size = 2048, num_attention_heads = 7: hidden_size must be a multiple of num_attention_heads'
	# Falcon-7b: 4544 = 71 x 64; 4544 over 8 heads divides, over 7 does not
	jq '.num_attention_heads = 7' "$CFG/tiiuae/falcon-7b/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields hidden_size = 4544, num_attention_heads = 7: hidden_size must be a multiple of num_attention_heads'
	# BLOOM-560m: n_embed 1024 over 7 heads (both spellings of the head count)
	jq '.n_head = 7 | .num_attention_heads = 7' "$CFG/bigscience/bloom-560m/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config fields n_embed = 1024, num_attention_heads = 7: n_embed must be a multiple of num_attention_heads'
	# Llama computes head_dim = hidden_size // heads without such a check: not refused
	jq '.num_attention_heads = 24 | .num_key_value_heads = 8' "$CFG/meta-llama/Llama-3.2-1B/config.json" > "$f"
	run_split lmp-inspect "$f"
	[ "$status" -eq 0 ]
}

@test "GPT-NeoX-20B: hidden_act gelu_fast (transformers' ACT2FN) is FastGELUActivation; its official count; an activation lmp does not model is named" {
	local f="$BATS_TEST_TMPDIR/neox20b.json"
	# GPT-NeoX-20B's config.json (EleutherAI/gpt-neox-20b): Pythia's fields with
	# V=50432, H=6144, I=24576, 44 layers, 64 heads, hidden_act gelu_fast
	jq '.hidden_act = "gelu_fast" | .hidden_size = 6144 | .num_attention_heads = 64 | .num_hidden_layers = 44 |
		.intermediate_size = 24576 | .vocab_size = 50432' "$CFG/EleutherAI/pythia-1.4b/config.json" > "$f"
	run sh -c "lmp-inspect '$f' | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.param_count"
	assert_success
	# per layer: two LayerNorms 2*2H, qkv 3H*H + 3H, dense H*H + H, MLP H*I + I + I*H + H;
	# embed_in and embed_out V*H each (untied), final LayerNorm 2H.  The model
	# card's figure: 20,554,567,680.
	local V=50432 H=6144 I=24576 L=44
	[ "$output" = $(( L * (4*H + 3*H*H + 3*H + H*H + H + 2*H*I + I + H) + 2*V*H + 2*H )) ]
	[ "$output" = 20554567680 ]
	lmp-inspect "$f" | jq -e '[.. | objects | select(.name == "act") | .class] == ["transformers.activations.FastGELUActivation"]'
	# FastGELU: 9 FLOPs per element (the nine eager kernels of its forward),
	# exact GELU 5, QuickGELU 6 (1.702*x, a sigmoid of 4, the product): at one
	# token the difference is L x I elements x the difference in FLOPs
	local fast gelu quick
	fast=$(lmp-inspect "$f" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.flops)
	jq '.hidden_act = "gelu"' "$f" > "$BATS_TEST_TMPDIR/gelu.json"
	jq '.hidden_act = "quick_gelu"' "$f" > "$BATS_TEST_TMPDIR/quick.json"
	gelu=$(lmp-inspect "$BATS_TEST_TMPDIR/gelu.json" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.flops)
	quick=$(lmp-inspect "$BATS_TEST_TMPDIR/quick.json" | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.flops)
	[ $((fast - gelu)) -eq $((L * I * (9 - 5))) ]
	[ $((quick - gelu)) -eq $((L * I * (6 - 5))) ]
	jq '.hidden_act = "swiglu"' "$CFG/EleutherAI/pythia-1.4b/config.json" > "$f"
	run_split lmp-inspect "$f"
	assert_clean_failure lmp-inspect 'config field hidden_act = "swiglu" is not an activation lmp models (supported: gelu, gelu_10, gelu_accurate, gelu_fast, gelu_new, gelu_python, gelu_python_tanh, gelu_pytorch_tanh, laplace, leaky_relu, linear, mish, prelu, quick_gelu, relu, relu2, relu6, sigmoid, silu, swish, tanh, xielu)'
}

@test "Phi-4-mini (phi3): partial_rotary_factor 0.75 rotates 96 of 128 dimensions; its unknown fields are a warning" {
	local f="$BATS_TEST_TMPDIR/phi4mini.json"
	# microsoft/Phi-4-mini-instruct's config: Phi-3-mini's layout with V=200064,
	# 24 heads and 8 KV heads of 128, partial_rotary_factor 0.75, a tied head,
	# and full_attn_mod / lm_head_bias, fields transformers' Phi3Config does not define
	jq '.vocab_size = 200064 | .num_attention_heads = 24 | .num_key_value_heads = 8 | .partial_rotary_factor = 0.75 |
		.tie_word_embeddings = true | .full_attn_mod = 1 | .lm_head_bias = false | .sliding_window = 262144 |
		.max_position_embeddings = 131072' "$CFG/microsoft/Phi-3-mini-4k-instruct/config.json" > "$f"
	run --separate-stderr lmp-inspect "$f"
	[ "$status" -eq 0 ]
	[ "$stderr" = "lmp-inspect: warning: 2 config fields not used: full_attn_mod, lm_head_bias" ]
	# int(128 * 0.75) = 96, in the rotary table and in apply_rotary_pos_emb
	[ "$(printf '%s' "$output" | jq -c '[.. | objects | .attrs?.rotary_dim? | numbers]')" = '[96,96]' ]
	# H=3072, I=8192, 32 layers: qkv H*(24+2*8)*128, o H*H, gate_up H*2I, down I*H, two norms;
	# the embedding tied to the head, a final norm
	local V=200064 H=3072 I=8192 L=32 one
	run sh -c "lmp-inspect '$f' 2>/dev/null | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.flops,.totals.param_count"
	[ "${lines[1]}" = $(( L * (H*40*128 + H*H + H*2*I + I*H + 2*H) + V*H + H )) ]
	# against the whole head rotating: one token, apply_rotary_pos_emb's
	# (24+8) heads x (3*d + d/2) per layer, and the table's 5*d once
	jq '.partial_rotary_factor = 1' "$f" > "$BATS_TEST_TMPDIR/full.json"
	one=$(lmp-inspect "$BATS_TEST_TMPDIR/full.json" 2>/dev/null | lmp-populate | lmp-eval --totals --seq-len 1 | jq .totals.flops)
	[ $(( one - lines[0] )) -eq $(( L * 32 * (3*(128-96) + (64-48)) + 5 * (128-96) )) ]
	jq '.partial_rotary_factor = 1.5' "$f" > "$BATS_TEST_TMPDIR/bad.json"
	run_split lmp-inspect "$BATS_TEST_TMPDIR/bad.json"
	assert_clean_failure lmp-inspect 'config fields partial_rotary_factor = 1.5: partial_rotary_factor must be in (0, 1]'
}

@test "Command-R (cohere): parallel block off one bias-free LayerNorm, scaled logits, tied head; per-head q/k LayerNorm" {
	# Official: "35 billion parameters" (the model card of
	# CohereForAI/c4ai-command-r-v01, rounded; no exact first-party total
	# was found, share/lmp/configs/CohereForAI/c4ai-command-r-v01/SOURCE).
	# By hand: V=256000, H=8192, I=22528, 40 layers of 64 heads and 64 KV
	# heads of 128 (H/64): q, k, v, o 4*H*H (no bias); MLP 3*H*I (no bias);
	# one input_layernorm H (CohereLayerNorm: a weight, no bias; no
	# post-attention norm); final norm H; embed_tokens V*H, tied to the head.
	local V=256000 H=8192 I=22528 n
	n=$(params CohereForAI/c4ai-command-r-v01)
	[ "$n" = $(( V*H + 40 * (4*H*H + 3*H*I + H) + H )) ]
	[ "$n" = 34980831232 ]
	# the card's 35 billion is this count rounded to the billion
	[ $(( (n + 500000000) / 1000000000 )) -eq 35 ]
	local doc
	doc=$(lmp-inspect CohereForAI/c4ai-command-r-v01 | lmp-populate)
	# KV cache: 40 layers x 64 KV heads x (128 + 128) x 2 bytes = 1,310,720
	# bytes a token; 8192 tokens hold 10 GiB
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 <<<"$doc" | jq .totals.state_bytes)" = $(( 8192 * 40 * 64 * 256 * 2 )) ]
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 <<<"$doc" | jq .totals.state_bytes)" = 10737418240 ]
	run lmp-eval --seq-len 1 --batch-size 4 <<<"$doc"
	# logits * logit_scale: one multiply per logit, 4 sequences x V; the
	# scale is a number, read once: the logits read and written in 2 bytes
	[ "$(row "$output" logit_scale '[.flops, .bytes.reads, .bytes.writes] | @csv')" = "$((4*V)),$((4*V*2)),$((4*V*2))" ]
	# CohereLayerNorm, float32, no bias: 7 FLOPs an element (mean, centre,
	# square, variance sum, centre again, rsqrt scale, weight), 4 a row
	[ "$(row "$output" 'model.layers.*.input_layernorm' .flops)" = $(( 4 * (7*H + 4) )) ]
	# one norm a layer, and attention and MLP summed into the residual at once
	[ "$(jq '[.rows[] | select(.path | test("^model\\.layers\\.\\*\\.[a-z_]*(norm|residual)$"))] | [.[].path]' -c <<<"$output")" = '["model.layers.*.input_layernorm","model.layers.*.parallel_residual"]' ]
	[ "$(row "$output" 'model.layers.*.parallel_residual' .flops)" = $(( 2 * 4 * H )) ]
	# use_qk_norm: a LayerNorm weight per head, (heads, head_dim):
	# 64*128 and 64*128 more parameters a layer; q_norm at one token
	# normalises 64 rows of 128: 64 x (7 x 128 + 4)
	cfg_with CohereForAI/c4ai-command-r-v01 '.use_qk_norm = true'
	[ "$status" -eq 0 ]
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate | lmp-eval --seq-len 1"
	[ "$(jq .totals.param_count <<<"$output")" = $(( n + 40 * 2 * 64 * 128 )) ]
	[ "$(row "$output" 'model.layers.*.self_attn.q_norm' .flops)" = $(( 64 * (7*128 + 4) )) ]
	# untied, the head is its own V*H
	cfg_with CohereForAI/c4ai-command-r-v01 '.tie_word_embeddings = false'
	[ "$(lmp-populate <<<"$output" | lmp-eval --totals --seq-len 1 | jq .totals.param_count)" = $(( n + V*H )) ]
	# RMSNorm's epsilon is not Cohere's: a config that carries it is warned about
	cfg_with CohereForAI/c4ai-command-r-v01 '.rms_norm_eps = 1e-6'
	[ "$status" -eq 0 ]
	[ "$stderr" = "lmp-inspect: warning: 1 config field not used: rms_norm_eps" ]
}

@test "StableLM-3B-4E1T (stablelm): LayerNorm with biases, a quarter of each head rotates; qkv biases, per-head q/k LayerNorm, parallel residual" {
	# Official: 2,795,443,200 (the model card of stabilityai/stablelm-3b-4e1t).
	# By hand: V=50304, H=2560, I=6912, 32 layers of 32 heads and 32 KV heads
	# of 80 (H/32): q, k, v, o 4*H*H (no bias: use_qkv_bias false); MLP
	# 3*H*I (no bias); input_layernorm and post_attention_layernorm, each
	# nn.LayerNorm with weight and bias, 2*2*H; final norm 2*H; embed_tokens
	# and the untied lm_head V*H each.
	local V=50304 H=2560 I=6912 n
	n=$(params stabilityai/stablelm-3b-4e1t)
	[ "$n" = $(( 2*V*H + 32 * (4*H*H + 3*H*I + 4*H) + 2*H )) ]
	[ "$n" = 2795443200 ]
	local doc
	doc=$(lmp-inspect stabilityai/stablelm-3b-4e1t | lmp-populate)
	# KV cache: 32 layers x 32 KV heads x (80 + 80) x 2 bytes = 327,680 bytes
	# a token; 4096 tokens hold 1.25 GiB
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = $(( 4096 * 32 * 32 * 160 * 2 )) ]
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = 1342177280 ]
	# partial_rotary_factor 0.25: int(80 * 0.25) = 20 dimensions rotate, in
	# the table and in apply_rotary_pos_emb; at one token (32 + 32) heads x
	# (3 x 20 + 10), the table 5 x 20
	[ "$(jq -c '[.. | objects | .attrs?.rotary_dim? | numbers]' <<<"$doc")" = '[20,20]' ]
	run lmp-eval --seq-len 1 <<<"$doc"
	[ "$(row "$output" 'model.layers.*.self_attn.rotary' .flops)" = $(( 64 * (3*20 + 10) )) ]
	[ "$(row "$output" model.rotary_emb .flops)" = $(( 5 * 20 )) ]
	# nn.LayerNorm with a bias: 12 FLOPs an element, 3 a row; weight and bias read
	[ "$(row "$output" 'model.layers.*.input_layernorm' '[.flops, .bytes.weights] | @csv')" = "$(( 12*H + 3 )),$(( 2*H*2 ))" ]
	# use_qkv_bias (StableLM 2): q, k and v get H-long biases, 3*H a layer
	cfg_with stabilityai/stablelm-3b-4e1t '.use_qkv_bias = true'
	[ "$(lmp-populate <<<"$output" | lmp-eval --totals --seq-len 1 | jq .totals.param_count)" = $(( n + 32 * 3*H )) ]
	# qk_layernorm: a bias-free nn.LayerNorm(80) per head,
	# (32 + 32) x 80 parameters a layer; each normalises one row of 80 a
	# token: 11 x 80 + 3 FLOPs, 32 layers x 32 query heads of them
	cfg_with stabilityai/stablelm-3b-4e1t '.qk_layernorm = true'
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate | lmp-eval --seq-len 1"
	[ "$(jq .totals.param_count <<<"$output")" = $(( n + 32 * 64 * 80 )) ]
	[ "$(row "$output" 'model.layers.*.self_attn.q_layernorm.norms.*' '[.count, .flops] | @csv')" = "$(( 32 * 32 )),$(( 11*80 + 3 ))" ]
	# use_parallel_residual: x + attn(ln(x)) + mlp(ln(x)), no
	# post_attention_layernorm (2*H fewer a layer), one add of two terms
	cfg_with stabilityai/stablelm-3b-4e1t '.use_parallel_residual = true'
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate | lmp-eval --seq-len 1"
	[ "$(jq .totals.param_count <<<"$output")" = $(( n - 32 * 2*H )) ]
	[ "$(jq -c '[.rows[] | select(.path | test("^model\\.layers\\.\\*\\.[a-z_]*(norm|residual)$")) | .path]' <<<"$output")" = '["model.layers.*.input_layernorm","model.layers.*.parallel_residual"]' ]
	[ "$(row "$output" 'model.layers.*.parallel_residual' .flops)" = $(( 2 * H )) ]
	# StableLmAttention raises unless head_dim * heads == hidden_size
	cfg_with stabilityai/stablelm-3b-4e1t '.num_attention_heads = 24 | .num_key_value_heads = 8'
	assert_clean_failure lmp-inspect 'config fields hidden_size = 2560, num_attention_heads = 24: hidden_size must be a multiple of num_attention_heads (transformers refuses it)'
	cfg_with stabilityai/stablelm-3b-4e1t '.head_dim = 128'
	assert_clean_failure lmp-inspect 'config fields head_dim = 128, hidden_size = 2560, num_attention_heads = 32: head_dim must be hidden_size // num_attention_heads: StableLmAttention takes no other'
	cfg_with stabilityai/stablelm-3b-4e1t '.partial_rotary_factor = 1.5'
	assert_clean_failure lmp-inspect 'config fields partial_rotary_factor = 1.5: partial_rotary_factor must be in (0, 1]: the share of each head'"'"'s dimensions that rotate'
}

@test "cohere and stablelm run end to end, offline, and their documents are shipped" {
	cp "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
	for m in CohereForAI/c4ai-command-r-v01 stabilityai/stablelm-3b-4e1t; do
		run_split sh -c "lmp-inspect $m | lmp-ensure --quiet --agent false --db '$BATS_TEST_TMPDIR/db.json' | lmp-populate | lmp-eval --totals --seq-len 1"
		[ "$status" -eq 0 ] || fail "$m: $stderr"
		[ -f "$ROOT/models/$(printf '%s' "$m" | sed 's|/|--|').populated.json" ]
	done
	# every class was already in the database: nothing was added
	cmp -s "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
}

@test "Granite-3.0-8B: the official count, the KV cache, each muP multiplier costed as its elementwise op, logits_scaling 0 refused" {
	# Official: 8.1B in IBM's Granite 3.0 report (Table 1), exactly
	# 8,170,848,256 in the Hub's safetensors metadata.  By hand: V=49155,
	# H=4096, I=12800, 40 layers of 32 query heads and 8 KV heads of 128:
	# q and o H*H each, k and v H*1024 each, MLP 3*H*I, two RMSNorms 2*H;
	# final norm H; the head is tied to the embedding (V*H once); no biases.
	local V=49155 H=4096 I=12800
	[ "$(params ibm-granite/granite-3.0-8b-base)" = $(( V*H + 40 * (2*H*H + 2*H*1024 + 3*H*I + 2*H) + H )) ]
	[ "$(params ibm-granite/granite-3.0-8b-base)" = 8170848256 ]
	local doc
	doc=$(lmp-inspect ibm-granite/granite-3.0-8b-base | lmp-populate)
	# KV cache: 40 layers x 8 KV heads x (128 + 128) x 2 bytes = 163,840
	# bytes a token; the 4096 tokens of its context hold 640 MiB
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = $(( 4096 * 40 * 8 * 256 * 2 )) ]
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 4095 <<<"$doc" | jq .totals.state_bytes)" = 671088640 ]
	# 3 tokens of prefill: inputs_embeds * embedding_multiplier and, in each
	# layer, the two branches * residual_multiplier are one multiply an
	# element of [3, H] by a scalar (read the tensor, write the product:
	# 2 bytes each in bf16)
	run lmp-eval --seq-len 3 <<<"$doc"
	[ "$(row "$output" model.embedding_scale .flops)" = $(( 3 * H )) ]
	[ "$(row "$output" model.embedding_scale .bytes.reads)" = $(( 3 * H * 2 )) ]
	[ "$(row "$output" 'model.layers.*.attn_residual_scale' .flops)" = $(( 3 * H )) ]
	[ "$(row "$output" 'model.layers.*.mlp_residual_scale' .flops)" = $(( 3 * H )) ]
	# logits / logits_scaling: one division for each logit lm_head computes
	# (the last token's V in generation)
	[ "$(row "$output" logits_scale .flops)" = $V ]
	[ "$(row "$output" logits_scale .bytes.writes)" = $(( V * 2 )) ]
	# against Llama's layout of the same sizes: exactly those multiplies and
	# the division more, and the same parameters
	local granite llama
	granite=$(lmp-eval --totals --seq-len 3 <<<"$doc" | jq .totals.flops)
	jq '.model_type = "llama" | .architectures = ["LlamaForCausalLM"] | del(.attention_multiplier)' \
		"$CFG/ibm-granite/granite-3.0-8b-base/config.json" > "$BATS_TEST_TMPDIR/llama.json"
	llama=$(lmp-inspect "$BATS_TEST_TMPDIR/llama.json" | lmp-populate | lmp-eval --totals --seq-len 3 | jq .totals.flops)
	[ $(( granite - llama )) -eq $(( 3*H + 40 * 2 * 3*H + V )) ]
	# the multipliers' values change no cost: attention_multiplier replaces
	# the 1/sqrt(head_dim) scale inside the attention, the others stay one
	# multiply an element whatever they are
	cfg_with ibm-granite/granite-3.0-8b-base '.embedding_multiplier = 12.0 | .residual_multiplier = 0.22 | .logits_scaling = 16.0 | .attention_multiplier = 1'
	[ "$status" -eq 0 ]
	[ "$(lmp-populate <<<"$output" | lmp-eval --totals --seq-len 3 | jq .totals.flops)" = "$granite" ]
	# GraniteForCausalLM divides the logits by logits_scaling: 0 is refused
	cfg_with ibm-granite/granite-3.0-8b-base '.logits_scaling = 0'
	assert_clean_failure lmp-inspect 'config fields logits_scaling = 0: logits_scaling must not be 0 (GraniteForCausalLM divides the logits by it)'
}

@test "StarCoder2 (transformers' Starcoder2Config defaults): LayerNorm with bias, c_fc/c_proj MLP, biases by use_bias, sliding window, tied head" {
	# No StarCoder2 config ships (none could be confirmed first-party); the
	# layout is transformers' own defaults, a config naming only the model type.
	local f="$BATS_TEST_TMPDIR/starcoder2.json"
	jq -n '{model_type: "starcoder2", architectures: ["Starcoder2ForCausalLM"]}' > "$f"
	# By hand: V=49152, H=3072, I=12288, 30 layers of 24 query heads and 2 KV
	# heads of 128: q and o H*H + H each, k and v H*256 + 256 each (use_bias
	# True), c_fc H*I + I, c_proj I*H + H, two LayerNorms 2*H each (weight and
	# bias); final LayerNorm 2*H; the head is tied (PretrainedConfig's default).
	local V=49152 H=3072 I=12288 L=30
	[ "$(params "$f")" = $(( V*H + L * (2*(H*H + H) + 2*(H*256 + 256) + H*I + I + I*H + H + 4*H) + 2*H )) ]
	[ "$(params "$f")" = 3030371328 ]
	local doc
	doc=$(lmp-inspect "$f" | lmp-populate)
	# KV cache: 30 layers x 2 KV heads x (128 + 128) x 2 bytes = 30,720 bytes a
	# token; no window by default (sliding_window None): 8192 tokens kept
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 <<<"$doc" | jq .totals.state_bytes)" = $(( 8192 * L * 2 * 256 * 2 )) ]
	# one token: c_fc 2*H*I + I (its bias), gelu_pytorch_tanh 9 FLOPs an
	# element of I, c_proj 2*I*H + H; no gate projection
	run lmp-eval --seq-len 1 <<<"$doc"
	[ "$(row "$output" 'model.layers.*.mlp.c_fc' .flops)" = $(( 2*H*I + I )) ]
	[ "$(row "$output" 'model.layers.*.mlp.act' .flops)" = $(( 9 * I )) ]
	[ "$(row "$output" 'model.layers.*.mlp.c_proj' .flops)" = $(( 2*I*H + H )) ]
	[ "$(jq '[.rows[] | select(.path | test("^model\\.layers\\.\\*\\.mlp\\."))] | length' <<<"$output")" = 3 ]
	# sliding_window 4096: a decode step at 8k context keeps and reads 4095
	# past tokens, so the cache holds 4095 x 30,720 bytes
	jq '.sliding_window = 4096' "$f" > "$BATS_TEST_TMPDIR/window.json"
	doc=$(lmp-inspect "$BATS_TEST_TMPDIR/window.json" | lmp-populate)
	[ "$(lmp-eval --totals --seq-len 1 --cache-len 8191 <<<"$doc" | jq .totals.state_bytes)" = $(( 4095 * L * 2 * 256 * 2 )) ]
	# and its attention scores 4096 keys: 2*24*4096*(128+128) + 6*24*4096 a layer
	[ "$(lmp-eval --seq-len 1 --cache-len 8191 <<<"$doc" | jq '.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | .flops')" = $(( 2*24*4096*256 + 6*24*4096 )) ]
	# use_bias false drops the projections' biases, not the LayerNorms' (nn.LayerNorm
	# has its bias whatever use_bias says); an untied head adds V*H
	jq '.use_bias = false | .tie_word_embeddings = false' "$f" > "$BATS_TEST_TMPDIR/nobias.json"
	[ "$(params "$BATS_TEST_TMPDIR/nobias.json")" = $(( 3030371328 - L * (H + 256 + 256 + H + I + H) + V*H )) ]
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/nobias.json' | lmp-populate | lmp-eval --seq-len 1"
	[ "$(row "$output" 'model.layers.*.input_layernorm' .param_count)" = $(( 2 * H )) ]
}

@test "granite and starcoder2 run end to end, offline, with every class already in the database" {
	cp "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
	jq -n '{model_type: "starcoder2", architectures: ["Starcoder2ForCausalLM"], sliding_window: 4096}' > "$BATS_TEST_TMPDIR/starcoder2.json"
	for m in ibm-granite/granite-3.0-8b-base "$BATS_TEST_TMPDIR/starcoder2.json"; do
		run_split sh -c "lmp-inspect '$m' | lmp-ensure --quiet --agent false --db '$BATS_TEST_TMPDIR/db.json' | lmp-populate | lmp-eval --totals --seq-len 1"
		[ "$status" -eq 0 ] || fail "$m: $stderr"
	done
	[ -f "$ROOT/models/ibm-granite--granite-3.0-8b-base.populated.json" ]
	# nothing was added
	cmp -s "$ROOT/module_db.json" "$BATS_TEST_TMPDIR/db.json"
}
