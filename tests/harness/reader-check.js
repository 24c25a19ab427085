// Test harness only (never shipped in a book): run in an e-book's XHTML document, it imitates a
// reading system's settings (font size, theme) and measures what the book's own CSS does with
// them. `deckbookCheck({font: 150, theme: "dark"})` returns {width, scrollWidth, overflow, contrast}.
(function () {
  var XHTML = "http://www.w3.org/1999/xhtml";
  var THEMES = {  // what a reader's theme sets: page and text colours on the root, and link colours
    light: {bg: "#ffffff", fg: "#000000", link: "#0000ee"},
    sepia: {bg: "#f4ecd8", fg: "#5b4636", link: "#1d4f91"},
    dark: {bg: "#121212", fg: "#eeeeee", link: "#8ab4f8"}
  };
  var style = document.createElementNS(XHTML, "style");
  document.documentElement.firstElementChild.appendChild(style);

  function lum(c) {
    var m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    var p = m[1].split(",").map(function (x) { return parseFloat(x); });
    if (p.length === 4 && p[3] === 0) return null;
    var s = p.slice(0, 3).map(function (v) { v /= 255; return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
  }
  function background(el) {
    for (var e = el; e; e = e.parentElement) {
      var l = lum(getComputedStyle(e).backgroundColor); if (l !== null) return l;
    }
    return null;
  }
  function describe(el) {
    var where = el.closest("section[id]");
    var text = (el.textContent || "").replace(/\s+/g, " ").trim().slice(0, 50);
    return el.localName + (el.id ? "#" + el.id : "") + (el.getAttribute("class") ? "." + el.getAttribute("class").replace(/ /g, ".") : "") +
      (where ? " in #" + where.id : "") + " \"" + text + "\"";
  }
  function scrollsInside(el, width) {  // a box that scrolls sideways and itself fits the page holds it
    for (var e = el.parentElement; e && e !== document.body; e = e.parentElement) {
      var o = getComputedStyle(e).overflowX, r = e.getBoundingClientRect();
      if ((o === "auto" || o === "scroll") && r.right <= width + 0.5 && r.left >= -0.5) return true;
    }
    return false;
  }
  function frames() {
    return new Promise(function (done) { requestAnimationFrame(function () { requestAnimationFrame(done); }); });
  }

  window.deckbookCheck = function (settings) {
    var t = THEMES[settings.theme];
    style.textContent = "html { font-size: " + settings.font + "%; background-color: " + t.bg + "; color: " + t.fg + "; }\n" +
      "a:link, a:visited { color: " + t.link + "; }";
    return frames().then(function () {
      var width = document.documentElement.clientWidth, overflow = [], contrast = [], flagged = [];
      var all = document.body.querySelectorAll("*");
      for (var i = 0; i < all.length; i++) {
        var el = all[i], r = el.getBoundingClientRect();
        if (r.width === 0 && r.height === 0) continue;
        if ((r.right > width + 0.5 || r.left < -0.5) && !scrollsInside(el, width)) {
          var inside = false;
          for (var k = 0; k < flagged.length; k++) if (flagged[k].contains(el)) inside = true;
          if (!inside) { flagged.push(el); overflow.push(describe(el) + " spans " + Math.round(r.left) + ".." + Math.round(r.right)); }
        }
        var hasText = false;
        for (var n = 0; n < el.childNodes.length; n++) if (el.childNodes[n].nodeType === 3 && el.childNodes[n].textContent.trim()) hasText = true;
        if (hasText && el.namespaceURI === XHTML) {
          var fg = lum(getComputedStyle(el).color), bg = background(el);
          if (fg !== null && bg !== null) {
            var ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
            if (ratio < 4.5) contrast.push(describe(el) + " " + ratio.toFixed(2) + ":1");
          }
        }
      }
      return {width: width, scrollWidth: document.documentElement.scrollWidth, overflow: overflow, contrast: contrast};
    });
  };
})();
