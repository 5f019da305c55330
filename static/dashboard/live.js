// Live dashboard: rows of the orders list and an order's page follow changes over ws/merchant/.
// Pages work without this script; with it they change in place. Like static/order-status.js:
// updates carry the order's event sequence, an older one never overwrites a newer one, and a
// dropped socket reconnects with backoff and then reloads what it may have missed.
(function () {
  "use strict";
  var dash = document.getElementById("dash");
  if (!dash || !("WebSocket" in window)) return;
  var table = document.getElementById("orders-table");
  var order = document.getElementById("order");
  if (!table && !order) return;

  var labels = {};
  var labelsNode = document.getElementById("status-labels");
  if (labelsNode) JSON.parse(labelsNode.textContent).forEach(function (pair) { labels[pair[0]] = pair[1]; });
  var state = document.getElementById("live-state");
  var retries = 0;
  var connectedOnce = false;
  var stopped = false;
  var socket = null;

  function bump(status, by) {
    var node = document.querySelector('#counts [data-count="' + status + '"]');
    if (node) node.textContent = String(Math.max(0, Number(node.textContent) + by));
  }

  function updateRow(message) {
    var data = message.order, event = message.event || {};
    var row = table.querySelector('tr[data-number="' + data.number + '"]');
    if (!row) {
      // A new order: offer it rather than shifting the rows under the reader's eyes.
      if (event.type === "order.created" && !/[?&]cursor=/.test(location.search)) {
        document.getElementById("new-orders").hidden = false;
        bump("all", 1);
        bump(data.status, 1);
      }
      return;
    }
    if (message.sequence <= Number(row.dataset.sequence || 0)) return;
    var before = row.dataset.status;
    row.dataset.sequence = String(message.sequence);
    row.dataset.status = data.status;
    var badge = row.querySelector('[data-role="status"]');
    badge.textContent = labels[data.status] || data.status_display || data.status;
    badge.className = "badge s-" + data.status;
    if (before !== data.status) { bump(before, -1); bump(data.status, 1); }
    row.classList.remove("flash");
    void row.offsetWidth; // restart the animation
    row.classList.add("flash");
  }

  function formBusy() {
    var actions = document.getElementById("order-actions");
    return actions && (actions.contains(document.activeElement) || actions.dataset.dirty === "true");
  }

  function refreshOrder() {
    fetch(order.dataset.liveUrl, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var parts = document.createElement("template");
        parts.innerHTML = html;
        var live = parts.content.getElementById("order-live");
        var head = live && live.querySelector("#order-head");
        if (!head || Number(head.dataset.sequence) < Number(order.dataset.sequence)) return;
        document.getElementById("order-live").replaceWith(live);
        order.dataset.sequence = head.dataset.sequence;
        var actions = parts.content.getElementById("order-actions");
        if (actions && !formBusy()) {
          document.getElementById("order-actions").replaceWith(actions);
          if (window.htmx) window.htmx.process(actions);
        }
        order.dataset.refreshed = head.dataset.sequence;
      })
      .catch(function (err) { if (window.console) console.warn("live refresh failed", err); });
  }

  function onMessage(message) {
    if (message.type === "hello") {
      dash.dataset.live = "connected";
      if (connectedOnce) resync();
      connectedOnce = true;
      return;
    }
    if (message.type !== "order.updated" || !message.order) return;
    if (table) updateRow(message);
    if (order && message.order.number === order.dataset.number && message.sequence > Number(order.dataset.sequence)) {
      refreshOrder();
    }
  }

  function resync() {
    // Whatever changed while the socket was down arrives as no message: read the page again.
    if (order) refreshOrder();
    if (table && window.htmx) window.htmx.ajax("GET", location.href, { target: "#results" });
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + dash.dataset.socketPath);
    socket.onopen = function () { retries = 0; if (state) state.hidden = true; };
    socket.onmessage = function (event) {
      try { onMessage(JSON.parse(event.data)); } catch (err) { if (window.console) console.warn("ignored a live update", err); }
    };
    socket.onclose = function (event) {
      dash.dataset.live = "disconnected";
      if (stopped || event.code === 4403 || event.code === 4404) return;
      if (state) state.hidden = false;
      retries += 1;
      var base = Math.min(30000, 500 * Math.pow(2, retries));
      setTimeout(connect, base / 2 + Math.random() * base / 2);
    };
  }

  document.addEventListener("input", function (event) {
    var actions = document.getElementById("order-actions");
    if (actions && actions.contains(event.target)) actions.dataset.dirty = "true";
  });
  // After an htmx swap of the results, the table element is new.
  document.body.addEventListener("htmx:afterSwap", function () { table = document.getElementById("orders-table") || table; });
  window.addEventListener("pagehide", function () { stopped = true; if (socket) socket.close(); });
  connect();
})();
