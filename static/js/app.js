// First-contact clocks are written by the server in the policy's terms (working time,
// the reader's time zone: leadhandoff.durations); refresh the page's figures every
// minute where the page asks for it with data-refresh-every="60".
(function () {
  document.addEventListener("DOMContentLoaded", function () {
    const el = document.querySelector("[data-refresh-every]");
    if (!el) return;
    const seconds = parseInt(el.dataset.refreshEvery, 10);
    if (seconds > 0) setTimeout(function () { window.location.reload(); }, seconds * 1000);
  });
})();
