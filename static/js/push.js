// Settings, Reminders: "Notify me on this device" asks the browser for a push subscription
// and posts it. Loaded on that page only, so Today stays light.
(function () {
  "use strict";
  var setup = document.querySelector("[data-push-setup]");
  if (!setup) return;
  var supported = "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
  if (!supported) {
    document.querySelector("[data-push-unsupported]").hidden = false;
    return;
  }
  setup.hidden = false;
  var message = setup.querySelector("[data-push-message]");

  function key(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  function label() {
    var ua = navigator.userAgent;
    var browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" :
      /Chrome\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "A browser";
    var device = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iPhone or iPad" :
      /Mac OS X/.test(ua) ? "Mac" : /Windows/.test(ua) ? "Windows" : /Linux/.test(ua) ? "Linux" : "";
    return device ? browser + " on " + device : browser;
  }

  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers"))["X-CSRFToken"]; } catch (e) { return ""; }
  }

  setup.querySelector("[data-push-subscribe]").addEventListener("click", function () {
    message.textContent = "Asking your browser…";
    Notification.requestPermission().then(function (permission) {
      if (permission !== "granted") {
        throw new Error("Notifications are blocked for this site. Allow them in your browser's settings, then try again.");
      }
      return navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
        return navigator.serviceWorker.ready;
      });
    }).then(function (registration) {
      return registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key(setup.getAttribute("data-vapid-key")),
      });
    }).then(function (subscription) {
      var body = subscription.toJSON();
      body.label = label();
      return fetch(setup.getAttribute("data-subscribe-url"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(body),
      });
    }).then(function (response) {
      if (!response.ok) throw new Error("This device couldn't be set up. Please try again.");
      window.location.reload();
    }).catch(function (error) {
      message.textContent = error && error.message && error.message.indexOf(" ") > 0 ? error.message :
        "This device couldn't be set up for notifications. Please try again.";
    });
  });
})();
