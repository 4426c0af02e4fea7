/* Keyboard focus after an htmx swap. htmx keeps it where the same id comes back. When the
   focused control is gone, focus goes into what took its place: a refused form's first invalid
   field; the same control (key()), or the one in its place with other words; the first field of
   an editor a link opened, and that link when a link (Cancel) closes it; the heading; the
   content. A deleted row hands it to a neighbour. If one's own action pushed it out of view, the
   window follows. data-caret="end": caret after the text. */
(() => {
  "use strict";
  const CONTROLS = "a[href], button, input, select, textarea";
  const HEADINGS = "h1, h2, h3";
  const FIELDS = "textarea, select, input:not([type=hidden]):not([type=submit])";
  // The control focused when a swap began; its key, and without a button's words (a switch:
  // Pin, then Unpin); the elements it was in, nearest first, with their neighbours.
  let lost = null, lostKey = "", lostPlace = "", around = [], since = 0, opener = "";
  let acting = false, following = 0;  // the swap answers the focused control, or its form

  const visible = (el) => (el.checkVisibility ? el.checkVisibility() : el.getClientRects().length > 0);
  const focusLost = () => !document.activeElement || document.activeElement === document.body;
  const headingOf = (el) => (el.matches(HEADINGS) ? el : el.querySelector(HEADINGS));

  function key(el, words = true) {
    const form = el.closest("form");
    const ids = [];
    for (let node = el.parentElement; node; node = node.parentElement) if (node.id) ids.push(node.id);
    return [el.tagName, el.getAttribute("href"), el.getAttribute("name"),
            words && el.tagName === "BUTTON" ? el.textContent.trim() : "",
            form ? form.getAttribute("action") : "", ids.join(" ")].join("|");
  }

  function focused(el) {
    if (!el || !visible(el)) return false;
    if (!el.matches(CONTROLS + ", [tabindex]")) el.setAttribute("tabindex", "-1");
    el.focus();
    return document.activeElement === el;
  }

  document.addEventListener("htmx:before:swap", (event) => {
    if (focusLost()) return;
    lost = document.activeElement;
    acting = event.target instanceof Element && event.target.contains(lost);
    lostKey = key(lost);
    lostPlace = key(lost, false);
    since = Date.now();
    around = [];
    for (let node = lost; node.parentElement; node = node.parentElement) {
      around.push({parent: node.parentElement, next: node.nextElementSibling, previous: node.previousElementSibling});
    }
    setTimeout(afterDeletion, 300);
  });

  function tookThePlace(content) {
    for (const step of around) {
      if (step.parent.isConnected) return content.parentElement === step.parent;
      if (content.id && step.parent.id === content.id) return true;
    }
    return false;
  }

  function focusInto(content) {
    const controls = [content, ...content.querySelectorAll(CONTROLS)].filter((el) => el.matches(CONTROLS));
    const same = controls.filter((el) => key(el) === lostKey);
    const alike = controls.filter((el) => key(el, false) === lostPlace);
    const editor = content.matches("form") ? content : content.firstElementChild;
    const link = lost.tagName === "A";
    const field = link && editor && editor.matches("form") && editor.querySelector(FIELDS);
    same.some(focused) || (alike.length === 1 && focused(alike[0])) || (focused(field) && (opener = lostKey)) ||
      (link && focused(controls.find((el) => key(el) === opener))) || focused(headingOf(content)) || focused(content);
  }

  htmx.onLoad((content) => {
    if (!(content instanceof Element) || Date.now() - since > 2000) {
      lost = null;  // this swap came later
      return (acting = false);
    }
    if (acting) {
      clearTimeout(following);
      following = setTimeout(keepInView, 20);  // once this answer's swaps settled
    }
    if (!lost || lost.isConnected || !tookThePlace(content) || !visible(content)) return;
    const invalid = content.querySelector('[aria-invalid="true"]');
    const kept = content.contains(document.activeElement);  // htmx kept it (an id came back)
    if (!(invalid && (focusLost() || kept) && focused(invalid)) && focusLost()) focusInto(content);
    lost = null;
  });

  function keepInView() {
    acting = false;
    if (focusLost()) return;
    const el = document.activeElement, b = el.getBoundingClientRect();
    if (b.top < 0 || b.bottom > innerHeight) el.scrollIntoView({block: "nearest"});
  }

  // hx-swap="delete"
  function afterDeletion() {
    if (!lost || lost.isConnected || !focusLost() || Date.now() - since > 2000) return;
    lost = null;
    const step = around.find((s) => s.parent.isConnected);
    if (!step) return;
    const neighbour = [step.next, step.previous].find((n) => n && n.isConnected && visible(n));
    if (!neighbour) focused(step.parent);
    else if (!focused(headingOf(neighbour))) focused(neighbour);
  }

  document.addEventListener("focusin", (event) => {
    const box = event.target;
    if (box.dataset && box.dataset.caret === "end") {
      delete box.dataset.caret;
      box.setSelectionRange(box.value.length, box.value.length);
    }
  });
})();
