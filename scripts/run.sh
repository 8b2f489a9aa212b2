#!/usr/bin/env bash
# `server`: the supervisor (python -m bot.supervisor) starts the action server, the time-box timer
# service, the web chat page, the Rasa server and the consultation desk app, restarts any that dies and stops them all on Ctrl+C.
# `shell` / `test-stories`: the action server under the supervisor in the background, then Rasa's
# shell or story tests in the foreground. Rasa runs as `python -m bot.rasa.server`, which sends the
# action server its secret (ACTION_SERVER_TOKEN, else var/action_server.token, generated once).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
MODEL=models/consultation.tar.gz
ACTIONS_PORT=5055  # endpoints.yml points Rasa here
RASA_PORT=${RASA_PORT:-5005}
WEBCHAT_PORT=${WEBCHAT_PORT:-5006}
PORTS=(--rasa-port "$RASA_PORT" --actions-port "$ACTIONS_PORT" --webchat-port "$WEBCHAT_PORT")
mkdir -p var

start_action_server() {
  "$BIN/python" -m bot.supervisor --only actions "${PORTS[@]}" 2>>var/supervisor.log &
  supervisor_pid=$!
  trap 'kill -TERM "$supervisor_pid" 2>/dev/null || true; wait "$supervisor_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$ACTIONS_PORT/health" >/dev/null && return 0
    kill -0 "$supervisor_pid" 2>/dev/null || break
    sleep 0.5
  done
  tail -n 30 var/actions.log var/supervisor.log >&2 || true
  exit 1
}

case "${1:-server}" in
  server)
    cat <<MSG
アクションサーバー: http://127.0.0.1:$ACTIONS_PORT  (log: var/actions.log)
時間の区切りのお知らせ（タイマー）  (log: var/timers.log)
Webチャット: http://127.0.0.1:$WEBCHAT_PORT/  (log: var/webchat.log)
Rasa サーバー: http://127.0.0.1:$RASA_PORT  (log: var/rasa.log。起動まで30秒ほどかかります)
相談窓口の Web アプリ: http://127.0.0.1:${DESK_PORT:-5007}/  (log: var/desk.log。最初の管理者: make desk-admin)
止まったプロセスは自動で再起動します（記録: var/supervisor.log）。
話しかけ方（別の端末で）:
  curl -s -XPOST http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
       -H 'Content-Type: application/json' \\
       -d '{"sender": "employee-1", "message": "窓口で1時間も怒鳴られています"}'
相談記録: .venv/bin/python -m bot records list
終了: Ctrl+C
MSG
    exec "$BIN/python" -m bot.supervisor "${PORTS[@]}"
    ;;
  shell)
    start_action_server
    "$BIN/python" -m bot.rasa.server shell --model "$MODEL" --endpoints endpoints.yml
    ;;
  test-stories)
    start_action_server
    "$BIN/python" -m bot.rasa.server test core --model "$MODEL" --stories tests/stories --endpoints endpoints.yml \
      --out results --fail-on-prediction-errors
    ;;
  *)
    echo "usage: scripts/run.sh server|shell|test-stories" >&2; exit 2 ;;
esac
