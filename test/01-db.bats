#!/usr/bin/env bats
# The shipped module database: every entry evaluates, documents where it came
# from, and its FLOP breakdown adds up to its formula.

load helper

DB="$ROOT/module_db.json"

# NAME=VALUE for every parameter of an entry: int 7, number 2, bool 1.
sample_args() {
	jq -r --arg c "$1" '.entries[$c].parameters | map("\(.name)=\(if .type == "bool" then 1 elif .type == "int" then 7 else 2 end)") | join(" ")' "$DB"
}

@test "every entry evaluates standalone and its breakdown adds up to its FLOPs" {
	local n=0
	# inferred containers have no formulas of their own: their children do the work
	for cls in $(jq -r '.entries | to_entries[] | select(.value.validation.status != "inferred") | .key' "$DB"); do
		run lmp-eval --module "$cls" $(sample_args "$cls")
		[ "$status" -eq 0 ] || fail "$cls: $output"
		[ "$(jq '[.breakdown[]] | add' <<<"$output")" = "$(jq .flops <<<"$output")" ] ||
			fail "$cls: breakdown $(jq -c .breakdown <<<"$output") does not add up to $(jq .flops <<<"$output")"
		n=$((n + 1))
	done
	[ "$n" -ge 14 ]
}

@test "every entry cites its source and is validated, or is an inferred container" {
	run jq -r '.entries | to_entries[] | select(.value.validation.status != "inferred") | select(
		(.value.code_location | (.repo and .ref and .file and .line_start > 0 and .line_end >= .line_start)) != true
		or .value.validation.status != "validated"
		or (.value.flop_analysis.thinking_process | length) < 40
		or .value.full_class_name != .key) | .key' "$DB"
	assert_success
	assert_output ""
	# an inferred container has no formulas: its cost is its children's
	run jq -r '.entries | to_entries[] | select(.value.validation.status == "inferred") |
		select(.value.kind != "composite" or .value.flop_analysis.formula != null) | .key' "$DB"
	assert_output ""
}

@test "the Llama family's classes are all there, by full name and alias" {
	for cls in torch.nn.modules.linear.Linear torch.nn.Linear torch.nn.Embedding torch.nn.SiLU \
		$LL.LlamaRMSNorm $LL.LlamaRotaryEmbedding $LL.apply_rotary_pos_emb \
		torch.nn.functional.scaled_dot_product_attention torch.add torch.mul \
		$LL.LlamaAttention $LL.LlamaMLP $LL.LlamaDecoderLayer $LL.LlamaModel $LL.LlamaForCausalLM; do
		run lmp-eval --params "$cls"
		[ "$status" -eq 0 ] || fail "$cls: $output"
	done
}

@test "a Linear with and without bias" {
	# 10 tokens through 4 -> 3: matmul 2*10*4*3 = 240, bias add 10*3 = 30;
	# parameters 4*3 + 3 = 15; fp16 weights 30 bytes, reads 30 + 10*4*2 = 110
	run lmp-eval --module torch.nn.Linear tokens=10 in_features=4 out_features=3 w_dtype_bytes=2 a_dtype_bytes=2
	assert_success
	[ "$(jq -c '[.flops, .param_count, .bytes.weights, .bytes.reads, .bytes.writes]' <<<"$output")" = "[270,15,30,110,60]" ]
	run lmp-eval --module torch.nn.Linear tokens=10 in_features=4 out_features=3 bias=0 w_dtype_bytes=2 a_dtype_bytes=2
	[ "$(jq -c '[.flops, .param_count, .bytes.weights, .bytes.reads, .bytes.writes]' <<<"$output")" = "[240,12,24,104,60]" ]
}

@test "GQA attention reads the KV cache at num_kv_heads, scores at num_heads" {
	# Llama-3-8B shape: 32 query heads, 8 KV heads of 128.  Decode: 1 token
	# over 8191 cached, kv_tokens 8192, pairs 8192.
	# flops: 2*32*8192*(128+128) + 6*32*8192 = 134,217,728 + 1,572,864
	# reads: q 1*32*128*2 = 8,192 + K,V 8192*8*256*2 = 33,554,432
	# writes: out 32*128*2 = 8,192 + new K,V 8*256*2 = 4,096
	# state: 8192 * 8*256*2 = 33,554,432
	run lmp-eval --module torch.nn.functional.scaled_dot_product_attention num_heads=32 num_kv_heads=8 \
		head_dim=128 v_head_dim=128 'cache_tokens={kv_tokens}' --seq-len 1 --cache-len 8191
	assert_success
	[ "$(jq -c '[.flops, .bytes.reads, .bytes.writes, .state_bytes]' <<<"$output")" = \
		"[$((134217728 + 1572864)),$((8192 + 33554432)),$((8192 + 4096)),33554432]" ]
}

@test "a database with an ambiguous alias is refused" {
	jq '.entries["torch.add"].aliases += ["torch.nn.Linear"]' "$DB" > "$BATS_TEST_TMPDIR/db.json"
	run --separate-stderr lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --params torch.add
	assert_clean_failure lmp-eval "alias torch.nn.Linear names both"
}

@test "the database opened for reading: structure checked at once, an entry strictly when used" {
	local d="$BATS_TEST_TMPDIR"
	# an entry no Llama layer uses, with a number JSON does not allow (01)
	jq -c '.entries["torch.nn.modules.activation.ReLU"].param_count = 7' "$DB" | sed 's/"param_count":7/"param_count":07/' > "$d/odd.json"
	run lmp-eval --db "$d/odd.json" --totals --seq-len 1 "$LLAMA2"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 6738415616 ]
	# used, it is refused with the entry and the place named
	run_split lmp-eval --db "$d/odd.json" --params torch.nn.modules.activation.ReLU
	assert_clean_failure lmp-eval "entry torch.nn.modules.activation.ReLU: $d/odd.json:"
	[[ "$stderr" == *"invalid number: 07"* ]]
	# lmp-ensure --list reads all of it, so it refuses the file
	run_split lmp-ensure --db "$d/odd.json" --list
	assert_clean_failure lmp-ensure "invalid number: 07"
	# a broken structure anywhere is refused before anything is read
	jq -c . "$DB" | sed 's/"torch.add":{/"torch.add":{]/' > "$d/broken.json"
	run_split lmp-eval --db "$d/broken.json" --totals --seq-len 1 "$LLAMA2"
	assert_clean_failure lmp-eval "$d/broken.json: malformed JSON"
	head -c 5000 "$DB" > "$d/cut.json"
	run_split lmp-populate --db "$d/cut.json" "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json"
	assert_clean_failure lmp-populate "$d/cut.json: malformed JSON"
	# an entry named twice
	jq -c . "$DB" | sed 's/"entries":{/"entries":{"torch.add":{"parameters":[]},/' > "$d/twice.json"
	run_split lmp-eval --db "$d/twice.json" --params torch.mul
	assert_clean_failure lmp-eval 'duplicate entry "torch.add"'
	printf '{"lmp": "module_db", "entries": {}} x' > "$d/garbage.json"
	run_split lmp-eval --db "$d/garbage.json" --params torch.add
	assert_clean_failure lmp-eval "trailing garbage"
	printf '{"lmp": "hardware", "entries": {}}' > "$d/other.json"
	run_split lmp-eval --db "$d/other.json" --params torch.add
	assert_clean_failure lmp-eval "not a module database"
}

@test "a key twice, or an alias that is its own entry's name, is refused when the database is opened" {
	local d="$BATS_TEST_TMPDIR"
	jq -c . "$DB" | sed 's/"aliases":\["torch.nn.Linear"\]/"aliases":["a1","a2","a3","a4","a5","a6"],"aliases":["b1"]/' > "$d/dup.json"
	grep -q '"b1"' "$d/dup.json"
	run_split lmp-populate --db "$d/dup.json" "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json"
	assert_clean_failure lmp-populate 'entry torch.nn.modules.linear.Linear: duplicate key "aliases"'
	jq '.entries["torch.add"].aliases += ["torch.add"]' "$DB" > "$d/self.json"
	run_split lmp-eval --db "$d/self.json" --params torch.mul
	assert_clean_failure lmp-eval "alias torch.add of torch.add is an entry itself"
	jq -c . "$DB" | sed 's/^{/{"entries":{},/' > "$d/two.json"
	run_split lmp-eval --db "$d/two.json" --params torch.mul
	assert_clean_failure lmp-eval 'duplicate key "entries"'
}

@test "every entry that owns parameters declares its tensors, which hold param_count parameters" {
	# (the evaluation of every entry above refuses a declaration that disagrees)
	run jq -r '.entries | to_entries[] | select(.value.kind != "composite" and .value.validation.status != "inferred"
		and .value.param_count != "0" and .value.tensors == null) | .key' "$DB"
	assert_success
	assert_output ""
	# a Linear [out, in] with its bias only when bias is 1; GPT-2's Conv1D
	# stores [in, out]; Cohere's norm [heads, size] for a per-head norm only
	run lmp-eval --module torch.nn.Linear in_features=4 out_features=3 --seq-len 1
	[ "$(jq -c .tensors <<<"$output")" = '[{"name":"weight","shape":[3,4]},{"name":"bias","shape":[3]}]' ]
	run lmp-eval --module torch.nn.Linear in_features=4 out_features=3 bias=0 --seq-len 1
	[ "$(jq -c .tensors <<<"$output")" = '[{"name":"weight","shape":[3,4]}]' ]
	run lmp-eval --module transformers.pytorch_utils.Conv1D in_features=4 out_features=3 bias=1 --seq-len 1
	[ "$(jq -c .tensors <<<"$output")" = '[{"name":"weight","shape":[4,3]},{"name":"bias","shape":[3]}]' ]
	C=transformers.models.cohere.modeling_cohere.CohereLayerNorm
	run lmp-eval --module $C norm_size=4 norm_heads=1 --seq-len 1
	[ "$(jq -c .tensors <<<"$output")" = '[{"name":"weight","shape":[4]}]' ]
	run lmp-eval --module $C norm_size=4 norm_heads=3 --seq-len 1
	[ "$(jq -c .tensors <<<"$output")" = '[{"name":"weight","shape":[3,4]}]' ]
	# DeepSeek-V3's router: the weight, and a stored buffer outside param_count
	run lmp-eval --module transformers.models.deepseek_v3.modeling_deepseek_v3.DeepseekV3TopkRouter \
		in_features=4 num_experts=3 top_k=2 n_group=1 topk_group=1 w_dtype_bytes=2 a_dtype_bytes=2 --seq-len 1
	[ "$(jq -c '[.tensors, .param_count]' <<<"$output")" = \
		'[[{"name":"weight","shape":[3,4]},{"name":"e_score_correction_bias","shape":[3],"buffer":true}],12]' ]
}

@test "a declaration that disagrees with param_count is refused where the entry is evaluated" {
	jq '.entries["torch.nn.modules.linear.Linear"].tensors[0].shape = ["${out_features}", "${out_features}"]' "$DB" \
		> "$BATS_TEST_TMPDIR/db.json"
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module torch.nn.Linear in_features=4 out_features=3 --seq-len 1
	# weight [3, 3] and bias [3]: 12 elements; (4 + 1) x 3 = 15 parameters
	assert_clean_failure lmp-eval "entry torch.nn.modules.linear.Linear: its tensors hold 12 parameters, its param_count is 15"
}
