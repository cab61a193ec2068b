#!/bin/sh
# usage: pipeline.sh MODEL [--revision REV] [--strict] [--db FILE] [--agent CMD] [--timeout S] [--retries N]
#                    [--source-root DIR] [--batch-size N,...] [--seq-len N,...]
#                    [--cache-len N,...] [--prompt-len P,...] [--gen-len G,...]
#                    [--phase prefill|decode] [--queries SEQ:CACHE[xCOUNT],...]
#                    [--w-bit B,...] [--a-bit B,...] [--kv-bit B,...] [--totals]
#                    [--tp N,...] [--pp N,...] [--ep N,...] [--dp N,...]
#                    [--engine NAME|FILE] [--kv-block N,...] [--gpu-memory-utilization F,...]
#                    [--memory-rule total|static|free,...] [--reserve-bytes N,...]
#                    [--chunk N,...] [--fusion off|on,...]
#                    [--kv-layout heads|latent,...] [--attention eager|fused|flash|paged,...]
#                    [--flash-arch sm80|sm8x|sm90,...] [--flash-sms N,...]
#                    [--hardware NAME|FILE] [--devices N] [--gpus-per-node N] [--compute-efficiency X]
#                    [--memory-efficiency X] [--calibration FILE|none] [--ideal] [--unfused]
#                    [--format F] [--plot X:Y] [--series FIELD,...]
#        pipeline.sh --help | --version
#
# The lmp chain in one command (installed as lmp-pipeline).  MODEL is what
# lmp-inspect takes (a config.json, a directory, a hub id org/name[@rev]) or
# a populated document.  Runs lmp-inspect | lmp-ensure | lmp-populate |
# lmp-eval (with --hardware timing each point as lmp-roofline does, in the
# same process), then lmp-report, as one pipe; each
# option goes to the tool that owns it.  On a terminal the answer is a table;
# into a pipe or a file, the documents (--format picks).  The seeds'
# spellings work too: model_id, batch_size, seq_len, w_bit, a_bit, kv_bit
# with underscores, and the Transformer Roofline Analyzer's input-tokens
# N... and cached-tokens N... lists (one query per pair, each batch-size
# times), which become lmp-eval's queries.  See lmp-pipeline(1).
set -euf # no globbing: option values are data
case $0 in
*/*) here=${0%/*} ;;
*) here=. ;;
esac
# a link to it elsewhere (~/bin): the tools are beside the file it names
if [ -L "$0" ]; then
	here=$(readlink -f "$0")
	here=${here%/*}
fi
# the tools: beside it in a checkout (bin/), or in the same directory installed
PATH="$here/bin:$here:$PATH"

me=${0##*/} # pipeline.sh, or lmp-pipeline installed
die() {
	echo "$me: $*" >&2
	exit 2
}

model= eval_args= roof_args= hardware= ins_args= ens_args= pop_args= rep_args=
inputs= cached= batch=
# Arguments are kept as shell words for eval: quoted, with ' as '\''.
# Without a ' (nearly always) no process is started: this runs per option.
quote() {
	case $1 in
	*\'*) _q="'$(printf '%s' "$1" | sed "s/'/'\\\\''/g")'" ;;
	*) _q="'$1'" ;;
	esac
}
add_eval() { quote "$1"; eval_args="$eval_args $_q"; }
add_roof() { quote "$1"; roof_args="$roof_args $_q"; }
add_ins() { quote "$1"; ins_args="$ins_args $_q"; }
add_ens() { quote "$1"; ens_args="$ens_args $_q"; }
add_pop() { quote "$1"; pop_args="$pop_args $_q"; }
add_rep() { quote "$1"; rep_args="$rep_args $_q"; }

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
		[ "$a" != --batch_size ] || batch=$1
		add_eval "$(printf '%s' "$a" | tr _ -)"; add_eval "$1"; shift ;;
	--input-tokens | --cached-tokens)
		# a list: the words up to the next option
		list=
		while [ $# -gt 0 ] && case $1 in -*) false ;; *) true ;; esac; do list="$list $1"; shift; done
		[ -n "$list" ] || die "$a needs at least one number"
		if [ "$a" = --input-tokens ]; then inputs=$list; else cached=$list; fi ;;
	--batch-size)
		[ $# -gt 0 ] || die "$a needs a value"
		batch=$1; add_eval "$a"; add_eval "$1"; shift ;;
	# the runtime options: every row of lmp-eval --list-options (checked by test/06-pipeline.bats)
	--seq-len | --cache-len | --prompt-len | --gen-len | --phase | --queries | --w-bit | --a-bit | --kv-bit | \
		--engine | --kv-block | --gpu-memory-utilization | --memory-rule | --reserve-bytes | --chunk | --fusion)
		[ $# -gt 0 ] || die "$a needs a value"
		add_eval "$a"; add_eval "$1"; shift ;;
	--tp | --pp | --ep | --dp | --kv-layout | --attention | --flash-arch | --flash-sms)
		[ $# -gt 0 ] || die "$a needs a value"
		add_eval "$a"; add_eval "$1"; shift ;;
	--db)
		[ $# -gt 0 ] || die "$a needs a value"
		add_eval "$a"; add_eval "$1"; add_ens "$a"; add_ens "$1"; add_pop "$a"; add_pop "$1"; shift ;;
	--totals) add_eval "$a" ;;
	--hardware)
		[ $# -gt 0 ] || die "$a needs a value"
		hardware=$1; add_roof "$a"; add_roof "$1"; shift ;;
	--devices | --gpus-per-node | --compute-efficiency | --memory-efficiency | --calibration)
		[ $# -gt 0 ] || die "$a needs a value"
		add_roof "$a"; add_roof "$1"; shift ;;
	--unfused | --ideal) add_roof "$a" ;;
	--format | --plot | --series)
		[ $# -gt 0 ] || die "$a needs a value"
		add_rep "$a"; add_rep "$1"; shift ;;
	--revision)
		[ $# -gt 0 ] || die "$a needs a value"
		add_ins "$a"; add_ins "$1"; shift ;;
	--strict) add_ins "$a" ;;
	--agent | --timeout | --retries | --source-root)
		[ $# -gt 0 ] || die "$a needs a value"
		add_ens "$a"; add_ens "$1"; shift ;;
	-h | --help) sed -n '2,/^set -euf/s/^# \{0,1\}//p' "$0"; exit 0 ;;
	--version) lmp-eval --version | sed "s/^lmp-eval/$me/"; exit 0 ;;
	-*) die "unknown option $a" ;;
	*) [ -z "$model" ] || die "more than one model"; model=$a ;;
	esac
done
[ -n "$model" ] || die "usage: pipeline.sh MODEL [options]"

# The Analyzer's query lists: pairs of new and cached tokens, each batch times.
if [ -n "$inputs$cached" ]; then
	set -- $inputs
	n_in=$#
	set -- $cached
	[ "$n_in" -eq $# ] || die "--input-tokens and --cached-tokens need as many numbers each"
	queries=
	for c in $cached; do
		set -- $inputs
		shift $(( $(printf '%s\n' $queries | grep -c .) ))
		queries="$queries $1:$c${batch:+x$batch}"
	done
	q=$(printf '%s\n' $queries | paste -sd,)
	# --queries is the whole step: it replaces --batch-size
	eval_args=$(printf '%s' "$eval_args" | sed "s/ '--batch-size' '[^']*'//")
	add_eval --queries
	add_eval "$q"
fi

# The tools run as one pipe, side by side.  Each stage reports a failure
# on fd 4 as "STAGE STATUS"; the chain fails with the status of the first
# stage that failed (one killed by SIGPIPE only because a later one stopped
# reading is not the cause), and that tool's message is the only one:
# with LMP_CHAIN set, a tool whose input is empty exits without a word.
export LMP_CHAIN=1
# With --hardware lmp-eval times each point itself (lmp-eval(1): the fused
# form, lmp-eval | lmp-roofline's documents in one process fewer); without
# it the time model's options have nothing to apply to.
[ -n "$hardware" ] || roof_args=
# A populated document goes straight to lmp-eval; anything else is a model.
if [ -f "$model" ] && [ "$(jq -r .lmp "$model" 2>/dev/null)" = populated ]; then
	front="{ lmp-eval $eval_args $roof_args \"\$model\" || echo 4 \$? >&4; }"
else
	front="{ lmp-inspect $ins_args \"\$model\" || echo 1 \$? >&4; } |
		{ lmp-ensure --quiet $ens_args || echo 2 \$? >&4; } |
		{ lmp-populate $pop_args || echo 3 \$? >&4; } |
		{ lmp-eval $eval_args $roof_args || echo 4 \$? >&4; }"
fi
exec 3>&1
failed=$(eval "{ $front | { lmp-report $rep_args || echo 6 \$? >&4; } >&3; } 4>&1")
exec 3>&-
[ -z "$failed" ] && exit 0
# the first stage's status; SIGPIPE (141) only when nothing else failed
best= first=9
while read -r stage st; do
	if [ "$st" != 141 ] && [ "$stage" -lt "$first" ]; then best=$st first=$stage; fi
done <<EOF
$failed
EOF
exit "${best:-141}"
