// The comparison report's charts, from the JSON the page embeds (id "report-charts").
// A file, not an inline script: the Content-Security-Policy refuses inline code.
(function () {
  const source = document.getElementById("report-charts");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const configs = {
    win_rate: {
      type: "bar",
      data: {labels: data.labels, datasets: [{label: "Win rate (%)", data: data.win_rate}]},
      options: {responsive: true, indexAxis: "y", scales: {x: {beginAtZero: true, max: 100}}},
    },
    cycle: {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {label: "Median cycle, won (days)", data: data.median_cycle},
          {label: "Kaplan–Meier median (days)", data: data.km_median_cycle},
        ],
      },
      options: {responsive: true, indexAxis: "y", scales: {x: {beginAtZero: true}}},
    },
  };
  document.querySelectorAll("[data-report-chart]").forEach(function (canvas) {
    const config = configs[canvas.dataset.reportChart];
    if (config) new Chart(canvas, config);
  });
})();
