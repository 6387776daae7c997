// The portal's own JavaScript: open/close the one <dialog>, show messages, copy buttons.
// Everything works without it (links and forms fall back to full pages).
(function () {
  "use strict";
  const dialog = () => document.getElementById("dialog");

  function showMessage(detail) {
    const box = document.getElementById("messages");
    if (!box || !detail) return;
    const item = document.createElement("div");
    item.className = "message message-" + (detail.level || "info");
    item.setAttribute("role", detail.level === "error" ? "alert" : "status");
    item.textContent = detail.text || detail.value || "";
    box.appendChild(item);
    setTimeout(() => item.remove(), 8000);
  }

  document.addEventListener("htmx:afterSwap", (event) => {
    const d = dialog();
    if (event.detail.target === d && !d.open) {
      d.showModal();
      const first = d.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button.primary");
      if (first) first.focus();
    }
  });
  document.body.addEventListener("closeDialog", () => { const d = dialog(); if (d.open) d.close(); });
  document.body.addEventListener("showMessage", (event) => showMessage(event.detail));
  document.addEventListener("htmx:responseError", (event) => {
    const status = event.detail.xhr.status;
    const text = status === 403 ? "You are not allowed to do that." :
      status === 404 ? "That item no longer exists. Reload the page." :
      "Something went wrong (" + status + "). Nothing was changed.";
    showMessage({ level: "error", text: text });
  });
  document.addEventListener("close", (event) => {
    if (event.target === dialog()) event.target.replaceChildren();
  }, true);

  document.addEventListener("click", (event) => {
    const cancel = event.target.closest("[data-close-dialog]");
    if (cancel && dialog().open) {
      event.preventDefault();
      dialog().close();
      return;
    }
    const button = event.target.closest("[data-copy]");
    if (!button) return;
    const source = document.getElementById(button.dataset.copy);
    if (!source) return;
    const text = source.value || source.textContent.trim();
    const copied = () => {
      const label = button.textContent;
      button.textContent = "Copied";
      setTimeout(() => { button.textContent = label; }, 1500);
    };
    const manual = () => {
      if (source.select) source.select();
      showMessage({ level: "info", text: "Copying needs HTTPS here: the value is selected, press Ctrl+C." });
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(copied, manual);
    } else {
      manual();
    }
  });
})();
