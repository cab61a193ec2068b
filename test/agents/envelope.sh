#!/bin/sh
# Claude Code's JSON envelope, the entry in a fenced block of its result.
cls=$(sed -n 's/^CLASS: //p' | head -n 1)
entry=$(printf 'CLASS: %s\n' "$cls" | "$(dirname "$0")/good.sh" | jq -c .)
jq -n --arg r "Here is the entry:

\`\`\`json
$entry
\`\`\`
" '{type: "result", subtype: "success", is_error: false, result: $r, session_id: "x"}'
