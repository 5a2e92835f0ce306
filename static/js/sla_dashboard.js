// The SLA dashboard's charts, from the JSON the page embeds (id "sla-charts").
// A file, not an inline script: the Content-Security-Policy refuses inline code.
(function () {
  const source = document.getElementById("sla-charts");
  if (!source || typeof Chart === "undefined") return;
  const charts = JSON.parse(source.textContent);
  const trend = document.getElementById("sla-trend");
  if (trend) {
    new Chart(trend, {
      type: "line",
      data: {
        labels: charts.trend.labels,
        datasets: [
          {label: "On time (%)", data: charts.trend.compliance, spanGaps: true, yAxisID: "y"},
          {label: "Came due", data: charts.trend.came_due, type: "bar", yAxisID: "y1"},
        ],
      },
      options: {
        responsive: true,
        scales: {
          y: {min: 0, max: 100, ticks: {callback: (v) => v + "%"}},
          y1: {position: "right", beginAtZero: true, grid: {drawOnChartArea: false}, ticks: {precision: 0}},
        },
      },
    });
  }
  const distribution = document.getElementById("sla-distribution");
  if (distribution) {
    new Chart(distribution, {
      type: "bar",
      data: {labels: charts.distribution.labels, datasets: [{label: "Leads contacted", data: charts.distribution.counts}]},
      options: {responsive: true, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}},
    });
  }
})();
