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
	# elements, an int with no size in its name, is 64 at the first point:
	# 0 - 64, in a prefill of 2 sequences of 16 tokens over 8 cached
	HOSTILE=negative failed_agent hostile.sh x.y.Neg \
		"flops is negative (-64) at elements=64; 2 sequences of 16 new tokens over 8 cached, 16-bit weights"
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

@test "--source-root quotes the class's decorators, its parent class and the functions it calls" {
	local src="$BATS_TEST_TMPDIR/src" p="$BATS_TEST_TMPDIR/prompt.txt"
	mkdir -p "$src/src/tiny"
	# line numbers: rotate 6-7, apply_rope 10-11, TinyBase 14-16, the
	# decorated class 19-25, eager 32-33 (named, not called, as
	# transformers' attention_interface = eager_attention_forward);
	# shared_helper is imported from common.py
	printf '%s\n' "import torch" "from .common import shared_helper" "from torch import nn" "" "" \
		"def rotate(x):" "    return x" "" "" \
		"def apply_rope(q):" "    return rotate(q) * 2" "" "" \
		"class TinyBase(nn.Module):" "    def scale(self):" "        return 1" "" "" \
		'@use_kernel("TinyAttention")' "class TinyAttention(TinyBase):" "    def forward(self, q):" \
		"        q = apply_rope(q)" "        q = shared_helper(q)" "        interface = eager" \
		"        return torch.matmul(q, q)" "" "" \
		"def unrelated():" "    pass" "" "" "def eager(q):" "    return q" > "$src/src/tiny/modeling.py"
	printf '%s\n' "def shared_helper(x):" "    return x + 1" > "$src/src/tiny/common.py"
	cat > "$BATS_TEST_TMPDIR/spy.sh" <<SPY
#!/bin/sh
tee "$p" | "$AG/good.sh"
SPY
	chmod +x "$BATS_TEST_TMPDIR/spy.sh"
	run lmp-ensure --quiet --agent "$BATS_TEST_TMPDIR/spy.sh" --source-root "$src" --module tiny.modeling.TinyAttention
	assert_success
	grep -qx 'File src/tiny/modeling.py, lines 19-25:' "$p"
	grep -qx 'eager, a function it uses: file src/tiny/modeling.py, lines 32-33:' "$p"
	grep -qx '@use_kernel("TinyAttention")' "$p"
	grep -qx 'TinyBase, its parent class: file src/tiny/modeling.py, lines 14-16:' "$p"
	grep -qx 'apply_rope, a function it calls: file src/tiny/modeling.py, lines 10-11:' "$p"
	grep -qx 'rotate, a function it calls: file src/tiny/modeling.py, lines 6-7:' "$p"
	grep -qx 'shared_helper, a function it calls: file src/tiny/common.py, lines 1-2:' "$p"
	! grep -q 'def unrelated' "$p"
	! grep -q 'matmul, a function' "$p"
}

@test "the prompt states the binding rule, the checks, and lists what can be called with its parameters" {
	cat > "$BATS_TEST_TMPDIR/spy.sh" <<SPY
#!/bin/sh
cat > "$BATS_TEST_TMPDIR/prompt.txt"
exit 3
SPY
	chmod +x "$BATS_TEST_TMPDIR/spy.sh"
	run --separate-stderr lmp-ensure --quiet --agent "$BATS_TEST_TMPDIR/spy.sh" --module a.b.Prompt
	[ "$status" -eq 4 ]
	local p="$BATS_TEST_TMPDIR/prompt.txt"
	grep -q 'So a config field of the same name shadows the layer.s attr' "$p"
	grep -q '^Change no file' "$p"
	grep -q '^## How your answer is checked$' "$p"
	# Linear, with its parameters, a default, a description and its counts
	grep -qxF -- '- `{torch.nn.modules.linear.Linear}(tokens, in_features, out_features, bias, w_dtype_bytes, a_dtype_bytes, weight_reads)`, also `torch.nn.Linear`' "$p"
	grep -qxF -- '  - `bias` (bool, default 1): 1 if the layer has a bias (nn.Linear'"'"'s default)' "$p"
	grep -qF -- '  - counts: FLOPs `2 * ${tokens} * ${in_features} * ${out_features} + ${bias} * ${tokens} * ${out_features}`; param_count `(${in_features} + ${bias}) * ${out_features}`' "$p"
	# one line per entry with a FLOPs formula; containers without one are left out
	[ "$(grep -c '^- `{' "$p")" = "$(jq '[.entries[] | select(.flop_analysis.formula != null)] | length' "$ROOT/module_db.json")" ]
	! grep -q 'Qwen2Attention}' "$p"
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
	# whatever temporary file a killed writer left goes with the next update
	lmp-ensure --quiet --agent "$AG/good.sh" --module conc.m.After
	[ -z "$(ls "$BATS_TEST_TMPDIR/db" | grep '\.tmp\.')" ]
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

@test "replacing the database keeps its mode, owner and symbolic link" {
	chmod 640 "$DB"
	run lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.Mode
	assert_success
	[ "$(jq -r '.entries["a.b.Mode"].validation.status' "$DB")" = pending ]
	[ "$(stat -c %a "$DB")" = 640 ]
	# a database that is a link into another directory: the target is
	# replaced (its temporary file written beside it), the link stays
	local real="$BATS_TEST_TMPDIR/store/real.json" link="$BATS_TEST_TMPDIR/db/linked.json"
	mkdir -p "$BATS_TEST_TMPDIR/store" && cp "$ROOT/module_db.json" "$real" && chmod 604 "$real"
	ln -s ../store/real.json "$link"
	run lmp-ensure --quiet --db "$link" --agent "$AG/good.sh" --module a.b.Linked
	assert_success
	[ -L "$link" ] && [ "$(readlink "$link")" = ../store/real.json ]
	[ "$(jq -r '.entries["a.b.Linked"].validation.status' "$real")" = pending ]
	[ "$(stat -c %a "$real")" = 604 ]
	[ -z "$(ls "$BATS_TEST_TMPDIR/store" "$BATS_TEST_TMPDIR/db" | grep '\.tmp\.')" ]
	# the lock is the target's, so runs through different links share it
	[ -e "$real.lock" ] && [ ! -e "$link.lock" ]
	# --validate goes through the link too
	run lmp-ensure --db "$link" --validate a.b.Linked --by me
	assert_success
	[ -L "$link" ] && [ "$(jq -r '.entries["a.b.Linked"].validation.status' "$real")" = validated ]
	# as root, the owner is kept as well
	if [ "$(id -u)" = 0 ]; then
		chown 65534:65534 "$DB"
		run lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.Owner
		assert_success
		[ "$(stat -c %u:%g:%a "$DB")" = 65534:65534:640 ]
	fi
}

@test "temporary files a killed run left beside the database go at the next update, others' stay" {
	local dead live=$$
	dead=$(sh -c 'echo $$')           # a process that has exited
	local d="$BATS_TEST_TMPDIR/db"
	printf 'torn' > "$DB.tmp.$dead.0"
	printf 'torn' > "$DB.tmp.$dead.17"
	# a live pid, but older than the lock: every writer holds the lock while
	# its file exists, so this one was left by an earlier holder
	printf 'torn' > "$DB.tmp.$live.0" && touch -d '-1 hour' "$DB.tmp.$live.0"
	# a live pid and newer than the lock (a clock ahead, another host): kept
	printf 'new' > "$DB.tmp.$live.1" && touch -d '+1 hour' "$DB.tmp.$live.1"
	# names that are not our temporary files
	printf 'x' > "$DB.tmp.notes"
	printf 'x' > "$DB.tmp.$dead"
	printf 'x' > "$d/other.json.tmp.$dead.0"
	run lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.Clean
	assert_success
	[ "$(cd "$d" && ls | grep '\.tmp\.' | sort)" = "$(printf '%s\n' "module_db.json.tmp.$dead" \
		"module_db.json.tmp.$live.1" module_db.json.tmp.notes "other.json.tmp.$dead.0" | sort)" ]
	jq -e '.entries["a.b.Clean"]' "$DB" >/dev/null
}

# gone PATTERN: no process matches within two seconds
gone() {
	local i
	for i in $(seq 20); do pgrep -f "$1" >/dev/null || return 0; sleep 0.1; done
	fail "still running: $(pgrep -af "$1")"
}

@test "an agent that exits has answered: a child left holding its output costs a second, not the timeout, and is killed" {
	# sleeps of their own length, so that another run's are not taken for them
	export LINGER_SECONDS=$((200000 + ($$ % 100000) * 2))
	local t0=$SECONDS
	run --separate-stderr lmp-ensure --quiet --timeout 60 --agent "$AG/lingering.sh" --module a.b.Linger
	assert_success
	[ $((SECONDS - t0)) -lt 10 ]
	[ "$(jq -r '.entries["a.b.Linger"].validation.status' "$DB")" = pending ]
	gone "^sleep $LINGER_SECONDS\$"
	# one that leaves the group (setsid) becomes our child when its parent
	# exits (we are its subreaper while the agent runs), and is killed too
	export LINGER_SECONDS=$((LINGER_SECONDS + 1)) LINGER=setsid
	t0=$SECONDS
	run --separate-stderr lmp-ensure --quiet --timeout 60 --agent "$AG/lingering.sh" --module a.b.Setsid
	assert_success
	[ $((SECONDS - t0)) -lt 10 ]
	[ "$(jq -r '.entries["a.b.Setsid"].validation.status' "$DB")" = pending ]
	gone "^sleep $LINGER_SECONDS\$"
}

@test "SIGTERM, SIGINT and SIGKILL of lmp-ensure take the agent's whole group with it" {
	local sig sigs='TERM INT KILL' pid st i n=0 before=$(sum)
	# A suite started in the background of a non-interactive shell inherits
	# SIGINT ignored, and a signal ignored on entry stays ignored in every
	# child (set -m cannot undo it): lmp-ensure then rightly keeps it
	# ignored, and waiting for it to die of SIGINT would wait forever.
	if [ $(( 0x$(awk '/^SigIgn:/ { print $2 }' /proc/$$/status 2>/dev/null || echo 0) & 2 )) -ne 0 ]; then
		sigs='TERM KILL'
		echo "# SIGINT is ignored in this suite's environment: checked TERM and KILL only" >&3
	fi
	for sig in $sigs; do
		export SILENT_SECONDS=$((500000 + ($$ % 100000) * 3 + n++)) SILENT_TRAP="$BATS_TEST_TMPDIR/trapped.$sig"
		# job control, so that the background job does not start with SIGINT
		# ignored, as a non-interactive shell's background jobs do
		set -m
		lmp-ensure --quiet --agent "$AG/silent.sh" --module "x.y.Sig$sig" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
		pid=$!
		set +m
		for i in $(seq 100); do pgrep -f "^sleep $SILENT_SECONDS\$" >/dev/null && break; sleep 0.05; done
		pgrep -f "^sleep $SILENT_SECONDS\$" >/dev/null || fail "the agent did not start"
		kill -"$sig" "$pid"
		st=0
		wait "$pid" || st=$?
		# it dies of the signal, as its caller sees it
		[ "$st" -eq $((128 + $(kill -l "$sig"))) ] || fail "$sig: status $st"
		gone "^sleep $SILENT_SECONDS\$"
		# the agent was told first (SIGKILL cannot be forwarded)
		if [ "$sig" != KILL ]; then
			[ "$(cat "$SILENT_TRAP")" = "$sig" ]
		else
			[ ! -e "$SILENT_TRAP" ]
		fi
		[ ! -s "$BATS_TEST_TMPDIR/err" ]
		[ ! -e "$BATS_TEST_TMPDIR/db/x.y.Sig${sig}_diagnostics.json" ]
	done
	[ "$(sum)" = "$before" ]
}

# only_safe TEXT: no C0 control or DEL byte, no UTF-8 C1 control (U+0080..U+009F)
only_safe() {
	[ -z "$(printf '%s' "$1" | LC_ALL=C tr -d '\040-\176\200-\377')" ] || fail "control characters in: $1"
	! printf '%s' "$1" | grep -q $'\xc2[\x80-\x9f]' || fail "a C1 control in: $1"
}

@test "an agent's text in an error line is escaped: one line, no control characters, UTF-8 kept, bounded" {
	# hostile.sh's text: line1 NL line2 SP ESC[2J ESC]0;pwned BEL SP U+009B 31m SP
	# U+202E evil TAB CR SP café SP U+2192; by the rules of lmp_escape:
	local want='line1\nline2 \x1b[2J\x1b]0;pwned\x07 \u009b31m \u202eevil\t\r café →'
	# an error the agent reports, followed by 300 x: cut to 199 bytes
	# ending "...": 71 bytes of escaped text (é and → are 2 and 3 bytes),
	# a space, 199 - 71 - 1 - 3 = 124 x, "..."
	HOSTILE=said failed_agent hostile.sh x.y.Said "the agent reported an error: $want x"
	[[ "$stderr" == *"$want $(printf '%.0sx' $(seq 124))..." ]] || fail "not cut as expected: $stderr"
	[ "$(printf '%s' "$want" | wc -c)" -eq 71 ]
	only_safe "$stderr"
	# the diagnostics file keeps the agent's raw answer (JSON-escaped there)
	[[ "$(jq -r .stdout "$BATS_TEST_TMPDIR/db/x.y.Said_diagnostics.json")" == *$'line1\\nline2 \\u001b[2J'* ]]
	# in a formula that the checks quote back
	HOSTILE=control failed_agent hostile.sh x.y.Control "flops \"$want\": column 1: unknown name at 'line1\\nline2 '"
	only_safe "$stderr"
	# in a duplicate key
	HOSTILE=key failed_agent hostile.sh x.y.Key 'answer: duplicate key "k\nk\x1b[2J"'
	only_safe "$stderr"
	# a formula quoted in its first 80 bytes: "1 +  " is 5, 37 e-acutes 74,
	# and the 80th is the first byte of the 38th (0xc3), not UTF-8 alone
	HOSTILE=cut failed_agent hostile.sh x.y.Cut "flops \"1 +  $(printf '%.0s\303\251' $(seq 37))\\xc3\": column 6"
	only_safe "$stderr"
}

@test "Claude Code's array of events under --verbose, and the errors it reports" {
	run --separate-stderr lmp-ensure --quiet --agent "$AG/events.sh" --module a.b.Events
	assert_success
	[ "$(jq -r '.entries["a.b.Events"].validation.status' "$DB")" = pending ]
	# an error is reported with its text, or its subtype when it has none,
	# and is not asked again (one try)
	EVENTS=error failed_agent events.sh x.y.Credit "the agent reported an error: Credit balance is too low"
	[ "$(jq .tries "$BATS_TEST_TMPDIR/db/x.y.Credit_diagnostics.json")" = 1 ]
	EVENTS=maxturns failed_agent events.sh x.y.Turns "the agent reported an error: error_max_turns"
}

@test "a missing agent command, and Claude Code refusing to run as root, are said plainly" {
	failed_agent "no/such-agent --flag" x.y.Missing \
		"the agent command '$AG/no/such-agent' was not found (name another with --agent or LMP_AGENT)"
	# the default command, with no claude on PATH
	mkdir -p "$BATS_TEST_TMPDIR/empty"
	run --separate-stderr env PATH="$BATS_TEST_TMPDIR/empty" "$ROOT/bin/lmp-ensure" --quiet --module x.y.NoClaude
	assert_clean_failure lmp-ensure "x.y.NoClaude: the agent command 'claude' was not found (name another with --agent or LMP_AGENT)"
	# root.sh says what Claude Code says as root without IS_SANDBOX=1
	failed_agent root.sh x.y.Root "Claude Code refuses --dangerously-skip-permissions as root unless IS_SANDBOX=1 declares a sandbox"
}

@test "a refused answer goes back to the agent with the refusal, --retries times" {
	# retry.sh's first answer, at the first point: head_dim 128, rotary_dim
	# 64 (by their names), tokens 2 x 16 = 32 (the step's); its breakdown
	# rot = 32 * 64 = 2048, pass = 32 * 128 = 4096, together 6144, while
	# the formula is 2 * 32 * (128 - 64) = 4096
	local why="the breakdown does not add up to the FLOPs formula: rot 2048 + pass 4096 = 6144, not 4096, at head_dim=128, rotary_dim=64; 2 sequences of 16 new tokens over 8 cached, 16-bit weights"
	run --separate-stderr lmp-ensure --quiet --retries 0 --timeout 60 --agent "$AG/retry.sh" --module x.y.Rope
	assert_clean_failure lmp-ensure "x.y.Rope: $why"
	[ -f "$BATS_TEST_TMPDIR/db/x.y.Rope_diagnostics.json" ]
	# with the default (2 retries) the second try is right: the refusal
	# and the first answer were in its prompt
	mkdir -p "$BATS_TEST_TMPDIR/prompts"
	RETRY_PROMPTS="$BATS_TEST_TMPDIR/prompts" run --separate-stderr lmp-ensure --agent "$AG/retry.sh" --module x.y.Rope
	assert_success
	[ "$(ls "$BATS_TEST_TMPDIR/prompts")" = "$(printf '1.txt\n2.txt')" ]
	! grep -q 'previous answer was refused' "$BATS_TEST_TMPDIR/prompts/1.txt"
	grep -qxF "    $why" "$BATS_TEST_TMPDIR/prompts/2.txt"
	grep -qF '"pass": "${tokens} * ${head_dim}"' "$BATS_TEST_TMPDIR/prompts/2.txt"
	[[ "$stderr" == *"x.y.Rope: answer refused ($why); asking again (try 2 of 3)"* ]]
	# the entry is the second answer: head_dim - rotary_dim was not refused
	[ "$(jq -r '.entries["x.y.Rope"].flop_analysis.breakdown.pass' "$DB")" = '${tokens} * (${head_dim} - ${rotary_dim})' ]
	# 2 * tokens * (head_dim - rotary_dim) at 10 tokens, 256 and 64: 3840
	run lmp-eval --module x.y.Rope head_dim=256 rotary_dim=64 tokens=10
	[ "$(jq .flops <<<"$output")" = 3840 ]
	# the diagnostics of the earlier failure went with the success
	[ ! -e "$BATS_TEST_TMPDIR/db/x.y.Rope_diagnostics.json" ]
	run --separate-stderr lmp-ensure --retries -1 --module a.b.C
	assert_clean_failure lmp-ensure "--retries"
	[ "$status" -eq 2 ]
}

@test "aliases in an answer are kept, unless another entry has them" {
	GOOD_ALIAS=a.Gelu run lmp-ensure --quiet --agent "$AG/good.sh" --module a.b.Gelu
	assert_success
	[ "$(jq -c '.entries["a.b.Gelu"].aliases' "$DB")" = '["a.Gelu"]' ]
	run lmp-eval --module a.Gelu elements=5
	[ "$(jq .flops <<<"$output")" = 15 ]
	# an alias that is already another entry's is refused before anything is written
	local before=$(sum)
	GOOD_ALIAS=torch.nn.Linear run --separate-stderr lmp-ensure --quiet --agent "$AG/good.sh" --retries 0 --module a.b.Other
	[ "$status" -eq 4 ]
	[[ "$stderr" == *"alias torch.nn.Linear"* ]]
	[ "$(sum)" = "$before" ]
}

@test "a container of known classes is inferred after an earlier failure too" {
	cat > "$BATS_TEST_TMPDIR/a.json" <<'JSON'
{"lmp": "arch", "version": "0.1.0", "model": {"id": "test/two"},
 "layers": [{"name": "act", "class": "tiny.m.Bad"},
            {"name": "box", "class": "tiny.m.Box", "sub_layers": [{"name": "proj", "class": "torch.nn.modules.linear.Linear"}]}]}
JSON
	run --separate-stderr lmp-ensure --quiet --agent "$AG/failing.sh" "$BATS_TEST_TMPDIR/a.json"
	assert_clean_failure lmp-ensure "tiny.m.Bad: the agent exited with status 3"
	[ "$(jq -r '.entries["tiny.m.Box"].validation.status' "$DB")" = inferred ]
	[ "$(jq '.entries["tiny.m.Bad"]' "$DB")" = null ]
}

# ---- an unknown model_type: the architecture agent (test/agents/arch.sh) ----

# A made-up model_type with real shapes: Llama's layout at hidden 64, MLP
# 128, 2 layers, 4 heads of 16 (2 KV heads), vocabulary 1000, untied head,
# and one field of its own (zephyr_gate_scale).
zephyrine() {
	mkdir -p "$BATS_TEST_TMPDIR/zeph"
	cat > "$BATS_TEST_TMPDIR/zeph/config.json" <<'JSON'
{"model_type": "zephyrine", "architectures": ["ZephyrineForCausalLM"], "hidden_size": 64,
 "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
 "vocab_size": 1000, "max_position_embeddings": 512, "rms_norm_eps": 1e-06, "hidden_act": "silu",
 "tie_word_embeddings": false, "rope_theta": 10000.0, "zephyr_gate_scale": 0.5}
JSON
	lmp-inspect "$BATS_TEST_TMPDIR/zeph/config.json" 2>/dev/null > "$BATS_TEST_TMPDIR/unresolved.json"
}

@test "an unknown model_type: an unresolved document, refused by lmp-populate and lmp-eval" {
	zephyrine
	run --separate-stderr lmp-inspect "$BATS_TEST_TMPDIR/zeph/config.json"
	assert_success
	[ "$stderr" = 'lmp-inspect: note: model_type "zephyrine" has no template: an unresolved document (lmp-ensure resolves it)' ]
	[ "$(jq -c '[.lmp, .unresolved.model_type, .unresolved.architectures, .unresolved.missing, .model.source, .config.zephyr_gate_scale, has("layers")]' <<<"$output")" = '["arch","zephyrine",["ZephyrineForCausalLM"],"template","file",0.5,false]' ]
	run --separate-stderr lmp-populate "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-populate 'the architecture is unresolved (model_type "zephyrine" has no template): lmp-ensure resolves it'
	run --separate-stderr lmp-eval "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-eval 'the architecture is unresolved (model_type "zephyrine" has no template): lmp-ensure resolves it'
	run --separate-stderr lmp-report --format text "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-report 'the architecture is unresolved (model_type "zephyrine" has no template): lmp-ensure resolves it'
	run --separate-stderr lmp-inspect --strict "$BATS_TEST_TMPDIR/zeph/config.json"
	assert_clean_failure lmp-inspect 'model_type "zephyrine" is not supported'
}

@test "the architecture agent's template: stored pending in the data home, its new class to the module agent, the user's database; the next run asks no one" {
	zephyrine
	unset LMP_DB
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	local shipped=$(sha256sum "$ROOT/module_db.json")
	run --separate-stderr lmp-ensure --agent "$AG/arch.sh good" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[[ "$stderr" == *"model_type zephyrine: asking the architecture agent"* ]]
	[[ "$stderr" == *"template stored in $XDG_DATA_HOME/lmp/archs/zephyrine.json, pending validation"* ]]
	[[ "$stderr" == *"zephyrine.modeling_zephyrine.ZephyrineAct: added, pending validation"* ]]
	local T="$XDG_DATA_HOME/lmp/archs/zephyrine.json"
	[ "$(jq -c '[.extends, .validation.status]' "$T")" = '["llama","pending"]' ]
	# the document goes on, built with the new template
	[ "$(jq -c '[.lmp, has("unresolved"), .model.template_file]' <<<"$output")" = "[\"arch\",false,\"$T\"]" ]
	# the module entry went to the user's database; the shipped one is untouched
	[ "$(jq -r '.entries["zephyrine.modeling_zephyrine.ZephyrineAct"].validation.status' "$XDG_DATA_HOME/lmp/module_db.json")" = pending ]
	[ "$(jq '.entries | length' "$XDG_DATA_HOME/lmp/module_db.json")" = 1 ]
	[ "$(sha256sum "$ROOT/module_db.json")" = "$shipped" ]
	# parameters by hand: embedding 1000*64 = 64000; per layer q 64*64 = 4096,
	# k and v 64*32 = 2048 each, o 4096, gate, up and down 64*128 = 8192 each,
	# two norms of 64: 36992, twice 73984; final norm 64; untied head
	# 64*1000 = 64000.  64000 + 73984 + 64 + 64000 = 202048
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/resolved.json"
	run --separate-stderr sh -c "lmp-populate '$BATS_TEST_TMPDIR/resolved.json' | lmp-eval --batch-size 1 --seq-len 1 --totals"
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 202048 ]
	# the next run: lmp-inspect finds the template; lmp-ensure asks no agent
	run --separate-stderr sh -c "lmp-inspect '$BATS_TEST_TMPDIR/zeph/config.json' | lmp-ensure --agent '$AG/failing.sh'"
	assert_success
	[ -z "$stderr" ]
	[ "$(jq -r .model.template_file <<<"$output")" = "$T" ]
	# and an unresolved document made before is resolved from the path
	run --separate-stderr lmp-ensure --agent "$AG/failing.sh" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[ "$stderr" = "lmp-ensure: model_type zephyrine: a template is on the path now" ]
	[ "$(jq -r .model.template_file <<<"$output")" = "$T" ]
}

@test "refused templates: an unknown key, an unbound parameter, an attribute a config field shadows; nothing stored" {
	zephyrine
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh key" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure 'model_type zephyrine: the template: edits[0]: unknown key "bais" in a "at" edit'
	[ "$status" -eq 4 ]
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh unbound" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure "model_type zephyrine: model.layers.*.mlp.extra: nothing binds parameter 'in_features' of torch.nn.modules.linear.Linear"
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh shadow" "$BATS_TEST_TMPDIR/unresolved.json"
	# head_dim defaults to 64 / 4 = 16 (the llama template)
	assert_clean_failure lmp-ensure 'model.layers.*.self_attn.sdpa: attrs.head_dim = 8 is shadowed by config field head_dim = 16'
	# a count below zero at a realistic point: 512 * 128 - 100000 = -34464 at a prefill of 512
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh negative" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure 'model_type zephyrine: evaluated at 1 sequence of 512 new tokens over 0 cached: totals: flops: model.layers.*.mlp.act_fn: parameter elements is -34464 at this point'
	# with the default two retries: three answers, each refused
	run --separate-stderr lmp-ensure --quiet --agent "$AG/arch.sh key" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure 'model_type zephyrine: the template: edits[0]: unknown key "bais"'
	[ ! -e "$XDG_DATA_HOME/lmp/archs/zephyrine.json" ]
	run --separate-stderr lmp-ensure --retries 101 "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure '--retries: not a number in [0, 100]'
}

@test "a template of known classes only is evaluated before it is kept, and goes on as the model" {
	zephyrine
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	run --separate-stderr lmp-ensure --agent "$AG/arch.sh plain" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[[ "$stderr" != *"module agent"* ]]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/resolved.json"
	run --separate-stderr sh -c "lmp-populate '$BATS_TEST_TMPDIR/resolved.json' | lmp-eval --batch-size 1 --seq-len 1 --totals"
	[ "$(jq .totals.param_count <<<"$output")" = 202048 ]  # as counted by hand above
}

@test "right on the second try: the refusal goes back to the agent in the prompt" {
	zephyrine
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" ARCH_STATE="$BATS_TEST_TMPDIR/state"
	mkdir -p "$ARCH_STATE"
	run --separate-stderr lmp-ensure --agent "$AG/arch.sh second" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[[ "$stderr" == *'lmp-ensure: zephyrine: answer refused (the template: edits[0]: unknown key "bais" in a "at" edit); asking again (try 2 of 3)'* ]]
	[ "$(jq -r .validation.status "$XDG_DATA_HOME/lmp/archs/zephyrine.json")" = pending ]
	[ ! -e "$ARCH_STATE/prompt.3" ]
	# the first prompt: the config, the manual, llama-like examples, usable entries
	grep -qx 'MODEL_TYPE: zephyrine' "$ARCH_STATE/prompt.1"
	grep -q '"zephyr_gate_scale": 0.5' "$ARCH_STATE/prompt.1"
	grep -q '^File lmp-arch(5):' "$ARCH_STATE/prompt.1"
	grep -q '^(No checkpoint was read' "$ARCH_STATE/prompt.1"
	# three templates, the closest by the fields their defaults share (today
	# olmo2, mistral) and llama among them: mistral's parent, which an answer
	# with "extends" builds on (more families shipped may change the first two)
	[ "$(grep -c '^File share/lmp/archs/' "$ARCH_STATE/prompt.1")" = 3 ]
	grep -q '^File share/lmp/archs/llama.json:' "$ARCH_STATE/prompt.1"
	grep -q '^- torch.nn.modules.linear.Linear(tokens, in_features, out_features, bias = 1' "$ARCH_STATE/prompt.1"
	! grep -q 'previous answer was refused' "$ARCH_STATE/prompt.1"
	# the second: the same, and the refusal word for word
	grep -qx '    the template: edits\[0\]: unknown key "bais" in a "at" edit' "$ARCH_STATE/prompt.2"
}

@test "the family's source in the prompt: --source-root's modeling and configuration files, the checkpoint's auto_map files" {
	zephyrine
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" ARCH_STATE="$BATS_TEST_TMPDIR/state"
	mkdir -p "$ARCH_STATE" "$BATS_TEST_TMPDIR/src/src/transformers/models/zephyrine"
	echo 'class ZephyrineConfig: pass  # from the checkout' > "$BATS_TEST_TMPDIR/src/src/transformers/models/zephyrine/configuration_zephyrine.py"
	echo 'class ZephyrineModel: pass  # remote code' > "$BATS_TEST_TMPDIR/zeph/modeling_zeph.py"
	jq '.auto_map = {"AutoModelForCausalLM": "modeling_zeph.ZephyrineForCausalLM", "AutoConfig": "org/repo--modeling_zeph.X"}' \
		"$BATS_TEST_TMPDIR/zeph/config.json" > "$BATS_TEST_TMPDIR/c" && mv "$BATS_TEST_TMPDIR/c" "$BATS_TEST_TMPDIR/zeph/config.json"
	lmp-inspect "$BATS_TEST_TMPDIR/zeph/config.json" 2>/dev/null > "$BATS_TEST_TMPDIR/unresolved.json"
	run --separate-stderr lmp-ensure --retries 0 --source-root "$BATS_TEST_TMPDIR/src" --agent "$AG/arch.sh key" "$BATS_TEST_TMPDIR/unresolved.json"
	[ "$status" -eq 4 ]
	grep -q '^class ZephyrineConfig: pass  # from the checkout' "$ARCH_STATE/prompt.1"
	[ "$(grep -c '^class ZephyrineModel: pass  # remote code' "$ARCH_STATE/prompt.1")" = 1 ]
}

@test "the database in layers: the user's entries over the shipped ones in every tool; --db/LMP_DB name one" {
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	unset LMP_DB
	# a read-only install: lmp-ensure writes the data home, never the shipped file
	local shipped=$(sha256sum "$ROOT/module_db.json")
	run --separate-stderr lmp-ensure --agent "$AG/good.sh" --module tiny.modeling.TinyAct
	assert_success
	[ "$(sha256sum "$ROOT/module_db.json")" = "$shipped" ]
	[ "$(jq -c '.entries | keys' "$XDG_DATA_HOME/lmp/module_db.json")" = '["tiny.modeling.TinyAct"]' ]
	# every tool reads both layers: the new entry (3 FLOPs an element) and a shipped one
	run lmp-eval --module tiny.modeling.TinyAct elements=5
	[ "$(jq .flops <<<"$output")" = 15 ]
	run --separate-stderr lmp-ensure --list
	[[ "$output" == *"tiny.modeling.TinyAct	pending"* ]] && [[ "$output" == *"torch.nn.modules.linear.Linear	"* ]]
	run --separate-stderr sh -c "lmp-populate '$LLAMA2' | lmp-eval --batch-size 1 --seq-len 1 --totals | jq .totals.param_count"
	[ "$output" = "$(lmp-eval --batch-size 1 --seq-len 1 --totals "$LLAMA2" | jq .totals.param_count)" ]
	# a user entry of a shipped class comes first: Linear at 1 FLOP an element
	jq --slurpfile s "$ROOT/module_db.json" '.entries["torch.nn.modules.linear.Linear"] = ($s[0].entries["torch.nn.modules.linear.Linear"] | .flop_analysis.formula = "${in_features}")' \
		"$XDG_DATA_HOME/lmp/module_db.json" > "$BATS_TEST_TMPDIR/u" && mv "$BATS_TEST_TMPDIR/u" "$XDG_DATA_HOME/lmp/module_db.json"
	run lmp-eval --module torch.nn.Linear in_features=7 out_features=3 tokens=2
	[ "$(jq .flops <<<"$output")" = 7 ]
	# --db names one database alone
	run lmp-eval --db "$ROOT/module_db.json" --module torch.nn.Linear in_features=7 out_features=3 tokens=2 bias=0
	[ "$(jq .flops <<<"$output")" = 84 ]  # 2 * 2 * 7 * 3
	LMP_DB="$ROOT/module_db.json" run --separate-stderr lmp-eval --module tiny.modeling.TinyAct elements=5
	[ "$status" -ne 0 ]
}

@test "pipeline.sh takes a model_type lmp has never seen through the agent" {
	zephyrine
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	unset LMP_DB
	run --separate-stderr "$ROOT/pipeline.sh" "$BATS_TEST_TMPDIR/zeph/config.json" --agent "$AG/arch.sh good" --totals --seq-len 1
	assert_success
	[ "$(jq .totals.param_count <<<"$output")" = 202048 ]  # as counted by hand above
}

# ---- the architecture agent's template against the checkpoint's tensors ----

# The made-up model_type at tiny real shapes, in a model directory with its
# checkpoint (test/ckpt.bash): hidden 8, MLP 12, 2 layers, 2 heads of 4, 1
# KV head, vocabulary 10, untied head.  By hand, per layer: q_proj 8x8 = 64,
# k_proj and v_proj 4x8 = 32, o_proj 64, gate_proj, up_proj 12x8 = 96,
# down_proj 8x12 = 96, two norms of 8: 496; the model 2 x 496 + embedding
# 10x8 = 80 + final norm 8 + head 80 = 1160 over 12 paths (embedding, 9 per
# layer, norm, head) and 1 + 2 x 9 + 1 + 1 = 21 tensors.  With "tied", the
# head is tied to the embedding and not stored.
zephyrine_ckpt() {
	load ckpt
	Z="$BATS_TEST_TMPDIR/zeph"
	mkdir -p "$Z"
	cat > "$Z/config.json" <<'JSON'
{"model_type": "zephyrine", "architectures": ["ZephyrineForCausalLM"], "hidden_size": 8,
 "intermediate_size": 12, "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
 "vocab_size": 10, "max_position_embeddings": 512, "rms_norm_eps": 1e-06, "hidden_act": "silu",
 "tie_word_embeddings": false, "rope_theta": 10000.0, "zephyr_gate_scale": 0.5}
JSON
	local head=lm_head.weight:10x8
	if [ "${1:-}" = tied ]; then
		jq '.tie_word_embeddings = true' "$Z/config.json" > "$Z/c" && mv "$Z/c" "$Z/config.json"
		head=
	fi
	# shellcheck disable=SC2046,SC2086
	ckpt "$Z/model.safetensors" model.embed_tokens.weight:10x8 $(llama_layer 0) $(llama_layer 1) \
		model.norm.weight:8 $head
	lmp-inspect --check-weights "$Z" 2>/dev/null > "$BATS_TEST_TMPDIR/unresolved.json"
}

# gate_proj twice as wide as the checkpoint's: 2 layers x 24x8 = 384 in the
# model, 2 x 12x8 = 192 elements stored
GATE_REFUSED='weights check: model.layers.0.mlp.gate_proj.weight: the model'"'"'s shape [24, 8], the checkpoint'"'"'s [12, 8]'

@test "a template wrong by one tensor's shape is refused against the checkpoint, naming the tensor and both counts; nothing stored" {
	zephyrine_ckpt
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	[ "$(jq -c '[.unresolved.model_type, .model.checkpoint.count]' "$BATS_TEST_TMPDIR/unresolved.json")" = '["zephyrine",21]' ]
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh wrongmlp" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure "model_type zephyrine: $GATE_REFUSED"
	[ "$status" -eq 4 ]
	[ ! -e "$XDG_DATA_HOME/lmp/archs/zephyrine.json" ]
	# with a class the database lacks (the module agent's, later): the
	# known leaves are compared all the same
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh wrongnew" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_clean_failure lmp-ensure "model_type zephyrine: $GATE_REFUSED"
	[ "$(jq '.entries | has("zephyrine.modeling_zephyrine.ZephyrineAct")' "$DB")" = false ]
	# the checkpoint is what refuses it: without --check-weights it is kept
	lmp-inspect "$Z" 2>/dev/null > "$BATS_TEST_TMPDIR/bare.json"
	run --separate-stderr lmp-ensure --quiet --retries 0 --agent "$AG/arch.sh wrongmlp" "$BATS_TEST_TMPDIR/bare.json"
	assert_success
	[ -e "$XDG_DATA_HOME/lmp/archs/zephyrine.json" ]
}

@test "the checkpoint's refusal goes back to the agent, right on the second try; the check is in the notes and lmp-eval's" {
	zephyrine_ckpt
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg" ARCH_STATE="$BATS_TEST_TMPDIR/state"
	mkdir -p "$ARCH_STATE"
	run --separate-stderr lmp-ensure --agent "$AG/arch.sh shapesecond" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[[ "$stderr" == *"lmp-ensure: zephyrine: answer refused ($GATE_REFUSED); asking again (try 2 of 3)"* ]]
	# the first prompt lists the checkpoint's tensors (layers folded)
	grep -qxF 'model.layers.*.mlp.gate_proj.weight BF16 [12, 8] x2' "$ARCH_STATE/prompt.1"
	grep -qxF 'lm_head.weight BF16 [10, 8] x1' "$ARCH_STATE/prompt.1"
	# the refusal, word for word, in the second prompt; no third
	! grep -q 'weights check' "$ARCH_STATE/prompt.1"
	grep -qxF "    $GATE_REFUSED" "$ARCH_STATE/prompt.2"
	[ ! -e "$ARCH_STATE/prompt.3" ]
	local T="$XDG_DATA_HOME/lmp/archs/zephyrine.json"
	[ "$(jq -r .validation.status "$T")" = pending ]
	[[ "$(jq -r .validation.notes "$T")" == *"checked against the checkpoint's tensors: 12 paths, 21 tensors matched;"* ]]
	# the document goes on with its checkpoint; lmp-eval finds every tensor
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/resolved.json"
	run --separate-stderr sh -c "lmp-populate '$BATS_TEST_TMPDIR/resolved.json' | lmp-eval --seq-len 1 --totals"
	assert_success
	[ "$(jq -c '[.totals.param_count, .weights_check.matched]' <<<"$output")" = '[1160,{"paths":12,"tensors":21,"by_shape":21,"parameters":1160}]' ]
}

@test "a right template with a class the database lacks: checked without that leaf, accepted, and lmp-eval checks the whole" {
	zephyrine_ckpt
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	run --separate-stderr lmp-ensure --agent "$AG/arch.sh good" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[[ "$stderr" == *"zephyrine.modeling_zephyrine.ZephyrineAct: added, pending validation"* ]]
	# the activation (one leaf under the repeated layer) left to lmp-eval
	[[ "$(jq -r .validation.notes "$XDG_DATA_HOME/lmp/archs/zephyrine.json")" == *"12 paths, 21 tensors matched (1 leaf of classes then unknown left to lmp-eval's check)"* ]]
	printf '%s\n' "$output" > "$BATS_TEST_TMPDIR/resolved.json"
	run --separate-stderr sh -c "lmp-populate '$BATS_TEST_TMPDIR/resolved.json' | lmp-eval --seq-len 1 --totals"
	assert_success
	[ "$(jq -c '[.totals.param_count, .weights_check.matched.parameters]' <<<"$output")" = '[1160,1160]' ]
}

@test "a leaf of an unknown class owning a tied weight: the head tied to it is left out of the comparison with it" {
	zephyrine_ckpt tied
	export XDG_DATA_HOME="$BATS_TEST_TMPDIR/xdg"
	# the embedding of a new class and the head tied to it: left out, both;
	# the rest compared: the 9 paths of the layers and the final norm = 10
	# paths, 2 x 9 + 1 = 19 tensors (the embedding's counts as extra here)
	run --separate-stderr lmp-ensure --agent "$AG/arch.sh newembed" "$BATS_TEST_TMPDIR/unresolved.json"
	assert_success
	[[ "$(jq -r .validation.notes "$XDG_DATA_HOME/lmp/archs/zephyrine.json")" == *"10 paths, 19 tensors matched (2 leaves of classes then unknown left to lmp-eval's check)"* ]]
}

@test "an answer's tensor declarations are kept, and refused where they disagree with param_count" {
	# one parameter an element: a weight of [elements] agrees, of
	# [2 * elements] holds twice as many (128 at the check's first point,
	# where elements takes 64).
	GOOD_TENSORS='[{"name":"weight","shape":["${elements}"]}]' \
		run --separate-stderr lmp-ensure --agent "$AG/good.sh" --module tiny.modeling.Scaled
	assert_success
	[ "$(jq -c '.entries["tiny.modeling.Scaled"].tensors' "$DB")" = '[{"name":"weight","shape":["${elements}"]}]' ]
	run lmp-eval --module tiny.modeling.Scaled elements=5
	[ "$(jq -c .tensors <<<"$output")" = '[{"name":"weight","shape":[5]}]' ]
	local before=$(sum)
	GOOD_TENSORS='[{"name":"weight","shape":["2 * ${elements}"]}]' \
		run_split lmp-ensure --agent "$AG/good.sh" --retries 0 --module tiny.modeling.Doubled
	[ "$status" -ne 0 ] && [ -z "$output" ]
	[[ "$stderr" == *"tiny.modeling.Doubled: at elements=64; "*"its tensors hold 128 parameters, its param_count is 64"* ]]
	[ "$(sum)" = "$before" ]
	GOOD_TENSORS='[{"name":"weight","shape":["${elements}"],"dtype":"F16"}]' \
		run_split lmp-ensure --agent "$AG/good.sh" --retries 0 --module tiny.modeling.Typed
	[ "$status" -ne 0 ] && [ -z "$output" ]
	[[ "$stderr" == *'tensor weight: unknown key "dtype" (name, shape, buffer)'* ]]
}

@test "the agent's parallel roles: asked for in the prompt, checked, stored; an entry without them warned of under --tp" {
	local ok='{"roles":{"split":{"divides":["elements"],"then":{"collective":"all_gather","bytes":"${elements} * ${a_dtype_bytes}"},"source":"vLLM vllm/model_executor/layers/activation.py"}},"default":"split"}'
	GOOD_PARALLEL="$ok" run --separate-stderr lmp-ensure --quiet --agent "$AG/good.sh" --module tiny.modeling.Split
	assert_success
	[ "$(jq -c '.entries["tiny.modeling.Split"].parallel' "$DB")" = "$ok" ]
	local before=$(sum) bad why
	for bad in \
		'{"roles":{"split":{"divides":["width"],"source":"s"}}}|parallel role "split": "divides" names no parameter of the entry' \
		'{"roles":{"split":{"divides":["elements"],"then":{"collective":"broadcast","bytes":"1"},"source":"s"}}}|"then" needs a known "collective"' \
		'{"roles":{"split":{"divides":["elements"],"then":{"collective":"all_reduce","bytes":"${width}"},"source":"s"}}}|parallel role "split": then.bytes: ' \
		'{"roles":{"split":{"divides":["elements"]}}}|parallel role "split" cites no "source"' \
		'{"roles":{"split":{"divides":["elements"],"replicates":["a_dtype_bytes"],"source":"s"}}}|"replicates" names a_dtype_bytes, which it does not divide' \
		'{"roles":{"split":{"divides":["elements"],"source":"s"}},"default":"row"}|parallel.default must name one of its roles'; do
		why=${bad#*|}
		GOOD_PARALLEL=${bad%%|*} run_split lmp-ensure --agent "$AG/good.sh" --retries 0 --module tiny.modeling.Bad
		[ "$status" -ne 0 ] && [ -z "$output" ]
		[[ "$stderr" == *"$why"* ]] || fail "no '$why' in: $stderr"
		[ "$(sum)" = "$before" ]
	done
	# the prompt asks for the roles
	cat > "$BATS_TEST_TMPDIR/spy.sh" <<SPY
#!/bin/sh
cat > "$BATS_TEST_TMPDIR/prompt.txt"
exit 3
SPY
	chmod +x "$BATS_TEST_TMPDIR/spy.sh"
	run --separate-stderr lmp-ensure --quiet --agent "$BATS_TEST_TMPDIR/spy.sh" --module a.b.Prompt
	grep -q '^## Under tensor parallelism$' "$BATS_TEST_TMPDIR/prompt.txt"
	# an agent entry with no roles, in a layer of a model at TP 2: counted
	# whole on each device (4096 x 2 bytes of weights, one parameter an
	# element) and said once on stderr
	GOOD_TENSORS='[{"name":"weight","shape":["${elements}"]}]' \
		run --separate-stderr lmp-ensure --quiet --agent "$AG/good.sh" --module tiny.modeling.Scaled
	assert_success
	jq '.layers[0].sub_layers[3] |= (.class = "tiny.modeling.Scaled" | .params = {"elements": 4096, "a_dtype_bytes": 2})' \
		"$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	run_split lmp-eval --tp 2 --batch-size 1 --seq-len 1 "$BATS_TEST_TMPDIR/m.json"
	assert_success
	[ "$stderr" = "lmp-eval: warning: tiny.modeling.Scaled declares no parallel role (an entry not validated): counted replicated on every device" ]
	[ "$(jq '.rows[] | select(.path == "model.norm") | .param_count' <<<"$output")" = 4096 ]
}

@test "an agent's linear keeps its gemm, checked as module_db.json's are, and gets GEMM waves" {
	# the prompt asks for it
	cat > "$BATS_TEST_TMPDIR/spy.sh" <<SPY
#!/bin/sh
cat > "$BATS_TEST_TMPDIR/prompt.txt"
exit 3
SPY
	chmod +x "$BATS_TEST_TMPDIR/spy.sh"
	run --separate-stderr lmp-ensure --quiet --agent "$BATS_TEST_TMPDIR/spy.sh" --module a.b.Prompt
	grep -q '^ "gemm": {"m": "TEMPLATE", "n": "TEMPLATE", "k": "TEMPLATE", "calls": "TEMPLATE",$' "$BATS_TEST_TMPDIR/prompt.txt"
	grep -q '^- gemm: the matrix products of the module with its weights' "$BATS_TEST_TMPDIR/prompt.txt"
	# a linear without bias: stored with its gemm as answered
	run --separate-stderr lmp-ensure --quiet --agent "$AG/linear.sh" --module my.pkg.MyLinear
	assert_success
	[ "$(jq -c '.entries["my.pkg.MyLinear"].gemm | [.m, .n, .k, .calls]' "$DB")" = '["${tokens}","${out_features}","${in_features}","1"]' ]
	[ "$(jq -r '.entries["my.pkg.MyLinear"].validation.status' "$DB")" = pending ]
	# in a model: q_proj of Llama-2-7B's layers as the agent's class
	jq '(.. | objects | select(.class? == "torch.nn.modules.linear.Linear" and .name == "q_proj")) |= (.class = "my.pkg.MyLinear" | .params |= del(.bias, .weight_reads))' \
		"$LLAMA2" > "$BATS_TEST_TMPDIR/m.json"
	lmp-eval --batch-size 1 --seq-len 128 "$BATS_TEST_TMPDIR/m.json" > "$BATS_TEST_TMPDIR/e.json"
	# 128 tokens by 4096 x 4096, one call; 2 x 128 x 4096 x 4096 = 4294967296 FLOPs
	[ "$(jq -c '.rows[] | select(.path | endswith("q_proj")) | [.class, .flops, .gemm]' "$BATS_TEST_TMPDIR/e.json")" = '["my.pkg.MyLinear",4294967296,{"m":128,"n":4096,"k":4096,"calls":1}]' ]
	# timed in waves (lmp-roofline(1) TIME MODEL) under a calibration with
	# waves, on an H100 of 132 SMs: 32 tiles of 128 x 128, K split 4 ways,
	# one wave, efficiency 128 x 4096 x 4096 / (132 x 128 x 128 x 1024)
	jq -n '{lmp: "calibration", version: 1, entries: [{device: "nvidia-h100-sxm", engine: null,
		terms: {compute_fraction: 1, memory_fraction: 1, link_fraction: 1, launch_s: 0, step_s: 0, waves: true},
		measurements: 5}]}' > "$BATS_TEST_TMPDIR/c.json"
	lmp-roofline --hardware nvidia-h100-sxm --calibration "$BATS_TEST_TMPDIR/c.json" "$BATS_TEST_TMPDIR/e.json" > "$BATS_TEST_TMPDIR/r.json"
	[ "$(jq -c '.rows[] | select(.path | endswith("q_proj")) | .gemm_waves | [.tiles, .split_k, .waves]' "$BATS_TEST_TMPDIR/r.json")" = '[32,4,1]' ]
	awk -v w="$(jq '.rows[] | select(.path | endswith("q_proj")) | .wave_efficiency' "$BATS_TEST_TMPDIR/r.json")" \
		'BEGIN { x = 128 * 4096 * 4096 / (132 * 128 * 128 * 1024); d = w - x; exit !(d < 1e-12 && d > -1e-12) }'
	# refused as a database entry's gemm would be: more FLOPs than the row's,
	# a member missing or extra, negative, not a template; nothing stored
	local before=$(sum) bad why
	for bad in \
		'{"m": "${tokens}", "n": "${out_features}", "k": "2 * ${in_features}", "calls": "1"}|gemm of 2147483648 FLOPs (2 m n k calls) exceeds the row'"'"'s 1073741824' \
		'{"m": "${tokens}", "n": "${out_features}", "k": "${in_features}"}|gemm lacks "calls"' \
		'{"m": "1", "n": "1", "k": "1", "calls": "1", "shape": "1"}|gemm has no member "shape"' \
		'{"m": "0 - ${tokens}", "n": "1", "k": "1", "calls": "1"}|gemm.m is negative' \
		'{"m": 1, "n": "1", "k": "1", "calls": "1"}|gemm.m must be a template' \
		'[1]|"gemm" must be an object'; do
		why=${bad#*|}
		LINEAR_GEMM=${bad%%|*} run_split lmp-ensure --agent "$AG/linear.sh" --retries 0 --module my.pkg.Bad
		[ "$status" -ne 0 ] && [ -z "$output" ]
		[[ "$stderr" == *"$why"* ]] || fail "no '$why' in: $stderr"
		[ "$(sum)" = "$before" ]
	done
	# the first point is the prefill of 2 x 16 tokens: 2 x 32 x 4096 x 4096
	[ $((2 * 32 * 4096 * 4096)) = 1073741824 ]
}
