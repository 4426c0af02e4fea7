/* Keyboard focus after an htmx swap. htmx keeps focus only where an element with the same id
   comes back. When the focused control is gone, focus moves into what took its place: a refused
   form's first invalid field; else the same control (kind, address, name, words, form, ids
   around it), or the one in its place with other words; else the first heading; else the content. A deleted row hands it to a neighbour.
   Out-of-band content never takes focus. data-caret="end": the caret goes after the text. If
   one's own action pushed the focused control out of view, the window follows it. */
(() => {
  "use strict";
  const CONTROLS = "a[href], button, input, select, textarea";
  const HEADINGS = "h1, h2, h3";
  let lost = null;     // the control that had focus when a swap began
  let lostKey = "";    // what it is, to know it again in the new content
  let lostPlace = "";  // the same but a button's words (a switch: Pin, then Unpin)
  let around = [];     // the elements it was in, nearest first, with their neighbours
  let since = 0;
  let acting = false;  // the swap answers the control that has focus, or its form
  let following = 0;

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
    window.setTimeout(afterDeletion, 300);
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
    if (same.some(focused) || (alike.length === 1 && focused(alike[0])) || focused(headingOf(content))) return;
    focused(content);
  }

  htmx.onLoad((content) => {
    if (!(content instanceof Element) || Date.now() - since > 2000) {
      lost = null;  // this swap came later
      acting = false;
      return;
    }
    if (acting) {
      window.clearTimeout(following);
      following = window.setTimeout(keepInView, 20);  // once this answer's swaps have all settled
    }
    if (!lost || lost.isConnected || !tookThePlace(content) || !visible(content)) return;
    const invalid = content.querySelector('[aria-invalid="true"]');
    if (invalid && (focusLost() || content.contains(document.activeElement)) && focused(invalid)) {
      lost = null;
      return;
    }
    if (focusLost()) focusInto(content);
    lost = null;  // htmx kept focus (an id came back), or it is in the new content now
  });

  function keepInView() {
    acting = false;
    if (focusLost()) return;
    const box = document.activeElement.getBoundingClientRect();
    if (box.top < 0 || box.bottom > window.innerHeight) document.activeElement.scrollIntoView({block: "nearest"});
  }

  // A swap that only removed (hx-swap="delete"): a neighbour takes focus.
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
    if (box.getAttribute && box.getAttribute("data-caret") === "end") {
      box.removeAttribute("data-caret");
      box.setSelectionRange(box.value.length, box.value.length);
    }
  });
})();
