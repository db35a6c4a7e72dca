// ECharts (vendored, Apache-2.0) as the console draws it: a line for trends, bars for comparisons.
function draw(element, option) {
  if (!window.echarts) { element.textContent = "图表库未加载"; return null; }
  const chart = window.echarts.getInstanceByDom(element) || window.echarts.init(element, null, { renderer: "canvas" });
  chart.setOption({ tooltip: { trigger: "axis" }, legend: { top: 0, type: "scroll" }, animationDuration: 400,
                    grid: { left: 60, right: 20, top: 36, bottom: 40, containLabel: true }, ...option }, true);
  window.addEventListener("resize", () => chart.resize());
  return chart;
}

export function lineChart(element, labels, series) {
  return draw(element, {
    xAxis: { type: "category", data: labels }, yAxis: { type: "value" },
    series: series.map((s) => ({ type: "line", name: s.name, data: s.data })),   // no smoothing: it would dip below zero
  });
}

export function barChart(element, labels, series, horizontal = false) {
  const category = { type: "category", data: labels, axisLabel: { interval: 0, width: 120, overflow: "truncate" } };
  return draw(element, {
    xAxis: horizontal ? { type: "value" } : category, yAxis: horizontal ? { ...category, inverse: true } : { type: "value" },
    series: series.map((s) => ({ type: "bar", name: s.name, data: s.data, barMaxWidth: 36 })),
  });
}
