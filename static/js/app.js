// The portal's own JavaScript: open/close the one <dialog>, give focus back to what opened it, show
// messages, copy buttons, close the company menu. Everything works without it (links and forms fall
// back to full pages).
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

  // What opened the dialog. A successful save reloads the table it sat in, replacing it with a copy, so
  // focus goes to the element loading the same URL, else to the nearest container still on the page
  // (its row was deleted), never to <body>.
  let opener = null;
  function openerNow() {
    if (opener.element.isConnected) return opener.element;
    const same = Array.from(document.querySelectorAll("[hx-get]")).find((el) => el.getAttribute("hx-get") === opener.url);
    if (same) return same;
    const kept = opener.ids.map((id) => document.getElementById(id)).find(Boolean);
    if (kept && kept.tabIndex < 0) kept.setAttribute("tabindex", "-1");
    return kept || document.getElementById("main");
  }
  function returnFocus() {
    const active = document.activeElement;
    if (opener && !dialog().open && (!active || active === document.body)) openerNow().focus();
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    const d = dialog();
    if (event.detail.target !== d || d.open) return;
    const element = event.detail.elt;
    const ids = [];
    for (let el = element.parentElement; el; el = el.parentElement) if (el.id) ids.push(el.id);
    opener = { element: element, url: element.getAttribute("hx-get"), ids: ids };
  });
  document.addEventListener("htmx:afterSwap", (event) => {
    const d = dialog();
    if (event.detail.target === d && !d.open) {
      d.showModal();
      const first = d.querySelector("[autofocus], input:not([type=hidden]), select, textarea, button.primary");
      if (first) first.focus();
    }
  });
  document.addEventListener("htmx:afterSettle", returnFocus);
  // A click elsewhere after the dialog closed means the user has moved on.
  document.addEventListener("pointerdown", () => { if (!dialog().open) opener = null; });
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
    if (event.target !== dialog()) return;
    event.target.replaceChildren();
    returnFocus();
  }, true);

  // The company menu (<details>) closes on Escape and on a click outside it.
  function closeMenus(except) {
    document.querySelectorAll("details.menu[open]").forEach((menu) => { if (menu !== except) menu.open = false; });
  }
  document.addEventListener("keydown", (event) => {
    const menu = event.key === "Escape" && event.target.closest && event.target.closest("details.menu[open]");
    if (!menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  document.addEventListener("click", (event) => {
    closeMenus(event.target.closest("details.menu"));
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
