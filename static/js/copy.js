// "Copy" buttons: <button data-copy="ID" hidden> copies the value of the field with that id.
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
      navigator.clipboard.writeText(field.value).then(
        function () { if (status) status.textContent = "Copied."; },
        function () {
          field.select();
          if (status) status.textContent = "Couldn't copy: the text is selected, copy it by hand.";
        }
      );
    });
  });
})();
