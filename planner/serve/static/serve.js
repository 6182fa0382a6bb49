/* planner serve: the editable plan. Talks to /api/* (see planner/serve/app.py); no other network use. */
(function () {
  "use strict";

  var T = {
    zh: {
      lang_switch: "English", undo: "撤销", reset: "恢复原方案", optimise: "固定所选后重新优化",
      add_type: "新增设施类型", add_mode: "在地图上点选新增", add_mode_on: "点击地图放置（再次点击按钮取消）",
      save: "另存为情景", standards: "标准达标情况", gaps: "缺口清单", edits: "编辑记录",
      only_failing: "仅未达标", only_changed: "仅有变化", county: "县", township: "乡镇", community: "社区/村",
      cov_urban: "城区覆盖率", cov_township: "镇区覆盖率", cov_rural: "农村覆盖率",
      own_station: "本村有站点的行政村", served: "有服务的行政村", proposed: "规划新增设施", cost: "新增投资",
      failing: "未达标项", median: "到最近取件点时间中位数", p90: "90% 分位时间", mean: "人口加权平均时间",
      within: "在标准时间内的人口", worst: "服务最差 10% 村的人口占比", worst_mean: "其平均时间",
      run: "原方案", standard: "标准", unit: "单位", value: "现值", target: "目标", pass: "达标",
      yes: "是", no: "否", na: "—", minutes: "分钟", km: "公里", wan: "万元", yuan: "元",
      updated: "已更新，用时 {s} 秒", busy: "计算中…", optimising: "正在重新优化（整数规划）…",
      saving: "正在保存并核对…", saved: "已保存：{p}", same: "planner run 将得到相同方案。",
      existing: "现有", closed: "已关闭", plan: "规划", added: "新增",
      remove: "移除", close: "关闭", reopen: "重新开放", retype: "改为此类型", add: "加入规划",
      candidate: "候选点", site: "设施", village_gaps: "行政村缺口", unit_gaps: "单位缺口",
      needed: "需新增", population: "人口", none: "无", op_add: "新增候选点", op_add_point: "新增地图点",
      op_remove: "移除", op_close: "关闭", op_reopen: "重新开放", op_retype: "改类型", op_optimise: "重新优化",
      legend_existing: "现有设施", legend_proposed: "规划设施（空心）", legend_closed: "已关闭",
      legend_candidate: "候选点", layer_roads: "道路", layer_towns: "乡镇界", layer_uncovered: "未覆盖区域",
      layer_villages: "行政村", layer_candidates: "候选点", layer_sites: "设施", units: "个",
      villages_of: "{a} / {b} 个", area: "人群（括号内为原方案）", median_short: "时间中位数"
    },
    en: {
      lang_switch: "中文", undo: "Undo", reset: "Back to the run's plan", optimise: "Re-optimise with these fixed",
      add_type: "Type to add", add_mode: "Add at a clicked point", add_mode_on: "Click the map to place (click again to stop)",
      save: "Save as scenario", standards: "Standards", gaps: "Gaps", edits: "Edits",
      only_failing: "failing only", only_changed: "changed only", county: "County", township: "Township",
      community: "Community / village",
      cov_urban: "Urban coverage", cov_township: "Township coverage", cov_rural: "Rural coverage",
      own_station: "Villages with their own station", served: "Villages served", proposed: "Sites proposed",
      cost: "Cost of new sites", failing: "Checks failing", median: "Median time to the nearest pickup point",
      p90: "90th percentile", mean: "Population-weighted mean", within: "People within the standard's time",
      worst: "People in the worst-served 10% of villages", worst_mean: "their mean time",
      run: "run", standard: "Standard", unit: "Unit", value: "Now", target: "Target", pass: "Met",
      yes: "yes", no: "no", na: "—", minutes: "min", km: "km", wan: "×10k yuan", yuan: "yuan",
      updated: "Updated in {s} s", busy: "Working…", optimising: "Re-optimising (integer program)…",
      saving: "Saving and checking…", saved: "Saved: {p}", same: "planner run gives the same plan.",
      existing: "existing", closed: "closed", plan: "plan", added: "added",
      remove: "Remove", close: "Close", reopen: "Reopen", retype: "Change to this type", add: "Add to the plan",
      candidate: "Candidate", site: "Site", village_gaps: "Village gaps", unit_gaps: "Unit gaps",
      needed: "to add", population: "people", none: "none", op_add: "add candidate", op_add_point: "add point",
      op_remove: "remove", op_close: "close", op_reopen: "reopen", op_retype: "change type", op_optimise: "re-optimise",
      legend_existing: "existing", legend_proposed: "proposed (hollow)", legend_closed: "closed",
      legend_candidate: "candidate", layer_roads: "Roads", layer_towns: "Townships", layer_uncovered: "Uncovered",
      layer_villages: "Villages", layer_candidates: "Candidates", layer_sites: "Sites", units: "",
      villages_of: "{a} / {b}", area: "People (run's plan in brackets)", median_short: "Median time"
    }
  };

  var C = window.PLANNER_COLOURS;
  var S = { lang: document.body.getAttribute("data-lang") || "zh", L: null, F: null, adding: false, version: 0 };
  var sitesById = {};
  var map, siteLayer, candLayer, villageLayer, uncoveredLayer, popupSite = null;

  function t(key) { return (T[S.lang] && T[S.lang][key]) || key; }
  function pick(obj) { return obj ? (obj[S.lang] || obj.zh || "") : ""; }
  function esc(s) {
    return String(s === null || s === undefined ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function $(id) { return document.getElementById(id); }
  function typeLabel(type) { return pick((S.L.labels.types || {})[type]) || type; }
  function colour(type) { return C.types[type] || C.fallback; }

  function pct(v) { return v === null || v === undefined ? t("na") : (v * 100).toFixed(1) + "%"; }
  function num(v, d) {
    if (v === null || v === undefined) { return t("na"); }
    return Number(v).toLocaleString(S.lang === "zh" ? "zh-CN" : "en", { maximumFractionDigits: d, minimumFractionDigits: 0 });
  }
  function money(v) {
    if (v === null || v === undefined) { return t("na"); }
    if (S.lang === "en") { return v >= 1e6 ? num(v / 1e6, 2) + " M yuan" : num(v, 0) + " yuan"; }
    return v >= 10000 ? num(v / 10000, 1) + " " + t("wan") : num(v, 0) + " " + t("yuan");
  }
  function fmtValue(row) {
    var v = row.value;
    if (v === null || v === undefined) { return t("na"); }
    var kind = row.kind;
    if (kind === "pct") { return pct(v); }
    if (kind === "count") { return num(v, Number(v) === Math.round(v) ? 0 : 2); }
    return num(v, 2);
  }

  function message(text, isError) {
    var m = $("message");
    m.textContent = text || "";
    m.className = isError ? "error" : "";
  }

  function api(method, path, body) {
    document.body.setAttribute("data-busy", "1");
    var opts = { method: method, headers: { "Content-Type": "application/json" } };
    if (body !== undefined) { opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.json().then(function (j) {
        document.body.setAttribute("data-busy", "0");
        if (!r.ok) { throw new Error(j.error || ("HTTP " + r.status)); }
        return j;
      });
    }, function (err) { document.body.setAttribute("data-busy", "0"); throw err; });
  }

  function fail(err) {
    message(err.message || String(err), true);
    document.body.setAttribute("data-error", String(Number(document.body.getAttribute("data-error") || 0) + 1));
  }

  /* ---------------------------------------------------------------- the map */

  function initMap() {
    var L_ = S.L;
    map = L.map("map", { preferCanvas: true, zoomSnap: 0.25 });
    var b = L_.bounds;
    map.fitBounds([[b[1], b[0]], [b[3], b[2]]]);
    var overlays = {};
    if (L_.roads) {
      overlays.roads = L.geoJSON(L_.roads, {
        interactive: false,
        style: function (f) { return { color: C.roads[f.properties.road_class] || "#ced4da", weight: f.properties.road_class === "major" ? 2.5 : 1.5 }; }
      }).addTo(map);
    }
    overlays.towns = L.geoJSON(L_.townships, { interactive: false, style: { color: C.township, weight: 1, dashArray: "4 3", fill: false } }).addTo(map);
    L.geoJSON(L_.boundary, { interactive: false, style: { color: C.boundary, weight: 2.5, fill: false } }).addTo(map);
    uncoveredLayer = L.geoJSON(null, { interactive: false, style: { color: C.uncovered, weight: 0.5, fillColor: C.uncovered, fillOpacity: 0.35 } }).addTo(map);
    overlays.uncovered = uncoveredLayer;
    villageLayer = L.layerGroup().addTo(map);
    overlays.villages = villageLayer;
    candLayer = L.layerGroup();
    L_.candidates.forEach(function (c) {
      if (c.lat === null) { return; }
      var m = L.circleMarker([c.lat, c.lon], { radius: 3, color: "#868e96", weight: 1, fillColor: "#dee2e6", fillOpacity: 1 });
      m.on("click", function () { candidatePopup(c, m); });
      candLayer.addLayer(m);
    });
    candLayer.addTo(map);
    overlays.candidates = candLayer;
    siteLayer = L.layerGroup().addTo(map);
    overlays.sites = siteLayer;
    S.overlays = overlays;
    S.layerControl = null;
    map.on("click", function (e) {
      if (!S.adding) { return; }
      var type = $("add-type").value;
      edit({ op: "add_point", lon: e.latlng.lng, lat: e.latlng.lat, type: type });
    });
    drawLayerControl();
    drawLegend();
  }

  function drawLayerControl() {
    if (S.layerControl) { map.removeControl(S.layerControl); }
    var o = {};
    var names = { roads: "layer_roads", towns: "layer_towns", uncovered: "layer_uncovered", villages: "layer_villages", candidates: "layer_candidates", sites: "layer_sites" };
    Object.keys(S.overlays).forEach(function (k) { o[t(names[k])] = S.overlays[k]; });
    S.layerControl = L.control.layers(null, o, { collapsed: true, position: "topright" }).addTo(map);
  }

  function drawLegend() {
    if (S.legend) { map.removeControl(S.legend); }
    S.legend = L.control({ position: "bottomleft" });
    S.legend.onAdd = function () {
      var div = L.DomUtil.create("div", "legend");
      var html = "";
      S.L.placeable.concat([]).forEach(function (p) {
        html += '<div><span class="dot" style="background:' + colour(p.type) + ";border-color:" + colour(p.type) + '"></span>' + esc(typeLabel(p.type)) + "</div>";
      });
      html += '<div><span class="dot" style="background:#fff;border-color:#333"></span>' + esc(t("legend_proposed")) + "</div>";
      html += '<div><span class="dot" style="background:#ced4da;border-color:#868e96"></span>' + esc(t("legend_closed")) + "</div>";
      html += '<div><span class="dot" style="background:#dee2e6;border-color:#868e96;width:6px;height:6px"></span>' + esc(t("legend_candidate")) + "</div>";
      div.innerHTML = html;
      return div;
    };
    S.legend.addTo(map);
  }

  function siteStyle(s) {
    var col = colour(s.type);
    if (s.status === "closed") { return { radius: 6, color: "#868e96", weight: 2, dashArray: "2 2", fillColor: "#ced4da", fillOpacity: 1 }; }
    if (s.status === "proposed") { return { radius: 6, color: col, weight: 3, fillColor: "#ffffff", fillOpacity: 1 }; }
    return { radius: 5, color: col, weight: 1, fillColor: col, fillOpacity: 0.95 };
  }

  function drawSites() {
    siteLayer.clearLayers();
    sitesById = {};
    S.F.sites.forEach(function (s) {
      var m = L.circleMarker([s.lat, s.lon], siteStyle(s));
      m.on("click", function () { sitePopup(s.id); });
      sitesById[s.id] = { site: s, marker: m };
      siteLayer.addLayer(m);
    });
  }

  function drawVillages() {
    villageLayer.clearLayers();
    var st = S.F.village_status;
    S.L.villages.forEach(function (v, i) {
      if (v.kind !== "village" || v.lat === null) { return; }
      var own = st.own[i], served = st.served[i];
      var style = own ? { color: C.village.station, fillColor: C.village.station, fillOpacity: 1 }
        : served ? { color: C.village.station, fillColor: "#ffffff", fillOpacity: 1 }
          : { color: "#212529", fillColor: "#ffffff", fillOpacity: 1 };
      style.radius = 3; style.weight = 1.5; style.interactive = false;
      villageLayer.addLayer(L.circleMarker([v.lat, v.lon], style));
    });
  }

  function candidatePopup(c, marker) {
    var html = '<div class="pop"><div class="pop-title">' + esc(t("candidate")) + " " + esc(c.id) + "</div>" +
      "<div>" + esc(typeLabel(c.type)) + " · " + esc(money(c.cost)) + (c.units > 1 ? " · ≤" + c.units + " " + esc(t("units")) : "") + "</div>" +
      '<button type="button" class="act-add" data-id="' + esc(c.id) + '">' + esc(t("add")) + "</button></div>";
    marker.bindPopup(html).openPopup();
  }

  function sitePopup(id) {
    var entry = sitesById[id];
    if (!entry) { return; }
    var s = entry.site;
    var status = s.status === "proposed" ? (s.origin === "plan" ? t("plan") : t("added")) : t(s.status);
    var html = '<div class="pop" data-site="' + esc(s.id) + '"><div class="pop-title">' + esc(s.name || s.id) + "</div>" +
      "<div>" + esc(s.id) + " · " + esc(typeLabel(s.type)) + " · " + esc(status) + (s.cost ? " · " + esc(money(s.cost)) : "") + "</div>";
    if (s.status === "proposed") {
      html += '<button type="button" class="act-remove" data-id="' + esc(s.id) + '">' + esc(t("remove")) + "</button>";
    } else {
      html += '<button type="button" class="act-close" data-id="' + esc(s.id) + '">' + esc(s.status === "closed" ? t("reopen") : t("close")) + "</button>";
    }
    var types = s.status === "proposed" ? S.L.placeable.map(function (p) { return p.type; }) : Object.keys(S.L.labels.types);
    html += '<div><select class="act-type">' + types.filter(function (x) { return x !== s.type; }).map(function (x) {
      return '<option value="' + esc(x) + '">' + esc(typeLabel(x)) + "</option>";
    }).join("") + '</select> <button type="button" class="act-retype" data-id="' + esc(s.id) + '">' + esc(t("retype")) + "</button></div></div>";
    popupSite = s.id;
    entry.marker.bindPopup(html).openPopup();
  }

  document.addEventListener("click", function (e) {
    var el = e.target;
    if (!(el instanceof HTMLElement)) { return; }
    var id = el.getAttribute("data-id");
    if (el.classList.contains("act-add")) { map.closePopup(); edit({ op: "add", candidate: id }); }
    else if (el.classList.contains("act-remove")) { map.closePopup(); edit({ op: "remove", id: id }); }
    else if (el.classList.contains("act-close")) { map.closePopup(); edit({ op: "close", id: id }); }
    else if (el.classList.contains("act-retype")) {
      var sel = el.parentNode.querySelector("select.act-type");
      map.closePopup();
      edit({ op: "retype", id: id, type: sel.value });
    } else if (el.classList.contains("site")) {
      var entry = sitesById[el.getAttribute("data-site")];
      if (entry) { map.setView(entry.marker.getLatLng(), Math.max(map.getZoom(), 14)); sitePopup(entry.site.id); }
    }
  });

  /* ---------------------------------------------------------------- the panel */

  function card(key, now, run, fmt, extra) {
    var changed = JSON.stringify(now) !== JSON.stringify(run);
    return '<div class="card' + (changed ? " changed" : "") + '" data-key="' + key + '"><div class="k">' + esc(t(key)) + "</div>" +
      '<div class="v">' + esc(fmt(now)) + "</div>" + '<div class="r">' + esc(t("run")) + " " + esc(fmt(run)) + (extra ? " · " + esc(extra) : "") + "</div></div>";
  }

  function drawHeadline() {
    var h = S.F.headline, now = h.now, run = h.run;
    var unit = now.access.unit === "km" ? t("km") : t("minutes");
    var tm = function (v) { return v === null || v === undefined ? t("na") : num(v, 2) + " " + unit; };
    var villages = function (v) { return t("villages_of").replace("{a}", num(v, 0)).replace("{b}", num(now.villages.total, 0)); };
    var count = function (p) { return num(Object.keys(p).reduce(function (a, k) { return a + p[k]; }, 0), 0); };
    var html = '<div class="cards">' +
      card("cov_urban", now.coverage.urban, run.coverage.urban, pct) +
      card("cov_township", now.coverage.township, run.coverage.township, pct) +
      card("cov_rural", now.coverage.rural, run.coverage.rural, pct) +
      card("own_station", now.villages.own, run.villages.own, villages) +
      card("served", now.villages.served, run.villages.served, villages) +
      card("failing", now.failing, run.failing, function (v) { return num(v, 0); }) +
      card("proposed", now.proposed, run.proposed, count) +
      card("cost", now.cost, run.cost, money) +
      card("within", now.access.county.within_standard, run.access.county.within_standard, pct) +
      card("median", now.access.county.median, run.access.county.median, tm) +
      card("p90", now.access.county.p90, run.access.county.p90, tm) +
      card("mean", now.access.county.mean, run.access.county.mean, tm) +
      card("worst", now.access.equity.worst_population_share, run.access.equity.worst_population_share, pct,
        t("worst_mean") + " " + tm(now.access.equity.worst_mean)) +
      "</div>";
    html += '<table id="access-classes"><thead><tr><th>' + esc(t("area")) + '</th><th class="num">' + esc(t("median_short")) +
      '</th><th class="num">' + esc(t("p90")) + '</th><th class="num">' + esc(t("within")) + "</th></tr></thead><tbody>";
    ["urban", "township", "rural"].forEach(function (c) {
      var a = now.access.by_class[c], b = run.access.by_class[c];
      if (!a || !a.population) { return; }
      html += '<tr data-class="' + c + '"><td>' + esc(pick(S.L.labels.areas[c])) + '</td><td class="num">' + esc(tm(a.median)) +
        ' <span class="muted">(' + esc(tm(b.median)) + ')</span></td><td class="num">' + esc(tm(a.p90)) +
        ' <span class="muted">(' + esc(tm(b.p90)) + ')</span></td><td class="num">' + esc(pct(a.within_standard)) +
        ' <span class="muted">(' + esc(pct(b.within_standard)) + ")</span></td></tr>";
    });
    html += "</tbody></table>";
    $("headline").innerHTML = html;
  }

  function rowsOf() {
    var fields = S.F.table_fields || S.L.table_fields;
    return S.F.table.map(function (r) {
      var o = {};
      fields.forEach(function (f, i) { o[f] = r[i]; });
      return o;
    });
  }

  function drawTable() {
    var level = $("level").value;
    var onlyFail = $("only-failing").checked, onlyChanged = $("only-changed").checked;
    var levels = level === "community" ? ["community", "village"] : [level];
    var head = "<tr><th>" + esc(t("standard")) + "</th><th>" + esc(t("unit")) + '</th><th class="num">' + esc(t("value")) +
      '</th><th class="num">' + esc(t("target")) + "</th><th>" + esc(t("pass")) + '</th><th class="num">' + esc(t("run")) + "</th></tr>";
    $("standards").querySelector("thead").innerHTML = head;
    var body = "";
    rowsOf().forEach(function (r) {
      if (levels.indexOf(r.unit_level) < 0) { return; }
      if (onlyFail && r.passed !== false) { return; }
      if (onlyChanged && !r.changed) { return; }
      var label = pick(S.L.labels.standards[r.standard_id]) || r.standard_id;
      var pass = r.passed === null ? t("na") : r.passed ? t("yes") : t("no");
      var runRow = { value: r.run_value, kind: r.kind };
      var cls = (r.passed === false ? "fail" : r.passed ? "ok" : "") + (r.changed ? " changed" : "");
      body += '<tr class="' + cls + '" data-sid="' + esc(r.standard_id) + '" data-level="' + esc(r.unit_level) +
        '" data-code="' + esc(r.unit_code) + '" data-value="' + esc(r.value === null ? "" : r.value) +
        '" data-passed="' + esc(r.passed === null ? "" : r.passed) + '" data-changed="' + (r.changed ? "1" : "0") + '">' +
        '<td title="' + esc(r.standard_id) + '">' + esc(label) + ' <span class="muted">' + esc(r.standard_id) + "</span></td>" +
        "<td>" + esc(r.unit_name) + '</td><td class="num">' + esc(fmtValue(r)) + '</td><td class="num">' +
        esc(fmtValue({ value: r.target, kind: r.kind })) + '</td><td class="pass">' + esc(pass) + '</td><td class="num muted">' +
        esc(fmtValue(runRow)) + "</td></tr>";
    });
    $("standards").querySelector("tbody").innerHTML = body;
  }

  function gapReason(cause, km, min) {
    var tpl = pick(S.L.labels.causes[cause]) || cause || "";
    var near = S.lang === "zh" ? "最近站点 " + num(km, 1) + " 公里" + (min !== null ? "（" + num(min, 0) + " 分钟）" : "")
      : "nearest " + num(km, 1) + " km" + (min !== null ? " (" + num(min, 0) + " min)" : "");
    return tpl.replace("{near}", near);
  }

  function drawGaps() {
    var g = S.F.gaps;
    var vf = g.village_fields, uf = g.unit_fields;
    var html = "<h3>" + esc(t("village_gaps")) + " (" + g.villages.length + ")</h3>";
    if (g.villages.length) {
      html += '<table id="village-gaps"><tbody>' + g.villages.map(function (r) {
        var o = {}; vf.forEach(function (f, i) { o[f] = r[i]; });
        return '<tr data-code="' + esc(o.village_code) + '"><td>' + esc(o.village_name) + '</td><td class="muted">' + esc(o.township_name) +
          '</td><td class="num">' + esc(num(o.population, 0)) + "</td><td>" + esc(gapReason(o.cause, o.nearest_station_km, o.nearest_station_min)) + "</td></tr>";
      }).join("") + "</tbody></table>";
    } else { html += '<div class="muted">' + esc(t("none")) + "</div>"; }
    html += "<h3>" + esc(t("unit_gaps")) + " (" + g.units.length + ")</h3>";
    if (g.units.length) {
      html += '<table id="unit-gaps"><tbody>' + g.units.map(function (r) {
        var o = {}; uf.forEach(function (f, i) { o[f] = r[i]; });
        return '<tr data-sid="' + esc(o.standard_id) + '" data-code="' + esc(o.unit_code) + '"><td>' + esc(pick(S.L.labels.standards[o.standard_id]) || o.standard_id) +
          "</td><td>" + esc(o.unit_name) + '</td><td class="num">' + esc(t("needed")) + " " + esc(num(o.needed, 0)) + " " + esc(typeLabel(o.facility_type)) + "</td></tr>";
      }).join("") + "</tbody></table>";
    } else { html += '<div class="muted">' + esc(t("none")) + "</div>"; }
    $("gaps").innerHTML = html;
  }

  function drawEdits() {
    var html = S.F.edits.map(function (e) {
      var id = e.new_id || e.id;
      var link = id && sitesById[id] ? '<a class="site" data-site="' + esc(id) + '">' + esc(id) + "</a>" : esc(id || "");
      var what = e.type ? " " + esc(typeLabel(e.type)) : "";
      return '<li data-op="' + esc(e.op) + '">' + esc(t("op_" + e.op)) + " " + link + what + "</li>";
    }).join("");
    $("edits").innerHTML = html || '<li class="muted">' + esc(t("none")) + "</li>";
  }

  function drawUncovered() {
    uncoveredLayer.clearLayers();
    uncoveredLayer.addData(S.F.uncovered);
  }

  function drawAll() {
    drawSites(); drawVillages(); drawUncovered(); drawHeadline(); drawTable(); drawGaps(); drawEdits();
    $("btn-undo").disabled = !S.F.can_undo;
  }

  function applyFigures(f) {
    S.F = f;
    drawAll();
    S.version += 1;
    document.body.setAttribute("data-version", String(S.version));
  }

  function edit(body) {
    message(t("busy"));
    return api("POST", "/api/edit", body).then(function (f) {
      applyFigures(f);
      message(t("updated").replace("{s}", f.seconds.update.toFixed(2)));
    }).catch(fail);
  }

  function post(path, busyKey) {
    message(t(busyKey || "busy"));
    return api("POST", path).then(function (f) {
      applyFigures(f);
      var notes = (f.notes || []).join("\n");
      message(t("updated").replace("{s}", f.seconds.update.toFixed(2)) + (notes ? "\n" + notes : ""));
    }).catch(fail);
  }

  function save() {
    message(t("saving"));
    api("POST", "/api/save", { path: $("save-path").value }).then(function (r) {
      var text = t("saved").replace("{p}", r.path) + "\n" + (r.differences.length ? r.differences.join("\n") : t("same"));
      message(text, r.differences.length > 0);
      document.body.setAttribute("data-saved", r.path);
    }).catch(fail);
  }

  function setAdding(on) {
    S.adding = on;
    var b = $("btn-add-mode");
    b.setAttribute("aria-pressed", on ? "true" : "false");
    b.textContent = on ? t("add_mode_on") : t("add_mode");
    $("map").classList.toggle("adding", on);
  }

  function applyLanguage() {
    document.documentElement.lang = S.lang === "zh" ? "zh-CN" : "en";
    document.body.setAttribute("data-lang", S.lang);
    Array.prototype.forEach.call(document.querySelectorAll("[data-t]"), function (el) { el.textContent = t(el.getAttribute("data-t")); });
    $("btn-lang").textContent = t("lang_switch");
    $("title").textContent = pick(S.L.title);
    document.title = pick(S.L.title) + " · planner serve";
    var lv = $("level").options;
    for (var i = 0; i < lv.length; i++) { lv[i].textContent = t(lv[i].value); }
    $("add-type").innerHTML = S.L.placeable.map(function (p) {
      return '<option value="' + esc(p.type) + '">' + esc(typeLabel(p.type)) + " · " + esc(money(p.cost)) + "</option>";
    }).join("");
    setAdding(S.adding);
    drawLayerControl();
    drawLegend();
    if (S.F) { drawAll(); }
  }

  function start() {
    $("btn-lang").addEventListener("click", function () { S.lang = S.lang === "zh" ? "en" : "zh"; var keep = $("add-type").value; applyLanguage(); $("add-type").value = keep; });
    $("btn-undo").addEventListener("click", function () { post("/api/undo"); });
    $("btn-reset").addEventListener("click", function () { post("/api/reset"); });
    $("btn-optimise").addEventListener("click", function () { post("/api/optimise", "optimising"); });
    $("btn-save").addEventListener("click", save);
    $("btn-add-mode").addEventListener("click", function () { setAdding(!S.adding); });
    ["level", "only-failing", "only-changed"].forEach(function (id) { $(id).addEventListener("change", drawTable); });
    api("GET", "/api/layers").then(function (layers) {
      S.L = layers;
      initMap();
      applyLanguage();
      return api("GET", "/api/state");
    }).then(function (f) {
      applyFigures(f);
      message("");
      window.plannerServe.ready = true;
    }).catch(fail);
  }

  window.plannerServe = {
    ready: false,
    map: function () { return map; },
    openSite: sitePopup,
    state: function () { return S; }
  };
  start();
}());
