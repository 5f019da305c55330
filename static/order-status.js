// Live order status: keeps the server-rendered page current over a WebSocket.
// The page works without this script; with it, status changes appear without a reload.
(function () {
  "use strict";
  var root = document.getElementById("order");
  if (!root || !("WebSocket" in window)) return;

  var shownSequence = Number(root.dataset.sequence || 0);
  var retries = 0;
  var socket = null;
  var stopped = false;
  var connection = document.getElementById("connection");
  var ja = (document.documentElement.lang || "").indexOf("ja") === 0;

  function apply(message) {
    // Updates can overtake each other; never draw an older state over a newer one.
    if (typeof message.sequence !== "number" || message.sequence < shownSequence) return;
    if (message.sequence === shownSequence && message.type !== "order.snapshot") return;
    shownSequence = message.sequence;
    root.dataset.sequence = String(shownSequence);
    root.dataset.status = message.order.status;
    var html = message.html || {};
    if (html.status) document.getElementById("live-status").innerHTML = html.status;
    if (html.next_step) document.getElementById("live-next-step").innerHTML = html.next_step;
    if (html.timeline) document.getElementById("live-timeline").innerHTML = html.timeline;
    tick();
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + root.dataset.socketPath);
    socket.onmessage = function (event) {
      // Live once the server has sent the current state (it subscribed us before reading it).
      retries = 0;
      connection.hidden = true;
      root.dataset.live = "connected";
      try {
        apply(JSON.parse(event.data));
      } catch (err) {
        if (window.console) console.warn("ignored a live update", err);
      }
    };
    socket.onclose = function (event) {
      root.dataset.live = "disconnected";
      if (event.code === 4404 || event.code === 4403 || stopped) return; // no point retrying
      connection.hidden = false;
      retries += 1;
      // Exponential backoff with jitter, capped at 30 s; a rate-limited client waits longer.
      var base = Math.min(30000, 500 * Math.pow(2, retries));
      if (event.code === 4429) base = 30000;
      setTimeout(connect, base / 2 + Math.random() * base / 2);
    };
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function tick() {
    var target = document.querySelector("[data-countdown]");
    if (!target) return;
    var label = target.parentNode.querySelector(".countdown");
    if (!label) return;
    var left = Number(target.dataset.countdown) * 1000 - Date.now();
    if (left <= 0) {
      label.textContent = ja ? "（期限切れ）" : "(expired)";
      return;
    }
    var s = Math.floor(left / 1000);
    var d = Math.floor(s / 86400);
    var clock = pad(Math.floor((s % 86400) / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    label.textContent = ja ? "（残り " + (d ? d + "日 " : "") + clock + "）" : "(" + (d ? d + "d " : "") + clock + " left)";
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "refresh" }));
    }
  });
  window.addEventListener("pagehide", function () { stopped = true; if (socket) socket.close(); });
  setInterval(tick, 1000);
  tick();
  connect();
})();
