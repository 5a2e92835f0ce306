// Charts of the cherry-pick index and the credit page, from the JSON the page embeds
// (id "analysis-charts"). A file, not an inline script: the Content-Security-Policy refuses inline code.
(function () {
  const source = document.getElementById("analysis-charts");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const bar = function (labels, datasets) {
    return {type: "bar", data: {labels: labels, datasets: datasets},
      options: {responsive: true, indexAxis: "y", scales: {x: {beginAtZero: true}}}};
  };
  const configs = {
    weekly: {
      type: "line",
      data: {
        labels: data.weeks,
        datasets: [
          {label: "Out of order (%)", data: data.out_of_order},
          {label: "Never contacted (%)", data: data.never},
          {label: "Within the SLA (%)", data: data.on_time},
        ],
      },
      options: {responsive: true, scales: {y: {beginAtZero: true, max: 100}}},
    },
    histogram: {type: "bar", data: {labels: data.bins, datasets: [{label: "Won deals", data: data.deals}]},
      options: {responsive: true, scales: {y: {beginAtZero: true}},
        // A bar opens its deals (the same links as the table under the chart).
        onClick: function (_event, elements) {
          if (elements.length && data.bin_urls) window.location.href = data.bin_urls[elements[0].index];
        }}},
    trend: {type: "line", data: {labels: data.months, datasets: data.lines || []},
      options: {responsive: true, spanGaps: true, scales: {y: {beginAtZero: true}}}},
    reps: bar(data.reps, [{label: "Out of order (%)", data: data.rep_out_of_order}]),
    credit_sources: bar(data.sources, [
      {label: "Won value", data: data.source_won},
      {label: "Pipeline", data: data.source_pipeline},
    ]),
    credit_reps: bar(data.reps, [
      {label: "Won value, MQLs", data: data.rep_marketing_won},
      {label: "Won value, rep-sourced", data: data.rep_sourced_won},
    ]),
  };
  document.querySelectorAll("[data-analysis-chart]").forEach(function (canvas) {
    const config = configs[canvas.dataset.analysisChart];
    if (config) new Chart(canvas, config);
  });
})();
