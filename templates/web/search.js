/* deckbook web edition: offline search. No libraries, no network: the index is the script
   search-index.js beside this file (JSON assigned to self.DECKBOOK_SEARCH), so search works from
   file:// too. A question is found when every word typed appears in its question, answer or
   explanation (a glossary term: in the term or its definition); case and accents are ignored.
   Results are a list of links; the count is announced through a role="status" live region. */
(function () {
  "use strict";
  var data = self.DECKBOOK_SEARCH;
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-q");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!data || !form || !input || !status || !list) return;
  var MAX_RESULTS = 50, SNIPPET = 160;

  function fold(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  var items = data.items.map(function (item) {
    return { item: item, question: fold(item.q), text: fold(item.t) };
  });

  function score(entry, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var inQuestion = entry.question.indexOf(words[i]) >= 0;
      if (!inQuestion && entry.text.indexOf(words[i]) < 0) return 0;
      total += inQuestion ? 3 : 1;
    }
    return total;
  }

  function snippet(entry, words) {
    var text = entry.item.t, folded = entry.text, at = -1;
    for (var i = 0; i < words.length && at < 0; i++) at = folded.indexOf(words[i]);
    var start = Math.max(0, at - 50);
    var piece = text.slice(start, start + SNIPPET), foldedPiece = folded.slice(start, start + SNIPPET);
    var p = document.createElement("p");
    p.className = "snippet";
    if (start > 0) p.appendChild(document.createTextNode("… "));
    var pos = 0;
    while (pos < piece.length) {
      var next = -1, length = 0;
      for (var k = 0; k < words.length; k++) {
        var found = foldedPiece.indexOf(words[k], pos);
        if (found >= 0 && (next < 0 || found < next)) { next = found; length = words[k].length; }
      }
      if (next < 0 || length === 0) { p.appendChild(document.createTextNode(piece.slice(pos))); break; }
      p.appendChild(document.createTextNode(piece.slice(pos, next)));
      var mark = document.createElement("mark");
      mark.textContent = piece.slice(next, next + length);
      p.appendChild(mark);
      pos = next + length;
    }
    if (start + SNIPPET < text.length) p.appendChild(document.createTextNode(" …"));
    return p;
  }

  function show(query) {
    var words = fold(query).split(/\s+/).filter(function (w) { return w.length > 0; });
    list.textContent = "";
    if (!words.length) { status.textContent = ""; return; }
    var hits = [];
    items.forEach(function (entry, order) {
      var s = score(entry, words);
      if (s > 0) hits.push({ entry: entry, score: s, order: order });
    });
    hits.sort(function (a, b) { return b.score - a.score || a.order - b.order; });
    status.textContent = hits.length
      ? status.getAttribute("data-found").replace("{num}", String(hits.length))
      : status.getAttribute("data-none");
    hits.slice(0, MAX_RESULTS).forEach(function (hit) {
      var li = document.createElement("li");
      var a = document.createElement("a");
      a.href = hit.entry.item.u;
      if (hit.entry.item.s) {
        var number = document.createElement("span");
        number.className = "section-number";
        number.textContent = hit.entry.item.s;
        a.appendChild(number);
        a.appendChild(document.createTextNode(" "));
      }
      a.appendChild(document.createTextNode(hit.entry.item.q));
      li.appendChild(a);
      if (hit.entry.item.t) li.appendChild(snippet(hit.entry, words));
      list.appendChild(li);
    });
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () { show(input.value); }, 120);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    clearTimeout(timer);
    show(input.value);
    try {
      history.replaceState(null, "", "?q=" + encodeURIComponent(input.value));
    } catch (e) { /* some browsers refuse this on file:// pages; the results are shown all the same */ }
  });
  var initial = new URLSearchParams(location.search).get("q");
  if (initial) { input.value = initial; show(initial); }
})();
