// The definition pages: rule rows in the editor (add, remove, show the inputs of the
// chosen rule type) and the preview charts (Chart.js, drawn from json_script data,
// also after htmx swaps the preview panel in).
(function () {
  "use strict";

  function showFieldsFor(row) {
    var select = row.querySelector("[data-rule-type]");
    if (!select) return;
    row.querySelectorAll("[data-show-for]").forEach(function (el) {
      el.hidden = el.dataset.showFor.split(" ").indexOf(select.value) === -1;
    });
  }

  function addRow(type) {
    var total = document.getElementById("id_rules-TOTAL_FORMS");
    var template = document.getElementById("rule-empty-form");
    var rows = document.getElementById("rule-rows");
    if (!total || !template || !rows) return;
    var index = parseInt(total.value, 10) || 0;
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replace(/__prefix__/g, String(index)));
    total.value = String(index + 1);
    var row = rows.lastElementChild;
    var select = row.querySelector("[data-rule-type]");
    if (select && type) select.value = type;
    showFieldsFor(row);
    var first = row.querySelector("input:not([type=hidden]), select:not([data-rule-type])");
    if (first) first.focus();
  }

  function removeRow(row) {
    var del = row.querySelector("input[name$='-DELETE']");
    if (del) del.checked = true;
    row.hidden = true;
  }

  function drawCharts(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (canvas.dataset.drawn) return;
      var source = document.getElementById(canvas.dataset.chart);
      if (!source) return;
      var config = JSON.parse(source.textContent);
      if (!config) return;
      new window.Chart(canvas, config);
      canvas.dataset.drawn = "1";
    });
  }

  function init(root) {
    root.querySelectorAll("[data-rule-row]").forEach(showFieldsFor);
    drawCharts(root);
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-rule-type]")) showFieldsFor(event.target.closest("[data-rule-row]"));
  });
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-rule]");
    if (add) {
      event.preventDefault();
      addRow(add.dataset.addRule);
      return;
    }
    var remove = event.target.closest("[data-remove-rule]");
    if (remove) {
      event.preventDefault();
      removeRow(remove.closest("[data-rule-row]"));
    }
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  // outerHTML swaps detach the event target, so look at the whole page (drawn charts are skipped).
  document.addEventListener("htmx:afterSettle", function () { init(document); });
})();
