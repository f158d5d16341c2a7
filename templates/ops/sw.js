// The service worker: the app shell from the cache, Today and the diary offline, logout
// clears everything, and push reminders with "I took it" and "Remind me in 30 minutes".
const CONFIG = {{ config|safe }};
const SHELL = "ldn-shell-" + CONFIG.version;
const PAGES = "ldn-pages";
const QUEUE_DB = "ldn-offline";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL).then(function (cache) { return cache.addAll(CONFIG.shell); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  // A new version drops the old shell; the pages stay until they are visited again.
  event.waitUntil(
    caches.keys().then(function (keys) {
      return Promise.all(keys.filter(function (key) {
        return key.indexOf("ldn-shell-") === 0 && key !== SHELL;
      }).map(function (key) { return caches.delete(key); }));
    }).then(function () { return self.clients.claim(); })
  );
});

function everythingClear() {
  // Nothing of one person's stays on the device for the next one.
  return caches.keys().then(function (keys) {
    return Promise.all(keys.map(function (key) { return caches.delete(key); }));
  }).then(function () {
    return new Promise(function (resolve) {
      const request = indexedDB.deleteDatabase(QUEUE_DB);
      request.onsuccess = request.onerror = request.onblocked = function () { resolve(); };
    });
  });
}

self.addEventListener("message", function (event) {
  if (event.data === "clear") event.waitUntil(everythingClear());
});

function pageFromNetwork(request) {
  return fetch(request).then(function (response) {
    // Only a patient's own page as it was shown to them (not a redirect to the login).
    if (response.ok && !response.redirected && response.type === "basic") {
      const copy = response.clone();
      caches.open(PAGES).then(function (cache) { cache.put(request.url, copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(request.url, { cacheName: PAGES }).then(function (cached) {
      return cached || new Response(
        "<!DOCTYPE html><html lang=\"en\"><meta charset=\"utf-8\"><title>Offline</title>" +
        "<p>You are offline. Open this page once while online to use it offline.</p></html>",
        { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } }
      );
    });
  });
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === CONFIG.logout) {
    event.respondWith(fetch(request).then(function (response) {
      return everythingClear().then(function () { return response; });
    }));
    return;
  }
  if (request.method !== "GET") return;
  if (CONFIG.shell.indexOf(url.pathname) !== -1) {
    event.respondWith(caches.match(request, { cacheName: SHELL }).then(function (hit) {
      return hit || fetch(request);
    }));
    return;
  }
  if (request.mode === "navigate" && CONFIG.offlinePages.indexOf(url.pathname) !== -1) {
    event.respondWith(pageFromNetwork(request));
  }
});

// Push reminders ------------------------------------------------------------------------

self.addEventListener("push", function (event) {
  let data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  const actions = [];
  if (data.take) actions.push({ action: "take", title: "I took it" });
  if (data.snooze) actions.push({ action: "snooze", title: "Remind me in 30 minutes" });
  event.waitUntil(self.registration.showNotification(data.title || "LDN Tracker", {
    body: data.body || "",
    tag: data.tag || "ldn-dose",
    renotify: true,
    icon: CONFIG.icon,
    badge: CONFIG.badge,
    actions: actions,
    data: { take: data.take, snooze: data.snooze, url: data.url || CONFIG.today, tag: data.tag },
  }));
});

function pageOpen(url) {
  return self.clients.matchAll({ type: "window", includeUncontrolled: true }).then(function (list) {
    for (const client of list) {
      if ("navigate" in client) return client.navigate(url).then(function (c) { return c && c.focus(); });
    }
    return self.clients.openWindow(url);
  });
}

function actionPost(url) {
  return fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  }).then(function (response) { return response.json(); });
}

self.addEventListener("notificationclick", function (event) {
  const notification = event.notification;
  const data = notification.data || {};
  notification.close();
  let work;
  if (event.action === "take" && data.take) {
    work = actionPost(data.take).then(function (answer) {
      if (answer.recorded) {
        return self.registration.showNotification(answer.title, {
          body: answer.body, tag: data.tag || "ldn-dose", icon: CONFIG.icon, badge: CONFIG.badge,
        });
      }
      return pageOpen(answer.url || CONFIG.today);
    });
  } else if (event.action === "snooze" && data.snooze) {
    work = actionPost(data.snooze).then(function (answer) {
      if (answer.url) return pageOpen(answer.url);
      return self.registration.showNotification(answer.title, {
        body: answer.body, tag: data.tag || "ldn-dose", icon: CONFIG.icon, badge: CONFIG.badge,
      });
    });
  } else {
    work = pageOpen(data.url || CONFIG.today);
  }
  event.waitUntil(work.catch(function () { return pageOpen(CONFIG.today); }));
});
