#!/bin/sh
# make models: the architecture and populated documents of every shipped
# config whose model_type lmp supports, into DIR (default models/).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/models}
PATH="$root/bin:$PATH"
# Only the shipped configs: never a user's HuggingFace cache or the network.
export HF_HUB_CACHE=/nonexistent HF_HUB_OFFLINE=1
# Only the shipped templates: never a user's own (lmp-arch(5)).
export LMP_ARCH_PATH= XDG_DATA_HOME=/nonexistent
mkdir -p "$out"
supported=" $(lmp-inspect --list | cut -f1 | tr '\n' ' ') "
for cfg in "$root"/share/lmp/configs/*/*/config.json; do
	id=${cfg#"$root/share/lmp/configs/"}
	id=${id%/config.json}
	mt=$(jq -r 'if .text_config then .text_config.model_type else .model_type end' "$cfg")
	case $supported in
	*" $mt "*) ;;
	*) continue ;;
	esac
	slug=$(printf '%s' "$id" | sed 's|/|--|')
	# lmp's own pretty print, not jq's: jq 1.7 rewrites number literals
	# (1e-05 becomes 0.00001), and lmp passes each number's text through
	lmp-inspect --pretty "$id" > "$out/$slug.arch.json.tmp"
	# cache first: every class must be known, the agent is never asked
	lmp-ensure --quiet --agent false < "$out/$slug.arch.json.tmp" > /dev/null
	lmp-populate --pretty < "$out/$slug.arch.json.tmp" > "$out/$slug.populated.json.tmp"
	mv "$out/$slug.arch.json.tmp" "$out/$slug.arch.json"
	mv "$out/$slug.populated.json.tmp" "$out/$slug.populated.json"
done
