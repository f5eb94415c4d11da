// Report and dashboard charts: ECharts with its SVG renderer, drawn from the JSON block beside
// each chart; a click on a bar, slice or stage opens the list of the records it counts.
(function () {
  "use strict";

  const palette = ["#4f46e5", "#0ea5e9", "#15803d", "#c2410c", "#7c3aed", "#0f766e", "#dc2626", "#64748b"];

  function option(data, narrow) {
    const base = { color: palette, animation: false, tooltip: { confine: true } };
    const series0 = data.series[0];
    if (data.type === "pie" || data.type === "funnel") {
      const points = series0.data.map((point, i) => ({
        name: data.categories[i], value: point.value, url: point.url,
      }));
      const shape = data.type === "pie"
        ? { type: "pie", radius: narrow ? ["30%", "60%"] : ["35%", "70%"] }
        : { type: "funnel", sort: "none", left: "10%", width: "80%", minSize: "8%" };
      return Object.assign(base, {
        tooltip: { trigger: "item", confine: true },
        legend: { type: "scroll", bottom: 0 },
        series: [Object.assign({ name: series0.name, data: points, label: { show: !narrow } }, shape)],
      });
    }
    const many = data.series.length > 1;
    return Object.assign(base, {
      tooltip: { trigger: "axis", confine: true },
      legend: many ? { type: "scroll", top: 0 } : undefined,
      grid: { left: 8, right: 8, top: many ? 32 : 12, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { interval: 0, rotate: narrow || data.categories.length > 6 ? 30 : 0 },
      },
      yAxis: { type: "value" },
      series: data.series.map((s) => ({
        name: s.name,
        type: data.type === "line" ? "line" : "bar",
        data: s.data.map((point) => ({ value: point.value, url: point.url })),
      })),
    });
  }

  function draw(element) {
    const source = document.getElementById(element.dataset.chart);
    if (!source || !window.echarts) return;
    const data = JSON.parse(source.textContent);
    if (!data.series || !data.series.length) return;
    const chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(option(data, element.clientWidth < 480));
    chart.on("click", (event) => {
      const url = event.data && event.data.url;
      if (url) window.location.assign(url);
    });
    window.addEventListener("resize", () => chart.resize());
  }

  function customPeriod(select) {
    const fields = document.querySelectorAll(`[data-custom-for="${select.id}"]`);
    const show = () => fields.forEach((field) => { field.hidden = select.value !== "custom"; });
    select.addEventListener("change", show);
    show();
  }

  // The report builder's preview draws the charts it inserts after the page has loaded.
  window.LoomCharts = { draw };

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("[data-period]").forEach(customPeriod);
    document.querySelectorAll(".report-chart[data-chart]").forEach(draw);
  });
})();
