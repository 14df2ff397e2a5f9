// Small behaviours that need script. Served as a file (no inline script), so a strict CSP allows it.
document.addEventListener("DOMContentLoaded", () => {
  // On a phone the menu is one row you swipe: start with the current page's link in view.
  const current = document.querySelector(".nav [aria-current='page']");
  if (current && current.parentElement.parentElement.scrollWidth > current.parentElement.parentElement.clientWidth) {
    current.scrollIntoView({ block: "nearest", inline: "center" });
  }
});
