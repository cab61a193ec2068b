#!/usr/bin/env bats
# pipeline.sh: the chain in one command, options routed to their tools.

load helper

@test "pipeline.sh equals the chain it runs, and takes the seeds' spellings" {
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --batch_size 2 --seq_len=128 --totals
	assert_success
	[ "$output" = "$(lmp-eval --batch-size 2 --seq-len 128 --totals < "$LLAMA2")" ]
	run "$ROOT/pipeline.sh" --model_id meta-llama/Llama-2-7b-hf --prompt-len 64 --gen-len 8 \
		--hardware nvidia-h100-sxm --memory-efficiency 0.8
	assert_success
	[ "$output" = "$(lmp-eval --prompt-len 64 --gen-len 8 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm --memory-efficiency 0.8)" ]
	# a populated document goes straight to lmp-eval
	run "$ROOT/pipeline.sh" "$LLAMA2" --seq-len 5 --totals
	[ "$output" = "$(lmp-eval --seq-len 5 --totals < "$LLAMA2")" ]
}

@test "pipeline.sh fails clearly" {
	HF_HUB_OFFLINE=1 run --separate-stderr "$ROOT/pipeline.sh" nobody/nothing
	[ "$status" -eq 1 ]
	[[ "$stderr" == "lmp-inspect: nobody/nothing@main is neither in the HuggingFace cache nor shipped"* ]]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --colour blue
	[ "$status" -eq 2 ]
	[ "$stderr" = "pipeline.sh: unknown option --colour" ]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --seq-len 0
	[ "$status" -eq 2 ]
	[[ "$stderr" == "lmp-eval: --seq-len: '0' is not an integer"* ]]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --hardware nope
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "lmp-eval: unknown device 'nope'"* ]]
}

@test "pipeline.sh passes values with quotes through intact" {
	cp "$ROOT/share/lmp/hardware/nvidia-h100-sxm.json" "$BATS_TEST_TMPDIR/it's a device.json"
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --totals --seq-len 1 --hardware "$BATS_TEST_TMPDIR/it's a device.json"
	assert_success
	[ "$(jq -r .roofline.hardware <<<"$output")" = nvidia-h100-sxm ]
}

@test "the Transformer Roofline Analyzer's query lists become a mixed step" {
	# --cached-tokens 100 200 --input-tokens 5 7, twice each: queries 5:100x2 and 7:200x2
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --cached-tokens 100 200 --input-tokens 5 7 --batch-size 2 --totals
	assert_success
	[ "$output" = "$(lmp-eval --totals --queries 5:100x2,7:200x2 < "$LLAMA2")" ]
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --cached-tokens 1 --input-tokens 1 2
	[ "$status" -eq 2 ]
	[ "$stderr" = "pipeline.sh: --input-tokens and --cached-tokens need as many numbers each" ]
}

@test "pipeline.sh ends with lmp-report: tables on request, documents into a pipe" {
	# into a pipe (as here) the documents come out unchanged
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --seq-len 16 --hardware nvidia-h100-sxm
	assert_success
	[ "$(jq -r .lmp <<<"$output")" = roofline ]
	# --format goes to lmp-report: the same report as the chain by hand
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --seq-len 16 --hardware nvidia-h100-sxm --format text
	assert_success
	[ "$output" = "$(lmp-eval --seq-len 16 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm | lmp-report --format text)" ]
	# without --hardware the chain stops after lmp-eval: FLOPs and bytes, no time
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --seq-len 16 --format text
	assert_success
	assert_line --regexp '^path +count +params +FLOPs +weights +reads +writes +% FLOPs$'
	run "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --totals --batch-size 1,2 --seq-len 16 --hardware nvidia-a10 \
		--format svg --plot batch_size:time_s
	assert_success
	[ "$(grep -c '<polyline' <<<"$output")" = 1 ]
	# a report that cannot be made fails the chain
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --seq-len 16 --format svg
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[[ "$stderr" == "lmp-report: document 1 is not a roofline document"* ]]
}

@test "examples/Makefile: models x devices x batch sizes with make -j, CSV and SVG, the same bytes at any -j" {
	local vars=(MODELS="meta-llama/Llama-3.2-1B Qwen/Qwen2.5-0.5B" DEVICES="nvidia-h100-sxm nvidia-l4" BATCHES=1,8,64 PROMPT=128 GEN=8)
	run make -s -C "$ROOT/examples" -j4 OUT="$BATS_TEST_TMPDIR/a" "${vars[@]}"
	assert_success
	# 2 models x 2 devices x 3 batch sizes = 12 points; a generation gives
	# three CSV lines (prefill, decode, total), plus the header
	[ "$(grep -c ',total,' "$BATS_TEST_TMPDIR/a/sweep.csv")" = 12 ]
	[ "$(wc -l < "$BATS_TEST_TMPDIR/a/sweep.csv")" = $((12 * 3 + 1)) ]
	for f in throughput tpot memory; do
		xmllint --noout "$BATS_TEST_TMPDIR/a/$f.svg"
		# one line per model and device
		[ "$(grep -c '<polyline' "$BATS_TEST_TMPDIR/a/$f.svg")" = 4 ]
	done
	grep -q '<svg' "$BATS_TEST_TMPDIR/a/report.html"
	run make -s -C "$ROOT/examples" -j1 OUT="$BATS_TEST_TMPDIR/b" "${vars[@]}"
	assert_success
	for f in sweep.csv throughput.svg tpot.svg memory.svg report.html; do
		cmp "$BATS_TEST_TMPDIR/a/$f" "$BATS_TEST_TMPDIR/b/$f"
	done
}

# man_examples DIR PAGE N: the EXAMPLES of man/PAGE, at least N of them, run
# in DIR as a user runs them (the default engine and calibration), print
# what the page says they print
man_examples() {
	local d=$1
	awk -v want="$d/want" -f "$ROOT/tools/man-examples.awk" "$ROOT/man/$2" > "$d/script.sh"
	[ "$(grep -c '^### ' "$d/want")" -ge "$3" ]
	(cd "$d" && env -u LMP_ENGINE -u LMP_CALIBRATION PATH="$ROOT:$ROOT/bin:$PATH" bash -e -o pipefail script.sh) \
		> "$d/got" 2>/dev/null
	diff -u "$d/want" "$d/got"
}

@test "the examples of lmp(7) run and print what the page says" {
	mkdir -p "$BATS_TEST_TMPDIR/ex"
	ln -s "$ROOT/models" "$BATS_TEST_TMPDIR/ex/models"
	man_examples "$BATS_TEST_TMPDIR/ex" lmp.7 5
}

@test "the examples of lmp-eval(1) run and print what the page says" {
	mkdir -p "$BATS_TEST_TMPDIR/ex"
	ln -s "$ROOT/models/meta-llama--Llama-2-7b-hf.populated.json" "$BATS_TEST_TMPDIR/ex/llama2.json"
	man_examples "$BATS_TEST_TMPDIR/ex" lmp-eval.1 6
}

@test "the README's generated tables, example and chart are up to date (make readme)" {
	sh "$ROOT/tools/make-readme.sh" "$BATS_TEST_TMPDIR/r"
	diff -u "$ROOT/README.md" "$BATS_TEST_TMPDIR/r/README.md" || fail "README.md is stale: run make readme"
	for f in "$BATS_TEST_TMPDIR"/r/docs/*; do
		cmp -s "$f" "$ROOT/docs/$(basename "$f")" || fail "docs/$(basename "$f") is stale: run make readme"
	done
}

@test "pipeline.sh as one pipe: a class lmp-ensure adds on the way is there for lmp-populate and lmp-eval" {
	# a database without SiLU; the stand-in agent answers 3 FLOPs per element
	jq 'del(.entries["torch.nn.modules.activation.SiLU"])' "$ROOT/module_db.json" > "$BATS_TEST_TMPDIR/db.json"
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-2-7b-hf --db "$BATS_TEST_TMPDIR/db.json" \
		--agent "$ROOT/test/agents/good.sh" --seq-len 1 --totals
	assert_success
	[ "$(jq -r '.entries["torch.nn.modules.activation.SiLU"].validation.status' "$BATS_TEST_TMPDIR/db.json")" = pending ]
	# the shipped SiLU counts 4 FLOPs per element: one token, 32 layers of
	# 11008 elements, one FLOP less each
	local shipped
	shipped=$(lmp-eval --seq-len 1 --totals < "$LLAMA2" | jq .totals.flops)
	[ "$(jq .totals.flops <<<"$output")" = $((shipped - 32 * 11008)) ]
}

@test "the examples of lmp-pipeline(1) run" {
	local d="$BATS_TEST_TMPDIR/ex"
	mkdir -p "$d"
	awk -v want="$d/want" -f "$ROOT/tools/man-examples.awk" "$ROOT/man/lmp-pipeline.1" > "$d/script.sh"
	[ "$(grep -c '^### ' "$d/want")" = 3 ]
	(cd "$d" && PATH="$ROOT:$ROOT/bin:$PATH" bash -e -o pipefail script.sh) > "$d/got"
	grep -q '^\[64,' "$d/got"
}

@test "pipeline.sh under a parent that ignores SIGPIPE, and the seeds' --batch_size with query lists" {
	# a service manager starts jobs with SIGPIPE ignored: the tools restore it,
	# so the first failure is the only message and its status the chain's
	run --separate-stderr bash -c "trap '' PIPE; '$ROOT/pipeline.sh' meta-llama/Llama-2-7b-hf --totals \
		--batch-size \"\$(seq -s, 1 300)\" --seq-len \"\$(seq -s, 1 100)\" --hardware nvidia-h100-sxm --format nope"
	[ "$status" -eq 2 ]
	[ "$(printf '%s\n' "$stderr" | wc -l)" = 1 ]
	[[ "$stderr" == "lmp-report: --format: 'nope' is not one of"* ]]
	run "$ROOT/pipeline.sh" "$LLAMA2" --batch_size 4 --input-tokens 100 --cached-tokens 0 --totals
	assert_success
	[ "$(jq .runtime.batch_size <<<"$output")" = 4 ]
	# option values are data: no globbing
	run --separate-stderr bash -c "cd '$BATS_TEST_TMPDIR' && touch 17 19 && '$ROOT/pipeline.sh' meta-llama/Llama-2-7b-hf --input-tokens '1*' 2 --cached-tokens 0 0"
	[[ "$stderr" == *"'1*:0,2:0' is not a list"* ]]
}

# One section of a man page: from its .Sh line to the next.
section() {
	awk -v s=".Sh $1" '$0 == s { on = 1; next } /^\.Sh / { on = 0 } on' "$2"
}

@test "every runtime option of lmp-eval's table is routed, in every synopsis and in the man pages" {
	# A copy of pipeline.sh beside stub tools that record their arguments.
	local d="$BATS_TEST_TMPDIR/p" name type tool json fix
	mkdir -p "$d/bin"
	cp "$ROOT/pipeline.sh" "$d/"
	for t in inspect ensure populate eval roofline report; do
		printf '#!/bin/sh\necho "${0##*/} $*" >> "%s/args"\ncat > /dev/null\n' "$d" > "$d/bin/lmp-$t"
		chmod +x "$d/bin/lmp-$t"
	done
	run lmp-eval --list-options
	assert_success
	[ "${lines[0]}" = $'option\ttype\targument\tlist\tdefault\tmin\tmax\ttool\tjson\tpopulate\tdescription' ]
	[ "${#lines[@]}" -gt 8 ]
	local rows row n=0
	mapfile -t rows < <(tail -n +2 <<<"$output")
	for row in "${rows[@]}"; do
		IFS=$'\t' read -r name type _ _ _ _ _ tool json fix _ <<<"$row"
		n=$((n + 1))
		: > "$d/args"
		"$d/pipeline.sh" m "--$name" 1:0 < /dev/null || { echo "pipeline.sh refuses --$name"; return 1; }
		grep -qx -- "$tool.* --$name 1:0.*" "$d/args" || { echo "pipeline.sh does not route --$name to $tool"; return 1; }
		"$d/pipeline.sh" --help | grep -q -- "--$name" || { echo "--$name not in pipeline.sh --help"; return 1; }
		section SYNOPSIS "$ROOT/man/lmp-pipeline.1" | grep -q "Fl \\\\-$name" || { echo "--$name not in lmp-pipeline(1)"; return 1; }
		"$tool" --help | grep -q -- "--$name" || { echo "--$name not in $tool --help"; return 1; }
		for s in SYNOPSIS OPTIONS; do
			section $s "$ROOT/man/$tool.1" | grep -q "Fl \\\\-$name" || { echo "--$name not in $tool(1) $s"; return 1; }
		done
		[ "$json" = "$(tr - _ <<<"$name")" ] || { echo "--$name is written as $json"; return 1; }
		if [ "$fix" != - ]; then
			lmp-populate --help | grep -q -- "--$name" || { echo "--$name not in lmp-populate --help"; return 1; }
			section SYNOPSIS "$ROOT/man/lmp-populate.1" | grep -q "Fl \\\\-$name" || { echo "--$name not in lmp-populate(1)"; return 1; }
		fi
	done
	[ "$n" -eq "$(( ${#lines[@]} - 1 ))" ]
}

@test "in a chain (LMP_CHAIN, as pipeline.sh sets it) a tool whose standard input is empty fails without a word; alone it says why" {
	for t in lmp-ensure lmp-populate lmp-eval "lmp-roofline --hardware nvidia-h100-sxm" lmp-report; do
		LMP_CHAIN=1 run --separate-stderr $t < /dev/null
		[ "$status" -eq 1 ] && [ -z "$output" ] && [ -z "$stderr" ] || { echo "$t in a chain: $status '$stderr'"; false; }
		run --separate-stderr $t < /dev/null
		[ "$status" -eq 1 ] && [ -z "$output" ] && [[ "$stderr" == "${t%% *}: <stdin>: "* ]] || { echo "$t alone: $status '$stderr'"; false; }
	done
	# a named file is never "the tool before": its emptiness is said
	: > "$BATS_TEST_TMPDIR/empty.json"
	LMP_CHAIN=1 run --separate-stderr lmp-eval "$BATS_TEST_TMPDIR/empty.json"
	[ "$status" -eq 1 ] && [[ "$stderr" == "lmp-eval: "*"empty.json"* ]]
	LMP_CHAIN=1 run --separate-stderr lmp-roofline --hardware nvidia-h100-sxm "$BATS_TEST_TMPDIR/empty.json"
	[ "$status" -eq 1 ] && [[ "$stderr" == "lmp-roofline: "*"empty.json"* ]]
}

@test "pipeline.sh --strict goes to lmp-inspect: an unknown config field is a warning without it, the chain's one error with it" {
	local f="$BATS_TEST_TMPDIR/config.json"
	# SmolLM2's config (a llama) carries is_llama_config and rope_interleaved
	jq '. + {is_llama_config: true, rope_interleaved: false}' "$ROOT/share/lmp/configs/meta-llama/Llama-3.2-1B/config.json" > "$f"
	run --separate-stderr "$ROOT/pipeline.sh" "$f" --seq-len 1 --totals
	[ "$status" -eq 0 ]
	[ "$stderr" = "lmp-inspect: warning: 2 config fields not used: is_llama_config, rope_interleaved" ]
	[ "$(printf '%s' "$output" | jq -c .model.config_unused)" = '["is_llama_config","rope_interleaved"]' ]
	run --separate-stderr "$ROOT/pipeline.sh" "$f" --strict --seq-len 1 --totals
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "$stderr" = 'lmp-inspect: config fields "is_llama_config", "rope_interleaved" are not understood by the llama template (they may change the architecture)' ]
	# a config without them passes --strict
	run --separate-stderr "$ROOT/pipeline.sh" meta-llama/Llama-3.2-1B --strict --seq-len 1 --totals
	[ "$status" -eq 0 ] && [ -z "$stderr" ]
}
