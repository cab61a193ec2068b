#!/bin/sh
# pipeline.sh MODEL [options]: the lmp chain in one command.
#
# MODEL is a populated document, or a hub id (org/name) whose populated
# document ships in models/.  Runs lmp-eval, and with --hardware also
# lmp-roofline; each option goes to the tool that owns it.  lmp-inspect,
# lmp-ensure, lmp-populate and lmp-report join the chain as they land.
# The seeds' spellings are accepted too: --model_id, --batch_size,
# --seq_len, --w_bit, --a_bit, --kv_bit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="$here/bin:$PATH"

die() {
	echo "pipeline.sh: $*" >&2
	exit 2
}

model= eval_args= roof_args= hardware=
# Arguments are kept as shell words for eval: quote, with ' as '\''.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
add_eval() { eval_args="$eval_args $(quote "$1")"; }
add_roof() { roof_args="$roof_args $(quote "$1")"; }

while [ $# -gt 0 ]; do
	a=$1
	shift
	case $a in
	--*=*) v=${a#*=}; a=${a%%=*}; set -- "$v" "$@" ;;
	esac
	case $a in
	--model_id | --model-id) [ $# -gt 0 ] || die "$a needs a value"; model=$1; shift ;;
	--batch_size | --seq_len | --w_bit | --a_bit | --kv_bit)
		[ $# -gt 0 ] || die "$a needs a value"
		add_eval "$(printf '%s' "$a" | tr _ -)"; add_eval "$1"; shift ;;
	--batch-size | --seq-len | --cache-len | --prompt-len | --gen-len | --phase | --w-bit | --a-bit | --kv-bit | --db)
		[ $# -gt 0 ] || die "$a needs a value"
		add_eval "$a"; add_eval "$1"; shift ;;
	--totals) add_eval "$a" ;;
	--hardware)
		[ $# -gt 0 ] || die "$a needs a value"
		hardware=$1; add_roof "$a"; add_roof "$1"; shift ;;
	--devices | --compute-efficiency | --memory-efficiency)
		[ $# -gt 0 ] || die "$a needs a value"
		add_roof "$a"; add_roof "$1"; shift ;;
	--unfused) add_roof "$a" ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) die "unknown option $a" ;;
	*) [ -z "$model" ] || die "more than one model"; model=$a ;;
	esac
done
[ -n "$model" ] || die "usage: pipeline.sh MODEL [options]"

if [ -f "$model" ]; then
	doc=$model
else
	slug=$(printf '%s' "$model" | sed 's|/|--|g')
	doc=$here/models/$slug.populated.json
	[ -f "$doc" ] || doc=${LMP_DATADIR:-$here/share/lmp}/models/$slug.populated.json
	if [ ! -f "$doc" ]; then
		echo "pipeline.sh: no populated document for $model (shipped: $(ls "$here/models" | sed -n 's/\.populated\.json$//p' | sed 's|--|/|' | tr '\n' ' '))" >&2
		exit 1
	fi
fi
if [ -z "$hardware" ]; then
	eval "exec lmp-eval $eval_args \"\$doc\""
fi
# The chain fails as a whole when either tool fails.
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
eval "lmp-eval $eval_args \"\$doc\"" > "$tmp"
eval "lmp-roofline $roof_args \"\$tmp\""
