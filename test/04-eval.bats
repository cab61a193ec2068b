#!/usr/bin/env bats
# lmp-eval through its command line.  Every expected number is derived by
# hand next to it from the model's shapes; none is copied from lmp's output.

load helper

# Llama-2-7B: hidden H = 4096, intermediate I = 11008, 32 layers, 32 heads
# of d = 128 (no GQA), vocabulary V = 32000, untied head, no biases.

@test "Llama-2-7B has 6,738,415,616 parameters" {
	# embed_tokens V*H                          131,072,000
	# per layer: q,k,v,o 4*H*H = 67,108,864; gate,up,down 3*H*I = 135,266,304;
	#   two norms 2*H = 8,192: 202,383,360, times 32 = 6,476,267,520
	# final norm H                                    4,096
	# lm_head V*H                                131,072,000
	run lmp-eval --totals < "$LLAMA2"
	assert_success
	[ "$(jq -r .totals.param_count <<<"$output")" = $((131072000 + 32 * (4*4096*4096 + 3*4096*11008 + 2*4096) + 4096 + 131072000)) ]
	[ "$(jq -r .totals.param_count <<<"$output")" = 6738415616 ]
}

@test "Llama-2-7B keeps 524,288 bytes of KV cache per token in fp16" {
	# per layer and token: K and V, 32 heads x 128, 2 bytes: 2*32*128*2 = 16,384;
	# 32 layers: 524,288
	run lmp-eval --totals --seq-len 1 < "$LLAMA2"
	assert_success
	[ "$(jq -r .totals.state_bytes <<<"$output")" = 524288 ]
	# after a 2048-token prefill of 4 sequences: 4 * 2048 * 524,288
	run lmp-eval --totals --batch-size 4 --seq-len 2048 < "$LLAMA2"
	[ "$(jq -r .totals.state_bytes <<<"$output")" = $((4 * 2048 * 524288)) ]
	# an 8-bit cache halves it; the activations stay 16-bit
	run lmp-eval --totals --seq-len 1 --kv-bit 8 < "$LLAMA2"
	[ "$(jq -r .totals.state_bytes <<<"$output")" = 262144 ]
}

@test "one Llama-2 decoder block, 1 x 2048 tokens: FLOPs derived by hand" {
	# N = 2048 tokens, pairs P = N*N = 4,194,304 (dense scores, as FlopCounterMode)
	# q,k,v,o projections  4 * 2*N*H*H                  274,877,906,944
	# rotary on q and k    N * 64 heads * (3*128 + 64)       58,720,256
	# attention            2*32*P*(128+128)  QK^T and PV  68,719,476,736
	#                      6*32*P            scale+softmax   805,306,368
	# gate, up, down       3 * 2*N*H*I                  554,050,781,184
	# SiLU                 4*N*I                             90,177,536
	# gate multiply        N*I                               22,544,384
	# two RMSNorms         2 * (4*N*H + 3*N)                 67,121,152
	# two residual adds    2 * N*H                           16,777,216
	# total                                             898,708,811,776
	#
	# The seed's worked example (679,115,227,136) counts differently: no
	# gate_proj (Llama's MLP has three projections), only QK^T and not PV,
	# LayerNorm at 5 FLOPs/element instead of RMSNorm, and no rotary, SiLU
	# at 1 FLOP, gate multiply, softmax or residual adds.  It also carries an
	# arithmetic slip: 2*2048*4096*11008 = 184,683,593,728, not 184,885,575,680.
	local want=$((274877906944 + 58720256 + 68719476736 + 805306368 + 554050781184 + 90177536 + 22544384 + 67121152 + 16777216))
	[ "$want" = 898708811776 ]
	run lmp-eval --module $LL.LlamaDecoderLayer hidden_size=4096 intermediate_size=11008 \
		num_heads=32 num_kv_heads=32 head_dim=128 --batch-size 1 --seq-len 2048
	assert_success
	[ "$(jq -r .flops <<<"$output")" = "$want" ]
	# The same block inside the model's tree: the rows under model.layers.*
	run lmp-eval --seq-len 2048 < "$LLAMA2"
	[ "$(jq '[.rows[] | select(.path | startswith("model.layers.*.")) | .flops] | add' <<<"$output")" = "$want" ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.input_layernorm") | .count' <<<"$output")" = 32 ]
}

@test "the attention row matches FlopCounterMode's sdpa count plus softmax" {
	# FlopCounterMode: 2*b*h*sq*sk*d (QK^T) + 2*b*h*sq*sk*dv (PV)
	#   = 2*1*32*2048*2048*128 * 2 = 68,719,476,736; softmax adds 6*32*2048*2048
	run lmp-eval --module torch.nn.functional.scaled_dot_product_attention num_heads=32 \
		num_kv_heads=32 head_dim=128 v_head_dim=128 'cache_tokens={kv_tokens}' --seq-len 2048
	assert_success
	[ "$(jq -r .breakdown.qk_matmul+.breakdown.av_matmul <<<"$output")" = 68719476736 ]
	[ "$(jq -r .flops <<<"$output")" = $((68719476736 + 6 * 32 * 2048 * 2048)) ]
}

@test "a decode step reads every weight once, and the KV cache" {
	# Batch 1, one new token over 1023 cached: kv_tokens = 1024.  fp16.
	# weights: per layer 4*H*H + 3*H*I matrix elements and 2*H norm weights;
	#   plus the lm_head V*H, the final norm H, one embedding row H, all at
	#   2 bytes, and the rotary inv_freq buffer: 64 float32 = 256 bytes.
	local H=4096 I=11008 V=32000
	local weights=$(( (32 * (4*H*H + 3*H*I + 2*H) + V*H + H + H) * 2 + 256 ))
	[ "$weights" = 13214695680 ]
	# reads = weights + activations read + KV cache read, per layer:
	#   norms 2 * H*2; q,k,v,o inputs 4 * H*2; rotary q,k + cos,sin (64*128 + 2*128)*2;
	#   sdpa: q 32*128*2 and K,V of 1024 tokens 1024*32*256*2; residual adds 2 * 2*H*2;
	#   gate, up inputs 2 * H*2; SiLU I*2; multiply 2*I*2; down input I*2
	# and once: embedding ids 8, position ids 8, final norm H*2, lm_head input H*2
	local per_layer=$(( 2*H*2 + 4*H*2 + (64*128 + 2*128)*2 + 32*128*2 + 1024*32*256*2 + 2*2*H*2 + 2*H*2 + I*2 + 2*I*2 + I*2 ))
	local reads=$(( weights + 32 * per_layer + 8 + 8 + H*2 + H*2 ))
	run lmp-eval --totals --seq-len 1 --cache-len 1023 < "$LLAMA2"
	assert_success
	[ "$(jq -r .totals.bytes.weights <<<"$output")" = "$weights" ]
	[ "$(jq -r .totals.bytes.reads <<<"$output")" = "$reads" ]
	# state after the step: 1024 tokens of 524,288 bytes
	[ "$(jq -r .totals.state_bytes <<<"$output")" = $((1024 * 524288)) ]
}

@test "4-bit and 3-bit weights are exact: elements x bits / 8" {
	# At 16 bits the weights are 13,214,695,680 bytes of which 256 are the
	# float32 inv_freq buffer, whose precision does not change.
	local w16=13214695680
	run lmp-eval --totals --seq-len 1 --cache-len 1023 --w-bit 4 < "$LLAMA2"
	assert_success
	[ "$(jq -r .totals.bytes.weights <<<"$output")" = $(( (w16 - 256) / 4 + 256 )) ]
	run lmp-eval --totals --seq-len 1 --cache-len 1023 --w-bit 3 < "$LLAMA2"
	[ "$(jq -r .totals.bytes.weights <<<"$output")" = $(( (w16 - 256) * 3 / 16 + 256 )) ]
	[ "$(jq .runtime.w_bit <<<"$output")" = 3 ]
}

@test "module formulas equal the tree sum, every quantity, several points" {
	local args
	args=$(jq -r '.params | to_entries | map("\(.key)=\(.value)") | join(" ")' "$LLAMA2")
	for point in "--seq-len 2048" "--seq-len 1 --cache-len 4095 --batch-size 16" "--seq-len 512 --w-bit 4 --kv-bit 8"; do
		run lmp-eval --totals $point < "$LLAMA2"
		assert_success
		local tree=$(jq -c '.totals | {param_count, flops, bytes, state_bytes}' <<<"$output")
		# shellcheck disable=SC2086
		run lmp-eval --module $LL.LlamaForCausalLM $args $point
		assert_success
		[ "$(jq -c '{param_count, flops, bytes, state_bytes}' <<<"$output")" = "$tree" ]
	done
}

@test "a comma list is a sweep: one compact document per point, last option fastest" {
	run lmp-eval --totals --batch-size 1,2 --seq-len 128,256 < "$LLAMA2"
	assert_success
	[ "$(wc -l <<<"$output")" = 4 ]
	[ "$(jq -c '[.runtime.batch_size, .runtime.seq_len]' <<<"$output" | paste -sd' ')" = "[1,128] [1,256] [2,128] [2,256]" ]
	# each line is a whole document
	jq -e 'select(.lmp == "eval" and .totals.flops > 0)' <<<"$output" >/dev/null
}

@test "the eval document has the contract's fields, --totals drops rows" {
	run lmp-eval < "$LLAMA2"
	assert_success
	jq -e '.lmp == "eval" and (.version | type == "string") and .model.id == "meta-llama/Llama-2-7b-hf"
		and (.rows | length) == 19
		and (.rows[0] | keys) == ["bytes","class","count","flops","param_count","path","state_bytes","weight_bytes"]
		and (.totals.bytes | keys) == ["intermediates","reads","weights","writes"]' <<<"$output" >/dev/null
	run lmp-eval --totals < "$LLAMA2"
	jq -e 'has("rows") | not' <<<"$output" >/dev/null
	[ "${#lines[@]}" = 1 ]
}

@test "numbers past 2^53 are exact" {
	# A Linear over 2^40 tokens of 4096 x 4096: 2 * 2^40 * 2^12 * 2^12 = 2^65
	run lmp-eval --module torch.nn.Linear in_features=4096 out_features=4096 bias=0 --seq-len 1099511627776
	assert_success
	[[ "$output" == *'"flops":36893488147419103232,'* ]]
	# 2^53 + 1 tokens through a 1 x 1 layer: 2 * (2^53 + 1) = 18014398509481986
	run lmp-eval --module torch.nn.Linear tokens=9007199254740993 in_features=1 out_features=1 bias=0
	[[ "$output" == *'"flops":18014398509481986,'* ]]
}

@test "numbers a tool only passes through keep their text" {
	# (sed, not jq: jq 1.6 itself would round the literal)
	sed 's/"model_type": "llama",/"model_type": "llama", "test_count": 9007199254740993, "scale": 1.50,/' \
		"$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run lmp-eval --totals < "$BATS_TEST_TMPDIR/m.json"
	assert_success
	[[ "$output" == *'"test_count":9007199254740993,"scale":1.50'* ]]
}

@test "--params lists an entry's parameters, aliases resolve" {
	run lmp-eval --params torch.nn.Linear
	assert_success
	assert_line --index 0 --regexp $'^tokens\tint\t-\t'
	assert_line --index 3 --regexp $'^bias\tbool\t1\t'
	run lmp-eval --params torch__nn__modules__linear__Linear
	assert_success
	[ "${#lines[@]}" = 7 ]
}

@test "--module binds parameters named like runtime variables to them" {
	# tokens = batch 2 x seq 1024; a 4096 -> 4096 bias-free Linear
	run lmp-eval --module torch.nn.Linear in_features=4096 out_features=4096 bias=0 --batch-size 2 --seq-len 1024
	assert_success
	[ "$(jq .params.tokens <<<"$output")" = 2048 ]
	[ "$(jq .flops <<<"$output")" = $((2 * 2048 * 4096 * 4096)) ]
}

@test "--help and --version" {
	run lmp-eval --help
	assert_success
	assert_line --index 0 --partial "usage: lmp-eval"
	run lmp-eval --version
	assert_success
	assert_output --regexp '^lmp-eval [0-9]+\.[0-9]+\.[0-9]+$'
}

# ---- bad input: non-zero status, one stderr line, nothing on stdout ----

@test "--list-options prints the runtime option table" {
	run lmp-eval --list-options
	assert_success
	# 2^30 = 1073741824, 2^40 = 1099511627776
	assert_line $'batch-size\tinteger\tN\tyes\t1\t1\t1073741824\tlmp-eval\tbatch_size\tbinds\tSequences in the step, 1 to 2^30. Default 1.'
	assert_line --regexp $'^seq-len\tinteger\tN\tyes\t2048\t1\t1099511627776\tlmp-eval\tseq_len\tbinds\t'
	assert_line --regexp $'^kv-bit\tinteger\tB\tyes\ta-bit\t1\t64\tlmp-eval\tkv_bit\trecords\t'
	assert_line --regexp $'^phase\tchoice\tprefill[|]decode\tno\t-\t-\t-\tlmp-eval\tphase\t-\t'
	# every choice option is one type: a sweep where it lists, its default by name
	assert_line --regexp $'^fusion\tchoice\toff[|]on\tyes\toff\t-\t-\tlmp-eval\tfusion\t-\t'
	assert_line --regexp $'^kv-layout\tchoice\theads[|]latent\tyes\theads\t-\t-\tlmp-eval\tkv_layout\t-\t'
	# every option a runtime object carries is in the table
	for f in batch_size seq_len cache_len w_bit a_bit kv_bit; do
		[ "$(lmp-eval --totals --seq-len 1 < "$LLAMA2" | jq ".runtime | has(\"$f\")")" = true ]
		assert_line --regexp $'\t'"$f"$'\t'
	done
}

@test "malformed JSON" {
	run_split lmp-eval <<<'{"lmp": "populated", "layers": ['
	assert_clean_failure lmp-eval "malformed JSON"
}

@test "trailing garbage" {
	printf '%s xyz' "$(cat "$LLAMA2")" > "$BATS_TEST_TMPDIR/g.json"
	run_split lmp-eval --totals "$BATS_TEST_TMPDIR/g.json"
	assert_clean_failure lmp-eval "malformed JSON"
	printf '{"lmp":"populated"}x' > "$BATS_TEST_TMPDIR/g2.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/g2.json"
	assert_clean_failure lmp-eval ""
}

@test "empty input and documents that are not populated architectures" {
	run_split lmp-eval < /dev/null
	assert_clean_failure lmp-eval "no document on input"
	run_split lmp-eval <<<'{"a": 1}'
	assert_clean_failure lmp-eval "not an lmp document"
	run_split lmp-eval <<<'{"lmp": "arch", "layers": []}'
	assert_clean_failure lmp-eval "run lmp-populate"
	run_split lmp-eval <<<'[1, 2]'
	assert_clean_failure lmp-eval "not an lmp document"
}

@test "a missing parameter names node, entry and parameter" {
	jq 'del(.layers[0].sub_layers[2].sub_layers[1].sub_layers[0].params.in_features)' "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "model.layers.*.self_attn.q_proj: parameter 'in_features' of torch.nn.modules.linear.Linear is not bound"
}

@test "an unknown class, an unknown parameter, a bad value" {
	jq '.layers[1].class = "torch.nn.modules.linear.Bogus"' "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "lm_head: class torch.nn.modules.linear.Bogus is not in the module database"
	jq '.layers[1].params.colour = 3' "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "has no parameter 'colour'"
	jq '.layers[1].params.in_features = -4096' "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "in_features must not be negative"
	jq '.layers[1].params.in_features = 40.5' "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "in_features must be an integer"
	jq '.layers[1].params.tokens = "{tokens} * $(reboot)"' "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "column 12"
	run_split lmp-eval --module torch.nn.Nope x=1
	assert_clean_failure lmp-eval "class torch.nn.Nope is not in the module database"
	run_split lmp-eval --module torch.nn.Linear in_features=1
	assert_clean_failure lmp-eval "needs out_features=VALUE"
}

# A database with a cycle and a division by zero.
bad_db() {
	cat > "$BATS_TEST_TMPDIR/db.json" <<'JSON'
{"lmp": "module_db", "version": 1, "entries": {
 "x.Loop": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "{x.Loop2}(${n})"}},
 "x.Loop2": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "1 + {x.Loop}(n=${n})"}},
 "x.Bad": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "2 * * ${n}"}},
 "x.Div": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "100 / (${n} - {seq_len})"},
   "memory_analysis": {"weights": "0", "reads": "0", "writes": "0", "intermediates": "0"},
   "param_count": "0", "state": "0"}
}}
JSON
}

@test "a call cycle and a division by zero in the database" {
	bad_db
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Loop n=1
	assert_clean_failure lmp-eval "call cycle: x.Loop -> x.Loop2 -> x.Loop"
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Div n=4 --seq-len 4
	assert_clean_failure lmp-eval 'x.Div: flops "100 / (${n} - {seq_len})": column 5: division by zero'
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Bad n=4
	assert_clean_failure lmp-eval 'entry x.Bad: flops "2 * * ${n}": column 5: expected a value at '"'* \${n}'"
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/no-such-db.json" --module x.Div n=4
	assert_clean_failure lmp-eval "no-such-db.json: No such file or directory"
	echo '{"lmp": "module_db", "entries": {}} trailing' > "$BATS_TEST_TMPDIR/db2.json"
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db2.json" --params x
	assert_clean_failure lmp-eval "trailing garbage"
}

@test "negative, zero, absurd and malformed runtime values" {
	for opt in "--batch-size -1" "--batch-size 0" "--seq-len 0" "--cache-len -5" \
		"--seq-len 99999999999999999999" "--seq-len 2199023255553" "--w-bit 0" "--w-bit 65" \
		"--batch-size abc" "--batch-size 1,,2" "--batch-size 1," "--seq-len 1e3" "--kv-bit 8x"; do
		run_split lmp-eval $opt < "$LLAMA2"
		assert_clean_failure lmp-eval "${opt%% *}"
		[ "$status" -eq 2 ]
	done
	run_split lmp-eval --no-such-option < "$LLAMA2"
	assert_clean_failure lmp-eval "unknown or incomplete option '--no-such-option'"
}

@test "an overflow is an error, never a wrap" {
	# 2 * 2^40 tokens * 2^62 features overflows 127 bits
	run_split lmp-eval --module torch.nn.Linear in_features=4611686018427387904 out_features=4611686018427387904 bias=0 --seq-len 1099511627776
	assert_clean_failure lmp-eval "overflow"
}

# ---- requests: a prefill and its decode steps ----

@test "a request is its prefill plus every decode step, each exact" {
	# P = 16 prompt tokens, G = 4: the prefill (seq 16, cache 0), then decode
	# steps at cache 16, 17, 18.  Each phase must equal the sum of its steps
	# evaluated on their own.
	local one sum=0 s
	run lmp-eval --totals --batch-size 2 --prompt-len 16 --gen-len 4 < "$LLAMA2"
	assert_success
	local req=$output
	[ "$(jq .phases.decode.steps <<<"$req")" = 3 ]
	one=$(lmp-eval --totals --batch-size 2 --seq-len 16 < "$LLAMA2")
	[ "$(jq -c .phases.prefill.totals <<<"$req")" = "$(jq -c ".totals | del(.active_param_count, .state_growth)" <<<"$one")" ]
	for s in 16 17 18; do
		sum=$((sum + $(lmp-eval --totals --batch-size 2 --seq-len 1 --cache-len $s < "$LLAMA2" | jq .totals.flops)))
	done
	[ "$(jq .phases.decode.totals.flops <<<"$req")" = "$sum" ]
	[ "$(jq .totals.flops <<<"$req")" = $((sum + $(jq .totals.flops <<<"$one"))) ]
	# the KV cache at the end holds 16 + 3 = 19 tokens of 2 sequences
	[ "$(jq .totals.state_bytes <<<"$req")" = $((2 * 19 * 524288)) ]
	[ "$(jq .totals.param_count <<<"$req")" = 6738415616 ]
}

@test "a request with rows sums each layer over the decode steps" {
	run lmp-eval --prompt-len 8 --gen-len 3 < "$LLAMA2"
	assert_success
	# The SDPA row, decode steps at cache 8 and 9: pairs 9 + 10 = 19;
	# 2*32*19*256 + 6*32*19 = 311,296 + 3,648
	[ "$(jq '.phases.decode.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | .flops' <<<"$output")" = $((311296 + 3648)) ]
	[ "$(jq '.phases.decode.runtime | [.cache_len_first, .cache_len_last]' -c <<<"$output")" = "[8,9]" ]
}

@test "--phase evaluates one representative step" {
	run lmp-eval --totals --prompt-len 1000 --gen-len 101 --phase decode < "$LLAMA2"
	assert_success
	# decode steps at cache 1000 .. 1099: the middle one is 1000 + 99/2 = 1049
	[ "$(jq -c '.runtime | [.seq_len, .cache_len, .phase]' <<<"$output")" = '[1,1049,"decode"]' ]
	run lmp-eval --totals --prompt-len 1000 --gen-len 101 --phase prefill < "$LLAMA2"
	[ "$(jq -c '.runtime | [.seq_len, .cache_len, .phase]' <<<"$output")" = '[1000,0,"prefill"]' ]
	run_split lmp-eval --prompt-len 1000 --gen-len 1 --phase decode < "$LLAMA2"
	assert_clean_failure lmp-eval "--phase decode needs --gen-len of at least 2"
	run_split lmp-eval --prompt-len 10 --seq-len 5 --gen-len 2 < "$LLAMA2"
	assert_clean_failure lmp-eval "no --seq-len or --cache-len"
	run_split lmp-eval --prompt-len 10 < "$LLAMA2"
	assert_clean_failure lmp-eval "--prompt-len and --gen-len go together"
	run_split lmp-eval --phase decode < "$LLAMA2"
	assert_clean_failure lmp-eval "--phase needs --prompt-len and --gen-len"
	# one choice, not a list: the choice options' one error form
	for bad in prefil prefill,decode ''; do
		run_split lmp-eval --phase "$bad" --prompt-len 8 --gen-len 4 "$LLAMA2"
		assert_clean_failure lmp-eval "--phase: '$bad' is not one of prefill|decode"
	done
}

# ---- values that depend on the runtime point ----

Q='.layers[0].sub_layers[2].sub_layers[1].sub_layers[0].params'

@test "a bound value over runtime variables is checked at every point" {
	jq "$Q.in_features = \"{seq_len} - 5000\"" "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval --totals --seq-len 2048 "$BATS_TEST_TMPDIR/m.json"
	# 2048 - 5000 = -2952
	assert_clean_failure lmp-eval "model.layers.*.self_attn.q_proj: parameter in_features is -2952 at this point (must be a non-negative integer)"
	jq "$Q.in_features = \"{tokens} / 3\"" "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval --totals --seq-len 2048 "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "parameter in_features is 682.6666666666666 at this point"
	# fine where it is whole: 3072 / 3 = 1024
	run lmp-eval --totals --seq-len 3072 "$BATS_TEST_TMPDIR/m.json"
	assert_success
	jq "$Q.in_features = \"4096 // ({seq_len} - 2048)\"" "$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval --totals --seq-len 2048 "$BATS_TEST_TMPDIR/m.json"
	assert_clean_failure lmp-eval "model.layers.*.self_attn.q_proj: column 6: division by zero"
}

@test "towers of powers and exponential call graphs fail fast instead of wrapping or hanging" {
	# ((2^16)^16)...: 2^(16^8) is far past 127 bits
	run_split lmp-eval --module torch.add 'elements=(((((((({seq_len}**16)**16)**16)**16)**16)**16)**16)**16)' --seq-len 2
	assert_clean_failure lmp-eval "integer overflow"
	# E_k = E_{k-1}(n) + E_{k-1}(n+1): 2^29 terms once inlined
	jq -n '{lmp: "module_db", version: 1, entries: ([range(0; 30)] | map({key: "e.E\(.)", value: {
		parameters: [{name: "n", type: "int"}],
		flop_analysis: {formula: (if . == 0 then "${n}" else "{e.E\(. - 1)}(${n}) + {e.E\(. - 1)}(${n} + 1)" end)},
		memory_analysis: {weights: "0", reads: "0", writes: "0", intermediates: "0"}, param_count: "0", state: "0"}}) | from_entries)}' \
		> "$BATS_TEST_TMPDIR/db.json"
	local t0=$SECONDS
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module e.E29 n=1
	assert_clean_failure lmp-eval "formulas too large to fold"
	[ $((SECONDS - t0)) -lt 5 ]
	run lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module e.E10 n=1
	# E_10(1) = sum over the 2^10 leaves of 1 + (number of +1 on the path) = 1024 + 10 * 512
	[ "$(jq .flops <<<"$output")" = $((1024 + 10 * 512)) ]
}

# ---- mixed steps ----

@test "a mixed step: GEMMs over all new tokens at once, attention per query, weights read once" {
	# One prefill of 2048 beside 31 decodes at 4096 cached tokens.  FLOPs,
	# activations and the KV cache add up over the queries exactly; the
	# weights are read once for the whole step, not once per query: only
	# the embedding's gathered rows grow, by 31 rows of 4096 x 2 bytes.
	# (4096 + 1 tokens is one past Llama-2's 4096 rotary positions: a warning)
	run_split lmp-eval --totals --queries 2048:0,1:4096x31 < "$LLAMA2"
	assert_success
	local mixed=$output pre dec
	pre=$(lmp-eval --totals --seq-len 2048 < "$LLAMA2")
	dec=$(lmp-eval --totals --seq-len 1 --cache-len 4096 < "$LLAMA2")
	[ "$(jq .totals.flops <<<"$mixed")" = $(( $(jq .totals.flops <<<"$pre") + 31 * $(jq .totals.flops <<<"$dec") )) ]
	[ "$(jq .totals.state_bytes <<<"$mixed")" = $(( $(jq .totals.state_bytes <<<"$pre") + 31 * $(jq .totals.state_bytes <<<"$dec") )) ]
	[ "$(jq .totals.bytes.weights <<<"$mixed")" = $(( $(jq .totals.bytes.weights <<<"$pre") + 31 * 4096 * 2 )) ]
	# the aggregates: 2048 + 31 tokens; keys 2048 + 31 x 4097; pairs 2048^2 + 31 x 4097
	[ "$(jq -c '.runtime | [.batch_size, .tokens, .kv_tokens, .qk_pairs]' <<<"$mixed")" = "[32,2079,$((2048 + 31 * 4097)),$((2048 * 2048 + 31 * 4097))]" ]
	[ "$(jq -c '.runtime.queries[1]' <<<"$mixed")" = '{"seq_len":1,"cache_len":4096,"count":31}' ]
	run_split lmp-eval --queries 2048:0,1 < "$LLAMA2"
	assert_clean_failure lmp-eval "--queries: '2048:0,1' is not a list of SEQ:CACHE[xCOUNT]"
	run_split lmp-eval --queries 1:0 --seq-len 4 < "$LLAMA2"
	assert_clean_failure lmp-eval "--queries is the whole step"
}

# cJSON allocates through the tools' one allocator: memory running out
# while reading a document is one line with the tool's name and exit
# status 3, not a "malformed JSON" at an arbitrary column.  Two million
# numbers take about 200 MB as cJSON nodes, far past a 60 MB address space.
@test "memory running out inside cJSON is one line, exit status 3" {
	awk 'BEGIN { printf "["; for (i = 0; i < 2000000; i++) printf "1,"; printf "1]" }' >"$BATS_TEST_TMPDIR/big.json"
	# AddressSanitizer reserves terabytes of address space for its shadow memory
	[ -z "$LMP_SANITIZED" ] || skip "ulimit -v cannot bound a sanitized build's address space"
	run_split bash -c "ulimit -v 60000; lmp-eval < '$BATS_TEST_TMPDIR/big.json'"
	assert_clean_failure lmp-eval "out of memory"
	[ "$status" -eq 3 ]
	[ "$stderr" = "lmp-eval: out of memory" ]
}

# A flat sum is a chain, not nesting: 200 terms (and up to 1000, the height
# of tree the evaluator's recursion is allowed) are fine; 1001 are refused.
@test "a flat sum of 200 terms is not 'nesting too deep'" {
	local f200 f1001
	f200=$(printf '${n} + %.0s' $(seq 199))'${n}'
	f1001=$(printf '1 + %.0s' $(seq 1000))1
	cat > "$BATS_TEST_TMPDIR/db.json" <<JSON
{"lmp": "module_db", "entries": {
 "x.Sum": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "$f200"},
   "memory_analysis": {"weights": "0", "reads": "0", "writes": "0", "intermediates": "0"},
   "param_count": "0", "state": "0"},
 "x.Long": {"parameters": [],
   "flop_analysis": {"formula": "$f1001"},
   "memory_analysis": {"weights": "0", "reads": "0", "writes": "0", "intermediates": "0"},
   "param_count": "0", "state": "0"}
}}
JSON
	# 200 terms of n = 3: 600
	run lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Sum n=3
	assert_success
	[ "$(jq .flops <<<"$output")" = 600 ]
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Long
	assert_clean_failure lmp-eval "expression too long (more than 1000 operators on one path)"
}

# A literal of 2^127 or more in a formula, or a config value that large
# bound to a parameter, is refused: as a double it would count inexactly.
@test "a formula literal or a bound config value of 2^127 or more is refused" {
	cat > "$BATS_TEST_TMPDIR/db.json" <<'JSON'
{"lmp": "module_db", "entries": {
 "x.Big": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "${n} * 1e40"},
   "memory_analysis": {"weights": "0", "reads": "0", "writes": "0", "intermediates": "0"},
   "param_count": "0", "state": "0"},
 "x.Max": {"parameters": [{"name": "n", "type": "int"}],
   "flop_analysis": {"formula": "${n} * 170141183460469231731687303715884105727"},
   "memory_analysis": {"weights": "0", "reads": "0", "writes": "0", "intermediates": "0"},
   "param_count": "0", "state": "0"}
}}
JSON
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Big n=1
	assert_clean_failure lmp-eval 'flops "${n} * 1e40": column 8: number past the exact range (2^127 or more)'
	# 2^127 - 1 is the largest count: exact once, an overflow doubled
	run lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Max n=1
	assert_success
	[[ "$output" == *'"flops":170141183460469231731687303715884105727,'* ]]
	run_split lmp-eval --db "$BATS_TEST_TMPDIR/db.json" --module x.Max n=2
	assert_clean_failure lmp-eval "integer overflow (beyond 127 bits)"
	# a parameter given on the command line (was flops 4.096e+43)
	run_split lmp-eval --module torch.nn.Linear in_features=1e40 out_features=1 bias=0
	assert_clean_failure lmp-eval "parameter in_features \"1e40\": column 1: number past the exact range"
	# lmp-populate binds config.hidden_size to the parameters named so
	sed 's/"hidden_size": 4096/"hidden_size": 1e40/' "$ROOT/models/meta-llama--Llama-2-7b-hf.arch.json" > "$BATS_TEST_TMPDIR/a.json"
	run_split lmp-populate "$BATS_TEST_TMPDIR/a.json"
	assert_clean_failure lmp-populate "parameter hidden_size: config field hidden_size: 1e40 is past the exact range of counts"
}

# A document is at most 4,194,304 values and 64 MiB (lmp(7) LIMITS): parsed,
# a value costs about 110 bytes, so 10 million numbers (20 MB of text)
# took 1.1 GB.  4.2 million are refused before parsing, here within 100 MB
# of address space; the streaming reader refuses too, at the document's line.
@test "a document past the size limits is refused before it is parsed" {
	awk 'BEGIN { printf "["; for (i = 0; i < 4200000; i++) printf "1,"; printf "1]\n" }' >"$BATS_TEST_TMPDIR/big.json"
	# under a sanitizer (which reserves terabytes for its shadow) without the limit
	lim="ulimit -v 100000;"
	[ -z "$LMP_SANITIZED" ] || lim=
	run_split bash -c "$lim lmp-eval < '$BATS_TEST_TMPDIR/big.json'"
	assert_clean_failure lmp-eval "<stdin>:1:1: document too large (more than 4194304 values)"
	lmp-eval --totals --seq-len 1 < "$LLAMA2" > "$BATS_TEST_TMPDIR/s.ndjson"
	cat "$BATS_TEST_TMPDIR/big.json" >> "$BATS_TEST_TMPDIR/s.ndjson"
	run_split bash -c "$lim lmp-roofline --hardware nvidia-h100-sxm '$BATS_TEST_TMPDIR/s.ndjson' | wc -l"
	[ "$output" = 1 ]
	[ "$stderr" = "lmp-roofline: $BATS_TEST_TMPDIR/s.ndjson:2:1: document too large (more than 4194304 values)" ]
}

# ---- layer paths ----

@test "a one-layer model keeps '.*' after its layer list, in lmp-eval, --explain and lmp-report" {
	# num_hidden_layers = 1 still makes a layer list (nn.ModuleList) whose one
	# member a checkpoint names model.layers.0.input_layernorm: the path is
	# model.layers.*.input_layernorm, as with 32 layers; a plain node
	# (model.embed_tokens, lm_head) has no '.*'.
	jq '.num_hidden_layers = 1' "$ROOT/share/lmp/configs/meta-llama/Llama-2-7b-hf/config.json" > "$BATS_TEST_TMPDIR/config.json"
	lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate > "$BATS_TEST_TMPDIR/one.json"
	run lmp-eval --seq-len 1 "$BATS_TEST_TMPDIR/one.json"
	assert_success
	[ "$(jq -r '.rows[2].path' <<<"$output")" = model.layers.*.input_layernorm ]
	[ "$(jq -r '.rows[2].count' <<<"$output")" = 1 ]
	[ "$(jq -r '.rows[0].path, .rows[-1].path' <<<"$output" | tr '\n' ' ')" = "model.embed_tokens lm_head " ]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/one.eval.json"
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate --explain 2>/dev/null"
	assert_line --partial $'model.layers.*.input_layernorm\tnorm_size\t4096'
	run sh -c "lmp-report --format csv '$BATS_TEST_TMPDIR/one.json' | cut -d, -f15 | grep input_layernorm"
	assert_output model.layers.*.input_layernorm
	run sh -c "lmp-report --format text '$BATS_TEST_TMPDIR/one.eval.json' | grep -o 'model.layers[^ ]*input_layernorm'"
	assert_output model.layers.*.input_layernorm
}

# ---- stored weight bytes ----

@test "weight_bytes: every parameter at --w-bit, exactly, per row and in total (a tied weight once)" {
	# Llama-2-7B: 6,738,415,616 parameters; at 3 bits 6,738,415,616 x 3 / 8 =
	# 2,526,905,856 bytes.  q_proj: 4096 x 4096 = 16,777,216 parameters, at 3
	# bits 6,291,456 bytes per instance.
	run lmp-eval --seq-len 1 --w-bit 3 < "$LLAMA2"
	assert_success
	[ "$(jq .totals.weight_bytes <<<"$output")" = $((6738415616 * 3 / 8)) ]
	[ "$(jq .totals.weight_bytes <<<"$output")" = 2526905856 ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .weight_bytes' <<<"$output")" = 6291456 ]
	# the totals are the rows' sum, count x per instance
	[ "$(jq '[.rows[] | .count * .weight_bytes] | add' <<<"$output")" = 2526905856 ]
	# --totals alone gives the same, and a request carries it in its totals
	run lmp-eval --totals --seq-len 1 --w-bit 3 < "$LLAMA2"
	[ "$(jq .totals.weight_bytes <<<"$output")" = 2526905856 ]
	run lmp-eval --totals --prompt-len 4 --gen-len 2 --w-bit 4 < "$LLAMA2"
	[ "$(jq .totals.weight_bytes <<<"$output")" = $((6738415616 / 2)) ]
	# sub-byte widths stay exact: a 3 x 1 linear layer at 3 bits is 9/8 bytes
	run lmp-eval --module torch.nn.Linear in_features=3 out_features=1 bias=0 --w-bit 3
	[ "$(jq .weight_bytes <<<"$output")" = 1.125 ]
	# GPT-2 ties lm_head to wte (50,257 x 768 = 38,597,376 parameters): the
	# totals count it once, as param_count does.  wte 38,597,376 + wpe
	# 1024 x 768 = 786,432 + 12 blocks x 7,087,872 (c_attn 768 x 2304 + 2304,
	# c_proj 768 x 768 + 768, c_fc 768 x 3072 + 3072, c_proj 3072 x 768 + 768,
	# two LayerNorms 2 x 1536) + ln_f 1,536 = 124,439,808 parameters, x 2 bytes
	run lmp-eval --seq-len 1 < "$ROOT/models/openai-community--gpt2.populated.json"
	[ "$(jq .totals.param_count <<<"$output")" = 124439808 ]
	[ "$(jq .totals.weight_bytes <<<"$output")" = $((124439808 * 2)) ]
	[ "$(jq '.rows[] | select(.path == "lm_head") | .weight_bytes' <<<"$output")" = $((50257 * 768 * 2)) ]
}

# ---- the model's position limit ----

@test "a context past a learned position table is refused; past rotary positions it is marked, with one warning" {
	local G2="$ROOT/models/openai-community--gpt2.populated.json" OPT="$ROOT/models/facebook--opt-1.3b.populated.json"
	# GPT-2's wpe has n_positions = 1024 rows: 1023 cached + 1 new is the last
	[ "$(jq -c .model.positions "$G2")" = '{"limit":1024,"table":true}' ]
	run lmp-eval --totals --seq-len 1 --cache-len 1023 "$G2"
	assert_success
	jq -e '.runtime | has("past_position_limit") | not' <<<"$output" >/dev/null
	run_split lmp-eval --totals --seq-len 1 --cache-len 1024 "$G2"
	assert_clean_failure lmp-eval "cache_len + seq_len = 1025 is past the model's table of 1024 positions"
	run_split lmp-eval --totals --prompt-len 1000 --gen-len 26 "$G2"
	assert_clean_failure lmp-eval "prompt_len + gen_len - 1 = 1025 is past the model's table of 1024 positions"
	run lmp-eval --totals --prompt-len 1000 --gen-len 25 "$G2"
	assert_success
	# OPT's learned positions: max_position_embeddings = 2048
	run_split lmp-eval --totals --seq-len 2049 "$OPT"
	assert_clean_failure lmp-eval "cache_len + seq_len = 2049 is past the model's table of 2048 positions"
	# Llama-2's rotary positions (max_position_embeddings 4096): the points
	# past it are marked, the warning is said once
	run_split lmp-eval --totals --seq-len 1 --cache-len 4095,4096,5000 < "$LLAMA2"
	assert_success
	[ "$(jq -c '.runtime.past_position_limit' <<<"$output" | paste -sd' ')" = "null true true" ]
	[ "$stderr" = "lmp-eval: warning: a context past the model's position limit of 4096 tokens (marked runtime.past_position_limit)" ]
	# Llama-3.1's rope_scaling (llama3, factor 8 over 8192) is already in its
	# max_position_embeddings: 131072
	[ "$(jq -c .model.positions "$ROOT/models/meta-llama--Llama-3.1-8B.populated.json")" = '{"limit":131072,"table":false}' ]
	# BLOOM's ALiBi has no position limit
	[ "$(jq -c .model.positions "$ROOT/models/bigscience--bloom-560m.populated.json")" = null ]
}

@test "state_growth: full attention grows with the context, a sliding window stops at window - 1" {
	# Mistral-7B: 32 layers, 8 KV heads of 128, fp16, every layer windowed at
	# sliding_window 4096 (at most 4095 tokens kept).  Per token and layer
	# 2 x 8 x 128 x 2 = 4,096 bytes; batch 8, 32 layers: 1,048,576 per token.
	run lmp-eval --totals --batch-size 8 --seq-len 1 --cache-len 99 < "$ROOT/models/mistralai--Mistral-7B-v0.1.populated.json"
	[ "$(jq -c .totals.state_growth <<<"$output")" = '{"fixed":0,"per_token":0,"windows":[{"max_tokens":4095,"per_token":1048576}]}' ]
	[ "$(jq .totals.state_bytes <<<"$output")" = $((100 * 1048576)) ]
	# gemma-2-9b: 42 layers of 8 KV heads of 256, 21 sliding (4096) and 21
	# global: 2 x 8 x 256 x 2 x 8 x 21 = 1,376,256 bytes per token each
	run lmp-eval --totals --batch-size 8 --seq-len 1 --cache-len 2047 < "$ROOT/models/google--gemma-2-9b.populated.json"
	[ "$(jq -c .totals.state_growth <<<"$output")" = '{"fixed":0,"per_token":1376256,"windows":[{"max_tokens":4095,"per_token":1376256}]}' ]
	# Llama-2-7B at batch 1: 524,288 bytes per token, no window
	run lmp-eval --totals --seq-len 16 < "$LLAMA2"
	[ "$(jq -c .totals.state_growth <<<"$output")" = '{"fixed":0,"per_token":524288,"windows":[]}' ]
}

# ---- the checkpoint's own weight formats (quantization_config) ----

# quant_eval BLOCK [OPTIONS]: Qwen2.5-7B's shipped config carrying BLOCK as
# its quantization_config, through lmp-inspect, lmp-populate and lmp-eval.
# Qwen2.5-7B: H = 3584, I = 18944, 28 layers, q 3584 -> 3584 and k, v
# 3584 -> 512 with bias, o 3584 -> 3584, gate and up 3584 -> 18944, down
# 18944 -> 3584 without; vocabulary 152,064, lm_head untied.
quant_eval() {
	local block=$1
	shift
	jq --argjson q "$block" '.quantization_config = $q' "$ROOT/share/lmp/configs/Qwen/Qwen2.5-7B/config.json" \
		> "$BATS_TEST_TMPDIR/config.json"
	lmp-inspect "$BATS_TEST_TMPDIR/config.json" | lmp-populate | lmp-eval --seq-len 1 "$@"
}

# qwen7b_bytes LINEAR: the model's stored bytes with every decoder Linear at
# the bytes `LINEAR K N BIAS` prints, and the rest at 16 bits: embedding and
# lm_head V x H each, two norms a layer and the final norm.
qwen7b_bytes() {
	local H=3584 I=18944 V=152064 L=28 f=$1
	local layer=$(( $($f $H $H 1) + 2 * $($f $H 512 1) + $($f $H $H 0) + 2 * $($f $H $I 0) + $($f $I $H 0) ))
	echo $(( 2 * V * H * 2 + L * (layer + 2 * H * 2) + H * 2 ))
}

@test "AWQ 4-bit, group 128 (Qwen2.5-7B-Instruct-AWQ): 4 + 20/128 bits a weight, lm_head and the rest at 16" {
	# Qwen/Qwen2.5-7B-Instruct-AWQ, config.json's quantization_config.
	# Per Linear (vLLM quantization/awq.py, AWQLinearMethod.create_weights):
	# qweight K x N x 4 bits, qzeros K/128 x N x 4 bits, scales K/128 x N
	# fp16, the bias N fp16.
	awq() { echo $(( $1 * $2 / 2 + $1 / 128 * $2 / 2 + $1 / 128 * $2 * 2 + $3 * $2 * 2 )); }
	run quant_eval '{"bits": 4, "group_size": 128, "modules_to_not_convert": null, "quant_method": "awq", "version": "gemm", "zero_point": true}'
	assert_success
	[ "$(jq .totals.weight_bytes <<<"$output")" = "$(qwen7b_bytes awq)" ]
	[ "$(jq .runtime.w_bit <<<"$output")" = 4 ]
	[ "$(jq -r .runtime.w_format <<<"$output")" = quantization_config ]
	# o_proj: 3584 x 3584 x (4 + 20/128) bits = 6,672,384 bytes, 4.15625 bits a weight
	[ "$(jq -c '.rows[] | select(.path == "model.layers.*.self_attn.o_proj") | [.weight_bytes, .weight_format.bits_per_weight, .weight_format.group_size, .weight_format.source]' <<<"$output")" = \
		"[$(( 3584 * 3584 * (4 * 128 + 20) / 128 / 8 )),4.15625,128,\"quantization_config\"]" ]
	# the weights read are the bytes stored: a decode step reads each once
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.o_proj") | .bytes.weights' <<<"$output")" = $(( 3584 * 3584 * 532 / 1024 )) ]
	[ "$(jq -c '.rows[] | select(.path == "lm_head") | [.weight_bytes, .weight_format.kept]' <<<"$output")" = "[$(( 152064 * 3584 * 2 )),\"lm_head\"]" ]
	[ "$(jq -r '.rows[] | select(.path == "model.embed_tokens") | .weight_format.source' <<<"$output")" = default ]
	# the totals are the rows' sum
	[ "$(jq '[.rows[] | .count * .weight_bytes] | add' <<<"$output")" = "$(qwen7b_bytes awq)" ]
	[ "$(jq '.totals.bytes.weights' <<<"$output")" = "$(jq '[.rows[] | .count * .bytes.weights] | add' <<<"$output")" ]
	# --totals gives the same totals
	run quant_eval '{"bits": 4, "group_size": 128, "quant_method": "awq", "zero_point": true}' --totals
	[ "$(jq .totals.weight_bytes <<<"$output")" = "$(qwen7b_bytes awq)" ]
}

@test "GPTQ 4-bit, group 128 (Qwen2.5-7B-Instruct-GPTQ-Int4): qzeros, fp16 scales and an int32 g_idx per input" {
	# The block optimum's GPTQConfig writes for a 4-bit, group-128 checkpoint,
	# as Qwen/Qwen2.5-7B-Instruct-GPTQ-Int4's config.json carries it (bits,
	# group_size and desc_act are what the bytes depend on).
	# Per Linear (vLLM quantization/gptq.py, GPTQLinearMethod.create_weights):
	# qweight K x N x 4 bits, qzeros K/128 x N x 4 bits, scales K/128 x N
	# fp16, g_idx K int32 (stored with desc_act false too), bias N fp16.
	gptq() { echo $(( $1 * $2 / 2 + $1 / 128 * $2 / 2 + $1 / 128 * $2 * 2 + $1 * 4 + $3 * $2 * 2 )); }
	run quant_eval '{"bits": 4, "damp_percent": 0.01, "dataset": null, "desc_act": false, "group_size": 128, "modules_in_block_to_quantize": null, "quant_method": "gptq", "sym": true, "true_sequential": true}'
	assert_success
	[ "$(jq .totals.weight_bytes <<<"$output")" = "$(qwen7b_bytes gptq)" ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.mlp.down_proj") | .weight_bytes' <<<"$output")" = \
		$(( 18944 * 3584 / 2 + 148 * 3584 / 2 + 148 * 3584 * 2 + 18944 * 4 )) ]
}

@test "bitsandbytes nf4 with double quantization (unsloth bnb-4bit): absmax per 64 in 8 bits, nested fp32 per 256 blocks" {
	# The block transformers' BitsAndBytesConfig writes for nf4 with double
	# quantization, as unsloth's *-bnb-4bit checkpoints carry it (e.g.
	# unsloth/llama-3-8b-bnb-4bit, config.json).
	# Per Linear of n = K x N elements (bitsandbytes functional.quantize_4bit
	# and QuantState): n/2 bytes of packed nf4, absmax uint8 per 64 elements,
	# nested_absmax fp32 per 256 blocks, nested_quant_map 256 fp32 and
	# quant_map 16 fp32, bias N fp16.
	bnb() { local n=$(( $1 * $2 )) b=$(( ($1 * $2 + 63) / 64 )); echo $(( n / 2 + b + (b + 255) / 256 * 4 + 256 * 4 + 16 * 4 + $3 * $2 * 2 )); }
	run quant_eval '{"_load_in_4bit": true, "_load_in_8bit": false, "bnb_4bit_compute_dtype": "bfloat16", "bnb_4bit_quant_storage": "uint8", "bnb_4bit_quant_type": "nf4", "bnb_4bit_use_double_quant": true, "llm_int8_enable_fp32_cpu_offload": false, "llm_int8_has_fp16_weight": false, "llm_int8_skip_modules": null, "llm_int8_threshold": 6.0, "load_in_4bit": true, "load_in_8bit": false, "quant_method": "bitsandbytes"}'
	assert_success
	[ "$(jq .totals.weight_bytes <<<"$output")" = "$(qwen7b_bytes bnb)" ]
	[ "$(jq -r '.rows[] | select(.path == "model.layers.*.mlp.up_proj") | .weight_format.type' <<<"$output")" = nf4 ]
}

@test "MXFP4 (gpt-oss-20b's block): 4-bit elements and an 8-bit scale per 32, only on the modules it does not exclude" {
	# openai/gpt-oss-20b, config.json's quantization_config (also written by
	# transformers' models/gpt_oss/convert_gpt_oss_weights_to_hf.py): attention,
	# router, embedding and lm_head are not converted.  On Qwen2.5-7B's tree
	# the MLP is converted: K x N / 2 + K/32 x N bytes; attention at 16 bits.
	mx() { echo $(( $1 * $2 / 2 + $1 / 32 * $2 )); }
	bf() { echo $(( ($1 + $3) * $2 * 2 )); }
	local H=3584 I=18944
	run quant_eval '{"modules_to_not_convert": ["model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"], "quant_method": "mxfp4"}'
	assert_success
	local layer=$(( $(bf $H $H 1) + 2 * $(bf $H 512 1) + $(bf $H $H 0) + 2 * $(mx $H $I) + $(mx $I $H) ))
	[ "$(jq .totals.weight_bytes <<<"$output")" = $(( 2 * 152064 * H * 2 + 28 * (layer + 2 * H * 2) + H * 2 )) ]
	[ "$(jq -r '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .weight_format.kept' <<<"$output")" = modules_to_not_convert ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.mlp.gate_proj") | .weight_format.bits_per_weight' <<<"$output")" = 4.25 ]
}

@test "--w-bit overrides the checkpoint's format: one width, no scales, no per-row formats" {
	run quant_eval '{"bits": 4, "group_size": 128, "quant_method": "awq", "zero_point": true}' --w-bit 16
	assert_success
	# Qwen2.5-7B: 7,615,616,512 parameters (its model card: 7.61B) x 2 bytes
	[ "$(jq .totals.weight_bytes <<<"$output")" = $(( 2 * $(jq .totals.param_count <<<"$output") )) ]
	[ "$(jq .totals.param_count <<<"$output")" = 7615616512 ]
	[ "$(jq '[.rows[] | select(.weight_format)] | length' <<<"$output")" = 0 ]
	[ "$(jq .runtime.w_format <<<"$output")" = null ]
	# a format lmp does not know is refused, unless --w-bit makes it moot
	run_split quant_eval '{"quant_method": "hqq", "nbits": 4}'
	assert_clean_failure lmp-eval "quantization_config.quant_method 'hqq' is not supported"
	run quant_eval '{"quant_method": "hqq", "nbits": 4}' --w-bit 4
	assert_success
	# a width fixed at populate comes before the checkpoint's format
	run sh -c "lmp-inspect '$BATS_TEST_TMPDIR/config.json' | lmp-populate --w-bit 8 | lmp-eval --totals --seq-len 1"
	assert_success
	[ "$(jq .totals.weight_bytes <<<"$output")" = 7615616512 ]
}

@test "bitsandbytes 8-bit with a skipped module, and fp8 with one scale per tensor" {
	# bitsandbytes 8-bit (Int8Params): K x N int8 and SCB, one fp32 per
	# output row.  llm_int8_skip_modules ["down_proj"] names a module by the
	# end of its name (transformers' should_convert_module): down_proj stays
	# at 16 bits, q_proj is 3584 x 3584 + 4 x 3584 + its bias 2 x 3584.
	local H=3584 I=18944
	b8() { echo $(( $1 * $2 + 4 * $2 + $3 * $2 * 2 )); }
	run quant_eval '{"load_in_8bit": true, "load_in_4bit": false, "llm_int8_skip_modules": ["down_proj"], "quant_method": "bitsandbytes"}'
	assert_success
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .weight_bytes' <<<"$output")" = $(b8 $H $H 1) ]
	[ "$(jq -c '.rows[] | select(.path == "model.layers.*.mlp.down_proj") | [.weight_bytes, .weight_format.kept]' <<<"$output")" = "[$(( I * H * 2 )),\"modules_to_not_convert\"]" ]
	[ "$(jq -r '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .weight_format.compute' <<<"$output")" = int8 ]
	# fp8 without weight_block_size: one fp32 weight_scale, and with a static
	# activation scheme one input_scale too (vLLM quantization/fp8.py)
	run quant_eval '{"quant_method": "fp8", "activation_scheme": "static"}'
	assert_success
	[ "$(jq '.rows[] | select(.path == "model.layers.*.mlp.up_proj") | .weight_bytes' <<<"$output")" = $(( H * I + 8 )) ]
	[ "$(jq -r '.rows[] | select(.path == "model.layers.*.mlp.up_proj") | .weight_format.block' <<<"$output")" = tensor ]
	# malformed blocks are refused with the field named
	run_split quant_eval '{"quant_method": "awq", "bits": 4, "group_size": 0}'
	assert_clean_failure lmp-eval "quantization_config.group_size is 0"
	run_split quant_eval '{"quant_method": "fp8", "weight_block_size": [128]}'
	assert_clean_failure lmp-eval "quantization_config.weight_block_size is not two sizes"
	run_split quant_eval '{"quant_method": "bitsandbytes"}'
	assert_clean_failure lmp-eval "needs one of load_in_8bit and load_in_4bit"
}
