#!/usr/bin/env bats
# lmp-ensure through its command line, with agents that are small scripts in
# test/agents/: one that answers well, one in Claude Code's envelope, and ones
# that print garbage, never answer, crash, say nothing or answer with hostile
# entries.

load helper

AG="$ROOT/test/agents"

setup() {
	DB="$BATS_TEST_TMPDIR/db/module_db.json"
	mkdir -p "$BATS_TEST_TMPDIR/db"
	cp "$ROOT/module_db.json" "$DB"
	export LMP_DB="$DB"
}

sum() { sha256sum "$DB" | cut -d' ' -f1; }

# An architecture with a known Linear, an unknown leaf and an unknown
# composite that holds both.
arch() {
	cat <<'JSON'
{"lmp": "arch", "version": "0.1.0", "model": {"id": "test/tiny", "revision": 9007199254740993},
 "layers": [{"name": "block", "class": "tiny.modeling.TinyBlock", "repeat": 2, "sub_layers": [
   {"name": "proj", "class": "torch.nn.modules.linear.Linear"},
   {"name": "act", "class": "tiny.modeling.TinyAct"}]}]}
JSON
}

@test "unknown leaves go to the agent, containers of known classes are inferred, the document passes unchanged" {
	arch > "$BATS_TEST_TMPDIR/a.json"
	local shipped=$(sha256sum "$ROOT/module_db.json")
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" "$BATS_TEST_TMPDIR/a.json"
	assert_success
	[ "$output" = "$(cat "$BATS_TEST_TMPDIR/a.json")" ]      # byte for byte, 2^53 + 1 included
	[ "$(jq -r '.entries["tiny.modeling.TinyAct"].validation.status' "$DB")" = pending ]
	[ "$(jq -r '.entries["tiny.modeling.TinyBlock"].validation.status' "$DB")" = inferred ]
	[ "$(printf '%s\n' "$stderr" | grep -c 'asking the agent')" = 1 ]
	[[ "$stderr" == *"[1/2] tiny.modeling.TinyAct: asking the agent"* ]]
	[[ "$stderr" == *"[2/2] tiny.modeling.TinyBlock: a container of known classes (inferred)"* ]]
	# the new entry evaluates: 3 FLOPs per element (the good agent's formula)
	run lmp-eval --module tiny.modeling.TinyAct elements=5
	[ "$(jq .flops <<<"$output")" = 15 ]
	# the shipped database itself was not touched
	[ "$(sha256sum "$ROOT/module_db.json")" = "$shipped" ]
}

@test "a class already in the database never reaches the agent" {
	local before=$(sum)
	run --separate-stderr lmp-ensure --agent "$AG/failing.sh" "$LLAMA2"
	assert_success
	[ "$output" = "$(cat "$LLAMA2")" ]
	[ -z "$stderr" ]
	[ "$(sum)" = "$before" ]
	run --separate-stderr lmp-ensure --agent "$AG/failing.sh" --module torch.nn.Linear
	assert_success
	[[ "$stderr" == *"already in the database"* ]]
}

@test "Claude Code's envelope, and the default command with a stand-in claude on PATH" {
	run lmp-ensure --quiet --agent "$AG/envelope.sh" --module a.b.Enveloped
	assert_success
	[ "$(jq -r '.entries["a.b.Enveloped"].full_class_name' "$DB")" = a.b.Enveloped ]
	PATH="$AG:$PATH" run --separate-stderr lmp-ensure --quiet --module a.b.ByClaude
	assert_success
	[ "$(jq -r '.entries["a.b.ByClaude"].validation.by' "$DB")" = agent ]
	# LMP_AGENT replaces the command; --agent wins over it
	LMP_AGENT="$AG/failing.sh" run --separate-stderr lmp-ensure --quiet --module a.b.ViaEnv
	[ "$status" -eq 4 ]
	LMP_AGENT="$AG/failing.sh" run --separate-stderr lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.ViaEnv
	assert_success
}

# failed_agent AGENT CLASS WANT: status 4, the database unchanged, a
# diagnostics file that says why.
failed_agent() {
	local before=$(sum)
	run --separate-stderr lmp-ensure --quiet --timeout "${TIMEOUT:-600}" --agent "$AG/$1" --module "$2"
	assert_clean_failure lmp-ensure "$3"
	[[ "$stderr" == "lmp-ensure: $2: "* ]]
	[ "$status" -eq 4 ]
	[ "$(sum)" = "$before" ]
	local d="$BATS_TEST_TMPDIR/db/$2_diagnostics.json"
	[ -f "$d" ] || fail "no $d"
	jq -e --arg c "$AG/$1" '.command == $c and (.reason | length > 0) and has("exit_status") and has("signal")
		and has("duration_s") and has("stdout") and has("stderr")' "$d" >/dev/null
}

@test "garbage, silence, a crash, an empty answer and a failure leave the database untouched" {
	failed_agent garbage.sh x.y.Garbage "no JSON object in the answer"
	failed_agent crash.sh x.y.Crash "the agent exited with status 139"
	[ "$(jq -r .stderr "$BATS_TEST_TMPDIR/db/x.y.Crash_diagnostics.json")" != "" ]
	failed_agent empty.sh x.y.Empty "the agent answered nothing"
	failed_agent failing.sh x.y.Failing "the agent exited with status 3"
	[ "$(jq .stderr "$BATS_TEST_TMPDIR/db/x.y.Failing_diagnostics.json")" = '"rate limited\n"' ]
	local t0=$SECONDS
	# a sleep of its own length, so that another test run's sleepers are not taken for it
	export SILENT_SECONDS=$((300 + $$ % 100000))
	TIMEOUT=2 failed_agent silent.sh x.y.Silent "the agent did not answer within 2 s (killed)"
	[ $((SECONDS - t0)) -lt 10 ]
	[ "$(jq .timed_out "$BATS_TEST_TMPDIR/db/x.y.Silent_diagnostics.json")" = true ]
	# its whole process group went with it
	sleep 0.5
	! pgrep -f "^sleep $SILENT_SECONDS\$" >/dev/null
}

@test "hostile answers are refused" {
	rm -f /tmp/lmp-pwned
	HOSTILE=megabyte failed_agent hostile.sh x.y.Big '"formula" is longer than 65536 bytes'
	HOSTILE=deep failed_agent hostile.sh x.y.Deep "nesting too deep"
	HOSTILE=cycle failed_agent hostile.sh x.y.Cycle "call cycle: x.y.Cycle -> x.y.Cycle"
	HOSTILE=shell failed_agent hostile.sh x.y.Shell "column 1: expected a value"
	HOSTILE=dotdot failed_agent hostile.sh x.y.Dots "full_class_name is not x.y.Dots"
	HOSTILE=negative failed_agent hostile.sh x.y.Neg "flops is negative at sample values"
	[ ! -e /tmp/lmp-pwned ]
}

@test "class names that are not dotted Python names never reach the agent or the file system" {
	local before=$(sum)
	arch | jq '.layers[0].sub_layers[1].class = "../../../tmp/evil.x"' > "$BATS_TEST_TMPDIR/a.json"
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" "$BATS_TEST_TMPDIR/a.json"
	assert_clean_failure lmp-ensure "class '../../../tmp/evil.x' is not a dotted Python name"
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" --module 'a.b;rm'
	assert_clean_failure lmp-ensure "is not a dotted Python name"
	[ "$(sum)" = "$before" ]
	[ -z "$(ls "$BATS_TEST_TMPDIR/db" | grep diagnostics)" ]
}

@test "a read-only database location is an error telling the user to pass --db" {
	local ro="$BATS_TEST_TMPDIR/ro"
	mkdir -p "$ro" && cp "$DB" "$ro/module_db.json" && chmod a-w "$ro/module_db.json" "$ro"
	[ "$(id -u)" != 0 ] || skip "root writes anywhere"
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" --db "$ro/module_db.json" --module a.b.C
	chmod u+w "$ro" # or bats cannot remove its temporary directory, and fails the run
	assert_clean_failure lmp-ensure "pass --db FILE"
}

@test "--list, --validate --by and --force" {
	lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.Gelu
	run lmp-ensure --list
	assert_success
	assert_line $'torch.nn.modules.linear.Linear\tvalidated\tlmp maintainers\t2026-11-20'
	assert_line --regexp $'^a\\.b\\.Gelu\tpending\tagent\t[0-9]{4}-[0-9]{2}-[0-9]{2}$'
	run lmp-ensure --validate a.b.Gelu --by "A. Reviewer"
	assert_success
	[ "$(jq -r '.entries["a.b.Gelu"].validation | [.status, .by] | join(",")' "$DB")" = "validated,A. Reviewer" ]
	[ "$(jq -r '.entries["a.b.Gelu"].validation.date' "$DB")" = "$(date -u +%Y-%m-%d)" ]
	run --separate-stderr lmp-ensure --validate a.b.Nope --by me
	assert_clean_failure lmp-ensure "a.b.Nope is not in the database"
	run --separate-stderr lmp-ensure --validate a.b.Gelu
	assert_clean_failure lmp-ensure "--validate needs --by NAME"
	# --force re-analyses: the new answer replaces the entry, pending again
	run lmp-ensure --quiet --force --agent "$AG/envelope.sh" --module a.b.Gelu
	assert_success
	[ "$(jq -r '.entries["a.b.Gelu"].validation.status' "$DB")" = pending ]
}

@test "--source-root puts the class's source and its lines in the prompt" {
	local src="$BATS_TEST_TMPDIR/src"
	mkdir -p "$src/src/tiny"
	printf '%s\n' "import torch" "" "class TinyAct(torch.nn.Module):" "    def forward(self, x):" "" \
		"        return x * 3" "" "" "def helper():" "    pass" > "$src/src/tiny/modeling.py"
	cat > "$BATS_TEST_TMPDIR/spy.sh" <<SPY
#!/bin/sh
tee "$BATS_TEST_TMPDIR/prompt.txt" | "$AG/good.sh"
SPY
	chmod +x "$BATS_TEST_TMPDIR/spy.sh"
	run lmp-ensure --quiet --agent "$BATS_TEST_TMPDIR/spy.sh" --source-root "$src" --module tiny.modeling.TinyAct
	assert_success
	grep -q '^CLASS: tiny.modeling.TinyAct$' "$BATS_TEST_TMPDIR/prompt.txt"
	grep -q '^File src/tiny/modeling.py, lines 3-6:$' "$BATS_TEST_TMPDIR/prompt.txt"
	grep -q '        return x \* 3' "$BATS_TEST_TMPDIR/prompt.txt"
	! grep -q 'def helper' "$BATS_TEST_TMPDIR/prompt.txt"
	grep -q '{torch.nn.modules.linear.Linear}(tokens, in_features' "$BATS_TEST_TMPDIR/prompt.txt"
	run --separate-stderr lmp-ensure --quiet --agent "$AG/good.sh" --source-root "$src" --module tiny.other.Missing
	assert_clean_failure lmp-ensure "no tiny/other.py under"
}

@test "20 concurrent runs adding different classes, some killed mid-write: nothing lost, never torn" {
	local i pids=() ok=0
	# a reader that keeps checking the database parses while the writers run
	( for n in $(seq 200); do jq -e .entries "$DB" >/dev/null || { echo torn > "$BATS_TEST_TMPDIR/torn"; }; done ) &
	local reader=$!
	for i in $(seq 20); do
		lmp-ensure --quiet --agent "$AG/good.sh" --module "conc.m.Class$i" 2>/dev/null &
		pids+=($!)
	done
	sleep 0.05
	for i in 3 7 11 15 19; do kill -9 "${pids[$((i - 1))]}" 2>/dev/null || true; done
	for i in $(seq 20); do
		if wait "${pids[$((i - 1))]}"; then
			ok=$((ok + 1))
			echo "conc.m.Class$i" >> "$BATS_TEST_TMPDIR/landed"
		fi
	done
	wait "$reader"
	[ ! -e "$BATS_TEST_TMPDIR/torn" ]
	jq -e . "$DB" >/dev/null
	[ "$ok" -ge 15 ]
	while read -r c; do
		jq -e --arg c "$c" '.entries[$c].validation.status == "pending"' "$DB" >/dev/null || fail "$c lost"
	done < "$BATS_TEST_TMPDIR/landed"
	# and the original entries are all still there
	[ "$(jq '.entries | keys | map(select(startswith("conc.") | not)) | length' "$DB")" = "$(jq '.entries | length' "$ROOT/module_db.json")" ]
}

@test "bad input" {
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" <<<'{"lmp": "arch", "layers": [{"name": "x"}]}'
	assert_clean_failure lmp-ensure 'a layer without a "class"'
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" <<<'{"lmp": "arch"'
	assert_clean_failure lmp-ensure "malformed JSON"
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" <<<'{"lmp": "eval"}'
	assert_clean_failure lmp-ensure 'not an architecture'
	run --separate-stderr lmp-ensure --timeout 0 --module a.b.C
	assert_clean_failure lmp-ensure "--timeout"
	[ "$status" -eq 2 ]
	run --separate-stderr lmp-ensure --list --module a.b.C
	assert_clean_failure lmp-ensure "exclude each other"
}
