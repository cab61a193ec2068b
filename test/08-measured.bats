#!/usr/bin/env bats
# The measurement corpus share/lmp/measured/*.ndjson: every line one JSON
# record of the shape share/lmp/measured/README documents.  Only the shape
# is checked here (the values are the sources' own, never derived).

load helper

M="$ROOT/share/lmp/measured"

# jq over every record of every file; prints "FILE:LINE: what" for each bad
# record and nothing when all are good.
check() {
	local f
	for f in "$M"/*.ndjson; do
		jq -r --arg f "$(basename "$f")" --arg hw "$ROOT/share/lmp/hardware" \
			"input_line_number as \$n | ($1) | select(. != null and . != \"\") | \"\(\$f):\(\$n): \(.)\"" "$f"
	done
}

@test "the corpus exists and has at least 80 records" {
	ls "$M"/*.ndjson >/dev/null
	n=$(cat "$M"/*.ndjson | wc -l)
	[ "$n" -ge 80 ] || fail "only $n records"
}

@test "every line of every file is exactly one JSON object" {
	for f in "$M"/*.ndjson; do
		lines=$(wc -l < "$f")
		objs=$(jq -c 'select(type == "object")' "$f") || fail "$(basename "$f"): not JSON"
		[ "$(printf '%s\n' "$objs" | wc -l)" -eq "$lines" ] || fail "$(basename "$f"): $lines lines but not as many objects"
		! grep -qv '^{.*}$' "$f" || fail "$(basename "$f"): a record spans lines or a line is not an object"
	done
}

@test "every record has every required field" {
	out=$(check '[ "id","model","model_as_published","device","device_as_published","n_devices","engine","engine_version",
		"tp","pp","ep","dp","weight_dtype","activation_dtype","kv_dtype","batch","concurrency","input_len","output_len",
		"metric","tokens","scope","value","unit","published_value","published_unit","predictable","not_predictable",
		"implausible","source","notes" ] - keys | if length > 0 then "missing \(join(","))" else null end')
	[ -z "$out" ] || fail "$out"
}

@test "ids are unique over the whole corpus" {
	dup=$(cat "$M"/*.ndjson | jq -r .id | sort | uniq -d)
	[ -z "$dup" ] || fail "duplicate ids: $dup"
}

@test "metric names are known and the unit fits the metric" {
	out=$(check 'if (.metric | IN("ttft_s","tpot_s","itl_s","e2e_s","latency_s","throughput_tok_s") | not) then "unknown metric \(.metric)"
		elif .metric == "throughput_tok_s" and .unit != "tok/s" then "throughput unit \(.unit)"
		elif .metric != "throughput_tok_s" and .unit != "s" then "latency unit \(.unit)"
		elif .metric == "throughput_tok_s" and (.tokens | IN("output","total",null) | not) then "tokens \(.tokens)"
		elif .metric != "throughput_tok_s" and .tokens != null then "tokens on a latency"
		else null end')
	[ -z "$out" ] || fail "$out"
}

@test "values are positive numbers and the published value is kept as a string" {
	out=$(check 'if (.value | type) != "number" or .value <= 0 then "value \(.value)"
		elif (.published_value | type) != "string" or (.published_value | length) == 0 then "published_value \(.published_value)"
		elif (.published_unit | type) != "string" or (.published_unit | length) == 0 then "published_unit"
		else null end')
	[ -z "$out" ] || fail "$out"
}

@test "every source has a URL, or a repository, path and 40-hex commit" {
	out=$(check '.source as $s | if ($s | type) != "object" then "source not an object"
		elif (($s.url // "") | test("^https://")) then null
		elif (($s.repo // "") | test("^[^/ ]+/[^/ ]+$")) and (($s.path // "") | length) > 0 and (($s.commit // "") | test("^[0-9a-f]{40}$")) then null
		else "source lacks a URL or repo+path+commit" end')
	[ -z "$out" ] || fail "$out"
	out=$(check 'if ((.source.table // "") | length) == 0 or ((.source.row // "") | length) == 0 then "source lacks table/row" else null end')
	[ -z "$out" ] || fail "$out"
}

@test "a record not predictable says why; a predictable one has lengths, a batch and a layout" {
	out=$(check 'if (.predictable | type) != "boolean" then "predictable \(.predictable)"
		elif .predictable == false then (if ((.not_predictable // "") | length) == 0 then "no not_predictable reason" else null end)
		elif .not_predictable != null then "predictable with a not_predictable reason"
		elif ((.batch // .concurrency) | type) != "number" or (.batch // .concurrency) < 1 then "predictable without batch or concurrency"
		elif (.input_len | type) != "number" or .input_len < 1 then "predictable without input_len"
		elif (.output_len | type) != "number" or .output_len < 1 then "predictable without output_len"
		elif ([.tp,.pp,.ep,.dp] | map(type == "number" and . >= 1) | all | not) then "predictable without tp/pp/ep/dp"
		elif .metric == "throughput_tok_s" and .tokens == null then "predictable throughput without tokens"
		else null end')
	[ -z "$out" ] || fail "$out"
}

@test "devices are lmp hardware ids, or say that lmp lacks them" {
	hw=$(cd "$ROOT/share/lmp/hardware" && ls *.json | sed 's/\.json$//' | jq -R . | jq -s -c .)
	for f in "$M"/*.ndjson; do
		bad=$(jq -r --argjson hw "$hw" 'select((.device as $d | $hw | index($d)) == null and (.notes | test("no lmp hardware file") | not)) | .id' "$f")
		[ -z "$bad" ] || fail "$(basename "$f"): unknown device in $bad"
	done
}

@test "n_devices agrees with the layout where the layout is known" {
	out=$(check 'if ([.tp,.pp,.dp] | map(type == "number") | all) and .n_devices != (.tp * .pp * .dp) then "n_devices \(.n_devices) != tp*pp*dp" else null end')
	[ -z "$out" ] || fail "$out"
}
