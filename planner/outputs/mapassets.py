"""Leaflet pieces of the map that folium lacks offline: inlined assets and compact data layers.

:class:`OfflineAssets` writes Leaflet 1.9.4 (vendored in ``templates/``, BSD-2-Clause, images inlined
as data URIs) and the planner's small helper script into the page header, so the map loads nothing
from the network. :class:`DataLayer` is a folium ``Layer`` (so it appears in the layer control) built
in the browser from a compact JSON spec; :class:`SharedData` holds features several layers draw.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any, Final

from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template

# ---------------------------------------------------------------------------------------------
# Offline assets and the layer element
# ---------------------------------------------------------------------------------------------


def _asset(name: str) -> str:
    return resources.files("planner.outputs").joinpath("templates").joinpath(name).read_text(encoding="utf-8")


_HELPERS_JS: Final = r"""
function plannerEsc(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
}
function plannerPopup(spec, f) {
  var rows = "";
  for (var i = 0; i < spec.fields.length; i++) {
    var v = f.v[i];
    if (v === null || v === undefined || v === "") { continue; }
    rows += "<tr><th>" + plannerEsc(spec.fields[i]) + "</th><td>" + plannerEsc(v) + "</td></tr>";
  }
  return '<div class="pl-pop"><div class="pl-pop-title">' + plannerEsc(f.t || "") + "</div>" +
         "<table>" + rows + "</table></div>";
}
function plannerLayer(spec) {
  var group = L.featureGroup();
  var features = spec.features || window[spec.ref];
  features.forEach(function (f, i) {
    var key = spec.keys ? spec.keys[i] : f.k;
    if (key === null) { return; }  // not drawn in this layer
    var st = spec.styles[key] || {};
    var layer;
    if (spec.kind === "line") {
      layer = L.geoJSON(f.g, {style: st, pane: "plannerRoads", interactive: false});
    } else if (spec.kind === "circle") {
      layer = L.circleMarker([f.y, f.x], st);
    } else if (spec.kind === "icon") {
      var cls = "pl-fac" + (st.proposed ? " pl-fac-new" : "");
      var style = st.proposed ? "color:" + st.color + ";border-color:" + st.color
                              : "background:" + st.color + ";border-color:" + st.color;
      layer = L.marker([f.y, f.x], {
        icon: L.divIcon({className: "pl-fac-wrap", iconSize: [22, 22], iconAnchor: [11, 11],
                         html: '<div class="' + cls + '" style="' + style + '">' +
                               plannerEsc(st.sym) + "</div>" +
                               (f.n > 1 ? '<span class="pl-count">' + f.n + "</span>" : "")}),
        riseOnHover: true
      });
    } else {
      layer = L.geoJSON(f.g, {style: st});
    }
    if (spec.fields.length) { layer.bindPopup(plannerPopup(spec, f), {maxWidth: 320}); }
    if (f.t) { layer.bindTooltip(plannerEsc(f.t), {sticky: spec.kind === "polygon"}); }
    group.addLayer(layer);
  });
  (spec.labels || []).forEach(function (lab) {
    group.addLayer(L.marker([lab[1], lab[0]], {interactive: false, keyboard: false, pane: "plannerLabels",
      icon: L.divIcon({className: "pl-label", iconSize: null, html: plannerEsc(lab[2])})}));
  });
  return group;
}
"""

_CSS: Final = """
body, .leaflet-container { font-family: "Noto Sans CJK SC", "Microsoft YaHei",
  "PingFang SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif; }
.leaflet-container { background: #f3f1ea; }
.pl-fac { width: 18px; height: 18px; border-radius: 50%; border: 2px solid; color: #fff; font-size: 11px;
  line-height: 18px; text-align: center; font-weight: bold; box-shadow: 0 0 2px rgba(0,0,0,.6); }
.pl-fac-new { background: #fff; border-style: solid; border-width: 3px; line-height: 16px; width: 16px;
  height: 16px; border-radius: 3px; }
.pl-fac-wrap { background: transparent; border: none; }
.pl-count { position: absolute; left: 13px; top: -7px; background: #212529; color: #fff; font-size: 10px;
  line-height: 14px; min-width: 14px; padding: 0 3px; border-radius: 7px; text-align: center; }
.pl-label { background: transparent; border: none; color: #343a40; font-size: 13px; font-weight: bold;
  white-space: nowrap; text-shadow: 0 0 3px #fff, 0 0 3px #fff, 0 0 3px #fff;
  transform: translate(-50%, -50%); }
.pl-pop { font-size: 12px; }
.pl-pop-title { font-weight: bold; font-size: 13px; margin-bottom: 4px; }
.pl-pop table { border-collapse: collapse; }
.pl-pop th { text-align: left; font-weight: normal; color: #555; padding: 1px 8px 1px 0;
  white-space: nowrap; }
.pl-pop td { padding: 1px 0; }
#planner-legend { position: absolute; z-index: 1000; bottom: 14px; left: 10px;
  background: rgba(255,255,255,.94);
  padding: 8px 10px; border-radius: 6px; box-shadow: 0 1px 5px rgba(0,0,0,.35); font-size: 12px;
  max-height: 70vh; overflow-y: auto; line-height: 1.45; }
#planner-legend h4 { margin: 0 0 4px; font-size: 13px; }
#planner-legend .sec { margin-top: 5px; font-weight: bold; color: #333; }
#planner-legend .row { display: flex; align-items: center; gap: 6px; white-space: nowrap; }
#planner-legend .dot { width: 10px; height: 10px; border-radius: 50%; display: inline-block;
  border: 1px solid rgba(0,0,0,.4); }
#planner-legend .sq { width: 14px; height: 10px; display: inline-block; }
#planner-legend .pl-fac { display: inline-block; transform: scale(.85); }
#planner-title { position: absolute; z-index: 1000; top: 10px; left: 50%; transform: translateX(-50%);
  background: rgba(255,255,255,.94); padding: 6px 14px; border-radius: 6px;
  box-shadow: 0 1px 5px rgba(0,0,0,.35);
  text-align: center; }
#planner-title .t { font-size: 16px; font-weight: bold; }
#planner-title .s { font-size: 11px; color: #555; }
"""


class OfflineAssets(MacroElement):
    """Leaflet's CSS/JS and the planner's helper script, written into the page header."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>{{ this.leaflet_css }}</style>
        <script>{{ this.leaflet_js }}</script>
        <style>{{ this.css }}</style>
        <script>{{ this.helpers }}</script>
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "OfflineAssets"
        self.leaflet_css = _asset("leaflet.css")
        self.leaflet_js = _asset("leaflet.js")
        self.css = _CSS
        self.helpers = _HELPERS_JS


class Panes(MacroElement):
    """Map panes: roads under everything, township labels above every icon (and never clickable)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            (function (m) {
              m.createPane("plannerRoads").style.zIndex = 350;
              var labels = m.createPane("plannerLabels");
              labels.style.zIndex = 640;
              labels.style.pointerEvents = "none";
            })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "Panes"


class MetricScale(MacroElement):
    """A metric-only scale bar at the bottom right (the legend takes the bottom left)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            L.control.scale({imperial: false, position: "bottomright"}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "MetricScale"


def js_json(obj: Any) -> str:
    """JSON for inline ``<script>``: compact, UTF-8 kept, ``<``/``>``/``&``/``'`` escaped."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("'", "\\u0027"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(ch, esc)
    return text


class SharedData(MacroElement):
    """Features several layers draw (demand points), written once as a global ``var``."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.var }} = {{ this.data_json }};
        {% endmacro %}
        """
    )

    def __init__(self, var: str, features: list[dict[str, Any]]) -> None:
        super().__init__()
        self._name = "SharedData"
        self.var = var
        self.data_json = js_json(features)


class DataLayer(Layer):
    """A layer of points, icons or polygons built in the browser from a compact spec.

    Parameters
    ----------
    spec
        ``kind`` ("circle", "icon", "polygon"), ``features`` (dicts with ``x``/``y`` or ``g``, a style
        key ``k``, a title ``t`` and popup values ``v``), ``styles`` (key → Leaflet path options or
        icon options), ``fields`` (popup labels, in the order of ``v``) and optional ``labels``.
        Instead of ``features`` a spec may name a :class:`SharedData` variable in ``ref`` and give
        the style key of each of its features in ``keys``.
    name, show
        Name in the layer control and whether the layer is on when the map opens.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = plannerLayer({{ this.spec_json }});
        {% endmacro %}
        """
    )

    def __init__(self, spec: dict[str, Any], *, name: str, show: bool = True) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "DataLayer"
        self.spec = spec
        self.spec_json = js_json(spec)
