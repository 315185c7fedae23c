#!/usr/bin/env bash
# A whole closed loop over HTTP against a running demo (`make demo`), with curl and jq:
# a citizen reports with a photo -> the town centre files and dispatches -> the department accepts
# and handles with a photo -> the grid worker verifies -> the centre closes -> the citizen rates it.
set -euo pipefail
BASE=${BASE:-http://127.0.0.1:8000}
PW=${PW:-Pingan@2019}
GRID=${GRID:-330402007001001}    # 建设街道 第1网格 (generated)
TOWN=${GRID:0:9}                 # its town centre

token() { curl -sf -X POST "$BASE/api/v1/auth/token" -d "username=$1" -d "password=$PW" | jq -r .access_token; }
api() { local tok=$1; shift; curl -sf -H "Authorization: Bearer $tok" -H "Accept-Language: zh-CN" "$@"; }
act() {  # act TOKEN CASE_JSON ACTION BODY -> new case JSON (sends the ETag it last saw)
  local id version
  id=$(jq -r .id <<<"$2"); version=$(jq -r .version <<<"$2")
  api "$1" -X POST "$BASE/api/v1/cases/$id/actions/$3" -H "If-Match: \"$version\"" \
    -H 'Content-Type: application/json' -d "$4"
}
photo() {  # upload a small PNG, print its id
  local f; f=$(mktemp --suffix=.png)
  base64 -d >"$f" <<<'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAHklEQVR42mP8//8/AwMDAyMjAwMDAxKbiQEHGJwSAMtWBQ/l2VWmAAAAAElFTkSuQmCC'
  api "$1" -F "file=@$f;type=image/png" "$BASE/api/v1/attachments" | jq -r .id
  rm -f "$f"
}
step() { printf '%-10s %s\n' "$1" "$(jq -r '"\(.tracking_no)  state=\(.state)  version=\(.version)  due=\(.due_at)"' <<<"$2")"; }

CITIZEN=$(token citizen01)
OPERATOR=$(token "op.$TOWN")
read -r LNG LAT < <(api "$CITIZEN" "$BASE/api/v1/units/$GRID" | jq -r '.center | "\(.[0]) \(.[1])"')

CASE=$(api "$CITIZEN" -X POST "$BASE/api/v1/cases" -H 'Content-Type: application/json' \
  -H "Idempotency-Key: walkthrough-$(date +%s%N)" \
  -d "{\"category_code\":\"E0102\",\"title\":\"小区门口垃圾堆积\",\"description\":\"已两天无人清运\",
       \"lng\":$LNG,\"lat\":$LAT,\"photo_ids\":[$(photo "$CITIZEN")]}")
step report "$CASE"
CASE=$(act "$OPERATOR" "$CASE" file '{}');                          step file "$CASE"
CASE=$(act "$OPERATOR" "$CASE" dispatch '{}');                      step dispatch "$CASE"
HANDLER=$(token "h.$(jq -r .department_id <<<"$CASE")")
CASE=$(act "$HANDLER" "$CASE" accept '{}');                         step accept "$CASE"
CASE=$(act "$HANDLER" "$CASE" handle "{\"note\":\"已清运\",\"photo_ids\":[$(photo "$HANDLER")]}")
step handle "$CASE"
WORKER=$(token "gw.$(jq -r .grid_code <<<"$CASE")")
CASE=$(act "$WORKER" "$CASE" verify "{\"passed\":true,\"note\":\"现场已清理\",\"photo_ids\":[$(photo "$WORKER")]}")
step verify "$CASE"
CASE=$(act "$OPERATOR" "$CASE" close '{}');                         step close "$CASE"
CASE=$(act "$CITIZEN" "$CASE" evaluate '{"satisfaction":5}');       step evaluate "$CASE"

echo "timeline:"
api "$CITIZEN" "$BASE/api/v1/cases/$(jq -r .id <<<"$CASE")/timeline" \
  | jq -r '.[] | "  \(.seq). \(.action) -> \(.to_state)  by \(.actor_role)  at \(.at)"'
test "$(jq -r .state <<<"$CASE")" = evaluated
