/* Text not saved yet. Leaving the page (reload, a link, closing the tab) while a form holds text
   typed since its last save asks first. A form whose request could not reach the server says so
   in its alert line; the text stays. Autosaves count as saves; the words come from <body>. */
(() => {
  "use strict";
  const TYPED = "textarea, input[name$=title], input[name=topic]";
  const typedAt = new Map(), sentAt = new Map();  // by form: when text was last typed, sent

  document.addEventListener("input", (event) => {
    const form = event.target.matches(TYPED) && event.target.closest("form[method=post]");
    if (form) typedAt.set(form, Date.now());
  });
  // A plain form leaves with its text; an htmx one waits for its answer.
  document.addEventListener("submit", (event) => event.target.hasAttribute("hx-post") || typedAt.delete(event.target));

  document.addEventListener("htmx:before:request", (event) => {
    const form = event.target.closest("form");
    if (form) sentAt.set(form, Date.now());
  });
  document.addEventListener("htmx:after:request", (event) => {
    const form = event.target.closest("form");
    if (form && event.detail.ctx.response.status < 400 && typedAt.get(form) <= sentAt.get(form)) typedAt.delete(form);
  });

  addEventListener("beforeunload", (event) => {
    if ([...typedAt.keys()].some((form) => form.isConnected)) event.preventDefault();
  });

  document.addEventListener("htmx:error", (event) => {
    const form = event.target, alert = form.matches("form") && form.querySelector(".form-alert");
    if (alert && !(event.detail.ctx && event.detail.ctx.response)) alert.textContent = document.body.dataset.unreached;
  });
})();
