#!/usr/bin/env bats
# Progress of long work on standard error (lmp(7) PROGRESS): a sweep of
# lmp-eval, lmp-calibrate's reading and fitting, lmp-ensure's wait for the
# agent.  Only where standard error is a terminal: never in a file, a pipe
# or a test's captured output, never in the documents.  LMP_PROGRESS_DELAY=0
# shows it from the start, so the tests need no long work.

load helper

AG="$ROOT/test/agents"
MEASURED="$ROOT/share/lmp/measured/trtllm-blogs-v0.5.ndjson"

setup() {
	cd "$BATS_TEST_TMPDIR"
	mkdir db
	cp "$ROOT/module_db.json" db/module_db.json
	export LMP_DB="$BATS_TEST_TMPDIR/db/module_db.json"
}

# on_terminal FILE CMD: run CMD (sh -c) with a terminal as standard error
# (and input and output, which CMD redirects), what reached the terminal in
# FILE.  util-linux's script(1); skipped where there is none.
on_terminal() {
	local f=$1
	shift
	script -qec true /dev/null > /dev/null 2>&1 || skip "no util-linux script(1) to make a terminal"
	script -qec "$*" "$f" > /dev/null
}

@test "stderr not a terminal: no progress, and the documents are the same" {
	export LMP_PROGRESS_DELAY=0
	run_split lmp-eval --totals --batch-size 1,2,3 --seq-len 128,256 "$LLAMA2"
	assert_success
	[ -z "$stderr" ]
	[ "$output" = "$(LMP_PROGRESS_DELAY= lmp-eval --totals --batch-size 1,2,3 --seq-len 128,256 "$LLAMA2")" ]
	[ "$(grep -c . <<<"$output")" = 6 ]
	run_split lmp-calibrate --table "$MEASURED"
	assert_success
	[ -z "$stderr" ]
	run_split lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.Quiet
	assert_success
	[ -z "$stderr" ]
	# stderr into a file or a pipe is no terminal either
	lmp-eval --totals --batch-size 1,2 --seq-len 128 "$LLAMA2" 2> err.txt > /dev/null
	[ ! -s err.txt ]
	lmp-eval --totals --batch-size 1,2 --seq-len 128 "$LLAMA2" 2>&1 >/dev/null | cat > err.txt
	[ ! -s err.txt ]
}

@test "stderr a terminal: a line rewritten in place, then erased; the documents untouched" {
	export LMP_PROGRESS_DELAY=0
	local cr=$'\r' el=$'\033[K'
	# 3 points: said at once (delay 0) as 0 of 3, the cursor left at the
	# start of the line, erased at the end
	on_terminal ts "lmp-eval --totals --batch-size 1,2,3 --seq-len 128 '$LLAMA2' > out.json"
	grep -aqF "${cr}lmp-eval: points: 0 of 3 (0%), 0 s${el}${cr}" ts
	grep -aqF "${cr}${el}" ts
	cmp out.json <(lmp-eval --totals --batch-size 1,2,3 --seq-len 128 "$LLAMA2")
	# more documents than one: which one
	jq -c . "$LLAMA2" > two.json
	jq -c . "$LLAMA2" >> two.json
	on_terminal ts "lmp-eval --totals --batch-size 1,2 --seq-len 128 two.json > /dev/null"
	grep -aqF "lmp-eval: points of document 1 of 2: 0 of 2 (0%), 0 s" ts
	# lmp-calibrate: the files read, then the fit
	on_terminal ts "lmp-calibrate '$MEASURED' > cal.json"
	grep -aqF "lmp-calibrate: measurement files read and predicted: 0 of 1 (0%), 0 s" ts
	grep -aqF "lmp-calibrate: fitting the terms, each with its held-out error, 0 s" ts
	jq -e '.lmp == "calibration"' cal.json
	# lmp-ensure: the wait for the agent, with the try and the timeout
	on_terminal ts "lmp-ensure --agent '$AG/good.sh' --timeout 30 --module a.b.Loud"
	grep -aqF "lmp-ensure: waiting for the agent's answer on a.b.Loud, try 1 (timeout 30 s), 0 s" ts
	jq -e '.entries["a.b.Loud"].validation.status == "pending"' "$LMP_DB"
	# --quiet: no progress lines, this one neither
	on_terminal ts "lmp-ensure --quiet --agent '$AG/good.sh' --module a.b.Hush"
	! grep -aq 'waiting' ts
	jq -e '.entries["a.b.Hush"].validation.status == "pending"' "$LMP_DB"
	# TERM=dumb cannot rewrite a line: nothing
	on_terminal ts "TERM=dumb lmp-eval --totals --batch-size 1,2,3 --seq-len 128 '$LLAMA2' > /dev/null"
	! grep -aq 'points' ts
	# by default only work past two seconds says anything: 3 points do not
	on_terminal ts "LMP_PROGRESS_DELAY= lmp-eval --totals --batch-size 1,2,3 --seq-len 128 '$LLAMA2' > /dev/null"
	! grep -aq 'points' ts
}
