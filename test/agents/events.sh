#!/bin/sh
# Claude Code's --output-format json under --verbose: an array of events,
# the answer in the last one of type "result".  EVENTS=error: the result
# event reports an error with its text; EVENTS=maxturns: one with no text,
# only its subtype.
cls=$(sed -n 's/^CLASS: //p' | head -n 1)
entry=$(printf 'CLASS: %s\n' "$cls" | "$(dirname "$0")/good.sh" | jq -c .)
case ${EVENTS:-ok} in
ok) last=$(jq -nc --arg r "The entry:

\`\`\`json
$entry
\`\`\`" '{type: "result", subtype: "success", is_error: false, result: $r, session_id: "x"}') ;;
error) last='{"type": "result", "subtype": "success", "is_error": true, "result": "Credit balance is too low", "session_id": "x"}' ;;
maxturns) last='{"type": "result", "subtype": "error_max_turns", "is_error": true, "session_id": "x"}' ;;
esac
# an assistant event with JSON of its own before the result: not the answer
printf '[{"type": "system", "subtype": "init", "session_id": "x", "tools": ["Read"]},
 {"type": "assistant", "message": {"content": [{"type": "text", "text": "{\\"draft\\": 1}"}]}, "session_id": "x"},
 %s]\n' "$last"
