#!/bin/sh
# Hostile answers, chosen by $HOSTILE: a formula of a megabyte, nesting
# 10,000 deep, a call cycle, shell syntax, a ../ name, a negative count.
cls=$(sed -n 's/^CLASS: //p' | head -n 1)
base=$(printf 'CLASS: %s\n' "$cls" | "$(dirname "$0")/good.sh")
case $HOSTILE in
megabyte) f= ;;
deep) f="$(printf '%.0s(' $(seq 10000))1$(printf '%.0s)' $(seq 10000))" ;;
cycle) f="{$cls}(\${elements}, \${a_dtype_bytes})" ;;
shell) f='$(touch /tmp/lmp-pwned) + `id`' ;;
dotdot) base=$(printf '%s' "$base" | jq -c '.full_class_name = "../../etc/x.y"'); f='${elements}' ;;
negative) f='0 - ${elements}' ;;
esac
# the formula goes through a file: a megabyte is past the argument limit
tmp=$(mktemp)
if [ "$HOSTILE" = megabyte ]; then
	head -c 1100000 /dev/zero | tr '\0' 1 > "$tmp"
else
	printf '%s' "$f" > "$tmp"
fi
printf '%s' "$base" | jq -c --rawfile f "$tmp" '.flop_analysis.formula = $f | .flop_analysis.breakdown = {"all": $f}'
rm -f "$tmp"
