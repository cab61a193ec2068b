#!/usr/bin/env bats
# Requests in closed form: lmp-eval's decode rows carry their per-step work
# as pieces (lmp-eval(1) "per_step"), the phase's sums come from them, and
# lmp-roofline times a decode row step by step in closed form
# (lmp-roofline(1) TIME MODEL).  Expected times are derived here from the
# document's numbers and the device's datasheet figures.

load helper

PEAK=989400000000000 # H100 SXM bf16 dense, FLOP/s (the hardware file)
BW=3350000000000     # its bandwidth, bytes/s
M="$ROOT/models"

# close A B: A and B agree to 1e-12, relatively
close() {
	awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; m = (b < 0 ? -b : b); exit !(d <= 1e-12 * m) }' ||
		fail "$1 and $2 differ"
}

setup() {
	cd "$BATS_TEST_TMPDIR"
	# A request of 3 tokens: the prefill and 2 decode steps of one row.
	# Step 0: 989400000000 FLOPs (1 ms at the peak) and 1675000000 bytes
	# (0.5 ms at the bandwidth): compute-bound.  Step 1: the same FLOPs and
	# 5025000000 bytes (1.5 ms): memory-bound.  The phase's row is their sum.
	cat > g.json <<-'EOF'
	{"lmp":"eval","version":"0.1.0","model":{"id":"test/one"},
	 "runtime":{"batch_size":1,"prompt_len":100,"gen_len":3,"w_bit":16,"a_bit":16,"kv_bit":16},
	 "phases":{"prefill":{"steps":1,"runtime":{"seq_len":100,"cache_len":0},
	   "rows":[{"path":"attn","class":"torch.nn.functional.scaled_dot_product_attention","count":1,"flops":989400000000,
	     "bytes":{"weights":0,"reads":1675000000,"writes":0,"intermediates":0},"state_bytes":0}],
	   "totals":{"flops":989400000000,"bytes":{"weights":0,"reads":1675000000,"writes":0,"intermediates":0},"state_bytes":0,"weight_bytes":0}},
	  "decode":{"steps":2,"runtime":{"seq_len":1,"cache_len_first":100,"cache_len_last":101},
	   "rows":[{"path":"attn","class":"torch.nn.functional.scaled_dot_product_attention","count":1,"flops":1978800000000,
	     "bytes":{"weights":0,"reads":6700000000,"writes":0,"intermediates":0},"state_bytes":0,
	     "per_step":{"pieces":[{"first":0,"last":1,"flops":[989400000000,0],"reads":[1675000000,3350000000],"writes":[0,0],"intermediates":[0,0]}]}}],
	   "totals":{"flops":1978800000000,"bytes":{"weights":0,"reads":6700000000,"writes":0,"intermediates":0},"state_bytes":0,"weight_bytes":0}}},
	 "totals":{"flops":2968200000000,"bytes":{"weights":0,"reads":8375000000,"writes":0,"intermediates":0},"state_bytes":0,"weight_bytes":0}}
	EOF
}

@test "a decode row is timed step by step: 1 ms + 1.5 ms where its sums give max(2 ms, 2 ms)" {
	run_split lmp-roofline --hardware nvidia-h100-sxm --calibration none g.json
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
	echo "$output" > r.json
	# step 0: max(1 ms, 0.5 ms); step 1: max(1 ms, 1.5 ms)
	close "$(jq .phases.decode.rows[0].time_s r.json)" 0.0025
	# the compute and memory terms are the steps' sums: 2 ms each
	close "$(jq .phases.decode.rows[0].compute_time_s r.json)" 0.002
	close "$(jq .phases.decode.rows[0].memory_time_s r.json)" 0.002
	# TPOT: the decode's 2.5 ms over its 2 steps; TTFT the prefill's 1 ms
	close "$(jq .totals.tpot_s r.json)" 0.00125
	close "$(jq .totals.ttft_s r.json)" 0.001
	# the same row without per_step is timed on its sums, as before:
	# max(1978800000000 / PEAK, 6700000000 / BW) = 2 ms
	jq 'del(.phases.decode.rows[0].per_step)' g.json | lmp-roofline --hardware nvidia-h100-sxm --calibration none > old.json
	close "$(jq .phases.decode.rows[0].time_s old.json)" 0.002
}

@test "paged per_step: the block staircase, each step's bound, summed in closed form" {
	# 40 steps over a cache of 30 tokens in blocks of 16: K(s) = ceil((31 + s) / 16);
	# reads 1675000000 + 50000000 s + 335000000 (K(s) - K(0)) bytes (past 1.2 ms from step 34 on, K(34) = 5),
	# flops 1187280000000 (1.2 ms) a step
	jq '.runtime.gen_len = 41 | .phases.decode.steps = 40 | .phases.decode.runtime.cache_len_first = 30
		| .phases.decode.rows[0].per_step = {block: 16, pieces: [{first: 0, last: 39, flops: [1187280000000, 0, 0],
		    reads: [1675000000, 50000000, 335000000], writes: [0, 0, 0], intermediates: [0, 0, 0]}]}' g.json > p.json
	lmp-roofline --hardware nvidia-h100-sxm --calibration none p.json > r.json
	# by hand, step by step: the memory time of step s against 1.2 ms
	want=$(awk -v bw=$BW 'BEGIN { k0 = int((31 + 15) / 16); t = 0
		for (s = 0; s < 40; s++) { k = int((31 + s + 15) / 16); m = (1675000000 + 50000000 * s + 335000000 * (k - k0)) / bw
			t += (m > 0.0012 ? m : 0.0012) }
		printf "%.17g", t }')
	close "$(jq .phases.decode.rows[0].time_s r.json)" "$want"
}

@test "decode rows' times equal the sum of their steps' own documents (default engine and calibration, a window filling)" {
	# Gemma-2-9B: its 4096-token window fills during the decode (4050 + 90)
	lmp-eval --engine vllm --batch-size 32 --prompt-len 4050 --gen-len 90 "$M/google--gemma-2-9b.populated.json" |
		lmp-roofline --hardware nvidia-h100-sxm > gen.json
	lmp-eval --engine vllm --batch-size 32 --seq-len 1 --cache-len "$(seq -s, 4050 4138)" "$M/google--gemma-2-9b.populated.json" |
		lmp-roofline --hardware nvidia-h100-sxm > steps.ndjson
	[ "$(jq '[.phases.decode.rows[] | select(.per_step)] | length' gen.json)" -eq "$(jq '.phases.decode.rows | length' gen.json)" ]
	jq -n --slurpfile g gen.json --slurpfile s steps.ndjson '
		[$g[0].phases.decode.rows[] | .path as $p | .time_s as $t
		 | ([$s[] | .rows[] | select(.path == $p) | .time_s] | add) as $want
		 | (($t - $want) / $want | fabs)] | max < 1e-12' | grep -qx true
}

@test "the decode phase from its pieces is the step-by-step sum, integer for integer (LMP_EVAL_STEPWISE)" {
	for m in meta-llama--Llama-2-7b-hf google--gemma-2-9b openai--gpt-oss-20b Qwen--Qwen3-30B-A3B \
		deepseek-ai--DeepSeek-V2-Lite mistralai--Mistral-7B-v0.1; do
		for eng in transformers vllm; do
			for args in "--batch-size 3 --prompt-len 100 --gen-len 2,65,700" \
				"--batch-size 1 --prompt-len 4000 --gen-len 2000" "--tp 2 --batch-size 2 --prompt-len 120 --gen-len 300"; do
				lmp-eval --engine $eng $args "$M/$m.populated.json" > a.json 2>/dev/null
				LMP_EVAL_STEPWISE=1 lmp-eval --engine $eng $args "$M/$m.populated.json" > b.json 2>/dev/null
				cmp a.json b.json || fail "$m $eng $args: closed form and step loop differ"
				lmp-eval --totals --engine $eng $args "$M/$m.populated.json" > a.json 2>/dev/null
				LMP_EVAL_STEPWISE=1 lmp-eval --totals --engine $eng $args "$M/$m.populated.json" > b.json 2>/dev/null
				cmp a.json b.json || fail "$m $eng $args --totals: closed form and step loop differ"
			done
		done
	done
	# the pieces are there: the window's two (growing, then flat) on
	# Gemma-2's sliding layers
	lmp-eval --engine transformers --batch-size 1 --prompt-len 4000 --gen-len 2000 "$M/google--gemma-2-9b.populated.json" |
		jq -e '[.phases.decode.rows[] | select(.path == "model.layers(sliding).*.self_attn.sdpa") | .per_step.pieces[]
			| [.first, .last]] == [[0, 94], [95, 1998]]'
}

@test "a batch-1 request under vLLM's paged FlashAttention: pieces cut where the split count changes, exact, and cheap" {
	# vLLM's varlen FA3 decode splits a lone sequence's keys by a heuristic
	# that is not monotone in the context (hopper/heuristics.h): a split
	# count can come back after tiles of another.  Each batch-1 request here
	# once summed its pieces past such a change (off by ~1e-6); now the
	# phase matches the step loop integer for integer.
	for args in "--batch-size 1 --prompt-len 1000 --gen-len 5000" "--batch-size 1 --prompt-len 16,128 --gen-len 5000"; do
		lmp-eval --totals --engine vllm $args "$M/meta-llama--Llama-2-7b-hf.populated.json" > a.json 2>/dev/null
		LMP_EVAL_STEPWISE=1 lmp-eval --totals --engine vllm $args "$M/meta-llama--Llama-2-7b-hf.populated.json" > b.json 2>/dev/null
		cmp a.json b.json || fail "$args: closed form and step loop differ"
	done
	# a 32k-token request has per_step on its decode kernels, in a few pieces
	lmp-eval --totals --engine vllm --batch-size 1 --prompt-len 128 --gen-len 32768 \
		"$M/meta-llama--Llama-2-7b-hf.populated.json" 2>/dev/null > c.json
	jq -e '[.phases.decode.kernels[] | has("per_step")] | all' c.json
	jq -e '[.phases.decode.kernels[] | .per_step.pieces | length] | max < 32' c.json
}

@test "a long decode's attention shape is looked ahead from the step's calls: the pieces still match the step loop" {
	# The closed form asks the attention's shape (tiles, splits) where it
	# may change, every K/V tile of the cache; lmp_attn_shape now walks
	# those tiles itself from the calls it planned and answers with the
	# first that changes.  FA2 (sm80, its split eligibility rule) and FA3
	# (sm90), plain and paged, a full cache and sliding windows (Mistral's
	# 4096 crossed, Gemma-3's 512, gpt-oss's 128): the phase must equal the
	# step loop's, integer for integer.
	for m in meta-llama--Llama-2-7b-hf mistralai--Mistral-7B-v0.1 google--gemma-3-1b-pt openai--gpt-oss-20b; do
		for fa in sm80 sm90; do
			args="--totals --engine transformers --flash-arch $fa --attention flash,paged --batch-size 1,3 --prompt-len 3000 --gen-len 2000"
			lmp-eval $args "$M/$m.populated.json" > a.json 2>/dev/null
			LMP_EVAL_STEPWISE=1 lmp-eval $args "$M/$m.populated.json" > b.json 2>/dev/null
			[ "$(wc -l < a.json)" -eq 4 ] || fail "$m $fa: $(wc -l < a.json) documents, want 4"
			cmp a.json b.json || fail "$m $fa: closed form and step loop differ"
		done
	done
	# Llama-4's chunked layers are FlashAttention calls until the cache
	# reaches their chunk (attention_chunk_size 8192), so no look-ahead
	# there: a 7000-token prompt's decode is cut at step 8192 - 7000 = 1192
	lmp-eval --totals --engine vllm --attention paged --flash-arch sm90 --batch-size 1 --prompt-len 7000 \
		--gen-len 3000 "$M/meta-llama--Llama-4-Scout-17B-16E.populated.json" 2>/dev/null |
		jq -e '[.phases.decode.kernels[] | select(has("per_step")) | .per_step.pieces[] | .first] | index(1192) != null'
}

@test "per_step of a decode row sums to the row (attention over a growing cache: d FLOPs a key)" {
	# Llama-2-7B, one sequence of 100 tokens generating 11: 10 decode steps
	lmp-eval --engine transformers --batch-size 1 --prompt-len 100 --gen-len 11 "$LLAMA2" > g.json
	jq -e '.phases.decode.rows[] | select(.per_step) | .per_step.pieces as $p
		| ([$p[] | . as $x | range($x.first; $x.last + 1) | . - $x.first | $x.flops[0] + $x.flops[1] * .] | add) == .flops' g.json
	# the attention core gains FLOPs and bytes a step; a projection does not
	jq -e '.phases.decode.rows[] | select(.path == "model.layers.*.self_attn.sdpa") | .per_step.pieces[0].flops[1] > 0' g.json
	jq -e '.phases.decode.rows[] | select(.path == "model.layers.*.self_attn.q_proj") | .per_step.pieces == [{first: 0, last: 9,
		flops: [33554432, 0], reads: [33562624, 0], writes: [8192, 0], intermediates: [0, 0]}]' g.json
}

@test "a malformed per_step is refused with one line" {
	jq '.phases.decode.rows[0].per_step.pieces[0].last = 5' g.json > bad.json
	run_split lmp-roofline --hardware nvidia-h100-sxm --calibration none bad.json
	assert_clean_failure lmp-roofline "per_step is not pieces covering the phase's steps"
	jq '.phases.decode.rows[0].per_step.pieces[0].flops = [1]' g.json > bad.json
	run_split lmp-roofline --hardware nvidia-h100-sxm --calibration none bad.json
	assert_clean_failure lmp-roofline "per_step"
}

@test "rows kept from an earlier point (the variables they read did not move) write what evaluating every row writes" {
	# lmp-eval takes a row's polynomials' values from an earlier point
	# where none of the runtime variables it reads has moved since (a
	# decode phase's steps, a sweep's cache lengths or engine knobs);
	# LMP_EVAL_NOKEEP evaluates every row at every point
	local M="$ROOT/models"
	for args in "--batch-size 1,3 --seq-len 1 --cache-len 100,200,4095,4096,9000" \
		"--totals --hardware nvidia-h100-sxm --engine vllm --batch-size 2,5 --seq-len 1 --cache-len 1000,2000,3000" \
		"--totals --engine vllm --batch-size 4 --seq-len 1 --cache-len 2048 --kv-block 1,16,32 --gpu-memory-utilization 0.5,0.9" \
		"--totals --engine vllm --batch-size 1,2 --prompt-len 500 --gen-len 300,5000" \
		"--totals --engine sglang --tp 1,2 --batch-size 3 --seq-len 1 --cache-len 100,5000,5001" \
		"--queries 1:4000x2,1:100 --totals" "--queries 1:4000x2,1:100,1:50x3 --engine vllm" \
		"--totals --w-bit 16,8,4 --kv-bit 16,8 --batch-size 2 --seq-len 1 --cache-len 777"; do
		for m in meta-llama--Llama-2-7b-hf mistralai--Mistral-7B-v0.1 google--gemma-2-9b deepseek-ai--DeepSeek-V2-Lite \
			openai--gpt-oss-20b; do
			lmp-eval $args "$M/$m.populated.json" > a.json 2>/dev/null || true
			LMP_EVAL_NOKEEP=1 lmp-eval $args "$M/$m.populated.json" > b.json 2>/dev/null || true
			[ -s a.json ] || fail "$m $args: no output"
			cmp a.json b.json || fail "$m $args: kept rows and every row evaluated differ"
		done
	done
}
