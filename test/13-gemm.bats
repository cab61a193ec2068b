#!/usr/bin/env bats
# The rows' "gemm" (lmp-eval(1), lmp-module-db(5)): the shape of a row's
# matrix products on one device, {m, n, k, calls} per instance over the
# whole phase, declared in module_db.json.  Every figure is derived here
# from the models' configs: Llama-2-7B (hidden 4096, intermediate 11008,
# 32 heads, vocabulary 32000), Mixtral-8x7B (hidden 4096, intermediate
# 14336, top-2 of 8 experts), GPT-2 (768 wide, its MLP 4 x 768 = 3072).

load helper

MIXTRAL="$ROOT/models/mistralai--Mixtral-8x7B-v0.1.populated.json"
GPT2="$ROOT/models/openai-community--gpt2.populated.json"
SCOUT="$ROOT/models/meta-llama--Llama-4-Scout-17B-16E.populated.json"

gemm() { # gemm PATH < eval document: that row's gemm as m,n,k,calls
	jq -r --arg p "$1" '.rows[] | select(.path == $p) | .gemm | "\(.m),\(.n),\(.k),\(.calls)"'
}

@test "Llama-2-7B prefill of 2 x 128: q_proj and down_proj are one 256-row product each, 2mnk their FLOPs" {
	run_split lmp-eval --batch-size 2 --seq-len 128 "$LLAMA2"
	assert_success
	local doc=$output
	# 2 sequences x 128 tokens = 256 rows; q_proj [4096 -> 32 x 128 = 4096]
	[ "$(gemm 'model.layers.*.self_attn.q_proj' <<<"$doc")" = 256,4096,4096,1 ]
	# down_proj [11008 -> 4096]
	[ "$(gemm 'model.layers.*.mlp.down_proj' <<<"$doc")" = 256,4096,11008,1 ]
	# gate_proj [4096 -> 11008]
	[ "$(gemm 'model.layers.*.mlp.gate_proj' <<<"$doc")" = 256,11008,4096,1 ]
	# the LM head runs on the last position of each sequence: 2 rows
	[ "$(gemm lm_head <<<"$doc")" = 2,32000,4096,1 ]
	# a Linear without bias: 2 m n k calls is its FLOPs exactly
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .flops' <<<"$doc")" = $((2 * 256 * 4096 * 4096)) ]
	[ "$(jq '.rows[] | select(.path == "model.layers.*.mlp.down_proj") | .flops' <<<"$doc")" = $((2 * 256 * 4096 * 11008)) ]
	# every Linear has one, and its 2mnk calls is its flops; nothing else has one
	[ "$(jq '[.rows[] | select(.class == "torch.nn.modules.linear.Linear") |
		select(.gemm and 2 * .gemm.m * .gemm.n * .gemm.k * .gemm.calls == .flops)] | length' <<<"$doc")" = 8 ]
	[ "$(jq '[.rows[] | select(.class == "torch.nn.modules.linear.Linear")] | length' <<<"$doc")" = 8 ]
	[ "$(jq '[.rows[] | select(.class != "torch.nn.modules.linear.Linear") | select(has("gemm"))] | length' <<<"$doc")" = 0 ]
}

@test "rows without matrix products carry no gemm: embeddings, norms, rotary, attention, activations, adds" {
	run_split lmp-eval --batch-size 1 --seq-len 16 "$LLAMA2"
	assert_success
	[ "$(jq -c '[.rows[] | select(has("gemm") | not) | .class] | unique' <<<"$output")" = \
		"$(printf '%s' '["torch.add","torch.mul","torch.nn.functional.scaled_dot_product_attention",' \
			'"torch.nn.modules.activation.SiLU","torch.nn.modules.sparse.Embedding",' \
			"\"$LL.LlamaRMSNorm\",\"$LL.LlamaRotaryEmbedding\",\"$LL.apply_rotary_pos_emb\"]")" ]
}

@test "a request's decode phase: m is one step's tokens (the batch), calls its steps" {
	run_split lmp-eval --batch-size 2 --prompt-len 128 --gen-len 5 "$LLAMA2"
	assert_success
	local dec pre
	pre=$(jq -c .phases.prefill <<<"$output")
	dec=$(jq -c .phases.decode <<<"$output")
	# the prefill is one step of 256 rows
	[ "$(gemm 'model.layers.*.self_attn.q_proj' <<<"$pre")" = 256,4096,4096,1 ]
	# gen-len 5: the prefill makes the first token, 4 decode steps of 1 token
	# for each of 2 sequences
	[ "$(jq .steps <<<"$dec")" = 4 ]
	[ "$(gemm 'model.layers.*.self_attn.q_proj' <<<"$dec")" = 2,4096,4096,4 ]
	[ "$(gemm 'model.layers.*.mlp.down_proj' <<<"$dec")" = 2,4096,11008,4 ]
	[ "$(gemm lm_head <<<"$dec")" = 2,32000,4096,4 ]
	# the phase's FLOPs are the 4 steps': 2 x 2 x 4096 x 4096 x 4
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .flops' <<<"$dec")" = $((2 * 2 * 4096 * 4096 * 4)) ]
	# --phase decode is one step of it (lmp-eval(1)): one call
	run_split lmp-eval --phase decode --batch-size 2 --prompt-len 128 --gen-len 5 "$LLAMA2"
	[ "$(gemm 'model.layers.*.self_attn.q_proj' <<<"$output")" = 2,4096,4096,1 ]
}

@test "TP 2: column-parallel divides n, row-parallel divides k (one device's shapes)" {
	run_split lmp-eval --tp 2 --batch-size 2 --seq-len 128 "$LLAMA2"
	assert_success
	local doc=$output
	# q_proj column-parallel: 4096 / 2 output features on each device
	[ "$(gemm 'model.layers.*.self_attn.q_proj' <<<"$doc")" = 256,2048,4096,1 ]
	# o_proj row-parallel: 4096 / 2 input features
	[ "$(gemm 'model.layers.*.self_attn.o_proj' <<<"$doc")" = 256,4096,2048,1 ]
	# gate/up column (11008 / 2 = 5504), down row
	[ "$(gemm 'model.layers.*.mlp.up_proj' <<<"$doc")" = 256,5504,4096,1 ]
	[ "$(gemm 'model.layers.*.mlp.down_proj' <<<"$doc")" = 256,4096,5504,1 ]
	# the vocabulary split: 32000 / 2
	[ "$(gemm lm_head <<<"$doc")" = 2,16000,4096,1 ]
	# and the sharded FLOPs are still 2 m n k calls
	[ "$(jq '.rows[] | select(.path == "model.layers.*.self_attn.o_proj") | .flops' <<<"$doc")" = $((2 * 256 * 4096 * 2048)) ]
}

@test "Mixtral's experts: m the mean tokens of an expert that runs, calls the experts that run" {
	local e='model.layers.*.block_sparse_moe.experts.*'
	# prefill of 2 x 128 = 256 tokens, top-2 of 8: each expert gets
	# 256 x 2 / 8 = 64 tokens on average and runs unless no token picks it,
	# a chance of (6/8)^256 (below 1e-31: it runs, calls 1 as a double)
	run_split lmp-eval --batch-size 2 --seq-len 128 "$MIXTRAL"
	assert_success
	local doc=$output
	[ "$(gemm "$e.w1" <<<"$doc")" = 64,14336,4096,1 ]
	[ "$(gemm "$e.w2" <<<"$doc")" = 64,4096,14336,1 ]
	# 8 experts an instance each: count 32 layers x 8
	[ "$(jq --arg p "$e.w1" '.rows[] | select(.path == $p) | .count' <<<"$doc")" = 256 ]
	# the router is a [256, 4096] by [4096, 8] product
	[ "$(gemm model.layers.*.block_sparse_moe.gate <<<"$doc")" = 256,8,4096,1 ]
	# decode, 2 sequences: 2 tokens a step; an expert runs with chance
	# 1 - (6/8)^2 = 7/16 and then on 2 x 2 / 8 / (7/16) = 8/7 tokens;
	# 4 steps: calls 4 x 7/16 = 7/4
	run_split lmp-eval --batch-size 2 --prompt-len 128 --gen-len 5 "$MIXTRAL"
	assert_success
	doc=$(jq -c .phases.decode <<<"$output")
	[ "$(jq --arg p "$e.w1" '.rows[] | select(.path == $p) | .gemm |
		(.m - 8 / 7 | fabs) < 1e-12 and .calls == 1.75 and .n == 14336 and .k == 4096' <<<"$doc")" = true ]
	# m x calls is the expected tokens an expert sees: 4 steps x 0.5
	[ "$(jq --arg p "$e.w1" '.rows[] | select(.path == $p) | .gemm | (.m * .calls - 2 | fabs) < 1e-12' <<<"$doc")" = true ]
	# and 2 m n k calls is the row's FLOPs: 2 x 2 x 14336 x 4096
	[ "$(jq --arg p "$e.w1" '.rows[] | select(.path == $p) | .flops' <<<"$doc")" = $((2 * 2 * 14336 * 4096)) ]
}

@test "Mixtral under EP 8: an expert on each device; with 8 replicas (dp 8) it sees their tokens" {
	local e='model.layers.*.block_sparse_moe.experts.*'
	# tp 8, ep 8: one expert of the 8 per device (count 32 x 8 / 8), the
	# tokens of one replica: 64 each as before
	run_split lmp-eval --tp 8 --ep 8 --batch-size 2 --seq-len 128 "$MIXTRAL"
	assert_success
	[ "$(gemm "$e.w1" <<<"$output")" = 64,14336,4096,1 ]
	[ "$(jq --arg p "$e.w1" '.rows[] | select(.path == $p) | .count' <<<"$output")" = 32 ]
	# attention is split 8 ways: q_proj's 4096 outputs are 512 a device
	[ "$(gemm model.layers.*.self_attn.q_proj <<<"$output")" = 256,512,4096,1 ]
	# dp 8, ep 8: each expert gets the tokens of 8 replicas: 8 x 64 = 512
	run_split lmp-eval --dp 8 --ep 8 --batch-size 2 --seq-len 128 "$MIXTRAL"
	assert_success
	[ "$(gemm "$e.w1" <<<"$output")" = 512,14336,4096,1 ]
	[ "$(jq --arg p "$e.w1" '.rows[] | select(.path == $p) | .flops' <<<"$output")" = $((2 * 512 * 14336 * 4096)) ]
}

@test "GPT-2's Conv1D: addmm of [tokens, in] by [in, out], the bias add the rest of its FLOPs" {
	run_split lmp-eval --batch-size 2 --seq-len 128 "$GPT2"
	assert_success
	local doc=$output
	# c_attn: 768 -> 3 x 768 = 2304; c_fc 768 -> 3072; c_proj of the MLP 3072 -> 768
	[ "$(gemm transformer.h.*.attn.c_attn <<<"$doc")" = 256,2304,768,1 ]
	[ "$(gemm transformer.h.*.mlp.c_fc <<<"$doc")" = 256,3072,768,1 ]
	[ "$(gemm transformer.h.*.mlp.c_proj <<<"$doc")" = 256,768,3072,1 ]
	# flops = 2 m n k + m n (bias)
	[ "$(jq '.rows[] | select(.path == "transformer.h.*.attn.c_attn") | .flops' <<<"$doc")" = $((2 * 256 * 2304 * 768 + 256 * 2304)) ]
}

@test "Llama-4 Scout's fused experts: one shape of the same FLOPs as its three bmm per expert that runs" {
	# 16 tokens, top-1 of 16 experts of 5120 -> 8192: each sees 1 token on
	# average; m x calls = 3 x 16 x 1 (gate, up and down per expert)
	run_split lmp-eval --batch-size 1 --seq-len 16 "$SCOUT"
	assert_success
	[ "$(jq '[.rows[] | select(.class | endswith("Llama4TextExperts")) | .gemm |
		(.m * .calls - 48 | fabs) < 1e-9 and .n == 8192 and .k == 5120] | unique' -c <<<"$output")" = '[true]' ]
	# the router: [16, 5120] by [5120, 16]
	[ "$(jq -c '[.rows[] | select(.class | endswith("Llama4Router")) | .gemm] | unique' <<<"$output")" = \
		'[{"m":16,"n":16,"k":5120,"calls":1}]' ]
}

@test "the gemm changes no other number: a database without it writes the same documents less the field" {
	local nog="$BATS_TEST_TMPDIR/nogemm.json"
	jq 'del(.entries[].gemm)' "$ROOT/module_db.json" > "$nog"
	for args in "--batch-size 2 --seq-len 128 $LLAMA2" "--tp 2 --engine vllm --batch-size 2 --prompt-len 64 --gen-len 3 $MIXTRAL" \
		"--dp 8 --ep 8 --batch-size 2 --seq-len 128 $MIXTRAL"; do
		# shellcheck disable=SC2086
		[ "$(lmp-eval $args | sed 's/,"gemm":{[^}]*}//g')" = "$(lmp-eval --db "$nog" $args)" ]
	done
	# --totals documents have no rows; their kernels carry the gemm: q, k,
	# v and o (4096 x 4096) fold into one, gate and up into one, with down
	# and lm_head 4 kernels with a gemm in each of the 2 phases
	run_split lmp-eval --totals --batch-size 2 --prompt-len 128 --gen-len 5 "$LLAMA2"
	[ "$(jq '[.. | objects | select(has("gemm"))] | length' <<<"$output")" = 8 ]
	[ "$(jq -c '[.phases.prefill.kernels[] | select(.gemm) | .gemm.n]' <<<"$output")" = "[4096,11008,4096,32000]" ]
	# lmp-roofline passes it through
	[ "$(lmp-eval --batch-size 2 --seq-len 128 "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm | gemm lm_head)" = 2,32000,4096,1 ]
}

@test "a gemm that declares more FLOPs than its row, or a malformed one, is refused" {
	local db="$BATS_TEST_TMPDIR/db.json"
	jq '.entries["torch.nn.modules.linear.Linear"].gemm.calls = "2"' "$ROOT/module_db.json" > "$db"
	run_split lmp-eval --db "$db" --batch-size 1 --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval "exceeds the row's"
	# q_proj, 4 rows: 2 x 4 x 4096 x 4096 x 2 declared against 2 x 4 x 4096 x 4096
	[[ "$stderr" == *"model.layers.*.self_attn.q_proj: gemm of $((2 * 4 * 4096 * 4096 * 2)) FLOPs"*"the row's $((2 * 4 * 4096 * 4096))"* ]]
	jq 'del(.entries["torch.nn.modules.linear.Linear"].gemm.calls)' "$ROOT/module_db.json" > "$db"
	run_split lmp-eval --db "$db" --batch-size 1 --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval 'gemm lacks "calls"'
	jq '.entries["torch.nn.modules.linear.Linear"].gemm.rows = "1"' "$ROOT/module_db.json" > "$db"
	run_split lmp-eval --db "$db" --batch-size 1 --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval 'gemm has no member "rows"'
	jq '.entries["torch.nn.modules.linear.Linear"].gemm.m = "{Foo}(1)"' "$ROOT/module_db.json" > "$db"
	run_split lmp-eval --db "$db" --batch-size 1 --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval "unknown entry {Foo}"
	jq '.entries["torch.nn.modules.linear.Linear"].gemm.n = "0 - ${out_features}"' "$ROOT/module_db.json" > "$db"
	run_split lmp-eval --db "$db" --batch-size 1 --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval "gemm.n is negative"
	# --totals evaluates the rows for its kernels: the gemm is checked there too
	run_split lmp-eval --db "$db" --totals --batch-size 1 --seq-len 4 "$LLAMA2"
	assert_clean_failure lmp-eval "gemm.n is negative"
}
