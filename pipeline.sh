#!/bin/sh
# pipeline.sh MODEL [options]: the lmp chain in one command.
#
# For now the chain is lmp-eval on a populated architecture: MODEL is a
# populated document, or a hub id (org/name) whose populated document ships
# in models/.  lmp-inspect, lmp-ensure, lmp-populate, lmp-roofline and
# lmp-report join the chain as they land.  Options are lmp-eval's; the
# seeds' spellings (--model_id, --batch_size, --seq_len, --w_bit, --a_bit)
# are accepted too.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
PATH="$here/bin:$PATH"

usage() {
	echo "usage: pipeline.sh MODEL [lmp-eval options]" >&2
	exit 2
}

model=
set_model() {
	[ -z "$model" ] || { echo "pipeline.sh: more than one model" >&2; exit 2; }
	model=$1
}

n=$#
i=0
while [ "$i" -lt "$n" ]; do
	a=$1
	shift
	i=$((i + 1))
	case $a in
	--model_id | --model-id) set_model "${1:?}"; shift; i=$((i + 1)); continue ;;
	--model_id=* | --model-id=*) set_model "${a#*=}"; continue ;;
	--batch_size*) a="--batch-size${a#--batch_size}" ;;
	--seq_len*) a="--seq-len${a#--seq_len}" ;;
	--w_bit*) a="--w-bit${a#--w_bit}" ;;
	--a_bit*) a="--a-bit${a#--a_bit}" ;;
	--kv_bit*) a="--kv-bit${a#--kv_bit}" ;;
	-h | --help) sed -n '2,10s/^# \{0,1\}//p' "$0"; exit 0 ;;
	-*) ;;
	*)
		# an option's value follows its option; anything else is the model
		case ${prev:-} in
		--batch-size | --seq-len | --cache-len | --w-bit | --a-bit | --kv-bit | --db) ;;
		*) set_model "$a"; prev=; continue ;;
		esac
		;;
	esac
	set -- "$@" "$a"
	prev=$a
done
[ -n "$model" ] || usage

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
exec lmp-eval "$@" "$doc"
