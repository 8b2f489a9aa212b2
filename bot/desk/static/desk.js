// The desk's only script (the CSP allows no inline code): print buttons and confirmations.
document.addEventListener("click", (event) => {
  const target = event.target.closest("[data-print], [data-confirm]");
  if (!target) return;
  if (target.hasAttribute("data-print")) window.print();
  else if (!window.confirm(target.dataset.confirm)) event.preventDefault();
});
