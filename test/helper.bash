# Shared set-up of the bats files: the checkout's tools first on PATH, the
# Debian bats libraries, and the shipped documents.
ROOT="$(cd "$BATS_TEST_DIRNAME/.." && pwd)"
PATH="$ROOT/bin:$PATH"
export LC_ALL=C
unset LMP_DB LMP_DATADIR
# No user templates (lmp-arch(5)) unless a test makes some.
unset LMP_ARCH_PATH
export XDG_DATA_HOME=/nonexistent/data-home
# Tests are derived under transformers' forward (the documents lmp wrote
# before engines): the engine lmp-eval takes without --engine
# (lmp-engine(5)).  Tests of an engine pass --engine or unset it.
export LMP_ENGINE=transformers
# Tests are derived under the pure roofline: no calibration file, the ideal
# terms (lmp-roofline(1) TIME MODEL); tests of the time model set their own.
export LMP_CALIBRATION=none
bats_require_minimum_version 1.5.0
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

LLAMA2="$ROOT/models/meta-llama--Llama-2-7b-hf.populated.json"
LL=transformers.models.llama.modeling_llama

# run_split: like run, with stdout in $output and stderr in $stderr.
run_split() {
	run --separate-stderr "$@"
}

# A failure of a tool: non-zero status, nothing on stdout, one stderr line
# "lmp-TOOL: ..." that contains $2.
assert_clean_failure() {
	local tool=$1 want=$2
	[ "$status" -ne 0 ] || fail "expected failure, got status 0"
	[ -z "$output" ] || fail "stdout not empty: $output"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || fail "stderr is not one line: $stderr"
	case "$stderr" in
	"$tool: "*"$want"*) ;;
	*) fail "stderr '$stderr' lacks '$tool: ...$want'" ;;
	esac
}
