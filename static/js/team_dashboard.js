// The team dashboard's load charts, from the JSON the page embeds (id "team-charts").
// A file, not an inline script: the Content-Security-Policy refuses inline code.
(function () {
  const charts = JSON.parse(document.getElementById("team-charts").textContent);
  document.querySelectorAll("[data-team-chart]").forEach(function (canvas) {
    const data = charts[canvas.dataset.teamChart];
    if (!data || typeof Chart === "undefined") return;
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          {label: "Not yet contacted", data: data.uncontacted},
          {label: "Open", data: data.open},
          {label: "Capacity", data: data.capacity, type: "line", showLine: false, pointStyle: "line", pointRadius: 12},
        ],
      },
      options: {responsive: true, scales: {y: {beginAtZero: true, suggestedMax: Math.max(0, ...data.capacity) + 1, ticks: {precision: 0}}}},
    });
  });
})();
