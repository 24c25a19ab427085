/* Card preview controls: light or night mode (the class Anki puts on a card's body) and phone or
   desktop width; the choice is remembered. Each frame is sized to its card. No libraries. */
(function () {
  "use strict";
  var KEY = "deckbook-preview";
  var frames = Array.prototype.slice.call(document.querySelectorAll("iframe"));
  var saved = {};
  try { saved = JSON.parse(localStorage.getItem(KEY) || "{}") || {}; } catch (e) { saved = {}; }
  var dark = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches;
  var state = { mode: saved.mode || (dark ? "night" : "light"), width: saved.width || "phone" };

  function fit(frame) {
    var doc = frame.contentDocument;
    if (doc && doc.documentElement) frame.style.height = (doc.documentElement.scrollHeight + 2) + "px";
  }
  function paint(frame) {
    var body = frame.contentDocument && frame.contentDocument.body;
    if (!body) return;
    body.classList.toggle("nightMode", state.mode === "night");
    body.classList.toggle("night_mode", state.mode === "night");
    fit(frame);
  }
  function apply() {
    document.body.classList.toggle("desktop", state.width === "desktop");
    document.body.classList.toggle("phone", state.width !== "desktop");
    frames.forEach(paint);
    document.querySelectorAll(".controls input").forEach(function (input) {
      input.checked = state[input.name] === input.value;
    });
  }
  frames.forEach(function (frame) { frame.addEventListener("load", function () { paint(frame); }); });
  document.querySelectorAll(".controls input").forEach(function (input) {
    input.addEventListener("change", function () {
      state[input.name] = input.value;
      try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: not remembered */ }
      apply();
    });
  });
  window.addEventListener("resize", function () { frames.forEach(fit); });
  apply();
})();
