#!/usr/bin/env bats
# lmp-populate: every parameter bound, by config, derived config, attrs,
# runtime variable or default; fixed runtime values substituted.

load helper

@test "--explain says which rule bound each parameter from which field" {
	run sh -c "lmp-inspect meta-llama/Llama-3.2-1B | lmp-populate --explain"
	assert_success
	assert_line --index 0 $'path\tparameter\tvalue\trule\tfield'
	assert_line $'model.layers.*.self_attn.sdpa\thead_dim\t64\tconfig\tconfig.head_dim'
	assert_line $'model.layers.*.self_attn.sdpa\tnum_kv_heads\t8\tattrs\tattrs.num_kv_heads'
	assert_line $'model.layers.*.self_attn.q_proj\ttokens\t"{tokens}"\truntime\t{tokens}'
	assert_line $'lm_head\ttokens\t"{batch_size}"\tattrs\tattrs.tokens'
	assert_line $'lm_head\tbias\t0\tattrs\tattrs.bias'
	# Llama-2's config has no head_dim: transformers derives it, and so does lmp
	run sh -c "lmp-inspect meta-llama/Llama-2-7b-hf | lmp-populate --explain"
	assert_line $'model.layers.*.self_attn.sdpa\thead_dim\t128\tderived\tconfig.head_dim'
	assert_line $'model.rotary_emb\trotary_dim\t128\tattrs\tattrs.rotary_dim'
}

@test "runtime values given on the command line fix the templates" {
	run sh -c "lmp-inspect meta-llama/Llama-3.2-1B | lmp-populate --batch-size 4 --seq-len 16 --w-bit 4"
	assert_success
	# tokens = 4 x 16; the head sees one position per sequence
	[ "$(jq '.layers[0].sub_layers[2].sub_layers[1].sub_layers[0].params.tokens' <<<"$output")" = 64 ]
	[ "$(jq '.layers[1].params.tokens' <<<"$output")" = 4 ]
	# a width is recorded, not bound: lmp-eval's --w-bit may still override it
	[ "$(jq -r '.layers[1].params.w_dtype_bytes' <<<"$output")" = "{w_dtype_bytes}" ]
	[ "$(jq -c .fixed <<<"$output")" = '{"batch_size":4,"seq_len":16,"w_bit":4}' ]
	# without --cache-len, the KV aggregates stay templates
	[ "$(jq -r '.layers[0].sub_layers[2].sub_layers[1].sub_layers[4].params.kv_tokens' <<<"$output")" = "{kv_tokens}" ]
}

@test "the model class is bound too: its inclusive formula equals the tree" {
	local doc args
	doc=$(lmp-inspect meta-llama/Llama-3.2-1B | lmp-populate)
	args=$(jq -r '.params | to_entries | map("\(.key)=\(.value)") | join(" ")' <<<"$doc")
	# the tied head counts once in both
	# shellcheck disable=SC2086
	[ "$(lmp-eval --module $LL.LlamaForCausalLM $args tie_word_embeddings=1 --seq-len 333 --batch-size 3 | jq -c '{param_count, flops, bytes, state_bytes}')" = \
	  "$(lmp-eval --totals --seq-len 333 --batch-size 3 <<<"$doc" | jq -c ".totals | {param_count, flops, bytes, state_bytes}")" ]
}

@test "a parameter nothing binds names the layer, the entry and the parameter" {
	jq '.entries["torch.nn.modules.linear.Linear"].parameters += [{"name": "groups", "type": "int", "description": "test"}]' \
		"$ROOT/module_db.json" > "$BATS_TEST_TMPDIR/db.json"
	run --separate-stderr sh -c "lmp-inspect meta-llama/Llama-3.2-1B | lmp-populate --db '$BATS_TEST_TMPDIR/db.json'"
	assert_clean_failure lmp-populate "model.layers.*.self_attn.q_proj: nothing binds parameter 'groups' of torch.nn.modules.linear.Linear"
	run --separate-stderr sh -c "lmp-inspect meta-llama/Llama-3.2-1B | jq '.layers[1].class = \"x.y.Unknown\"' | lmp-populate"
	assert_clean_failure lmp-populate "lm_head: class x.y.Unknown is not in the module database (run lmp-ensure)"
	run --separate-stderr lmp-populate <<<'{"lmp": "eval"}'
	assert_clean_failure lmp-populate "not an architecture document"
	run --separate-stderr lmp-populate --batch-size 0 <<<'{}'
	assert_clean_failure lmp-populate "batch-size"
}

@test "the whole chain with lmp-ensure in it" {
	run sh -c "lmp-inspect meta-llama/Llama-3.1-8B | lmp-ensure --agent false | lmp-populate | lmp-eval --totals --seq-len 1 --cache-len 8191"
	assert_success
	# Llama-3.1-8B's KV cache: 32 layers x 8 KV heads x (128 + 128) x 2 bytes = 131,072 per token
	[ "$(jq .totals.state_bytes <<<"$output")" = $((8192 * 131072)) ]
}

@test "a document populated with fixed values is evaluated at them, and says so" {
	# --w-bit 4 records the weight width: lmp-eval takes it when not told,
	# and its own --w-bit comes first (lmp-eval(1): a weight width)
	run sh -c "lmp-inspect meta-llama/Llama-3.2-1B | lmp-populate --w-bit 4 > '$BATS_TEST_TMPDIR/w4.json'"
	[ "$(jq -c .fixed "$BATS_TEST_TMPDIR/w4.json")" = '{"w_bit":4}' ]
	run lmp-eval --totals --seq-len 1 "$BATS_TEST_TMPDIR/w4.json"
	assert_success
	[ "$(jq .runtime.w_bit <<<"$output")" = 4 ]
	run lmp-eval --totals --w-bit 16 "$BATS_TEST_TMPDIR/w4.json"
	assert_success
	[ "$(jq .runtime.w_bit <<<"$output")" = 16 ]
	# a step's shape is bound into the formulas: another is refused
	run sh -c "lmp-inspect meta-llama/Llama-3.2-1B | lmp-populate --batch-size 4 > '$BATS_TEST_TMPDIR/b4.json'"
	run --separate-stderr lmp-eval --totals --batch-size 8 "$BATS_TEST_TMPDIR/b4.json"
	assert_clean_failure lmp-eval "the document was populated with batch_size 4; --batch-size disagrees"
	# a fixed step keeps a mixture's expected counts fractional: 3 tokens x 2 / 8 experts
	run sh -c "lmp-populate --batch-size 1 --seq-len 3 < '$ROOT/models/mistralai--Mixtral-8x7B-v0.1.arch.json' | lmp-eval --totals"
	assert_success
	[ "$(jq .totals.flops <<<"$output")" = "$(lmp-eval --totals --seq-len 3 < "$ROOT/models/mistralai--Mixtral-8x7B-v0.1.populated.json" | jq .totals.flops)" ]
}

@test "a stream of architectures in, a stream of populated documents out" {
	run sh -c "cat '$ROOT/models/meta-llama--Llama-3.2-1B.arch.json' '$ROOT/models/openai-community--gpt2.arch.json' | lmp-populate | lmp-eval --totals --seq-len 1"
	assert_success
	[ "$(jq -c .totals.param_count <<<"$output" | paste -sd,)" = 1235814400,124439808 ]
	# a generation setting in a config never binds a layer's parameter
	jq '.top_k = 50' "$ROOT/share/lmp/configs/mistralai/Mixtral-8x7B-v0.1/config.json" > "$BATS_TEST_TMPDIR/config.json"
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate --explain"
	assert_line $'model.layers.*.block_sparse_moe.route\ttop_k\t2\tattrs\tattrs.top_k'
}

@test "a weight width: lmp-eval's option, else the value fixed at populate, else 16" {
	# Llama-2-7B's weights are 13,214,695,680 bytes at 16 bits, 256 of them
	# the float32 inv_freq buffer, whose width does not change
	local w16=13214695680
	lmp-populate --w-bit 4 < "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json" > "$BATS_TEST_TMPDIR/w4.json"
	lmp-populate < "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json" > "$BATS_TEST_TMPDIR/plain.json"
	run lmp-eval --totals --seq-len 1 "$BATS_TEST_TMPDIR/w4.json"
	[ "$(jq -r .totals.bytes.weights <<<"$output")" = $(( (w16 - 256) / 4 + 256 )) ]
	run lmp-eval --totals --seq-len 1 --w-bit 8 "$BATS_TEST_TMPDIR/w4.json"
	[ "$(jq -r .totals.bytes.weights <<<"$output")" = $(( (w16 - 256) / 2 + 256 )) ]
	# a sweep over widths too
	run lmp-eval --totals --seq-len 1 --w-bit 8,16 "$BATS_TEST_TMPDIR/w4.json"
	[ "$(jq -r .totals.bytes.weights <<<"$output" | paste -sd,)" = "$(( (w16 - 256) / 2 + 256 )),$w16" ]
	run lmp-eval --totals --seq-len 1 "$BATS_TEST_TMPDIR/plain.json"
	[ "$(jq -r .totals.bytes.weights <<<"$output")" = $w16 ]
	# a fixed activation width carries the KV cache with it unless told
	lmp-populate --a-bit 8 < "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json" > "$BATS_TEST_TMPDIR/a8.json"
	run lmp-eval --totals --seq-len 1 "$BATS_TEST_TMPDIR/a8.json"
	[ "$(jq -c '.runtime | [.a_bit, .kv_bit]' <<<"$output")" = '[8,8]' ]
	run lmp-eval --totals --seq-len 1 --a-bit 16 "$BATS_TEST_TMPDIR/a8.json"
	[ "$(jq -c '.runtime | [.a_bit, .kv_bit]' <<<"$output")" = '[16,16]' ]
	run lmp-eval --totals --seq-len 1 --kv-bit 4 "$BATS_TEST_TMPDIR/a8.json"
	[ "$(jq -c '.runtime | [.a_bit, .kv_bit]' <<<"$output")" = '[8,4]' ]
}

@test "a fixed value lmp-eval cannot read is refused" {
	jq -c '.fixed = {"w_bit": 0}' "$ROOT/models/meta-llama--Llama-2-7b-hf.populated.json" > "$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr lmp-eval --totals "$BATS_TEST_TMPDIR/bad.json"
	assert_clean_failure lmp-eval '"fixed.w_bit" is not in [1, 64]'
	jq -c '.fixed = {"batch_size": 1.5}' "$ROOT/models/meta-llama--Llama-2-7b-hf.populated.json" > "$BATS_TEST_TMPDIR/bad.json"
	run --separate-stderr lmp-eval --totals "$BATS_TEST_TMPDIR/bad.json"
	assert_clean_failure lmp-eval '"fixed.batch_size" is not an integer'
	# a bound step and a request exclude each other
	lmp-populate --seq-len 8 < "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json" > "$BATS_TEST_TMPDIR/s8.json"
	run --separate-stderr lmp-eval --totals --prompt-len 8 --gen-len 2 "$BATS_TEST_TMPDIR/s8.json"
	assert_clean_failure lmp-eval "the document was populated with a fixed seq_len: a request or --queries needs a document populated without it"
}

@test "only variables whose inputs are all given are bound" {
	# --batch-size 3 --cache-len 5: batch_size 3, cached_tokens 3 x 5 = 15;
	# tokens, kv_tokens and qk_pairs need seq_len too
	run sh -c "lmp-populate --batch-size 3 --cache-len 5 --explain < '$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json'"
	assert_success
	# the head sees one position per sequence: {batch_size} = 3
	assert_line $'lm_head\ttokens\t3\tattrs\tattrs.tokens'
	assert_line $'model.layers.*.self_attn.q_proj\ttokens\t"{tokens}"\truntime\t{tokens}'
	assert_line $'model.layers.*.self_attn.sdpa\tkv_tokens\t"{kv_tokens}"\truntime\t{kv_tokens}'
	run sh -c "lmp-populate --batch-size 3 --seq-len 7 --cache-len 5 --explain < '$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json'"
	# tokens 3 x 7 = 21, kv_tokens 3 x (5 + 7) = 36, qk_pairs 3 x 7 x 12 = 252
	assert_line $'model.layers.*.self_attn.q_proj\ttokens\t21\truntime\t{tokens}'
	assert_line $'model.layers.*.self_attn.sdpa\tkv_tokens\t36\truntime\t{kv_tokens}'
	run --separate-stderr lmp-populate --w-bit 65 < "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json"
	assert_clean_failure lmp-populate "--w-bit: '65' is not an integer in [1, 64]"
}

@test "a config field that takes a parameter the layer's attrs give another value is warned about" {
	# Llama-3.2-1B's attention core has attrs.num_kv_heads 8; a config field
	# of that name binds first (rule 1), so 3 replaces it: one line for each
	# class and field, the first layer that has it named
	run --separate-stderr sh -c "lmp-inspect meta-llama/Llama-3.2-1B | jq -c '.config.num_kv_heads = 3' | lmp-populate"
	assert_success
	[ "$(jq '.layers[0].sub_layers[2].sub_layers[1].sub_layers[4].params.num_kv_heads' <<<"$output")" = 3 ]
	[[ "$stderr" == *"lmp-populate: warning: config field num_kv_heads (3) shadows attrs.num_kv_heads (8) of torch.nn.functional.scaled_dot_product_attention at model.layers.*.self_attn.sdpa"* ]]
	[ "$(printf '%s\n' "$stderr" | grep -c 'scaled_dot_product_attention')" = 1 ]
	# the same value shadows nothing
	run --separate-stderr sh -c "lmp-inspect meta-llama/Llama-3.2-1B | jq -c '.config.num_kv_heads = 8' | lmp-populate"
	assert_success
	[ -z "$stderr" ]
}

@test "the database read ahead of the input is read again where it changed meanwhile (lmp-populate, lmp-eval)" {
	# lmp-populate and lmp-eval read the database while the tools before
	# them in a pipe work, and keep it only where its file is as it was
	# once the input has ended (lmp-ensure writes the database before its
	# output).  Here the file lacks Linear when they start and is replaced
	# by one that has it before their input arrives: both must read the
	# new one (the old one would fail: Linear is not in the module database).
	local d="$BATS_TEST_TMPDIR"
	jq 'del(.entries["torch.nn.modules.linear.Linear"])' "$ROOT/module_db.json" > "$d/db.json"
	lmp-inspect meta-llama/Llama-3.2-1B > "$d/arch.json"
	lmp-populate < "$d/arch.json" > "$d/pop.json"
	{ sleep 1; cat "$d/arch.json"; } | lmp-populate --db "$d/db.json" > "$d/out1" 2> "$d/err1" &
	local p1=$!
	{ sleep 1; cat "$d/pop.json"; } | lmp-eval --db "$d/db.json" --totals > "$d/out2" 2> "$d/err2" &
	local p2=$!
	sleep 0.4
	cp "$ROOT/module_db.json" "$d/db.json.new"
	mv "$d/db.json.new" "$d/db.json"
	wait $p1 || fail "lmp-populate: $(cat "$d/err1")"
	wait $p2 || fail "lmp-eval: $(cat "$d/err2")"
	[ "$(jq -r .lmp "$d/out1")" = populated ]
	# Llama-3.2-1B's parameters: embeddings 128,256 x 2,048 = 262,668,288
	# (tied to the head); a layer's attention 2 x 2,048 x 2,048 + 2 x 2,048 x 512
	# = 10,485,760, MLP 3 x 2,048 x 8,192 = 50,331,648, two norms 4,096:
	# 60,821,504 x 16 layers = 973,144,064; the final norm 2,048; together
	# 1,235,814,400
	[ "$(jq .totals.param_count "$d/out2")" = 1235814400 ]
	# and changed in place (the same file, new contents): read again too
	jq 'del(.entries["torch.nn.modules.linear.Linear"])' "$ROOT/module_db.json" > "$d/db.json"
	{ sleep 1; cat "$d/arch.json"; } | lmp-populate --db "$d/db.json" > "$d/out3" 2> "$d/err3" &
	p1=$!
	sleep 0.4
	cat "$ROOT/module_db.json" > "$d/db.json"
	wait $p1 || fail "lmp-populate: $(cat "$d/err3")"
	[ "$(jq -r .lmp "$d/out3")" = populated ]
	# and the other way: a database that loses the class meanwhile fails
	cp "$ROOT/module_db.json" "$d/db.json"
	{ sleep 1; cat "$d/arch.json"; } | lmp-populate --db "$d/db.json" > "$d/out4" 2> "$d/err4" &
	p1=$!
	sleep 0.4
	jq 'del(.entries["torch.nn.modules.linear.Linear"])' "$ROOT/module_db.json" > "$d/db.json.new"
	mv "$d/db.json.new" "$d/db.json"
	! wait $p1
	grep -q "class torch.nn.modules.linear.Linear is not in the module database" "$d/err4"
}
