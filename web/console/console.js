// Baton inbox: every read and action goes through the agent API (/api/v1)
// with the agent's own token; live updates come from /api/v1/stream, which
// a cookie set by POST /api/v1/session authenticates (EventSource cannot
// send a header).
(function () {
  "use strict";
  var KEY = "baton_console_token";
  var API = "/api/v1";
  var $ = function (id) { return document.getElementById(id); };

  var token = "";
  var me = null;
  var current = 0;      // the open conversation's id
  var view = null;      // its view, as the API answered it
  var shown = {};       // message ids in the transcript
  var convs = [];       // the conversations the stream says we may see
  var queues = [];
  var es = null;
  var backoff = 2;
  var kbdraftFor = 0;   // the conversation the KB draft form was filled for

  // The sign-in link: /console#token=... keeps the token for this tab and
  // takes it out of the address bar (and so out of the history).
  (function takeLinkToken() {
    var hash = new URLSearchParams(location.hash.replace(/^#/, ""));
    var t = hash.get("token");
    if (!t) return;
    try { sessionStorage.setItem(KEY, t); } catch (e) {}
    history.replaceState(null, "", location.pathname + location.search);
  })();

  function setLive(text) { $("live").textContent = text; }

  // api calls the agent API; a refusal throws {status, code, message, body}.
  function api(method, path, body) {
    var init = { method: method, headers: { "Authorization": "Bearer " + token }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(API + path, init).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (r.ok) return j;
        var e = (j && j.error) || {};
        throw { status: r.status, code: e.code || "", message: e.message || ("HTTP " + r.status), body: j };
      });
    });
  }

  function show(viewName) {
    $("signin-view").hidden = viewName !== "signin";
    $("app-view").hidden = viewName !== "app";
    $("who").hidden = viewName !== "app";
  }

  // ---- sign-in ----

  function signIn(t) {
    token = t;
    return api("GET", "/me").then(function (m) {
      if (!m.agent || m.admin) throw { message: "Sign in with an agent's own token (baton agent token create <agent>); the admin token is not for the inbox." };
      me = m.agent;
      try { sessionStorage.setItem(KEY, t); } catch (e) {}
      return api("POST", "/session");
    }).then(function () {
      $("agent-name").textContent = me.name || me.id;
      $("status").value = me.status || "offline";
      show("app");
      return Promise.all([loadQueues(), loadConversations()]);
    }).then(function () {
      connect();
    }).catch(function (e) {
      token = ""; me = null;
      try { sessionStorage.removeItem(KEY); } catch (x) {}
      show("signin");
      $("signin-error").textContent = e.message || String(e);
      $("token").focus();
    });
  }

  $("signin").addEventListener("submit", function (e) {
    e.preventDefault();
    $("signin-error").textContent = "";
    var t = $("token").value.trim();
    $("token").value = "";
    if (t) signIn(t);
  });

  $("signout").addEventListener("click", function () {
    if (es) { es.close(); es = null; }
    fetch(API + "/session", { method: "DELETE", credentials: "same-origin" });
    try { sessionStorage.removeItem(KEY); } catch (e) {}
    token = ""; me = null; current = 0; view = null;
    setLive("signed out");
    show("signin");
    $("token").focus();
  });

  $("status").addEventListener("change", function () {
    var st = $("status").value;
    api("PUT", "/agents/me/status", { status: st }).then(function (r) {
      me = r.agent;
    }).catch(function (e) { $("status").value = me.status; $("action-error").textContent = "Status not changed: " + e.message; });
  });

  // ---- lists ----

  function loadQueues() {
    return api("GET", "/queues").then(function (r) {
      queues = r.queues || [];
      renderQueues();
    });
  }

  function loadConversations() {
    return Promise.all([
      api("GET", "/conversations?state=queued&limit=200"),
      api("GET", "/conversations?agent=me&state=assigned,snoozed&limit=200")
    ]).then(function (rs) {
      convs = rs[0].conversations.concat(rs[1].conversations);
      renderConversations();
    });
  }

  function renderQueues() {
    var ul = $("queues"), sel = $("transfer-queue");
    ul.textContent = "";
    sel.length = 1;
    queues.forEach(function (q) {
      var li = document.createElement("li");
      if (!q.open) li.className = "closed";
      var name = document.createElement("span");
      name.textContent = q.name || q.id;
      var n = document.createElement("span");
      n.textContent = q.waiting + " waiting" + (q.open ? "" : " (closed)");
      n.dataset.queue = q.id;
      li.append(name, n);
      ul.appendChild(li);
      var o = document.createElement("option");
      o.value = q.id; o.textContent = q.name || q.id;
      sel.appendChild(o);
    });
  }

  // due is the response the customer is owed next: the first until an
  // agent answered, then the next after each customer message.
  function due(c) {
    var t = c.next_response_due || (c.first_agent_reply_at ? "" : c.first_response_due);
    return t ? new Date(t) : null;
  }

  function span(ms) {
    var s = Math.round(Math.abs(ms) / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    s = s % 60;
    return (h ? h + "h " : "") + (h || m ? m + "m " : "") + s + "s";
  }

  // tick refreshes every SLA countdown on the page once a second.
  function tick() {
    document.querySelectorAll("[data-due]").forEach(function (el) {
      var left = new Date(el.dataset.due) - Date.now();
      var label = el.dataset.label || "response";
      if (left < 0) {
        el.className = "sla breached";
        el.textContent = label + " breached " + span(left) + " ago";
      } else {
        el.className = "sla" + (left < 5 * 60 * 1000 ? " soon" : "");
        el.textContent = label + " due in " + span(left);
      }
    });
  }
  setInterval(tick, 1000);

  function slaEl(c) {
    var el = document.createElement("span");
    var d = due(c);
    if (!d) { el.className = "sla"; el.textContent = c.state === "snoozed" && c.snoozed_until ? "snoozed until " + new Date(c.snoozed_until).toLocaleString() : "no response owed"; return el; }
    el.dataset.due = d.toISOString();
    el.dataset.label = c.first_agent_reply_at ? "next response" : "first response";
    return el;
  }

  function renderConversations() {
    var mine = $("mine"), waiting = $("waiting");
    mine.textContent = ""; waiting.textContent = "";
    convs.forEach(function (c) {
      var li = document.createElement("li"), b = document.createElement("button");
      b.type = "button";
      b.dataset.conv = c.id;
      if (c.id === current) b.setAttribute("aria-current", "true");
      var title = document.createElement("span");
      title.textContent = "#" + c.id + " · " + c.channel + (c.queue_id ? " · " + c.queue_id : "") + (c.state === "snoozed" ? " · snoozed" : "");
      b.append(title, slaEl(c));
      b.addEventListener("click", function () { open(c.id, true); });
      li.appendChild(b);
      (c.state === "queued" ? waiting : mine).appendChild(li);
    });
    [mine, waiting].forEach(function (ul) {
      if (!ul.children.length) { var li = document.createElement("li"); li.className = "sla"; li.textContent = "none"; ul.appendChild(li); }
    });
    tick();
  }

  // ---- the conversation ----

  function open(id, focus) {
    current = id;
    return api("GET", "/conversations/" + id).then(function (v) {
      if (current !== id) return;
      view = v;
      renderView(focus);
      renderConversations();
    }).catch(function (e) {
      $("action-error").textContent = e.message;
    });
  }

  function dd(dl, term, value) {
    var t = document.createElement("dt"), d = document.createElement("dd");
    t.textContent = term;
    if (value instanceof Node) d.appendChild(value); else d.textContent = value == null || value === "" ? "—" : String(value);
    dl.append(t, d);
  }

  function renderView(focus) {
    var v = view, c = v.conversation;
    $("conv-empty").hidden = true;
    $("conv-body").hidden = false;
    $("action-error").textContent = "";
    $("conv-title").textContent = "Conversation #" + c.id + (v.customer && v.customer.name ? " with " + v.customer.name : "");
    var meta = $("conv-meta");
    meta.textContent = "";
    dd(meta, "State", c.state + (c.agent_id ? " (" + c.agent_id + ")" : ""));
    dd(meta, "Channel", c.channel + " " + c.address);
    dd(meta, "Queue", c.queue_id);
    dd(meta, "Priority", ["low", "normal", "high", "urgent"][c.priority] || String(c.priority));
    dd(meta, "Language", c.language);
    var sla = slaEl(Object.assign({}, c, v.sla));
    dd(meta, "SLA", sla);
    if (v.sla.breached) dd(meta, "Breached", "yes");

    var owned = c.agent_id === me.id && (c.state === "assigned" || c.state === "snoozed");
    $("claim").disabled = c.state !== "queued";
    $("resolve").disabled = !owned;
    $("tobot").disabled = !owned;
    $("snooze").disabled = !(owned && c.state === "assigned");

    var list = $("transcript");
    list.textContent = "";
    shown = {};
    v.messages.forEach(addMessage);

    var w = $("window");
    if (v.window.open) {
      w.className = "window open";
      w.textContent = "The channel's window is open" + (v.window.closes_at ? " until " + new Date(v.window.closes_at).toLocaleString() : "") + ": free text may be sent.";
    } else {
      w.className = "window closed";
      w.textContent = "The channel's window is closed: only a template may be sent.";
    }
    $("reply").disabled = !v.window.open;
    $("reply-send").disabled = !v.window.open;
    var sel = $("template");
    sel.textContent = "";
    (v.window.templates || []).forEach(function (t, i) {
      var o = document.createElement("option");
      o.value = String(i);
      o.textContent = t.name + " (" + t.language + ")";
      sel.appendChild(o);
    });
    $("templates").hidden = v.window.open || !(v.window.templates || []).length;

    // The owner, or the last agent of a closed conversation, may keep an
    // answer as a KB draft.
    $("kbdraft-save").disabled = c.agent_id !== me.id;
    if (kbdraftFor !== c.id) {
      kbdraftFor = c.id;
      ["kbdraft-title", "kbdraft-slug", "kbdraft-body", "kbdraft-language"].forEach(function (f) { $(f).value = ""; });
      $("kbdraft-status").textContent = "";
      $("kbdraft-error").textContent = "";
      if ($("kbdraft").open) kbdraftDefaults();
    }

    renderPacket(v.packet);
    renderRecords(v);
    tick();
    if (focus) $("conversation").focus();
  }

  function addMessage(m) {
    if (shown[m.id]) return;
    shown[m.id] = true;
    var li = document.createElement("li");
    li.className = "msg " + (m.direction === "note" ? "note" : m.direction === "in" ? "in" : "out");
    li.dataset.id = m.id;
    li.dataset.author = m.author;
    var by = document.createElement("span");
    by.className = "by";
    by.textContent = (m.direction === "note" ? "Internal note · " : "") + m.author + (m.author_id ? " " + m.author_id : "") +
      " · " + new Date(m.created_at).toLocaleTimeString() + (m.direction === "out" && m.status ? " · " + m.status : "");
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = m.text || (m.attachments && m.attachments.length ? "[attachment]" : "[" + m.type + "]");
    li.append(by, text);
    $("transcript").appendChild(li);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function renderPacket(p) {
    var box = $("packet");
    box.textContent = "";
    if (!p) { box.textContent = "Not escalated."; return; }
    var dl = document.createElement("dl");
    dl.className = "packet";
    dd(dl, "Summary", p.summary);
    var trig = document.createElement("ul");
    (p.reasons || []).forEach(function (t) {
      var li = document.createElement("li");
      li.textContent = t.trigger + ": " + t.value + " (threshold " + t.threshold + (t.fired ? ", fired" : "") + ")" + (t.detail ? " — " + t.detail : "");
      trig.appendChild(li);
    });
    dd(dl, "Triggers", trig);
    dd(dl, "Language", p.language);
    dd(dl, "Intent", p.intent ? p.intent + " (" + p.intent_confidence.toFixed(2) + ")" : "");
    dd(dl, "Sentiment", p.sentiment.toFixed(2) + ", trend " + p.sentiment_trend.toFixed(2));
    var arts = document.createElement("ul");
    (p.articles_tried || []).forEach(function (a) {
      var li = document.createElement("li");
      li.textContent = a.title + " (" + a.slug + ", " + a.score.toFixed(2) + ")";
      arts.appendChild(li);
    });
    dd(dl, "Articles tried", arts.children.length ? arts : "none");
    var attrs = Object.assign({}, (p.customer && p.customer.attributes) || {});
    var al = document.createElement("ul");
    Object.keys(attrs).sort().forEach(function (k) {
      var li = document.createElement("li"); li.textContent = k + " = " + attrs[k] + " (customer)"; al.appendChild(li);
    });
    Object.keys(p.attributes || {}).sort().forEach(function (k) {
      var li = document.createElement("li"); li.textContent = k + " = " + p.attributes[k] + " (page)"; al.appendChild(li);
    });
    dd(dl, "Attributes", al.children.length ? al : "none");
    dd(dl, "Customer", (p.customer.name || "") + " " + p.customer.address + (p.customer.verified ? " (verified)" : ""));
    box.appendChild(dl);
  }

  function renderRecords(v) {
    var ds = $("decisions");
    ds.textContent = "";
    v.decisions.forEach(function (d) {
      var li = document.createElement("li");
      var a = d.analysis;
      li.textContent = "message " + d.message_id + ": " + d.action +
        (a ? " · " + a.language + " · " + a.intent + " · sentiment " + a.sentiment.toFixed(2) : "") +
        (d.triggers.filter(function (t) { return t.fired; }).map(function (t) { return " · " + t.trigger + "=" + t.value; }).join("")) +
        (d.detail ? " · " + d.detail : "");
      ds.appendChild(li);
    });
    var es2 = $("events");
    es2.textContent = "";
    v.events.forEach(function (e) {
      var li = document.createElement("li");
      li.textContent = new Date(e.at).toLocaleString() + " · " + e.type + (e.from || e.to ? " " + e.from + "→" + e.to : "") + " · " + e.actor + (e.reason ? " · " + e.reason : "");
      es2.appendChild(li);
    });
  }

  // act runs an action on the open conversation and shows the result.
  function act(path, body) {
    var id = current;
    $("action-error").textContent = "";
    return api("POST", "/conversations/" + id + path, body).then(function () {
      return Promise.all([open(id, false), loadQueues(), loadConversations()]);
    }).catch(function (e) {
      var msg = e.message;
      if (e.body && e.body.error && e.body.error.reason === "window_closed") {
        // The window closed since the view was read: show the templates.
        msg = "The channel's window closed: send one of the templates instead.";
        open(id, false);
      }
      $("action-error").textContent = msg;
      throw e;
    });
  }

  $("claim").addEventListener("click", function () { act("/claim"); });
  $("resolve").addEventListener("click", function () { act("/resolve"); });
  $("tobot").addEventListener("click", function () { act("/bot"); });
  $("snooze").addEventListener("click", function () { act("/snooze", { "for": $("snooze-for").value }); });

  $("reply-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var t = $("reply").value;
    if (!t.trim()) return;
    act("/messages", { text: t }).then(function () { $("reply").value = ""; }, function () {});
  });

  $("template-send").addEventListener("click", function () {
    var t = view && view.window.templates[Number($("template").value)];
    if (!t) return;
    act("/messages", { template: { name: t.name, language: t.language, body_params: t.body_params || [] } });
  });

  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var t = $("note").value;
    if (!t.trim()) return;
    act("/notes", { text: t }).then(function () { $("note").value = ""; }, function () {});
  });

  $("transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("transfer-queue").value, a = $("transfer-agent").value.trim(), note = $("transfer-note").value;
    if (!!q === !!a) { $("action-error").textContent = "Transfer: choose a queue or type an agent id, one of the two."; return; }
    var body = q ? { queue: q } : { agent: a };
    if (note.trim()) body.note = note;
    act("/transfer", body).then(function () {
      $("transfer-agent").value = ""; $("transfer-note").value = ""; $("transfer-queue").value = "";
    }, function () {});
  });

  // ---- Save reply as KB draft ----

  // kbdraftDefaults fills the empty fields with what the desk would save.
  function kbdraftDefaults() {
    var id = current;
    api("GET", "/conversations/" + id + "/kb-drafts/defaults").then(function (r) {
      if (current !== id) return;
      var d = r.draft || {};
      [["kbdraft-title", d.title], ["kbdraft-slug", d.slug], ["kbdraft-body", d.body], ["kbdraft-language", d.language]].forEach(function (p) {
        if (!$(p[0]).value) $(p[0]).value = p[1] || "";
      });
    }).catch(function (e) { $("kbdraft-error").textContent = e.message; });
  }

  $("kbdraft").addEventListener("toggle", function () {
    if ($("kbdraft").open && current) kbdraftDefaults();
  });

  $("kbdraft-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var id = current;
    $("kbdraft-status").textContent = "";
    $("kbdraft-error").textContent = "";
    api("POST", "/conversations/" + id + "/kb-drafts", {
      title: $("kbdraft-title").value.trim(), slug: $("kbdraft-slug").value.trim(),
      body: $("kbdraft-body").value, language: $("kbdraft-language").value.trim()
    }).then(function (r) {
      var a = r.article;
      $("kbdraft-status").textContent = "Saved as draft " + a.slug + " (version " + a.version + ", " + a.language +
        "). It answers nobody until an admin publishes it.";
    }).catch(function (err) {
      $("kbdraft-error").textContent = "Not saved: " + err.message;
    });
  });

  // ---- live updates ----

  var refresh = null;
  function later(fn) {
    clearTimeout(refresh);
    refresh = setTimeout(fn, 150);
  }

  function connect() {
    if (es) es.close();
    es = new EventSource(API + "/stream");
    es.onopen = function () { setLive("live"); backoff = 2; };
    es.addEventListener("conversations", function (e) {
      convs = JSON.parse(e.data).conversations || [];
      renderConversations();
      loadQueues().catch(function () {});
    });
    es.addEventListener("message", function (e) {
      var m = JSON.parse(e.data);
      if (m.conversation_id === current) addMessage(m);
    });
    es.addEventListener("event", function (e) {
      var ev = JSON.parse(e.data);
      if (ev.conversation_id === current) later(function () { open(current, false); });
    });
    es.onerror = function () {
      if (es.readyState !== EventSource.CLOSED) { setLive("reconnecting…"); return; }
      // Refused (an expired token, too many streams): sign in again
      // renews the cookie, then a new stream, later and later.
      setLive("disconnected; retrying in " + backoff + " s");
      setTimeout(function () {
        if (!token) return;
        api("POST", "/session").then(connect, function (err) {
          if (err.status === 401) { $("signout").click(); $("signin-error").textContent = err.message; }
          else connect();
        });
      }, backoff * 1000);
      backoff = Math.min(backoff * 2, 60);
    };
  }

  var saved = "";
  try { saved = sessionStorage.getItem(KEY) || ""; } catch (e) {}
  if (saved) signIn(saved); else { show("signin"); }
})();
