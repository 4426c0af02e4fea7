/* Text not saved yet: leaving the page with text typed into a form since its last save or
   autosave asks first; a request that never reached the server says so in the form. */
(() => {
  "use strict";
  const TYPED = "textarea, input[name$=title], input[name=topic], input[name$=name]";
  const typedAt = new Map();  // by form: when text was last typed into it

  document.addEventListener("input", (event) => {
    const form = event.target.matches(TYPED) && event.target.closest("form[method=post]");
    if (form) typedAt.set(form, Date.now());
  });
  // A plain form leaves with its text.
  document.addEventListener("submit", (event) => event.target.hasAttribute("hx-post") || typedAt.delete(event.target));

  document.addEventListener("htmx:before:request", (event) => {
    event.detail.ctx.sentAt = Date.now();
  });
  document.addEventListener("htmx:after:request", (event) => {
    const form = event.target.closest?.("form"), ctx = event.detail.ctx;
    if (ctx.response.status < 400 && typedAt.get(form) <= ctx.sentAt) typedAt.delete(form);  // all typed was sent
  });
  // A refused form drawn again (422, 409) holds the text: as unsaved as before.
  document.addEventListener("htmx:before:swap", (event) => {
    if (!typedAt.has(event.target.closest?.("form")) || !(event.detail.ctx.response?.status >= 400)) return;
    for (const {fragment} of event.detail.tasks) {
      for (const form of fragment?.querySelectorAll?.("form[method=post]") ?? []) typedAt.set(form, Date.now());
    }
  });

  addEventListener("beforeunload", (event) => {
    if ([...typedAt.keys()].some((form) => form.isConnected)) event.preventDefault();
  });

  document.addEventListener("htmx:error", (event) => {
    const form = event.target, alert = form.matches?.("form") && form.querySelector(".form-alert");
    if (alert && !(event.detail.ctx && event.detail.ctx.response)) alert.textContent = document.body.dataset.unreached;
  });
})();
