/* The dashboard's charts: indicators by city and the forecast, drawn with Chart.js from the
   page's JSON data block (the same numbers as the tables under each chart). */
(function () {
  "use strict";
  var block = document.getElementById("dashboard-data");
  if (!block || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(block.textContent);
  var labels = document.getElementById("dashboard-labels").dataset;
  var english = document.documentElement.lang === "en";
  var byKey = {};
  data.indicators.forEach(function (item) { byKey[item.key] = item; });

  var COLORS = { ok: "#1d6b34", bad: "#a4161a", none: "#8c96a0", line: "#0b5cad", target: "#b35c00" };

  function name(item) { return english ? item.name_en : item.name; }
  function isRatio(item) { return item.kind === "ratio"; }
  function scaled(item, value) {
    if (value === null || value === undefined) { return null; }
    return isRatio(item) ? Math.round(value * 10000) / 100 : value;
  }
  function tick(item) {
    return function (value) { return isRatio(item) ? value + "%" : value; };
  }
  // ``points`` (optional): the target of each point, null where no plan judges it (a forecast month
  // after the last deadline); else the item's one target on every point.
  function targetLines(item, count, points) {
    var sets = [];
    function line(label, values, dash) {
      if (!values.some(function (v) { return v !== null && v !== undefined; })) { return; }
      sets.push({
        type: "line", label: label, data: values.map(function (v) { return scaled(item, v); }),
        borderColor: COLORS.target, borderDash: dash, borderWidth: 2, pointRadius: 0, fill: false, spanGaps: false
      });
    }
    var lows = points ? points.map(function (p) { return p.target; }) : new Array(count).fill(item.target);
    var highs = points ? points.map(function (p) { return p.comparator === "between" ? p.target_max : null; })
      : new Array(count).fill(item.comparator === "between" ? item.target_max : null);
    line(labels.target, lows, [6, 4]);
    line(labels.targetMax, highs, [2, 3]);
    return sets;
  }
  function options(item) {
    return {
      responsive: true, maintainAspectRatio: false, animation: false,
      scales: { y: { beginAtZero: true, max: isRatio(item) ? 100 : undefined, ticks: { callback: tick(item) } } },
      plugins: { legend: { position: "bottom" } }
    };
  }

  function regionsChart(canvas, select) {
    var regions = data.byRegion.regions;
    var chart = null;
    function draw(key) {
      var item = byKey[key];
      var colors = data.byRegion.met[key].map(function (met) {
        return met === true ? COLORS.ok : met === false ? COLORS.bad : COLORS.none;
      });
      var borders = data.byRegion.codes.map(function (code) { return code === data.selected ? "#1b2733" : "transparent"; });
      var config = {
        type: "bar",
        data: {
          labels: regions,
          datasets: [{
            type: "bar", label: name(item), backgroundColor: colors, borderColor: borders, borderWidth: 2,
            data: data.byRegion.values[key].map(function (v) { return scaled(item, v); })
          // A count's target is the province's total, not each city's: drawn only for ratios.
          }].concat(isRatio(item) ? targetLines(item, regions.length) : [])
        },
        options: options(item)
      };
      if (chart) { chart.destroy(); }
      chart = new window.Chart(canvas, config);
      canvas.dataset.indicator = key;
    }
    select.addEventListener("change", function () { draw(select.value); });
    draw(select.value);
  }

  function forecastChart(canvas, select) {
    var dates = data.forecast.dates;
    var chart = null;
    function draw(key) {
      var item = byKey[key];
      var config = {
        type: "line",
        data: {
          labels: dates,
          datasets: [{
            label: name(item), borderColor: COLORS.line, backgroundColor: COLORS.line, borderWidth: 2,
            pointRadius: 2, fill: false, stepped: false,
            data: data.forecast.values[key].map(function (v) { return scaled(item, v); })
          }].concat(targetLines(item, dates.length, (data.forecast.targets || {})[key]))
        },
        options: options(item)
      };
      if (chart) { chart.destroy(); }
      chart = new window.Chart(canvas, config);
      canvas.dataset.indicator = key;
    }
    select.addEventListener("change", function () { draw(select.value); });
    draw(select.value);
  }

  var regionsCanvas = document.getElementById("chart-regions");
  var regionsSelect = document.getElementById("chart-regions-indicator");
  if (regionsCanvas && regionsSelect) { regionsChart(regionsCanvas, regionsSelect); }
  var forecastCanvas = document.getElementById("chart-forecast");
  var forecastSelect = document.getElementById("chart-forecast-indicator");
  if (forecastCanvas && forecastSelect && forecastSelect.value) { forecastChart(forecastCanvas, forecastSelect); }
}());

// Printing: each chart as an image of itself (a canvas may be redrawn at print size or not at all), and the
// chart tables open, so the printed page holds what the screen shows.
(function () {
  "use strict";
  var opened = [];
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".chart-box canvas").forEach(function (canvas) {
      var box = canvas.parentNode;
      var image = box.querySelector("img.chart-print");
      if (!image) {
        image = document.createElement("img");
        image.className = "chart-print";
        image.alt = canvas.getAttribute("aria-label") || "";
        box.appendChild(image);
      }
      try {
        image.src = canvas.toDataURL("image/png");
        box.classList.add("has-print-image");
      } catch (e) { /* a tainted canvas: the canvas prints itself */ }
    });
    document.querySelectorAll("details.chart-table:not([open])").forEach(function (details) {
      details.open = true;
      opened.push(details);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (details) { details.open = false; });
    opened = [];
  });
}());
