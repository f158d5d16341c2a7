// "Copy" buttons: <button data-copy="ID" hidden> copies the element with that id: its
// data-copy-value if it has one (the setup key without the spaces that group it), else the
// field's value.
// The buttons stay hidden where the clipboard is not available; the field itself can still
// be selected and copied by hand.
(function () {
  "use strict";
  if (!navigator.clipboard) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var id = button.getAttribute("data-copy");
    var field = document.getElementById(id);
    var status = document.querySelector('[data-copy-status="' + id + '"]');
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = field.getAttribute("data-copy-value") || field.value;
      navigator.clipboard.writeText(text).then(
        function () { if (status) status.textContent = "Copied."; },
        function () {
          if (status) status.textContent = "Couldn't copy: select the text and copy it by hand.";
        }
      );
    });
  });
})();
