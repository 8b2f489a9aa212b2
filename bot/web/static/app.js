// Web chat for Rasa's socketio channel (credentials.yml: user_uttered / bot_uttered,
// session_persistence: true). Bot messages, their buttons (a click sends the payload) and
// messages pushed later by the timer service all arrive as `bot_uttered`.
"use strict";

(function () {
  const SESSION_KEY = "kasuhara-webchat-session";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("message");
  const sendButton = document.getElementById("send");
  const status = document.getElementById("status");
  const newSession = document.getElementById("new-session");
  let socket = null;
  let sessionId = null;
  let awaitingReply = false;
  let refusedOnce = false;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
    sendButton.disabled = state !== "connected";
  }

  function scrollDown() {
    log.scrollTop = log.scrollHeight;
  }

  function addMessage(who, text, extraClass) {
    const item = document.createElement("div");
    item.className = "msg " + who + (extraClass ? " " + extraClass : "");
    const sender = document.createElement("span");
    sender.className = "sender";
    sender.textContent = who === "user" ? "あなた：" : (extraClass === "notice" ? "アシスタントからのお知らせ：" : "アシスタント：");
    item.appendChild(sender);
    item.appendChild(document.createTextNode(text));
    log.appendChild(item);
    scrollDown();
    return item;
  }

  function addButtons(buttons) {
    const group = document.createElement("div");
    group.className = "choices";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "選択肢");
    buttons.forEach(function (button) {
      const element = document.createElement("button");
      element.type = "button";
      element.textContent = button.title;
      element.dataset.payload = button.payload;
      element.addEventListener("click", function () {
        if (send(button.payload, button.title)) {
          group.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
          element.setAttribute("aria-pressed", "true");
          input.focus();
        }
      });
      group.appendChild(element);
    });
    log.appendChild(group);
    scrollDown();
  }

  // The payload the bot reads for a set of toggles (bot/prompts.py selection_payload).
  function selectionPayload(codes) {
    return codes.length ? "/inform" + JSON.stringify({ behavior: codes }) : "/deny";
  }

  // Toggles sent as `choices` (custom.data of bot/actions/replies.py send_prompt): a checkbox per
  // code in its group, and one submit button that sends the checked codes.
  function addChoices(choices) {
    const form = document.createElement("fieldset");
    form.className = "toggles";
    (choices.groups || []).forEach(function (group) {
      const legend = document.createElement("div");
      legend.className = "toggle-group";
      legend.textContent = group.title || "";
      form.appendChild(legend);
      (group.options || []).forEach(function (option) {
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.value = option.code;
        box.checked = Boolean(option.selected);
        label.appendChild(box);
        label.appendChild(document.createTextNode(option.label));
        form.appendChild(label);
      });
    });
    const submit = document.createElement("button");
    submit.type = "button";
    submit.textContent = choices.submit_title || "OK";
    submit.addEventListener("click", function () {
      const checked = Array.prototype.filter.call(form.querySelectorAll("input"), function (b) { return b.checked; });
      const labels = checked.map(function (b) { return b.parentNode.textContent; });
      if (send(selectionPayload(checked.map(function (b) { return b.value; })), labels.join("、") || "どれも当てはまらない")) {
        form.querySelectorAll("input, button").forEach(function (element) { element.disabled = true; });
      }
    });
    form.appendChild(submit);
    log.appendChild(form);
    scrollDown();
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") return;
    if (message.choices && typeof message.choices === "object") {
      addChoices(message.choices);
      return;
    }
    const pushed = !awaitingReply; // nothing was asked: a reminder from the timer service
    const text = typeof message.text === "string" ? message.text : "";
    if (text) addMessage("bot", text, pushed ? "notice" : "");
    const buttons = message.quick_replies || message.buttons ||
      (message.attachment && message.attachment.payload && message.attachment.payload.buttons) || [];
    // Group buttons only lead to the toggles, which this page shows with the message.
    const usable = buttons.filter(function (b) {
      return b && b.title && b.payload && b.payload.indexOf('"behavior_group"') === -1;
    });
    if (usable.length) addButtons(usable);
    if (!text && !usable.length && message.attachment) addMessage("bot", "（表示できない添付があります）");
  }

  function send(text, shown) {
    if (!socket || !socket.connected || !sessionId) return false;
    addMessage("user", shown || text);
    awaitingReply = true;
    socket.emit("user_uttered", { message: text, session_id: sessionId });
    return true;
  }

  // The channel accepts only session tokens signed by the page server (GET /session).
  function requestSession() {
    const saved = localStorage.getItem(SESSION_KEY);
    const token = saved ? Promise.resolve(saved) : fetch("/session", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (body) { return body.session_token; });
    token
      .then(function (value) { socket.emit("session_request", { session_id: value }); })
      .catch(function () { setStatus("disconnected", "セッションを開始できませんでした。ページを開き直してください。"); });
  }

  function connect(config) {
    socket = io(config.socket_url, {
      path: config.socket_path,
      // WebSocket only: Rasa's socket.io server does no CORS handling for long-polling.
      transports: ["websocket"],
      reconnectionDelayMax: 10000,
    });
    socket.on("connect", function () {
      setStatus("connecting", "セッションを確認しています…");
      requestSession();
    });
    socket.on("session_refused", function () {
      // A token the server no longer accepts (expired, or its secret changed): start a new session, once.
      localStorage.removeItem(SESSION_KEY);
      sessionId = null;
      if (refusedOnce) {
        setStatus("disconnected", "セッションを開始できませんでした。ページを開き直してください。");
        return;
      }
      refusedOnce = true;
      setStatus("connecting", "セッションの有効期限が切れたか、確認できませんでした。新しいセッションを始めます…");
      requestSession();
    });
    socket.on("session_confirm", function (confirmed) {
      refusedOnce = false;
      sessionId = typeof confirmed === "string" ? confirmed : (confirmed && confirmed.session_id);
      localStorage.setItem(SESSION_KEY, sessionId);
      setStatus("connected", "接続しました。状況を入力するか、選択肢を選んでください。");
    });
    socket.on("bot_uttered", function (message) {
      onBotMessage(message);
      // Rasa sends a reply as several events; a later push is only what arrives after a pause.
      clearTimeout(onBotMessage.timer);
      onBotMessage.timer = setTimeout(function () { awaitingReply = false; }, 3000);
    });
    socket.on("disconnect", function () {
      setStatus("disconnected", "接続が切れました。再接続しています…");
    });
    socket.on("connect_error", function () {
      setStatus("disconnected", "サーバーに接続できません。再接続しています…");
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    if (send(text)) {
      input.value = "";
    }
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && event.keyCode !== 229) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  newSession.addEventListener("click", function () {
    localStorage.removeItem(SESSION_KEY);
    log.textContent = "";
    sessionId = null;
    if (socket) { socket.disconnect(); socket.connect(); } // leaves the old session's room
    input.focus();
  });

  setStatus("connecting", "接続しています…");
  if (typeof io !== "function") {
    setStatus("disconnected", "socket.io クライアントを読み込めませんでした（npm ci を実行してください）。");
    return;
  }
  fetch("/config.json")
    .then(function (response) { return response.json(); })
    .then(connect)
    .catch(function () { setStatus("disconnected", "設定を読み込めませんでした。"); });
  input.focus();
})();
