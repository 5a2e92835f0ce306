// Live first-contact countdowns: any element with data-due="<ISO datetime>".
(function () {
  function render() {
    const now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      const due = Date.parse(el.dataset.due);
      if (isNaN(due)) return;
      let ms = due - now;
      const overdue = ms < 0;
      ms = Math.abs(ms);
      const h = Math.floor(ms / 3600000), m = Math.floor((ms % 3600000) / 60000);
      el.textContent = (overdue ? "overdue " : "") + h + "h " + String(m).padStart(2, "0") + "m";
      el.classList.toggle("overdue", overdue);
      el.classList.toggle("soon", !overdue && ms < 4 * 3600000);
    });
  }
  document.addEventListener("DOMContentLoaded", render);
  document.addEventListener("htmx:afterSwap", render);
  setInterval(render, 30000);
})();
