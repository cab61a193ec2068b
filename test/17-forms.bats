#!/usr/bin/env bats
# Sweeps in closed form (lmp-eval(1)): along a sweep's innermost list of
# lengths the fused time sweep forms most points' values from points it
# evaluated; every document is the one evaluating every point writes
# (LMP_EVAL_NOFORMS), byte for byte, and LMP_EVAL_FORMSTATS says how many
# points were formed.

load helper

H=nvidia-h100-sxm

# both MODEL ARGS...: the documents with forms and with every point
# evaluated are the same; $formed: how many points were formed
both() {
	local m=$1
	shift
	# (a time limit: a form's arithmetic must never hang a sweep)
	LMP_EVAL_FORMSTATS=1 timeout 120 lmp-eval "$@" "$m" > "$BATS_TEST_TMPDIR/a" 2> "$BATS_TEST_TMPDIR/ae" ||
		fail "formed: $*"
	LMP_EVAL_NOFORMS=1 lmp-eval "$@" "$m" > "$BATS_TEST_TMPDIR/b" 2> "$BATS_TEST_TMPDIR/be" || fail "evaluated: $*"
	[ -s "$BATS_TEST_TMPDIR/a" ] || fail "no output: $*"
	cmp "$BATS_TEST_TMPDIR/a" "$BATS_TEST_TMPDIR/b" || fail "${m##*/} $*: formed and evaluated documents differ"
	formed=$(sed -n 's/^lmp-eval: \([0-9]*\) of [0-9]* points in closed form$/\1/p' "$BATS_TEST_TMPDIR/ae")
	[ -n "$formed" ] || fail "no count of formed points: $(cat "$BATS_TEST_TMPDIR/ae")"
	# the count is said only where asked
	! grep -q 'closed form' "$BATS_TEST_TMPDIR/be" || fail "LMP_EVAL_FORMSTATS unset, a count said"
}

@test "a prefill sweep of seq_len: every point's FLOPs by hand, 27 of each batch's 32 points formed" {
	local b s f n=0
	both "$LLAMA2" --totals --hardware $H --batch-size 1,3 --seq-len "$(seq -s, 128 128 4096)" \
		--fields runtime.batch_size,runtime.seq_len,totals.flops
	# transformers' eager attention, no KV pages: a batch's 32 lengths (up
	# to the position limit) are one class; three points give the forms,
	# two check them, 27 are formed
	[ "$formed" = 54 ]
	while read -r b s f; do
		[ "$f" = "$(prefill_flops "$b" "$s")" ] || fail "batch $b x $s: $f FLOPs, by hand $(prefill_flops "$b" "$s")"
		n=$((n + 1))
	done < <(jq -r '[.runtime.batch_size, .runtime.seq_len, .totals.flops] | @tsv' "$BATS_TEST_TMPDIR/a")
	[ "$n" = 64 ]
}

@test "--attention flash: formed points skip FA3's causal tiles as evaluated ones do, by hand" {
	local s f pairs keys n=0
	# FA3 on sm90, head_dim 128, causal: 128 x 128 tiles; whole tiles of
	# lengths are one residue class: 16 lengths, 11 formed
	both "$LLAMA2" --totals --hardware $H --attention flash --batch-size 2 --seq-len "$(seq -s, 128 128 2048)" \
		--fields runtime.seq_len,totals.flops
	[ "$formed" = 11 ]
	# the eager count less the scores of the tiles skipped: 32 layers x 32
	# heads x 2 sequences x (S^2 - pairs) x 518 FLOPs a score
	while read -r s f; do
		read -r pairs keys < <(flash_pairs "$s" 0 128 128)
		[ "$f" = $(( $(prefill_flops 2 "$s") - 32 * 32 * 2 * (s * s - pairs) * 518 )) ] || fail "$s: $f"
		n=$((n + 1))
	done < <(jq -r '[.runtime.seq_len, .totals.flops] | @tsv' "$BATS_TEST_TMPDIR/a")
	[ "$n" = 16 ]
}

@test "--attention flash, 7 query heads a KV head (Qwen2.5-7B): packed rows that do not divide the tile, formed, by hand" {
	local s fe ff pairs keys n=0 M="$ROOT/models/Qwen--Qwen2.5-7B.populated.json"
	# FA3 packs a group's 7 query heads into the tile's 128 rows: the K/V
	# tiles a query tile walks are a floor sum of a line whose period is 7
	# tiles, 128 tokens; lengths every 128 tokens are one class
	both "$M" --totals --hardware $H --attention flash --batch-size 2 --seq-len "$(seq -s, 128 128 4096)" \
		--fields runtime.seq_len,totals.flops
	[ "$formed" = 27 ]
	# the eager count less the scores FA3 skips: 28 layers x 2 sequences
	# x 518 FLOPs a score x (4 KV heads x the packed walk's scores, by
	# hand - 28 query heads x S^2)
	while read -r s ff; do
		fe=$(lmp-eval --totals --attention eager --batch-size 2 --seq-len "$s" "$M" | jq .totals.flops)
		read -r pairs keys < <(flash_pairs_g "$s" 0 128 128 7)
		[ "$ff" = $(( fe + 28 * 2 * 518 * (4 * pairs - 28 * s * s) )) ] || fail "$s: $ff"
		n=$((n + 1))
	done < <(jq -r '[.runtime.seq_len, .totals.flops] | @tsv' "$BATS_TEST_TMPDIR/a")
	[ "$n" = 32 ]
	# vLLM's paged FA3, prefill and decode, byte for byte
	LMP_ENGINE=vllm both "$M" --totals --hardware $H --batch-size 1,5 --seq-len "$(seq -s, 16 16 2400)"
	[ "$formed" -gt 200 ] || fail "prefill: $formed of 300 formed"
	# (a decode of fewer sequences than fill the SMs with 4 KV heads each splits K)
	LMP_ENGINE=vllm both "$M" --totals --hardware $H --batch-size 64,128 --seq-len 1 --cache-len "$(seq -s, 0 64 4000)"
	[ "$formed" -gt 100 ] || fail "decode: $formed of 126 formed"
}

@test "a sliding window (Mistral-7B-v0.1's 4096 keys): formed on either side of it, FA3's local walk by hand" {
	local s fe ff pairs keys n=0 M="$ROOT/models/mistralai--Mistral-7B-v0.1.populated.json" G="$ROOT/models"
	# FA3's local call, 4 query heads packed a KV head, 128 x 128 tiles:
	# each query tile walks from its first query's window start to its
	# last query's causal end.  The window's aggregates are polynomials on
	# either side of s = W - 1 (a class each side), so both sides form
	both "$M" --totals --hardware $H --attention flash --batch-size 2 --seq-len "$(seq -s, 128 128 9000)" \
		--fields runtime.seq_len,totals.flops
	[ "$formed" -gt 50 ] || fail "$formed of 70 formed"
	# the eager count (every query's s scores) less those FA3 skips: 32
	# layers x 2 sequences x 518 FLOPs a score x (8 KV heads x the packed
	# local walk's scores, by hand - 32 heads x S^2)
	while read -r s ff; do
		fe=$(lmp-eval --totals --attention eager --batch-size 2 --seq-len "$s" "$M" | jq .totals.flops)
		read -r pairs keys < <(flash_pairs_g "$s" 0 128 128 4 4095)
		[ "$ff" = $(( fe + 32 * 2 * 518 * (8 * pairs - 32 * s * s) )) ] || fail "$s: $ff"
		n=$((n + 1))
	done < <(jq -r '[.runtime.seq_len, .totals.flops] | @tsv' "$BATS_TEST_TMPDIR/a")
	[ "$n" = 70 ]
	# vLLM's paged calls: a prefill, a decode over caches either side of
	# the window, a chunk; gemma-2 (local and global layers alternate) and
	# gemma-3 (512 keys) byte for byte
	export LMP_ENGINE=vllm
	both "$M" --totals --hardware $H --batch-size 1,5 --seq-len "$(seq -s, 16 16 6000)"
	[ "$formed" -gt 500 ] || fail "prefill: $formed of 750 formed"
	both "$M" --totals --hardware $H --batch-size 64,128 --seq-len 1 --cache-len "$(seq -s, 0 64 8000)"
	[ "$formed" -gt 150 ] || fail "decode: $formed of 252 formed"
	both "$M" --totals --hardware $H --batch-size 4 --seq-len 512 --cache-len "$(seq -s, 0 128 9000)"
	[ "$formed" -gt 40 ] || fail "chunk: $formed of 71 formed"
	# (gemma-2's head_dim of 256: FA3's 128 x 80 and, local, 128 x 64
	# tiles repeat every 640 tokens)
	both "$G/google--gemma-2-9b.populated.json" --totals --hardware $H --batch-size 2 --seq-len "$(seq -s, 640 640 60000)"
	[ "$formed" -gt 60 ] || fail "gemma-2: $formed of 93 formed"
	both "$G/google--gemma-3-1b-pt.populated.json" --totals --hardware $H --batch-size 3 --seq-len "$(seq -s, 128 128 30000)"
	[ "$formed" -gt 150 ] || fail "gemma-3: $formed of 234 formed"
	# lengths every 32 tokens against that period of 640: 20 classes of
	# six points, too short to pay for their forms; after 32 classes
	# forming fewer than 3 points each the sweep is evaluated
	both "$G/google--gemma-3-1b-pt.populated.json" --totals --hardware $H --batch-size 3 --seq-len "$(seq -s, 32 32 4000)"
	[ "$formed" = 0 ]
}

@test "vLLM's paged FA3: prefill and decode sweeps of MHA and GQA models, formed points as evaluated, byte for byte" {
	local m M="$ROOT/models"
	export LMP_ENGINE=vllm
	# Llama-2-7B (MHA), Llama-3.1-8B (4 heads packed a KV head), Qwen3-8B
	# (the fused norm reads 35/36 of the adds before it: fractions)
	for m in meta-llama--Llama-2-7b-hf meta-llama--Llama-3.1-8B Qwen--Qwen3-8B; do
		# lengths every 16 tokens: 8 classes of a 128-token tile (the
		# first of each a tile of 64 rows, up to 64 tokens)
		both "$M/$m.populated.json" --totals --hardware $H --batch-size 1,5 --seq-len "$(seq -s, 16 16 2400)"
		[ "$formed" -gt 200 ] || fail "$m prefill: $formed of 300 formed"
		# a decode over caches every 64 tokens: two classes a batch (a
		# batch of 16 and more fills the machine: no split-K)
		both "$M/$m.populated.json" --totals --hardware $H --batch-size 16,64 --seq-len 1 --cache-len "$(seq -s, 0 64 4000)"
		[ "$formed" -gt 100 ] || fail "$m decode: $formed of 126 formed"
		both "$M/$m.populated.json" --totals --hardware $H --batch-size 3 --seq-len "$(seq -s, 128 128 20000)" \
			--fields runtime.seq_len,totals.time_s,totals.bound,fit.fits,fit.max_batch_size
		[ "$formed" -gt 140 ] || fail "$m --fields: $formed of 156 formed"
		# a chunk over a cache that moves, and lengths that fall
		both "$M/$m.populated.json" --totals --hardware $H --batch-size 4 --seq-len 256 --cache-len "$(seq -s, 0 128 6000)"
		[ "$formed" -gt 30 ] || fail "$m chunk: $formed of 47 formed"
		both "$M/$m.populated.json" --totals --hardware $H --batch-size 2 --seq-len "$(seq -s, 9000 -128 128)"
		[ "$formed" -gt 50 ] || fail "$m falling: $formed of 70 formed"
	done
}

@test "points the forms do not cover are evaluated, with the same documents" {
	local M="$ROOT/models"
	export LMP_ENGINE=vllm
	# routed experts (Mixtral: the chance that a token is routed to an
	# expert is a power of the tokens)
	both "$M/mistralai--Mixtral-8x7B-v0.1.populated.json" --totals --hardware $H --batch-size 2 --seq-len "$(seq -s, 128 128 3000)"
	[ "$formed" = 0 ]
	# lengths at no equal spacing
	both "$LLAMA2" --totals --hardware $H --batch-size 1,2 --seq-len 1,2,3,5,8,13,21,34,55,89,144,233,377,610,987,1597
	[ "$formed" = 0 ]
	# a decode of two sequences splits K: FA3's splits are no polynomial
	both "$LLAMA2" --totals --hardware $H --batch-size 2 --seq-len 1 --cache-len "$(seq -s, 1024 64 4000)"
	[ "$formed" = 0 ]
	# requests (their decode phase has its own closed form)
	both "$LLAMA2" --totals --hardware $H --batch-size 2 --prompt-len 100 --gen-len 10,20,30,40,50,60,70
	[ "$formed" = 0 ]
	# a list of settings inside the lengths: each setting its own class
	both "$LLAMA2" --totals --hardware $H --batch-size 2 --seq-len "$(seq -s, 128 128 3000)" --kv-bit 8,16 --kv-block 16,32
	[ "$formed" -gt 50 ]
	# across the position limit (4096): marked past it, as evaluated
	both "$LLAMA2" --totals --hardware $H --batch-size 1 --seq-len "$(seq -s, 3072 64 5120)" --fields runtime
	[ "$formed" -gt 10 ]
	[ "$(grep -c past_position_limit "$BATS_TEST_TMPDIR/a")" = 16 ]
	# totals past 2^62 FLOPs are evaluated, in 128 bits
	both "$LLAMA2" --totals --hardware $H --batch-size 4096 --seq-len "$(seq -s, 131072 131072 3000000)" --fields totals.flops
	jq -e 'select(.totals.flops > 9.3e18)' "$BATS_TEST_TMPDIR/a" >/dev/null
	# LMP_EVAL_NOFORMS forms none
	LMP_EVAL_NOFORMS=1 LMP_EVAL_FORMSTATS=1 lmp-eval --totals --hardware $H --batch-size 2 --seq-len "$(seq -s, 128 128 3000)" \
		"$LLAMA2" 2>&1 >/dev/null | grep -qx 'lmp-eval: 0 of 23 points in closed form'
}

@test "a layout's sweep: its stage sums formed, each by hand, and tp/pp/dp sweeps byte for byte" {
	local b s f0 f1 k0 k1 N P layer n=0 M="$ROOT/models"
	# two pipeline stages of Llama-2-7B: layers 0-15 with the rotary
	# table, layers 16-31 with the final norm and lm_head (the terms of
	# prefill_flops, helper.bash); eager attention as in the first test,
	# so the same 27 of each batch's 32 points are formed
	both "$LLAMA2" --totals --hardware $H --pp 2 --batch-size 1,3 --seq-len "$(seq -s, 128 128 4096)" \
		--fields runtime.batch_size,runtime.seq_len,parallel.stages
	[ "$formed" = 54 ]
	while read -r b s f0 f1 k0 k1; do
		N=$((b * s)) P=$((b * s * s))
		layer=$(( 4*2*N*4096*4096 + N*64*448 + 2*32*P*256 + 6*32*P + 3*2*N*4096*11008 + 4*N*11008 + N*11008 +
			2*(4*N*4096 + 3*N) + 2*N*4096 ))
		[ "$f0" = $((16 * layer + 5 * N * 128)) ] || fail "batch $b x $s: stage 0 $f0 FLOPs"
		[ "$f1" = $((16 * layer + 4 * N * 4096 + 3 * N + 2 * b * 4096 * 32000)) ] || fail "batch $b x $s: stage 1 $f1 FLOPs"
		# each stage's KV cache: 16 layers x K and V x b x s x 4096 x 2 bytes
		[ "$k0" = $((16 * 2 * N * 4096 * 2)) ] && [ "$k1" = "$k0" ] || fail "batch $b x $s: state $k0, $k1"
		n=$((n + 1))
	done < <(jq -r '[.runtime.batch_size, .runtime.seq_len, .parallel.stages[].flops, .parallel.stages[].state_bytes] |
		@tsv' "$BATS_TEST_TMPDIR/a")
	[ "$n" = 64 ]
	# vLLM's paged FA3 over tensor, pipeline and data parallel layouts,
	# their collectives timed: formed points as evaluated
	export LMP_ENGINE=vllm
	both "$M/meta-llama--Llama-3.1-8B.populated.json" --totals --hardware $H --tp 2,4 --pp 1,2 --batch-size 3 \
		--seq-len "$(seq -s, 16 16 2400)"
	[ "$formed" -gt 400 ] || fail "tp x pp: $formed of 600 formed"
	jq -e 'select(.totals.collective_time_s > 0)' "$BATS_TEST_TMPDIR/a" >/dev/null
	both "$M/Qwen--Qwen3-8B.populated.json" --totals --hardware $H --tp 4 --dp 2 --batch-size 128,256 --seq-len 1 \
		--cache-len "$(seq -s, 0 64 4000)"
	[ "$formed" -gt 100 ] || fail "tp x dp decode: $formed of 126 formed"
	both "$LLAMA2" --totals --tp 2 --pp 2 --batch-size 2 --seq-len "$(seq -s, 128 128 3000)"
	[ "$formed" -gt 10 ] || fail "without --hardware: $formed of 23 formed"
}

@test "an error at a point is the evaluated point's, after the same documents" {
	# 2^24 query tiles of FA3's 128 rows: a longer sequence is refused (the
	# forms' look at FlashAttention's plan leaves the error to the
	# evaluation, which says it as without forms)
	local s=$(( (1 << 24) * 128 )) lens
	lens="$((s - 3 * 128)),$((s - 2 * 128)),$((s - 128)),$s,$((s + 128))"
	run_split lmp-eval --totals --hardware $H --attention flash --batch-size 1 --seq-len "$lens" --fields runtime.seq_len "$LLAMA2"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"more than 2^24 query tiles"* ]]
	local a="$stderr" o="$output"
	LMP_EVAL_NOFORMS=1 run_split lmp-eval --totals --hardware $H --attention flash --batch-size 1 --seq-len "$lens" \
		--fields runtime.seq_len "$LLAMA2"
	[ "$stderr" = "$a" ] && [ "$output" = "$o" ]
}

@test "two kernels whose forms may meet past 2^124 in their discriminant: the class is evaluated, not stuck" {
	# two residual adds of one element, whose activation bytes are (s^2 x
	# (2^52 + 1) + 132127924 s) / 128 and a constant just under 2^59 / 128
	# (found by a review: the root's square root overflowed 128 bits and
	# looped)
	local doc="$BATS_TEST_TMPDIR/meet.json" a b
	a='({seq_len}*{seq_len}*4503599627370497 + {seq_len}*132127924)/128' b='576460752303423359/128'
	jq --arg a "$a" --arg b "$b" '.layers[0].sub_layers |= .[:2] +
		[{name: "xa", class: "torch.add", attrs: {elements: "1"}, params: {elements: "1", a_dtype_bytes: $a}},
		 {name: "xb", class: "torch.add", attrs: {elements: "1"}, params: {elements: "1", a_dtype_bytes: $b}}] + .[2:]' \
		"$ROOT/models/meta-llama--Llama-3.2-1B.populated.json" > "$doc"
	both "$doc" --totals --hardware $H --attention eager --batch-size 1 --seq-len 2,3,4,5,6,7,8
	[ "$formed" = 0 ]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/a")" = 7 ]
}

@test "a gemm of no calls whose m goes negative: refused as without forms" {
	# an entry (a residual add's copy) declaring a gemm of m = elements -
	# 1000 and 0 calls: m x calls is 0 at every point, so the forms cannot
	# see m's sign; the class is evaluated and the point below 1000
	# tokens is refused, one line
	local db="$BATS_TEST_TMPDIR/db.json" doc="$BATS_TEST_TMPDIR/neg.json"
	jq '.entries["x.NegGemm"] = (.entries["torch.add"] | .full_class_name = "x.NegGemm" | .aliases = [] |
		.gemm = {m: "${elements} - 1000", n: "1", k: "1", calls: "0", note: "test"})' "$ROOT/module_db.json" > "$db"
	jq '.layers[0].sub_layers |= .[:2] + [{name: "neg", class: "x.NegGemm", attrs: {elements: "{tokens}"},
		params: {elements: "{tokens}", a_dtype_bytes: "{a_dtype_bytes}"}}] + .[2:]' \
		"$ROOT/models/meta-llama--Llama-3.2-1B.populated.json" > "$doc"
	run_split lmp-eval --db "$db" --totals --hardware $H --attention eager --batch-size 1 --seq-len "$(seq -s, 1100 -10 900)" \
		--fields runtime.seq_len "$doc"
	[ "$status" = 1 ]
	[ "$stderr" = "lmp-eval: model.neg: gemm.m is negative (entry x.NegGemm)" ]
	local o="$output"
	LMP_EVAL_NOFORMS=1 run_split lmp-eval --db "$db" --totals --hardware $H --attention eager --batch-size 1 \
		--seq-len "$(seq -s, 1100 -10 900)" --fields runtime.seq_len "$doc"
	[ "$status" = 1 ] && [ "$output" = "$o" ]
	[ "$stderr" = "lmp-eval: model.neg: gemm.m is negative (entry x.NegGemm)" ]
}

@test "a --totals sweep without --hardware: its kernels from the forms, as evaluated" {
	local M="$ROOT/models"
	both "$LLAMA2" --totals --batch-size 1,3 --seq-len "$(seq -s, 128 128 4096)"
	[ "$formed" = 54 ]
	# each document lists the kernels the rows fold into, with their counts
	[ "$(jq -s -c '[.[].kernels | length] | unique' "$BATS_TEST_TMPDIR/a")" = "$(lmp-eval --totals --seq-len 128 "$LLAMA2" | jq -c '[.kernels | length]')" ]
	LMP_ENGINE=vllm both "$M/Qwen--Qwen3-8B.populated.json" --totals --batch-size 4 --seq-len "$(seq -s, 16 16 3000)"
	[ "$formed" -gt 100 ]
	LMP_ENGINE=sglang both "$M/meta-llama--Llama-3.1-8B.populated.json" --totals --pretty --batch-size 2 \
		--seq-len "$(seq -s, 128 128 4000)"
	[ "$formed" -gt 20 ]
}
