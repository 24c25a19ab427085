// Test harness only (never shipped in a card): measures a rendered card and writes the result
// into document.title as JSON, which `chromium --dump-dom` then prints.
(function () {
  function lum(c) {
    var m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    var p = m[1].split(",").map(function (x) { return parseFloat(x); });
    if (p.length === 4 && p[3] === 0) return null;
    var s = p.slice(0, 3).map(function (v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
  }
  function background(el) {
    for (var e = el; e; e = e.parentElement) {
      var l = lum(getComputedStyle(e).backgroundColor); if (l !== null) return l;
    }
    return lum("rgb(255,255,255)");
  }
  var width = window.innerWidth, overflow = [], contrast = [];
  var all = document.body.querySelectorAll("*");
  for (var i = 0; i < all.length; i++) {
    var el = all[i];
    if (el.closest("pre, table")) continue;  // these scroll inside their own box by design
    var r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > width + 1) overflow.push(el.tagName + "." + el.className + " right=" + Math.round(r.right));
    var hasText = false;
    for (var k = 0; k < el.childNodes.length; k++) if (el.childNodes[k].nodeType === 3 && el.childNodes[k].textContent.trim()) hasText = true;
    if (hasText) {
      var fg = lum(getComputedStyle(el).color), bg = background(el);
      var ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) contrast.push(el.tagName + "." + el.className + " " + ratio.toFixed(2));
    }
  }
  document.title = JSON.stringify({scrollWidth: document.documentElement.scrollWidth, width: width, overflow: overflow, contrast: contrast});
})();
