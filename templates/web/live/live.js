/* Live preview only (`build.py serve` adds it to each page it serves; never part of a release):
   listens to the server's events and reloads this page when a rebuild changed it, when the bank
   broke (the page then lists the problems) or when it was fixed. No libraries. */
(function () {
  "use strict";
  var me = document.currentScript;
  var version = Number(me.getAttribute("data-version"));
  var broken = me.getAttribute("data-broken") === "1";
  var path = location.pathname.replace(/\/$/, "/index.html");
  var events = new EventSource("/_deckbook/events");
  events.onmessage = function (event) {
    var status = JSON.parse(event.data);
    var stale = status.broken !== broken ||
      (broken ? status.generation > version : (status.versions[path] || 0) > version);
    if (stale) {
      events.close();
      location.reload();
    }
  };
})();
