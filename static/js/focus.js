/* Keyboard focus after an htmx swap.

   htmx keeps focus on a control when an element with the same id comes back in the new content,
   and moves it to an [autofocus] element the new content brings. When the focused control is
   simply gone (a pager link, a form's button, a row that was edited), focus would fall back to
   the page and the next Tab would start again at its top. It moves into what took the control's
   place instead (the element with the id of one it was in, or what came in where it was): to the
   same control if it came back (a link to the same address, a button with the same words), else
   to that content's first heading, or to the content itself. Content swapped in elsewhere at the
   same time (out of band) never takes focus, and nothing moves focus that is still somewhere. */
(function () {
  "use strict";

  var CONTROLS = "a[href], button, input, select, textarea";
  var lost = null;   // the control that had focus when a swap began
  var lostKey = "";  // what it is, to know it again in the new content
  var around = [];   // the elements it was in, nearest first
  var since = 0;

  function key(element) {
    return [element.tagName, element.getAttribute("href"), element.getAttribute("name"),
            element.tagName === "BUTTON" ? element.textContent.trim() : ""].join("|");
  }

  document.addEventListener("htmx:before:swap", function () {
    var active = document.activeElement;
    if (!active || active === document.body) return;
    lost = active;
    lostKey = key(active);
    since = Date.now();
    around = [];
    for (var node = active.parentElement; node; node = node.parentElement) around.push(node);
  });

  function tookThePlace(content) {
    for (var i = 0; i < around.length; i++) {
      if (around[i].isConnected) return content.parentElement === around[i];
      if (content.id && around[i].id === content.id) return true;
    }
    return false;
  }

  function focusInto(content) {
    var controls = [content].concat(Array.prototype.slice.call(content.querySelectorAll("*")));
    for (var i = 0; i < controls.length; i++) {
      if (controls[i].matches(CONTROLS) && key(controls[i]) === lostKey && controls[i].getClientRects().length) {
        controls[i].focus();
        return;
      }
    }
    var target = content.matches("h1, h2, h3") ? content : content.querySelector("h1, h2, h3") || content;
    if (!target.matches(CONTROLS + ", [tabindex]")) target.setAttribute("tabindex", "-1");
    target.focus();
  }

  htmx.onLoad(function (content) {
    if (!lost || !(content instanceof Element)) return;
    var active = document.activeElement;
    if (lost.isConnected || (active && active !== document.body) || Date.now() - since > 2000) {
      lost = null;  // focus stayed, or is somewhere already, or this swap came later
      return;
    }
    if (!tookThePlace(content) || !content.getClientRects().length) return;
    focusInto(content);
    if (document.activeElement !== document.body) lost = null;
  });
})();
