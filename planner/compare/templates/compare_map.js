(function () {
  var D = COMPARE_DATA, maps = {}, syncing = false;
  function draw(id, side) {
    var m = L.map(id, {preferCanvas: true, zoomSnap: 0.25});
    var b = L.geoJSON(D.boundary, {interactive: false, style: {color: "#222", weight: 2, fill: false}});
    m.fitBounds(b.getBounds());  // a view before any layer is drawn (the canvas renderer needs one)
    b.addTo(m);
    if (D.townships) { L.geoJSON(D.townships, {interactive: false, style: {color: "#5c5f66", weight: 1, dashArray: "4 3", fill: false}}).addTo(m); }
    var order = D.sites.filter(function (s) { return s[3] === "both"; })
      .concat(D.sites.filter(function (s) { return s[3] !== "both"; }));  // sites of one plan on top
    order.forEach(function (s) {
      var units = side === "a" ? s[4] : s[5];
      if (!units) { return; }
      var only = s[3] !== "both";
      var col = D.colours[s[2]] || "#555";
      L.circleMarker([s[0], s[1]], {radius: only ? 6 : 4, color: only ? "#e67700" : col, weight: only ? 3 : 1,
        fillColor: only ? D.plan : col, fillOpacity: only ? 1 : 0.6})
        .bindTooltip((D.types[s[2]] || s[2]) + " " + s[6] + (units > 1 ? " ×" + units : "")).addTo(m);
    });
    D.villages.forEach(function (v) {
      L.circleMarker([v[0], v[1]], {radius: 8, color: "#e03131", weight: 2, fill: false}).bindTooltip(v[2]).addTo(m);
    });
    m.on("move zoom", function () {
      if (syncing) { return; }
      syncing = true;
      var other = maps[side === "a" ? "b" : "a"];
      if (other) { other.setView(m.getCenter(), m.getZoom(), {animate: false}); }
      syncing = false;
    });
    maps[side] = m;
  }
  draw("map-a", "a");
  draw("map-b", "b");
}());
