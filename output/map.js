"use strict";
(function () {
  var data = JSON.parse(document.getElementById("geoloc-data").textContent);
  var svg = document.querySelector("#mapbox svg");
  var details = document.getElementById("details");
  if (!svg || !details) { return; }

  function el(tag, text) {
    var e = document.createElement(tag);
    if (text !== undefined) { e.textContent = String(text); }
    return e;
  }
  function clear(node) { while (node.firstChild) { node.removeChild(node.firstChild); } }
  function row(dl, k, v) {
    if (v === undefined || v === null || v === "") { return; }
    dl.appendChild(el("dt", k));
    dl.appendChild(el("dd", v));
  }
  function hopText(h) { return h.ttl + " " + (h.name || h.addr || "*"); }

  function showHop(t, i) {
    var tr = data.traces[t], h = tr.hops[i];
    clear(details);
    details.appendChild(el("h2", hopText(h)));
    var dl = el("dl");
    row(dl, "trace", tr.title);
    row(dl, "address", h.addr);
    row(dl, "PTR name", h.name);
    row(dl, "AS", h.as);
    row(dl, "place", h.place);
    if (h.lat !== undefined) { row(dl, "position", h.lat + ", " + h.lon + " \u00b1" + h.radius_km + " km"); }
    if (h.rtt_ms) { row(dl, "min RTT", h.rtt_ms + " ms"); }
    row(dl, "confidence", h.confidence);
    row(dl, "method", h.method);
    if (h.inferred) { row(dl, "note", "inferred from neighbours"); }
    if (h.anycast) { row(dl, "note", "anycast: constraints disagree"); }
    row(dl, "evidence", h.evidence);
    row(dl, "why", h.why);
    details.appendChild(dl);
  }

  function showTrace(t) {
    var tr = data.traces[t];
    clear(details);
    details.appendChild(el("h2", tr.title));
    if (tr.countries && tr.countries.length) {
      details.appendChild(el("p", "Countries: " + tr.countries.join(" \u203a ") + (tr.trombone ? " (leaves a country and comes back)" : "")));
    }
    var ol = el("ol");
    tr.hops.forEach(function (h) {
      var li = el("li", hopText(h) + (h.place ? " \u2014 " + h.place : " \u2014 not located" + (h.why ? ": " + h.why : "")) + (h.as ? " \u2014 " + h.as : ""));
      li.value = h.ttl;
      ol.appendChild(li);
    });
    details.appendChild(ol);
  }

  var routes = svg.querySelectorAll(".route");
  var hops = svg.querySelectorAll(".hop");
  var marks = svg.querySelectorAll("[data-t]");
  var current = null;

  // select highlights the elements for which match(t, h) is true (h is
  // undefined for routes and other per-trace marks); null clears.
  function select(key, match) {
    var items = document.querySelectorAll(".legend li.active");
    for (var i = 0; i < items.length; i++) { items[i].classList.remove("active"); }
    if (key === null || key === current) {
      current = null;
      svg.classList.remove("selecting");
      return false;
    }
    current = key;
    svg.classList.add("selecting");
    for (var j = 0; j < marks.length; j++) {
      var m = marks[j];
      var t = +m.getAttribute("data-t");
      var h = m.hasAttribute("data-h") ? +m.getAttribute("data-h") : undefined;
      m.classList.toggle("sel", !!match(t, h));
    }
    return true;
  }
  function traceMatch(t0) { return function (t) { return t === t0; }; }

  for (var i = 0; i < hops.length; i++) {
    (function (c) {
      var t = +c.getAttribute("data-t"), h = +c.getAttribute("data-h");
      c.addEventListener("mouseenter", function () { if (current === null) { showHop(t, h); } });
      c.addEventListener("click", function (ev) { ev.stopPropagation(); showHop(t, h); select("t" + t + "h" + h, function (tt, hh) { return tt === t && (hh === undefined || hh === h); }); });
    })(hops[i]);
  }
  for (var r = 0; r < routes.length; r++) {
    (function (p) {
      var t = +p.getAttribute("data-t");
      p.addEventListener("click", function (ev) { ev.stopPropagation(); showTrace(t); select("t" + t, traceMatch(t)); });
    })(routes[r]);
  }
  function wireLegend(id, attr, fn) {
    var items = document.querySelectorAll("#" + id + " li");
    for (var k = 0; k < items.length; k++) {
      (function (li) {
        var v = li.getAttribute(attr);
        li.addEventListener("click", function () {
          if (fn(v)) { li.classList.add("active"); }
        });
      })(items[k]);
    }
  }
  wireLegend("legend-traces", "data-t", function (v) { var t = +v; showTrace(t); return select("t" + t, traceMatch(t)); });
  wireLegend("legend-orgs", "data-as", function (v) {
    var asn = +v;
    return select("as" + v, function (t, h) {
      var hs = data.traces[t].hops;
      if (h !== undefined) { return (hs[h].asn || 0) === asn; }
      return hs.some(function (x) { return (x.asn || 0) === asn; });
    });
  });
  wireLegend("legend-countries", "data-cc", function (cc) {
    var lands = svg.querySelectorAll(".land path");
    var on = select("cc" + cc, function (t, h) {
      var tr = data.traces[t];
      if (h !== undefined) { return tr.hops[h].cc === cc; }
      return tr.countries.indexOf(cc) >= 0;
    });
    for (var k = 0; k < lands.length; k++) { lands[k].classList.toggle("sel", on && lands[k].getAttribute("data-cc") === cc); }
    return on;
  });
  svg.addEventListener("click", function () {
    select(null);
    var lands = svg.querySelectorAll(".land path.sel");
    for (var k = 0; k < lands.length; k++) { lands[k].classList.remove("sel"); }
  });

  // Zoom with the wheel around the pointer, pan by dragging, reset on
  // double-click: all by changing the viewBox.
  var vb0 = svg.getAttribute("viewBox").split(" ").map(Number);
  var vb = vb0.slice();
  function setVB() { svg.setAttribute("viewBox", vb.join(" ")); }
  function toMap(ev) {
    var r = svg.getBoundingClientRect();
    var s = Math.max(vb[2] / r.width, vb[3] / r.height);
    var ox = (r.width * s - vb[2]) / 2, oy = (r.height * s - vb[3]) / 2;
    return [vb[0] - ox + (ev.clientX - r.left) * s, vb[1] - oy + (ev.clientY - r.top) * s, s];
  }
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    var p = toMap(ev);
    var f = ev.deltaY < 0 ? 0.8 : 1.25;
    if (vb[2] * f > vb0[2] * 4 || vb[2] * f < vb0[2] / 60) { return; }
    vb = [p[0] - (p[0] - vb[0]) * f, p[1] - (p[1] - vb[1]) * f, vb[2] * f, vb[3] * f];
    setVB();
  }, { passive: false });
  var drag = null;
  svg.addEventListener("mousedown", function (ev) { drag = { x: ev.clientX, y: ev.clientY, vb: vb.slice(), s: toMap(ev)[2] }; });
  window.addEventListener("mousemove", function (ev) {
    if (!drag) { return; }
    var dx = ev.clientX - drag.x, dy = ev.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) { svg.classList.add("dragging"); }
    vb = [drag.vb[0] - dx * drag.s, drag.vb[1] - dy * drag.s, drag.vb[2], drag.vb[3]];
    setVB();
  });
  window.addEventListener("mouseup", function () { drag = null; svg.classList.remove("dragging"); });
  svg.addEventListener("dblclick", function () { vb = vb0.slice(); setVB(); });

  document.body.setAttribute("data-routes", String(routes.length));
  document.body.setAttribute("data-hops", String(hops.length));
  document.body.setAttribute("data-traces", String(data.traces.length));
  document.body.setAttribute("data-ready", "1");
})();
