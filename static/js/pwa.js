// The installable app on the page side: the service worker, the offline notice, the install
// card on Today, and the queue of what was pressed offline (IndexedDB), sent when the
// connection returns. Every page works without it.
(function () {
  "use strict";
  var body = document.body;
  var patient = body.getAttribute("data-patient");
  var DB = "ldn-offline";
  var STORE = "queue";
  var NOTES = "ldn-offline-notes";

  // Storage ------------------------------------------------------------------------------

  function db() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open(DB, 1);
      open.onupgradeneeded = function () {
        open.result.createObjectStore(STORE, { keyPath: "client_id" });
      };
      open.onsuccess = function () {
        var conn = open.result;
        // Logout deletes the database: let it.
        conn.onversionchange = function () { conn.close(); };
        resolve(conn);
      };
      open.onerror = function () { reject(open.error); };
    });
  }

  function store(mode, work) {
    return db().then(function (conn) {
      return new Promise(function (resolve, reject) {
        var tx = conn.transaction(STORE, mode);
        var result = work(tx.objectStore(STORE));
        tx.oncomplete = function () { conn.close(); resolve(result && result.result); };
        tx.onerror = function () { conn.close(); reject(tx.error); };
      });
    });
  }

  function queued() { return store("readonly", function (s) { return s.getAll(); }); }

  function everythingClear() {
    var work = [];
    if (window.caches) {
      work.push(caches.keys().then(function (keys) {
        return Promise.all(keys.map(function (key) { return caches.delete(key); }));
      }));
    }
    work.push(new Promise(function (resolve) {
      var request = indexedDB.deleteDatabase(DB);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    }));
    return Promise.all(work);
  }

  // Another person logged in on this device without the last one logging out: nothing of
  // theirs may show here, offline or not.
  if (patient) {
    var last = localStorage.getItem("ldn-patient");
    if (last && last !== patient) everythingClear();
    localStorage.setItem("ldn-patient", patient);
  }

  // Logout clears the caches and the queue before the form goes (the service worker does
  // it again when it sees the logout, for a page it does not control yet).
  document.querySelectorAll("form[data-logout]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.hasAttribute("data-cleared")) return;
      event.preventDefault();
      localStorage.removeItem("ldn-patient");
      everythingClear().then(function () {
        form.setAttribute("data-cleared", "");
        form.submit();
      });
    });
  });

  if (patient && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {
      /* the site works without it */
    });
  }

  // Offline notice -----------------------------------------------------------------------

  var notice = document.getElementById("offline-notice");
  function onlineShow() {
    if (notice) notice.hidden = navigator.onLine;
  }
  window.addEventListener("online", function () { onlineShow(); queueSend(); });
  window.addEventListener("offline", onlineShow);
  onlineShow();

  var status = document.getElementById("offline-status");
  function say(lines) {
    if (!status || !lines.length) return;
    status.hidden = false;
    status.textContent = "";
    lines.forEach(function (line) {
      var p = document.createElement("p");
      p.className = "mb-1";
      p.textContent = line;
      status.appendChild(p);
    });
  }
  try {
    var notes = JSON.parse(sessionStorage.getItem(NOTES) || "[]");
    sessionStorage.removeItem(NOTES);
    say(notes);
  } catch (e) { /* nothing to say */ }

  // The queue ----------------------------------------------------------------------------

  function csrfToken() {
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function fieldsOf(form) {
    var pairs = [];
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrfmiddlewaretoken") pairs.push([key, String(value)]);
    });
    return pairs;
  }

  function queueAdd(form) {
    var item = {
      client_id: newId(),
      kind: form.getAttribute("data-offline-queue"),
      url: form.getAttribute("data-offline-url"),
      key: form.getAttribute("data-offline-key") || "",
      fields: fieldsOf(form),
      pressed_at: new Date().toISOString(),
    };
    return queued().then(function (items) {
      // A second tap (or the same form again) on this device keeps the first press.
      var same = items.filter(function (other) { return other.kind === item.kind && other.key === item.key; });
      if (same.length && item.kind === "dose") return same[0];
      return store("readwrite", function (s) {
        same.forEach(function (other) { s.delete(other.client_id); });
        s.put(item);
      }).then(function () { return item; });
    }).then(function (saved) {
      var when = new Date(saved.pressed_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
      var done = document.createElement("p");
      done.className = "offline-saved";
      done.setAttribute("data-testid", "offline-saved");
      done.setAttribute("tabindex", "-1");
      done.textContent = (saved.kind === "dose" ? "Saved on this phone: taken at " + when + ". " :
        "Your diary is saved on this phone. ") + "It will be sent when you are back online.";
      form.replaceWith(done);
      done.focus();
    });
  }

  var sending = false;
  function queueSend() {
    if (sending || !navigator.onLine || !patient) return Promise.resolve();
    sending = true;
    return queued().then(function (items) {
      if (!items.length) return [];
      var lines = [];
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return fetch(item.url, {
            method: "POST",
            credentials: "same-origin",
            headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
            body: JSON.stringify({
              client_id: item.client_id,
              pressed_at: item.pressed_at,
              sent_at: new Date().toISOString(),
              fields: item.fields,
            }),
          }).then(function (response) {
            if (response.status >= 500 || response.status === 403 || response.status === 429) {
              throw new Error("try later");  // kept for the next time
            }
            return response.json().then(function (answer) {
              lines.push(answer.message);
              return store("readwrite", function (s) { s.delete(item.client_id); });
            });
          });
        });
      }, Promise.resolve()).then(function () { return lines; }, function () { return lines; });
    }).then(function (lines) {
      sending = false;
      if (!lines.length) return;
      sessionStorage.setItem(NOTES, JSON.stringify(lines));
      window.location.reload();
    }, function () { sending = false; });
  }

  // Forms that can be filled offline carry data-offline-queue. htmx asks first (confirm),
  // a plain form submits.
  document.addEventListener("htmx:confirm", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches("form[data-offline-queue]") && !navigator.onLine) {
      event.preventDefault();
      queueAdd(form);
    }
  });
  document.addEventListener("htmx:sendError", function (event) {
    var form = event.detail.elt;
    if (form.matches && form.matches("form[data-offline-queue]")) queueAdd(form);
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches("form[data-offline-queue]") && !form.hasAttribute("hx-post") && !navigator.onLine) {
      event.preventDefault();
      queueAdd(form);
    }
  }, true);
  if (patient && navigator.onLine) queueSend();

  // Install card on Today ----------------------------------------------------------------

  var deferred = null;
  var standalone = window.matchMedia("(display-mode: standalone)").matches || navigator.standalone;
  var ios = /iphone|ipad|ipod/i.test(navigator.userAgent) ||
    (navigator.platform === "MacIntel" && navigator.maxTouchPoints > 1);

  function installShow() {
    var card = document.querySelector("[data-install-card]");
    if (!card || standalone || localStorage.getItem("ldn-install-dismissed")) return;
    var button = card.querySelector("[data-install-button]");
    var iosHelp = card.querySelector("[data-install-ios]");
    if (deferred) {
      button.hidden = false;
      card.hidden = false;
    } else if (ios) {
      iosHelp.hidden = false;
      card.hidden = false;
    }
  }
  window.addEventListener("beforeinstallprompt", function (event) {
    event.preventDefault();  // shown on Today after the first dose, not on the first visit
    deferred = event;
    installShow();
  });
  window.addEventListener("appinstalled", function () {
    var card = document.querySelector("[data-install-card]");
    if (card) card.hidden = true;
  });
  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-install-button]") && deferred) {
      deferred.prompt();
      deferred.userChoice.finally(function () {
        deferred = null;
        target.closest("[data-install-card]").hidden = true;
      });
    } else if (target.closest("[data-install-dismiss]")) {
      localStorage.setItem("ldn-install-dismissed", "1");
      target.closest("[data-install-card]").hidden = true;
    }
  });
  document.addEventListener("htmx:afterSettle", installShow);
  installShow();
})();
