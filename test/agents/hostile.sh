#!/bin/sh
# Hostile answers, chosen by $HOSTILE: a formula of a megabyte, nesting
# 10,000 deep, a call cycle, shell syntax, a ../ name, a negative count;
# text meant to break the error line or to drive the terminal: in a formula
# (control), in an error the agent reports (said), in a duplicate key (key),
# a formula of e-acutes that an error quotes cut inside a character (cut).
cls=$(sed -n 's/^CLASS: //p' | head -n 1)
# newline, escape sequences (ESC and the C1 CSI), a bidi override, a
# tab and a carriage return, and plain UTF-8 that must stay as it is
nasty='line1\nline2 \u001b[2J\u001b]0;pwned\u0007 \u009b31m \u202eevil\t\r caf\u00e9 \u2192'
case $HOSTILE in
said)
	printf '{"type": "result", "is_error": true, "result": "%s %s"}' "$nasty" "$(printf '%.0sx' $(seq 300))"
	exit 0 ;;
key)
	k='k\nk\u001b[2J'
	printf '{"full_class_name": "%s", "%s": 1, "%s": 2}' "$cls" "$k" "$k"
	exit 0 ;;
esac
base=$(printf 'CLASS: %s\n' "$cls" | "$(dirname "$0")/good.sh")
case $HOSTILE in
megabyte) f= ;;
deep) f="$(printf '%.0s(' $(seq 10000))1$(printf '%.0s)' $(seq 10000))" ;;
cycle) f="{$cls}(\${elements}, \${a_dtype_bytes})" ;;
shell) f='$(touch /tmp/lmp-pwned) + `id`' ;;
dotdot) base=$(printf '%s' "$base" | jq -c '.full_class_name = "../../etc/x.y"'); f='${elements}' ;;
negative) f='0 - ${elements}' ;;
control) f=$(printf '%s' "\"$nasty\"" | jq -r .) ;;
cut) f="1 +  $(printf '%.0s\303\251' $(seq 40))" ;;
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
