#!/usr/bin/env bash
# Starts the action server in the background and then the Rasa server (or shell, or the story tests).
# With `server`, the time-box timer service (python -m bot.timer_service) and the web chat page
# (python -m bot.web, http://127.0.0.1:$WEBCHAT_PORT/) run in the background too.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MODEL=models/consultation.tar.gz
ACTIONS_PORT=5055  # endpoints.yml points Rasa here
RASA_PORT=${RASA_PORT:-5005}
WEBCHAT_PORT=${WEBCHAT_PORT:-5006}
mkdir -p var
background_pids=()

"$BIN/rasa" run actions --actions actions --port "$ACTIONS_PORT" >var/actions.log 2>&1 &
actions_pid=$!
background_pids+=("$actions_pid")
trap 'kill "${background_pids[@]}" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null && break
  kill -0 $actions_pid 2>/dev/null || { cat var/actions.log >&2; exit 1; }
  sleep 0.5
done

case "${1:-server}" in
  server)
    RASA_URL="http://127.0.0.1:$RASA_PORT" "$BIN/python" -m bot.timer_service >var/timers.log 2>&1 &
    background_pids+=("$!")
    RASA_PORT=$RASA_PORT "$BIN/python" -m bot.web --port "$WEBCHAT_PORT" >var/webchat.log 2>&1 &
    background_pids+=("$!")
    cat <<MSG
アクションサーバー: http://127.0.0.1:$ACTIONS_PORT  (log: var/actions.log)
時間の区切りのお知らせ（タイマー）: 起動しました  (log: var/timers.log)
Webチャット: http://127.0.0.1:$WEBCHAT_PORT/  (log: var/webchat.log)
Rasa サーバーを起動します: http://127.0.0.1:$RASA_PORT
話しかけ方（別の端末で）:
  curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "employee-1", "message": "窓口で1時間も怒鳴られています"}'
相談記録: .venv/bin/python -m bot records list
終了: Ctrl+C
MSG
    "$BIN/python" -m bot.rasa.server run --model "$MODEL" --endpoints endpoints.yml --credentials credentials.yml \
      --port "$RASA_PORT" --interface 127.0.0.1 --enable-api ${RASA_AUTH_TOKEN:+--auth-token "$RASA_AUTH_TOKEN"}
    ;;
  shell)
    "$BIN/rasa" shell --model "$MODEL" --endpoints endpoints.yml
    ;;
  test-stories)
    "$BIN/rasa" test core --model "$MODEL" --stories tests/stories --endpoints endpoints.yml \
      --out results --fail-on-prediction-errors
    ;;
  *)
    echo "usage: scripts/run.sh server|shell|test-stories" >&2; exit 2 ;;
esac
