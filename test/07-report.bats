#!/usr/bin/env bats
# lmp-report: tables (text, markdown, CSV), JSON passthrough, the SVG
# roofline and line charts, the HTML page; golden reports of two models.

load helper

G="$ROOT/test/golden"
PRE="$G/llama2-7b-prefill-h100.json"
GEN="$G/qwen3-30b-a3b-generate-a100.json"

# headless Chromium as the tests run it: no sandbox (root in CI), a
# throw-away profile, bounded in time.  Where no chromium is installed the
# test is skipped from here on (what it checked before still counts):
# Debian packages chromium (tools/deps.sh installs it), Ubuntu only a snap.
chrome() {
	local bin
	bin=$(command -v chromium || command -v chromium-browser) ||
		skip "chromium not installed (Ubuntu ships it as a snap only)"
	timeout 120 "$bin" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$BATS_TEST_TMPDIR/chrome" "$@"
}

@test "the golden reports of two models: text, markdown and CSV (make golden rewrites them)" {
	for j in "$PRE" "$GEN"; do
		for f in text md csv; do
			lmp-report --format $f "$j" > "$BATS_TEST_TMPDIR/out"
			cmp -s "$BATS_TEST_TMPDIR/out" "${j%.json}.$f" ||
				fail "$(basename "${j%.json}").$f differs: $(diff "${j%.json}.$f" "$BATS_TEST_TMPDIR/out" | head -5)"
		done
	done
	# and the golden inputs are what the tools make today
	sh "$ROOT/tools/make-golden.sh" "$BATS_TEST_TMPDIR/g"
	for f in "$BATS_TEST_TMPDIR"/g/*; do
		cmp -s "$f" "$G/$(basename "$f")" || fail "test/golden/$(basename "$f") is stale: run make golden"
	done
}

@test "the text report of Llama-2-7B's prefill, q_proj and the totals by hand" {
	run lmp-report --format text "$PRE"
	assert_success
	# q_proj, one of 32: 4096 x 4096 = 16,777,216 weights (16.78 M), 2 bytes
	# each = 32 MiB; 2 x 2048 x 4096 x 4096 = 68,719,476,736 FLOPs (68.72 G);
	# reads = weights + input 2048 x 4096 x 2 B = 32 + 16 MiB; writes 16 MiB;
	# intensity 68,719,476,736 / 64 MiB = 1024; time on 989.4 TFLOP/s:
	# 68,719,476,736 / 989.4e12 = 69.46 us; compute-bound (1024 > 295 ridge)
	assert_line --regexp '^model\.layers\.\*\.self_attn\.q_proj +32 +16\.78 M +68\.72 GFLOPs +32\.00 MiB +48\.00 MiB +16\.00 MiB +1024\.0 +69\.46 us +[0-9.]+% +compute$'
	# the ridge point: 989.4e12 / 3.35e12 = 295.34 FLOP/B
	assert_line --partial 'bf16 989.40 TFLOP/s, memory 3.35 TB/s, ridge point 295.3 FLOP/B'
	# Llama-2-7B: 6,738,415,616 parameters (test/01-inspect.bats derives it)
	assert_line --regexp '^  parameters +6\.74 G \(6,738,415,616\)$'
	# KV cache: 2 (K, V) x 32 layers x 2048 tokens x 4096 x 2 bytes = 1 GiB
	assert_line --regexp '^  KV cache +1\.00 GiB \(1,073,741,824 bytes\)$'
	# stored weights 6,738,415,616 x 2 B = 13,476,831,232 B = 12.55 GiB
	assert_line --partial 'weights 12.55 GiB + KV cache 1.00 GiB'
	assert_line --regexp '^  storage +weights 12\.55 GiB at 16 bits \(13,476,831,232 bytes\) \+ KV cache 1\.00 GiB$'
}

@test "CSV: one header, exact numbers, layer rows add up to the total" {
	run lmp-report --format csv "$PRE"
	assert_success
	[ "$(grep -c '^doc,level,model,' <<<"$output")" = 1 ]
	# q_proj's FLOPs exactly: 2 x 2048 x 4096 x 4096
	local col
	col=$(head -1 <<<"$output" | tr , '\n' | grep -nx flops | cut -d: -f1)
	[ "$(grep ',model.layers.\*.self_attn.q_proj,' <<<"$output" | cut -d, -f"$col")" = $((2 * 2048 * 4096 * 4096)) ]
	# sum over layers of count x flops = the total row (both below 2^53)
	local cnt sum total
	cnt=$(head -1 <<<"$output" | tr , '\n' | grep -nx count | cut -d: -f1)
	sum=$(awk -F, -v c="$cnt" -v f="$col" '$2 == "layer" { s += $c * $f } END { printf "%.0f", s }' <<<"$output")
	total=$(awk -F, -v f="$col" '$2 == "total" { print $f }' <<<"$output")
	[ "$sum" = "$total" ]
	[ "$total" = "$(jq .totals.flops "$PRE")" ]
	# a sweep of two documents: still one header, rows numbered by document
	lmp-eval --totals --batch-size 1,2 --seq-len 128 < "$LLAMA2" | lmp-report --format csv > "$BATS_TEST_TMPDIR/s.csv"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/s.csv")" = 3 ]
	[ "$(cut -d, -f1,2 "$BATS_TEST_TMPDIR/s.csv" | tail -2 | paste -sd' ')" = "1,total 2,total" ]
}

@test "numbers past 2^53 keep every digit in CSV, text and JSON" {
	# Llama-3.1-405B prefilling 64 x 131072 tokens: FLOPs pass 10^20
	lmp-eval --totals --batch-size 64 --seq-len 131072 < "$ROOT/models/meta-llama--Llama-3.1-405B.populated.json" > "$BATS_TEST_TMPDIR/big.json"
	local want
	want=$(grep -o '"totals":{"param_count":[0-9]*,"flops":[0-9]*' "$BATS_TEST_TMPDIR/big.json" | head -1 | cut -d: -f4)
	[ "${#want}" -ge 17 ] # 2^53 has 16 digits
	run lmp-report --format csv "$BATS_TEST_TMPDIR/big.json"
	assert_output --partial ",$want,"
	run lmp-report --format json "$BATS_TEST_TMPDIR/big.json"
	assert_output --partial "\"flops\":$want,"
}

@test "markdown: GitHub tables with right-aligned numbers" {
	run lmp-report --format md "$GEN"
	assert_success
	assert_line '## Qwen/Qwen3-30B-A3B: batch\_size 4, prompt\_len 128, gen\_len 4, w16 a16 kv16'
	assert_line '| path | count | params | FLOPs | weights | reads | writes | intensity | time | % time | bound |'
	assert_line '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |'
	# every table row has the header's 11 cells
	[ "$(grep '^| model' <<<"$output" | awk -F' \\| ' '{ print NF }' | sort -u)" = 11 ]
	# 128 experts, 8 routed: 48 layers x 128 = 6,144 expert instances
	assert_line --regexp '^\| model\.layers\.\\\*\.mlp\.experts\.\\\*\.gate\\_proj \| 6,144 \|'
}

@test "a generation: one table per phase, TTFT and TPOT, active parameters" {
	run lmp-report --format text "$GEN"
	assert_success
	assert_line 'prefill: 1 step, batch_size 4, seq_len 128, cache_len 0, w16 a16 kv16'
	assert_line 'decode: 3 steps (rows: all steps), seq_len 1, cache_len 128..130'
	# TTFT is the prefill's time; TPOT the decode's over its 3 steps
	local ttft tpot
	ttft=$(jq '.phases.prefill.totals.time_s * 1000 * 100 | round / 100' "$GEN")
	tpot=$(jq '.phases.decode.totals.time_s / 3 * 1000 * 100 | round / 100' "$GEN")
	assert_line --regexp "^  TTFT, TPOT +$(printf '%.2f' "$ttft") ms, $(printf '%.2f' "$tpot") ms$"
	# Qwen3-30B-A3B: 30,532,122,624 parameters (official, test/01-inspect.bats)
	assert_line --partial '30.53 G (30,532,122,624)'
	assert_line --regexp '^  active per token '
}

@test "JSON passes documents through unchanged, and is what a pipe gets by default" {
	lmp-eval --totals --batch-size 1,2 --seq-len 7 < "$LLAMA2" > "$BATS_TEST_TMPDIR/in.json"
	lmp-report --format json "$BATS_TEST_TMPDIR/in.json" > "$BATS_TEST_TMPDIR/out.json"
	cmp "$BATS_TEST_TMPDIR/in.json" "$BATS_TEST_TMPDIR/out.json"
	lmp-report < "$BATS_TEST_TMPDIR/in.json" > "$BATS_TEST_TMPDIR/out2.json"
	cmp "$BATS_TEST_TMPDIR/in.json" "$BATS_TEST_TMPDIR/out2.json"
	# pretty input comes out compact, one document per line
	lmp-eval --totals --pretty --seq-len 7 < "$LLAMA2" | lmp-report --format json > "$BATS_TEST_TMPDIR/c.json"
	[ "$(wc -l < "$BATS_TEST_TMPDIR/c.json")" = 1 ]
	cmp <(jq -S . "$BATS_TEST_TMPDIR/c.json") <(lmp-eval --totals --seq-len 7 < "$LLAMA2" | jq -S .)
}

# report_same EDIT: $BATS_TEST_TMPDIR/in edited (a sed script; cat leaves
# it) is reported alike from its text and through cJSON, as JSON, CSV,
# text and markdown: output, errors and status
report_same() {
	local a=$1 in="$BATS_TEST_TMPDIR/in" ed="$BATS_TEST_TMPDIR/edited" out err rc f
	case $a in
	cat) cp "$in" "$ed" ;;
	*) sed "$a" "$in" > "$ed"; ! cmp -s "$in" "$ed" || fail "$a: no edit made" ;;
	esac
	for f in json csv text md; do
		run_split lmp-report --format $f "$ed"
		out=$output err=$stderr rc=$status
		run_split env LMP_REPORT_NODIRECT=1 lmp-report --format $f "$ed"
		[ "$status" = "$rc" ] && [ "$output" = "$out" ] && [ "$stderr" = "$err" ] ||
			fail "$a, $f: the text and the tree differ"
	done
}

@test "JSON, CSV and the tables read a document already as lmp prints it from its text, any other through cJSON: the same bytes, errors and status" {
	local in="$BATS_TEST_TMPDIR/in" a
	# what the tools write (lines 1 to 8): a sweep's totals (batch 1 and 8
	# at 100 and 2000 tokens), a request's rows, a layout's, an
	# architecture, a populated document
	lmp-eval --totals --hardware nvidia-h100-sxm --batch-size 1,8 --seq-len 100,2000 "$LLAMA2" > "$in"
	lmp-eval --hardware nvidia-h100-sxm --batch-size 2 --prompt-len 300 --gen-len 9 "$LLAMA2" >> "$in"
	lmp-eval --tp 2 --batch-size 3 --seq-len 10 "$ROOT/models/deepseek-ai--DeepSeek-V3.populated.json" >> "$in"
	lmp-inspect meta-llama/Llama-2-7b-hf >> "$in"
	lmp-report --format json "$LLAMA2" >> "$in"
	[ "$(wc -l < "$in")" = 8 ]
	report_same cat
	lmp-report --format json "$in" > "$BATS_TEST_TMPDIR/out"
	cmp "$in" "$BATS_TEST_TMPDIR/out"
	# text lmp does not write, or writes but the reader refuses: a space,
	# an escaped letter, slash or NUL, text past ASCII (valid UTF-8 or
	# not), numbers written otherwise or refused, a repeated key, a
	# document cut short, not JSON, or followed by garbage; each in the
	# middle of the stream (an error's line and column count the lines
	# before it, and the documents before it are written)
	for a in '3s/"lmp":"roofline",/"lmp": "roofline",/' '3s/"seq_len":100/"seq_len":\t100/' \
		'3s/"llama"/"ll\\u0061ma"/' '5s|"main"|"ma\\/in"|' '3s/"lmp"/"\\u0000"/' \
		'3s/"main"/"m\xc3\xa4in"/' '3s/"main"/"m\xffin"/' \
		'3s/"batch_size":8/"batch_size":08/' '3s/"batch_size":8/"batch_size":1e999/' \
		'3s/"batch_size":8/"batch_size":8.0/' '3s/"batch_size":8/"batch_size":8e0/' \
		'3s/"batch_size":8/"batch_size":8,"batch_size":8/' \
		'5s/}$//' '5s/^{/{{/' '5s/$/x/'; do
		report_same "$a"
	done
	# keys, strings and escapes the text's tree unescapes for CSV: a
	# class with a comma and a quote, a path with a tab and a backslash,
	# a model id a spreadsheet would run, a newline (each is quoted)
	report_same '5s/"class":"torch.nn.modules.sparse.Embedding"/"class":"a,\\"b\\""/'
	report_same '5s/"path":"model.norm"/"path":"x\\ty\\\\z"/'
	report_same '1s|"id":"meta-llama/Llama-2-7b-hf"|"id":"=1+2\\n3"|'
	# the same documents pretty: every one through the tree, the same lines
	jq . "$in" > "$BATS_TEST_TMPDIR/pretty"
	cmp <(lmp-report --format json "$BATS_TEST_TMPDIR/pretty") "$in"
	cmp <(lmp-report --format csv "$BATS_TEST_TMPDIR/pretty") <(lmp-report --format csv "$in")
}

@test "text and markdown build a sweep's table as the documents come: 20,000 points in 60 MB of address space" {
	# AddressSanitizer reserves terabytes of address space for its shadow memory
	[ -z "$LMP_SANITIZED" ] || skip "ulimit -v cannot bound a sanitized build's address space"
	local s="$BATS_TEST_TMPDIR/s.ndjson" md="$BATS_TEST_TMPDIR/s.md"
	# 20,000 points (200 batches x 100 contexts), 52 MB of documents: their
	# trees would take over 300 MB; the table's cells about 20 MB
	lmp-eval --totals --hardware nvidia-h100-sxm --batch-size "$(seq -s, 1 200)" --seq-len "$(seq -s, 128 128 12800)" \
		"$LLAMA2" > "$s"
	run bash -c "ulimit -v 60000; lmp-report --format md '$s' > '$md'"
	assert_success
	grep -qx '## 20000 points' "$md"
	[ "$(grep -c '^| meta-llama/Llama-2-7b-hf | nvidia-h100-sxm |' "$md")" = 20000 ]
	# the first and the last point's rows, in the order read: batch 1 x 128
	# tokens, batch 200 x 12800
	grep '^| meta-llama/' "$md" | head -1 | grep -q '^| meta-llama/Llama-2-7b-hf | nvidia-h100-sxm | 1 | 128 | 0 | 16/16/16 |'
	grep '^| meta-llama/' "$md" | tail -1 | grep -q '^| meta-llama/Llama-2-7b-hf | nvidia-h100-sxm | 200 | 12800 | 0 | 16/16/16 |'
	run bash -c "ulimit -v 60000; lmp-report --format text '$s' | grep -c '^meta-llama/Llama-2-7b-hf '"
	assert_success
	[ "$output" = 20000 ]
	# HTML keeps every document for its charts: the same limit is too small
	run bash -c "ulimit -v 60000; lmp-report --format html '$s' > /dev/null"
	assert_failure
}

@test "a sweep without layers: one table, one row per point" {
	lmp-eval --totals --batch-size 1,8 --seq-len 512 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm > "$BATS_TEST_TMPDIR/s.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/s.json"
	assert_success
	assert_line '2 points'
	# batch 8 x 512 tokens: KV 2 x 32 x 4096 x 4096 x 2 B = 2 GiB
	assert_line --regexp '^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm +8 +512 +0 +16/16/16 .* 2\.00 GiB .*'
}

@test "architecture, populated and module documents are reported too" {
	run lmp-report --format text "$ROOT/models/openai-community--gpt2.arch.json"
	assert_success
	assert_line --index 0 'openai-community/gpt2: inspected architecture'
	# GPT-2 has 12 blocks: the block's attention projection appears once with count 12
	assert_line --regexp '^transformer\.h\.\*\.attn\.c_attn +transformers\.pytorch_utils\.Conv1D +12 '
	run lmp-report --format text "$ROOT/models/openai-community--gpt2.populated.json"
	assert_success
	assert_line --index 0 'openai-community/gpt2: populated architecture'
	run lmp-eval --module torch.nn.modules.linear.Linear --batch-size 1 --seq-len 16 in_features=4096 out_features=4096 bias=0
	assert_success
	run lmp-report --format text <<<"$output"
	assert_success
	# 2 x 16 x 4096 x 4096 = 536,870,912 FLOPs
	assert_line --regexp '^  FLOPs +536\.87 MFLOPs \(536,870,912\)$'
}

@test "SVG roofline: valid XML, the device's ceilings, labelled layers, and it renders" {
	lmp-report --format svg "$PRE" > "$BATS_TEST_TMPDIR/r.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/r.svg"
	# H100 SXM: bf16 = fp16 = 989.4 TFLOP/s share one ceiling; fp8 = int8 = 1978.9
	grep -A1 '>bf16, fp16</text>' "$BATS_TEST_TMPDIR/r.svg" | grep -q '>989.40 TFLOP/s</text>'
	grep -A1 '>fp8, int8</text>' "$BATS_TEST_TMPDIR/r.svg" | grep -q '>1.98 PFLOP/s</text>'
	# the precision in use is drawn bold; the others grey
	grep -q 'font-weight="bold">bf16, fp16</text>' "$BATS_TEST_TMPDIR/r.svg"
	grep -q '>memory 3.35 TB/s</text>' "$BATS_TEST_TMPDIR/r.svg"
	# q, k, v and o projections have the same intensity and time: one marker
	grep -q '<title>q_proj, k_proj, v_proj, o_proj</title>' "$BATS_TEST_TMPDIR/r.svg"
	grep -q 'arithmetic intensity (FLOP/B)' "$BATS_TEST_TMPDIR/r.svg"
	# deterministic
	lmp-report --format svg "$PRE" | cmp - "$BATS_TEST_TMPDIR/r.svg"
	# renders to a PNG that differs from a blank canvas of the same size
	printf '<svg xmlns="http://www.w3.org/2000/svg" width="1000" height="600"><rect width="100%%" height="100%%" fill="#ffffff"/></svg>\n' > "$BATS_TEST_TMPDIR/blank.svg"
	chrome --window-size=1000,600 --screenshot="$BATS_TEST_TMPDIR/r.png" "file://$BATS_TEST_TMPDIR/r.svg" 2>/dev/null
	chrome --window-size=1000,600 --screenshot="$BATS_TEST_TMPDIR/blank.png" "file://$BATS_TEST_TMPDIR/blank.svg" 2>/dev/null
	[ -s "$BATS_TEST_TMPDIR/r.png" ] && [ -s "$BATS_TEST_TMPDIR/blank.png" ]
	! cmp -s "$BATS_TEST_TMPDIR/r.png" "$BATS_TEST_TMPDIR/blank.png"
	[ "$(wc -c < "$BATS_TEST_TMPDIR/r.png")" -gt $(( $(wc -c < "$BATS_TEST_TMPDIR/blank.png") * 4 )) ]
}

@test "--plot: a line per model and device over a sweep" {
	for m in meta-llama--Llama-2-7b-hf Qwen--Qwen3-8B; do
		for h in nvidia-h100-sxm nvidia-a100-sxm-80gb; do
			lmp-eval --totals --batch-size 1,4,16 --prompt-len 128 --gen-len 2 < "$ROOT/models/$m.populated.json" |
				lmp-roofline --hardware $h
		done
	done > "$BATS_TEST_TMPDIR/sweep.json"
	lmp-report --format svg --plot batch_size:tokens_per_s "$BATS_TEST_TMPDIR/sweep.json" > "$BATS_TEST_TMPDIR/p.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/p.svg"
	# 2 models x 2 devices = 4 lines of 3 points each
	[ "$(grep -c '<polyline' "$BATS_TEST_TMPDIR/p.svg")" = 4 ]
	grep -q '>meta-llama/Llama-2-7b-hf / nvidia-h100-sxm</text>' "$BATS_TEST_TMPDIR/p.svg"
	grep -q '>tokens per second against batch size</text>' "$BATS_TEST_TMPDIR/p.svg"
	[ "$(grep '<polyline' "$BATS_TEST_TMPDIR/p.svg" | head -1 | grep -o '[0-9.]*,[0-9.]*' | wc -l)" = 3 ]
	# the page's title counts models, not documents: 2 models in 12 documents
	lmp-report --format html "$BATS_TEST_TMPDIR/sweep.json" | grep -q '<h1>lmp report: meta-llama/Llama-2-7b-hf and 1 other</h1>'
	# one line per device only
	lmp-report --format svg --plot batch_size:tokens_per_s --series hardware "$BATS_TEST_TMPDIR/sweep.json" > "$BATS_TEST_TMPDIR/d.svg"
	[ "$(grep -c '<polyline' "$BATS_TEST_TMPDIR/d.svg")" = 2 ]
	# a field no document has
	run_split lmp-report --format svg --plot batch_size:nonsense "$BATS_TEST_TMPDIR/sweep.json"
	assert_clean_failure lmp-report "document 1 has no number 'nonsense'"
}

@test "HTML: one self-contained page that opens without console errors" {
	lmp-report --format html "$GEN" > "$BATS_TEST_TMPDIR/r.html"
	lmp-report --format html "$GEN" | cmp - "$BATS_TEST_TMPDIR/r.html"
	grep -q '<svg xmlns="http://www.w3.org/2000/svg"' "$BATS_TEST_TMPDIR/r.html"
	grep -q '<table>' "$BATS_TEST_TMPDIR/r.html"
	# nothing to fetch: no script, no src, no link but the empty data: icon
	! grep -qi '<script' "$BATS_TEST_TMPDIR/r.html"
	! grep -qi ' src=' "$BATS_TEST_TMPDIR/r.html"
	[ "$(grep -oi 'href="[^"]*"' "$BATS_TEST_TMPDIR/r.html" | sort -u)" = 'href="data:,"' ]
	# the check itself sees a console error when there is one
	printf '<!DOCTYPE html><html><body><script>nosuch();</script></body></html>\n' > "$BATS_TEST_TMPDIR/bad.html"
	chrome --enable-logging=stderr --v=0 --dump-dom "file://$BATS_TEST_TMPDIR/bad.html" 2> "$BATS_TEST_TMPDIR/bad.log" > /dev/null
	grep -q ':CONSOLE' "$BATS_TEST_TMPDIR/bad.log"
	chrome --enable-logging=stderr --v=0 --dump-dom "file://$BATS_TEST_TMPDIR/r.html" 2> "$BATS_TEST_TMPDIR/r.log" > "$BATS_TEST_TMPDIR/dom.html"
	! grep ':CONSOLE' "$BATS_TEST_TMPDIR/r.log"
	grep -q 'Qwen/Qwen3-30B-A3B' "$BATS_TEST_TMPDIR/dom.html"
}

@test "bad input and bad options: one line, non-zero, nothing on stdout" {
	run_split lmp-report --format text <<<'{"lmp": "eval",'
	assert_clean_failure lmp-report "<stdin>"
	run_split lmp-report --format text < /dev/null
	assert_clean_failure lmp-report "no document on input"
	run_split lmp-report --format text <<<'{"lmp": "hardware"}'
	assert_clean_failure lmp-report 'not an lmp document ("lmp": "hardware")'
	run_split lmp-report --format pdf "$PRE"
	assert_clean_failure lmp-report "--format: 'pdf' is not one of text, md, csv, json, svg, html"
	[ "$status" -eq 2 ]
	run_split lmp-report --format svg --plot batch_size "$PRE"
	assert_clean_failure lmp-report "--plot: expected X:Y"
	run_split lmp-report --format text --plot a:b "$PRE"
	assert_clean_failure lmp-report "use it with --format svg or html"
	# a roofline chart needs roofline documents, on one device
	run_split lmp-report --format svg "$LLAMA2"
	assert_clean_failure lmp-report "not a roofline document"
	cat "$PRE" > "$BATS_TEST_TMPDIR/two.json"
	lmp-eval --seq-len 8 < "$LLAMA2" | lmp-roofline --hardware nvidia-a10 >> "$BATS_TEST_TMPDIR/two.json"
	run_split lmp-report --format svg "$BATS_TEST_TMPDIR/two.json"
	assert_clean_failure lmp-report "one roofline chart shows one device"
	run_split lmp-report --format text "$BATS_TEST_TMPDIR/nonexistent.json"
	assert_clean_failure lmp-report "nonexistent.json"
	[ "$status" -eq 3 ]
}

@test "--help matches the man page's synopsis, for every tool" {
	for t in lmp-inspect lmp-ensure lmp-populate lmp-eval lmp-roofline lmp-report lmp-calibrate lmp-pipeline; do
		# the long options of the usage lines of each, sorted
		local h m cmd=$t
		[ "$t" = lmp-pipeline ] && cmd=$ROOT/pipeline.sh
		h=$("$cmd" --help | awk '/^usage:/ { on = 1 } on && !/^(usage:| )/ { exit } on' |
			grep -o -- '--[a-z][a-z-]*' | sort -u | paste -sd' ')
		m=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh /p' "$ROOT/man/$t.1" | grep -o '\\-[a-z][a-z-]*' | sed 's/^\\/-/' | sort -u | paste -sd' ')
		[ -n "$h" ] && [ "$h" = "$m" ] || fail "$t: --help has [$h], the man page [$m]"
	done
}

@test "hostile documents: no file opened on their say, no broken XML, no escapes, no crash" {
	# the device a document names is looked up among the shipped ones, never opened as a path
	jq -c '.roofline.hardware = "/dev/zero"' "$PRE" > "$BATS_TEST_TMPDIR/zero.json"
	run timeout 20 lmp-report --format svg "$BATS_TEST_TMPDIR/zero.json"
	assert_success
	# names cut to fit stay whole characters; control characters become '?'
	jq -c '.rows[3].path = ("a" + ("é" * 30)) | .model.id = ("é" * 200)' "$PRE" | lmp-report --format svg > "$BATS_TEST_TMPDIR/u.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/u.svg"
	jq -c '.model.id = "x\u0001y\u001b[31m"' "$PRE" | lmp-report --format svg > "$BATS_TEST_TMPDIR/c.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/c.svg"
	run lmp-report --format text <<<"$(jq -c '.model.id = "x\u001b[31mred"' "$PRE")"
	assert_line --index 0 --partial 'x?[31mred:'
	run lmp-report --format md <<<"$(jq -c '.model.id = "evil\n# heading"' "$PRE")"
	refute_line '# heading'
	# odd shapes print names, never "(null)"
	run lmp-report --format text <<<'{"lmp":"module","class":"X","params":[1,2]}'
	assert_success
	refute_output --partial '(null)'
	# figures no device has: refused, not drawn as NaN
	run_split lmp-report --format svg <<<"$(jq -c '.roofline.peak_flops = 1e308' "$PRE")"
	assert_clean_failure lmp-report "peak_flops and bandwidth must be between 1 and 1e30"
	# documents are separated as lmp-eval separates them: 1"a" is not two
	run_split lmp-report --format json <<<$'{"a":1}\n 1"a"'
	[ "$status" -eq 1 ]
	[[ "$stderr" == "lmp-report: <stdin>:2:3: trailing garbage after document" ]]
	# a time past every prefix keeps its unit
	run lmp-report --format text <<<"$(jq -c '.totals.time_s = 1e60' "$PRE")"
	assert_line --regexp '^  time +1\.00e\+60 s, compute-bound'
	# a layer without a name, on the spot of another: its marker keeps the
	# other's name (the join looked for the empty name past the label's end)
	jq -c '.rows[16].path = ""' "$PRE" > "$BATS_TEST_TMPDIR/empty.json"
	jq -c '.rows[16].path = "x"' "$PRE" > "$BATS_TEST_TMPDIR/x.json"
	cat "$BATS_TEST_TMPDIR/x.json" "$BATS_TEST_TMPDIR/empty.json" > "$BATS_TEST_TMPDIR/two.json"
	run lmp-report --format svg "$BATS_TEST_TMPDIR/two.json"
	assert_success
	xmllint --noout - <<<"$output"
}

@test "--plot with more lines than the legend holds" {
	lmp-eval --totals --batch-size 1,2 --seq-len "$(seq -s, 100 100 4000)" < "$LLAMA2" > "$BATS_TEST_TMPDIR/s.json"
	lmp-report --format svg --plot batch_size:flops --series seq_len "$BATS_TEST_TMPDIR/s.json" > "$BATS_TEST_TMPDIR/p.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/p.svg"
	[ "$(grep -c '<polyline' "$BATS_TEST_TMPDIR/p.svg")" = 40 ]
	grep -q '>+[0-9]* more lines</text>' "$BATS_TEST_TMPDIR/p.svg"
	# past ten colours, dashes tell lines apart
	grep -q 'stroke-dasharray="8 4"' "$BATS_TEST_TMPDIR/p.svg"
	# no text below the canvas
	! grep -o 'y="[0-9.]*"' "$BATS_TEST_TMPDIR/p.svg" | tr -dc '0-9.\n' | awk '$1 > 600 { exit 0 } END { exit 1 }' || false
}

@test "the storage line shows the weight bytes lmp-eval stored, exactly" {
	# Llama-2-7B at 4-bit weights: 6,738,415,616 x 4 / 8 = 3,369,207,808 bytes
	# (3.14 GiB); the KV cache of one 2048-token sequence: 2048 x 524,288 bytes
	# = 1 GiB
	lmp-eval --seq-len 2048 --w-bit 4 < "$LLAMA2" > "$BATS_TEST_TMPDIR/e.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/e.json"
	assert_success
	assert_line --partial "weights 3.14 GiB at 4 bits (3,369,207,808 bytes) + KV cache 1.00 GiB"
	# it is read from the document, never recomputed from param_count x w_bit
	jq -c '.totals.weight_bytes = 12345' "$BATS_TEST_TMPDIR/e.json" > "$BATS_TEST_TMPDIR/f.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/f.json"
	assert_line --partial "(12,345 bytes)"
}

@test "CSV: text a spreadsheet would run as a formula is quoted behind a single quote; numbers stay numbers" {
	# OWASP's CSV injection advice: a cell that starts with = + - @ (or a tab
	# or CR) is a formula to Excel and LibreOffice; prefixed with ' it is text
	jq -c '.model.id = "=1+2" | .roofline.hardware = "@x" | .rows[0].path = "-cmd" | .rows[1].class = "+1"' "$PRE" > "$BATS_TEST_TMPDIR/h.json"
	run lmp-report --format csv "$BATS_TEST_TMPDIR/h.json"
	assert_success
	assert_line --index 1 --partial "1,layer,\"'=1+2\",\"'@x\",,1,2048,0,"
	assert_line --regexp "^1,layer,.*,\"'-cmd\","
	assert_line --regexp "^1,layer,.*,\"'\\+1\","
	# no line has a bare formula cell left
	refute_line --regexp '(^|,)[=+@-][^0-9]'
	# a negative number is a number: its own text, unquoted
	# (jq would rewrite the literal: put it in with sed)
	jq -c '.totals.flops = 12345' "$PRE" | sed 's/"flops":12345/"flops":-12.5e3/' | lmp-report --format csv > "$BATS_TEST_TMPDIR/n.csv"
	local col
	col=$(head -1 "$BATS_TEST_TMPDIR/n.csv" | tr , '\n' | grep -nx flops | cut -d: -f1)
	[ "$(awk -F, -v f="$col" '$2 == "total" { print $f }' "$BATS_TEST_TMPDIR/n.csv")" = "-12.5e3" ]
}

@test "tables and CSV name the device count and layout beside the device" {
	lmp-eval --totals --batch-size 1 --seq-len 512 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm | jq -c '.roofline.devices = 8' > "$BATS_TEST_TMPDIR/d.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/d.json"
	assert_line --regexp '^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm x8 +1 +512 '
	run lmp-report --format csv "$BATS_TEST_TMPDIR/d.json"
	# the columns added last, so that the others keep their place
	assert_line --index 0 --regexp '^doc,level,model,hardware,phase,.*,fits,devices,tp,pp,ep,engine,time_model,dp$'
	assert_line --index 1 --regexp '^1,total,meta-llama/Llama-2-7b-hf,nvidia-h100-sxm,,1,512,0,.*,8,,,,,ideal,$'
	# a layout a document gives (tp, pp, ep in roofline or runtime) is named too
	jq -c '.roofline.tp = 4 | .runtime.pp = 2' "$BATS_TEST_TMPDIR/d.json" > "$BATS_TEST_TMPDIR/l.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/l.json"
	assert_line --regexp '^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm x8 tp4 pp2 +1 +512 '
	run lmp-report --format csv "$BATS_TEST_TMPDIR/l.json"
	assert_line --index 1 --regexp ',8,4,2,,,ideal,$'
	# data-parallel replicas too: 8 devices = tp 2 x pp 2 x dp 2
	jq -c '.runtime.tp = 2 | .runtime.pp = 2 | .runtime.ep = 1 | .runtime.dp = 2' "$BATS_TEST_TMPDIR/d.json" > "$BATS_TEST_TMPDIR/dp.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/dp.json"
	assert_line --regexp '^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm x8 tp2 pp2 ep1 dp2 +1 +512 '
	run lmp-report --format csv "$BATS_TEST_TMPDIR/dp.json"
	assert_line --index 1 --regexp ',8,2,2,1,,ideal,2$'
	# a document with layers says it beside the device too
	run lmp-report --format text <<<"$(jq -c '.roofline.tp = 2' "$PRE")"
	assert_line --regexp '^  device +NVIDIA H100 SXM5 80GB \(nvidia-h100-sxm tp2\)$'
	# one device, no layout: the id alone
	lmp-eval --totals --batch-size 1 --seq-len 512 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm > "$BATS_TEST_TMPDIR/one.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/one.json"
	assert_line --regexp '^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm +1 +512 '
}

@test "--plot: titles in words with units, a line per varying setting, unfit points hollow, the device's memory drawn" {
	lmp-eval --totals --batch-size 1,2,4,8,16,32,64,128,256 --prompt-len 1024,4096 --gen-len 256 < "$LLAMA2" |
		lmp-roofline --hardware nvidia-h100-sxm > "$BATS_TEST_TMPDIR/s.json"
	lmp-report --format svg --plot batch_size:needed_bytes "$BATS_TEST_TMPDIR/s.json" > "$BATS_TEST_TMPDIR/m.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/m.svg"
	grep -q '>memory needed against batch size</text>' "$BATS_TEST_TMPDIR/m.svg"
	grep -q '>memory needed (GiB)</text>' "$BATS_TEST_TMPDIR/m.svg"
	grep -q '>batch size</text>' "$BATS_TEST_TMPDIR/m.svg"
	# what is the same for all is said once; the lines are the prompt lengths
	grep -q '>meta-llama/Llama-2-7b-hf / nvidia-h100-sxm; 18 points, 2 lines, log x</text>' "$BATS_TEST_TMPDIR/m.svg"
	grep -q '>prompt 1024</text>' "$BATS_TEST_TMPDIR/m.svg"
	grep -q '>prompt 4096</text>' "$BATS_TEST_TMPDIR/m.svg"
	# Memory needed = weights 6,738,415,616 x 2 B = 13,476,831,232 B plus the
	# KV cache, 2 x 32 layers x 4096 x 2 B = 524,288 B per token over the
	# prompt + generated - 1 tokens.  80 GiB = 85,899,345,920 B leaves
	# 72,422,514,688 B: 1279 tokens x 524,288 = 670,564,352 B a sequence ->
	# 108 sequences (128, 256 do not fit); 4351 tokens -> 2,281,177,088 B ->
	# 31 (32 .. 256 do not): 6 hollow markers, and one in the legend
	[ "$(grep -c '<circle [^>]*r="3.5" fill="#ffffff"' "$BATS_TEST_TMPDIR/m.svg")" = 7 ]
	grep -q '>hollow, dashed: does not fit in memory</text>' "$BATS_TEST_TMPDIR/m.svg"
	[ "$(grep -c 'stroke-dasharray="3 3" stroke-opacity' "$BATS_TEST_TMPDIR/m.svg")" = 2 ]
	# the capacity line: axis 0 .. 600 GiB (step 200 GiB over 556 GiB) on
	# 600 - 56 - 52 = 492 px from y = 548: 548 - 80/600 x 492 = 482.40
	grep -q '<line x1="104.00" y1="482.40" x2="936.00" y2="482.40" stroke="#c03030"' "$BATS_TEST_TMPDIR/m.svg"
	grep -q '>nvidia-h100-sxm memory: 80.00 GiB</text>' "$BATS_TEST_TMPDIR/m.svg"
	# a time in the axis title's unit: TPOT 4 .. 175 ms is milliseconds
	lmp-report --format svg --plot batch_size:tpot_s "$BATS_TEST_TMPDIR/s.json" > "$BATS_TEST_TMPDIR/t.svg"
	grep -q '>time per output token (ms)</text>' "$BATS_TEST_TMPDIR/t.svg"
	# against the prompt length, the lines are the batch sizes
	lmp-report --format svg --plot prompt_len:tokens_per_s "$BATS_TEST_TMPDIR/s.json" > "$BATS_TEST_TMPDIR/p.svg"
	grep -q '>batch 8</text>' "$BATS_TEST_TMPDIR/p.svg"
	grep -q '>tokens per second</text>' "$BATS_TEST_TMPDIR/p.svg"
	[ "$(grep -c '<polyline' "$BATS_TEST_TMPDIR/p.svg")" -ge 9 ]
	# each renders
	for f in m t p; do
		chrome --window-size=960,600 --screenshot="$BATS_TEST_TMPDIR/$f.png" "file://$BATS_TEST_TMPDIR/$f.svg" 2>/dev/null
		[ "$(wc -c < "$BATS_TEST_TMPDIR/$f.png")" -gt 20000 ]
	done
}

@test "a sweep's roofline labels only each phase's ends and says what the names mean" {
	lmp-eval --totals --batch-size 1,2,4,8,16,32,64,128,256 --prompt-len 1024,4096 --gen-len 256 < "$LLAMA2" |
		lmp-roofline --hardware nvidia-h100-sxm > "$BATS_TEST_TMPDIR/s.json"
	lmp-report --format svg "$BATS_TEST_TMPDIR/s.json" > "$BATS_TEST_TMPDIR/r.svg"
	xmllint --noout "$BATS_TEST_TMPDIR/r.svg"
	# two phases (prefill, decode), two ends each: at most 4 labels, not 18 x 2
	local n
	n=$(grep -c '^<text [^>]*>b[0-9]* p[0-9]* g[0-9]*' "$BATS_TEST_TMPDIR/r.svg")
	[ "$n" -ge 2 ] && [ "$n" -le 4 ]
	grep -q '>labels: b batch, p prompt tokens, g generated</text>' "$BATS_TEST_TMPDIR/r.svg"
	# every marker still names its points in its tooltip: batch 8, prompt 4096 is one
	grep -q '<title>[^<]*b8 p4096 g256' "$BATS_TEST_TMPDIR/r.svg"
	# a few points keep all their labels
	lmp-eval --totals --batch-size 1,8 --seq-len 512 < "$LLAMA2" | lmp-roofline --hardware nvidia-h100-sxm | lmp-report --format svg > "$BATS_TEST_TMPDIR/few.svg"
	grep -q '>b1 s512 c0</text>' "$BATS_TEST_TMPDIR/few.svg"
	grep -q '>b8 s512 c0</text>' "$BATS_TEST_TMPDIR/few.svg"
	# renders (last: skipped where chromium is missing)
	chrome --window-size=1000,600 --screenshot="$BATS_TEST_TMPDIR/r.png" "file://$BATS_TEST_TMPDIR/r.svg" 2>/dev/null
	[ "$(wc -c < "$BATS_TEST_TMPDIR/r.png")" -gt 20000 ]
}

@test "HTML of a large sweep: summary and charts above, tables scroll in their own box, the table cut to its ends" {
	lmp-eval --totals --batch-size "$(seq -s, 1 250)" --prompt-len 128,512 --gen-len 16 < "$LLAMA2" |
		lmp-roofline --hardware nvidia-h100-sxm > "$BATS_TEST_TMPDIR/big.json"
	lmp-report --format html --plot batch_size:tokens_per_s "$BATS_TEST_TMPDIR/big.json" > "$BATS_TEST_TMPDIR/big.html"
	# 500 points: the first 100 and the last 100 rows, and a row saying where the rest are
	[ "$(grep -c '^<tr><td' "$BATS_TEST_TMPDIR/big.html")" = 201 ]
	grep -q '>rows 101 to 400 of 500 not shown: lmp-report --format csv writes every row</td>' "$BATS_TEST_TMPDIR/big.html"
	# the text report keeps every row
	[ "$(lmp-report --format text "$BATS_TEST_TMPDIR/big.json" | grep -c '^meta-llama/Llama-2-7b-hf ')" = 500 ]
	# the summary and both charts come before the table
	local sum plot roof table
	sum=$(grep -n '<dt>fit in memory</dt>' "$BATS_TEST_TMPDIR/big.html" | cut -d: -f1)
	plot=$(grep -n '>tokens per second against batch size</text>' "$BATS_TEST_TMPDIR/big.html" | cut -d: -f1)
	roof=$(grep -n '>Roofline: ' "$BATS_TEST_TMPDIR/big.html" | cut -d: -f1)
	table=$(grep -n '^<table>' "$BATS_TEST_TMPDIR/big.html" | head -1 | cut -d: -f1)
	[ "$sum" -lt "$plot" ] && [ "$plot" -lt "$roof" ] && [ "$roof" -lt "$table" ]
	# a few hundred kilobytes, not one row per point
	[ "$(wc -c < "$BATS_TEST_TMPDIR/big.html")" -lt 400000 ]
	# every table in a box that scrolls sideways; still no script
	[ "$(grep -c '^<table>' "$BATS_TEST_TMPDIR/big.html")" = "$(grep -A1 '^<div class="scroll">$' "$BATS_TEST_TMPDIR/big.html" | grep -c '^<table>')" ]
	grep -q '\.scroll{overflow-x:auto' "$BATS_TEST_TMPDIR/big.html"
	! grep -qi '<script' "$BATS_TEST_TMPDIR/big.html"
	chrome --enable-logging=stderr --v=0 --dump-dom "file://$BATS_TEST_TMPDIR/big.html" 2> "$BATS_TEST_TMPDIR/big.log" > /dev/null
	! grep ':CONSOLE' "$BATS_TEST_TMPDIR/big.log"
	# a narrow window: the page renders (the table scrolls in its box)
	chrome --window-size=700,1600 --screenshot="$BATS_TEST_TMPDIR/big.png" "file://$BATS_TEST_TMPDIR/big.html" 2>/dev/null
	[ "$(wc -c < "$BATS_TEST_TMPDIR/big.png")" -gt 50000 ]
}

@test "the storage line says when weights are in the checkpoint's own formats" {
	# DeepSeek-V3's config carries fp8 block quantization: the weights are
	# stored in fp8 with block scales by default, which the line must say
	# rather than "at 8 bits" (a uniform width has no scales)
	run bash -c "lmp-eval --seq-len 1 '$ROOT/models/deepseek-ai--DeepSeek-V3.populated.json' | lmp-report --format text"
	assert_success
	assert_output --partial "in the checkpoint's formats, 8-bit elements with scales"
	run bash -c "lmp-eval --seq-len 1 --w-bit 8 '$ROOT/models/deepseek-ai--DeepSeek-V3.populated.json' | lmp-report --format text"
	assert_output --partial "at 8 bits ("
}

# ---- the checkpoint (model.checkpoint) and lmp-eval's check (weights_check) ----

# A tiny Llama in a model directory, tied head (hidden 8, MLP 12, 2 layers,
# 2 heads of 4, 1 KV head, vocabulary 10), and its checkpoint as
# test/ckpt.bash builds it.
tiny_ckpt_model() {
	load ckpt
	M="$BATS_TEST_TMPDIR/m"
	mkdir -p "$M"
	jq '.hidden_size=8 | .intermediate_size=12 | .num_hidden_layers=2 | .num_attention_heads=2
	    | .num_key_value_heads=1 | .vocab_size=10 | .tie_word_embeddings=true' \
		"$ROOT/share/lmp/configs/meta-llama/Llama-2-7b-hf/config.json" > "$M/config.json"
}

@test "the checkpoint section: bytes and dtypes stored, what matched, the tied head, the extras" {
	tiny_ckpt_model
	# the model's tensors, a multi-token-prediction projection 8x16 and two
	# rotary buffers [2] stored as I32; no lm_head (tied)
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) \
		model.norm.weight:8 mtp.0.proj.weight:8x16 \
		model.layers.0.self_attn.rotary_emb.inv_freq:2:I32 model.layers.1.self_attn.rotary_emb.inv_freq:2:I32
	lmp-inspect --check-weights "$M" | lmp-populate | lmp-eval --seq-len 1 > "$BATS_TEST_TMPDIR/e.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/e.json"
	assert_success
	assert_line 'checkpoint'
	assert_line --regexp "^  directory +$M\$"
	# tensors: embed 1, 9 per layer x 2, norm 1, mtp 1, inv_freq 2 = 23.
	# Elements: per layer q 64 + k 32 + v 32 + o 64 + gate, up, down 96
	# each + two norms 8 = 496; 80 + 2 x 496 + 8 + 128 + 2 x 2 = 1,212.
	# Bytes: BF16 (1212 - 4) x 2 = 2,416, I32 4 x 4 = 16; 2,432 = 2.38 KiB.
	assert_line --regexp '^  stored +23 tensors, 1,212 elements, 2\.38 KiB \(2,432 bytes\)$'
	# 2416 / 1024 = 2.36 KiB, 2416 / 2432 = 99.3%; 16 / 2432 = 0.7%
	assert_line --regexp '^  dtypes +BF16 2\.36 KiB \(99\.3%\), I32 16 B \(0\.7%\)$'
	# matched: every path but lm_head (11), 20 tensors, 2 x 496 + 80 + 8 = 1,080
	assert_line --regexp '^  matched +11 paths, 20 tensors, 1,080 parameters$'
	assert_line --regexp '^  missing +none$'
	# lm_head 10 x 8 = 80, stored once as the embedding
	assert_line --regexp '^  tied, absent +lm_head \(80 parameters\), stored once as model\.embed_tokens$'
	# extras 128 + 2 x 2 = 132 elements in 1 + 2 tensors
	assert_line --regexp '^  extra +132 elements in 3 tensors the model does not build: mtp\.\*\.proj\.weight, model\.layers\.\*\.self_attn\.rotary_emb\.inv_freq x2$'
	refute_line --partial 'quantized'
	# the same in markdown and in the HTML page
	run lmp-report --format md "$BATS_TEST_TMPDIR/e.json"
	assert_line '### checkpoint'
	assert_line '- matched: 11 paths, 20 tensors, 1,080 parameters'
	run lmp-report --format html "$BATS_TEST_TMPDIR/e.json"
	assert_output --partial '>checkpoint</h3>'
	assert_output --partial '11 paths, 20 tensors, 1,080 parameters'
	# CSV has no column for it: the facts are the model's, the same on every
	# row and point (jq reads them from the JSON); the CSV is unchanged
	jq -c 'del(.model.checkpoint, .weights_check)' "$BATS_TEST_TMPDIR/e.json" > "$BATS_TEST_TMPDIR/bare.json"
	[ "$(lmp-report --format csv "$BATS_TEST_TMPDIR/e.json" | sed 's/^[^,]*,[^,]*,//' | md5sum)" = \
	  "$(lmp-report --format csv "$BATS_TEST_TMPDIR/bare.json" | sed 's/^[^,]*,[^,]*,//' | md5sum)" ]
	# without a checkpoint: no section
	run lmp-report --format text "$BATS_TEST_TMPDIR/bare.json"
	refute_line 'checkpoint'
	refute_line --partial 'matched'
}

@test "the checkpoint section: missing parameters listed, AWQ rows matched or, unmapped, unchecked; an architecture shows the facts only" {
	tiny_ckpt_model
	# AWQ packs 8 outputs a word (N % 8 == 0): 2 KV heads, intermediate 16
	jq '.tie_word_embeddings = false | .num_key_value_heads = 2 | .intermediate_size = 16
	    | .quantization_config = {"quant_method":"awq","bits":4,"group_size":4,"zero_point":true}' \
		"$M/config.json" > "$M/c" && mv "$M/c" "$M/config.json"
	# each layer's seven linears as AWQ stores them (qweight I32 [K, N/8],
	# qzeros I32 [K/4, N/8], scales [K/4, N]) and its norms; no final norm,
	# no lm_head
	t="model.embed_tokens.weight:10x8"
	for l in 0 1; do
		p=model.layers.$l
		t="$t $p.input_layernorm.weight:8 $p.post_attention_layernorm.weight:8"
		for lin in self_attn.q_proj:8:8 self_attn.k_proj:8:8 self_attn.v_proj:8:8 self_attn.o_proj:8:8 \
			mlp.gate_proj:8:16 mlp.up_proj:8:16 mlp.down_proj:16:8; do
			IFS=: read -r name k n <<<"$lin"
			w=$(((n + 7) / 8))
			t="$t $p.$name.qweight:${k}x$w:I32 $p.$name.qzeros:$((k / 4))x$w:I32 $p.$name.scales:$((k / 4))x$n"
		done
	done
	# shellcheck disable=SC2086
	ckpt "$M/model.safetensors" $t
	lmp-inspect --check-weights "$M" > "$BATS_TEST_TMPDIR/a.json"
	lmp-populate "$BATS_TEST_TMPDIR/a.json" | lmp-eval --seq-len 1 > "$BATS_TEST_TMPDIR/e.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/e.json"
	assert_success
	# each qweight maps back to its weight [N, K] (lmp-inspect(1)), so the
	# linears are matched by shape: embed 80, the two norms of both layers
	# 2 x 2 x 8 = 32, and the 7 linears of both layers, 2 x (4 x 64 + 3 x
	# 128) = 1280: 80 + 32 + 1280 = 1392 parameters over 3 + 7 = 10 paths,
	# 1 + 4 + 14 = 19 tensors
	assert_line --regexp '^  matched +10 paths, 19 tensors, 1,392 parameters$'
	refute_line --partial 'quantized format'
	# missing: the final norm 8 and the untied head 80 = 88
	assert_line --regexp '^  missing +88 parameters: model\.norm \(8\), lm_head \(80\)$'
	refute_line --partial 'tied, absent'
	assert_line --regexp '^  extra +none$'
	# an inventory that does not map them back: the 7 linears of both layers
	# claim their 7 x 3 x 2 = 42 tensors, 1280 parameters, not compared
	jq 'del(.model.checkpoint.tensors[].logical, .model.checkpoint.tensors[].aux_of)' "$BATS_TEST_TMPDIR/a.json" |
		lmp-populate | lmp-eval --seq-len 1 > "$BATS_TEST_TMPDIR/u.json"
	run lmp-report --format text "$BATS_TEST_TMPDIR/u.json"
	assert_success
	assert_line --regexp '^  matched +3 paths, 5 tensors, 112 parameters$'
	assert_line --regexp '^  quantized +7 paths, 42 tensors, 1,280 parameters in a quantized format: packed tensors, counts not compared$'
	# the architecture document: the checkpoint's facts, the check is lmp-eval's
	run lmp-report --format text "$BATS_TEST_TMPDIR/a.json"
	assert_success
	assert_line --regexp '^  check +not made here: lmp-eval compares the model with it \(weights_check\)$'
	refute_line --partial 'matched'
}

@test "a sweep names the checkpoint once per model in one line" {
	tiny_ckpt_model
	# shellcheck disable=SC2046
	ckpt "$M/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) model.norm.weight:8
	run sh -c "lmp-inspect --check-weights '$M' | lmp-populate | lmp-eval --totals --seq-len 1,2 | lmp-report --format text"
	assert_success
	# 1 + 18 + 1 = 20 tensors, 80 + 992 + 8 = 1,080 elements, 2,160 bytes (2.11 KiB)
	[ "$(grep -c '^  checkpoint ' <<<"$output")" = 1 ]
	assert_line "  checkpoint  $M: 20 tensors, 1,080 elements, 2.11 KiB (2,160 bytes); matched 1,080 parameters, missing 0, extra 0 elements"
}

@test "every report says what its times are of: the time model's note, the engine, the devices and layout" {
	cd "$BATS_TEST_TMPDIR"
	# a calibration of the H100 under vLLM: 43 measurements, held-out
	# median error 0.081, which the note gives as 8.1%
	jq -n '{lmp: "calibration", version: 1, entries: [{device: "nvidia-h100-sxm", engine: "vllm",
		terms: {compute_fraction: 0.5, memory_fraction: 0.8, link_fraction: 1, launch_s: 0, step_s: 0, waves: false},
		measurements: 43, heldout: {median_abs_error: 0.081}}]}' > c.json
	local note='calibrated on 43 measurements (nvidia-h100-sxm, vllm), held-out median error 8.1%'
	lmp-eval --engine vllm --batch-size 1 --seq-len 128 < "$LLAMA2" |
		lmp-roofline --hardware nvidia-h100-sxm --calibration c.json > one.json
	run lmp-report --format text one.json
	assert_line "  time model   $note; engine vllm on 1 device"
	run lmp-report --format md one.json
	assert_line -- "- time model: $note; engine vllm on 1 device"
	run lmp-report --format html one.json
	assert_line "<dt>time model</dt><dd>$note; engine vllm on 1 device</dd>"
	# two devices in tensor parallel: the times are per device of the layout
	lmp-eval --engine vllm --tp 2 --batch-size 1 --seq-len 128 < "$LLAMA2" |
		lmp-roofline --hardware nvidia-h100-sxm --calibration c.json > tp.json
	run lmp-report --format text tp.json
	assert_line "  time model   $note; engine vllm on 2 devices, tp2 pp1 ep1 dp1"
	# a sweep of a calibrated and an ideal point: each time model said once
	# above the table, its status in a column beside the times
	{
		lmp-eval --engine vllm --totals --batch-size 1,2 --seq-len 128 < "$LLAMA2" |
			lmp-roofline --hardware nvidia-h100-sxm --calibration c.json
		lmp-eval --engine vllm --totals --batch-size 4 --seq-len 128 < "$LLAMA2" |
			lmp-roofline --hardware nvidia-h100-sxm --ideal
	} > sweep.json
	run lmp-report --format text sweep.json
	assert_line "  time model     $note; engine vllm on 1 device"
	assert_line "  time model     ideal: datasheet peaks, an optimistic bound; engine vllm on 1 device"
	[ "$(grep -c '^  time model' <<<"$output")" = 2 ]
	assert_line --regexp '^model +device +engine +batch +.* +time model +time +bound'
	assert_line --regexp '^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm +vllm +1 +128 .* calibrated +[0-9.]+ ms +memory'
	# the ideal point is compute-bound; its time is its kernels' times summed
	# (lmp-roofline(1)), so at least its FLOPs at the H100's 989.4 TFLOP/s,
	# and the report shows the document's time in ms
	jq -se '.[2].totals.time_s >= .[2].totals.flops / 989400000000000' sweep.json
	local ideal=$(jq -s '.[2].totals.time_s * 1000' sweep.json | awk '{ printf "%.2f", $1 }')
	assert_line --regexp "^meta-llama/Llama-2-7b-hf +nvidia-h100-sxm +vllm +4 +128 .* ideal +$ideal ms +compute"
	# CSV: the engine and the status, the last columns (lmp-report(1))
	run lmp-report --format csv sweep.json
	assert_line --index 0 --regexp ',tp,pp,ep,engine,time_model,dp$'
	[ "$(cut -d, -f1,6 <<<"$output" | paste -sd' ')" = 'doc,batch_size 1,1 2,2 3,4' ]
	[ "$(awk -F, 'NR > 1 { print $(NF - 2), $(NF - 1) }' <<<"$output" | paste -sd,)" = 'vllm calibrated,vllm calibrated,vllm ideal' ]
	# the roofline chart's subtitle: the status its markers' times are of
	lmp-report --format svg one.json | grep -q 'hollow = memory-bound; times calibrated'
	lmp-report --format svg sweep.json | grep -q 'hollow = memory-bound; times of several time models'
	# a document without an engine is transformers' forward
	jq -c 'del(.runtime.engine)' one.json > none.json
	run lmp-report --format text none.json
	assert_line "  time model   $note; engine transformers on 1 device"
}
