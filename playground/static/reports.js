// The reports page: the charts go through the API's own key check, so the key travels as a
// header, only to the reports' chart route.
document.addEventListener("htmx:configRequest", (evt) => {
  const key = document.getElementById("api-key").value.trim();
  if (key && evt.detail.path.startsWith("/playground/reports/charts")) {
    evt.detail.headers["X-API-Key"] = key;
  }
});
document.addEventListener("htmx:responseError", (evt) => {
  const status = evt.detail.xhr.status;
  let text = "The server answered " + status + ".";
  try { text = JSON.parse(evt.detail.xhr.responseText).message || text; } catch (err) { /* not JSON */ }
  if (status === 401) { text = "The reports need a valid API key: " + text; }
  document.getElementById("message").textContent = text;
});
document.addEventListener("htmx:afterSettle", () => { document.getElementById("message").textContent = ""; });
